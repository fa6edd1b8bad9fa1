"""Notebook 12's diagrams: the scratchpad as a chain of small steps, and the sequential depth a
fixed-depth GPT gets per answer with and without it."""

from pathlib import Path

from _style import ACCENT, BLUE, GREY, LIGHT, MLP, OUT, Canvas

HERE = Path(__file__).resolve().parent


def scratchpad(folder: Path) -> None:
    c = Canvas(
        860,
        250,
        "One problem, two completions: the answer at once, or one written step per operation",
    )
    c.title_text("3+5*7+9=   …   two ways to finish it (keep the last digit)")
    # the prompt's terms
    terms, tx = ["3", "+5", "*7", "+9"], [60, 130, 200, 270]
    c.text(20, 62, "prompt", size=11, color=GREY, anchor="start")
    for x, t in zip(tx, terms):
        c.box(x - 20, 76, 40, 30, t, fill=LIGHT, mono=True)
    # direct
    c.text(
        360,
        62,
        "direct: all three operations inside one forward pass",
        size=11,
        color=GREY,
        anchor="start",
    )
    c.box(360, 76, 70, 30, "5.", fill=OUT, mono=True)
    c.curve_arrow(290, 91, 325, 70, 360, 91, color=ACCENT)
    # scratchpad
    c.text(
        20,
        146,
        "scratchpad: one operation per step, each result written down",
        size=11,
        color=GREY,
        anchor="start",
    )
    sx, w = [60, 250, 440], 150
    steps = ["3+5=8;", "8*7=6;", "6+9=5;"]
    for k, (x, s) in enumerate(zip(sx, steps)):
        c.box(x, 170, w, 32, s, fill=MLP, mono=True)
        c.arrow(tx[k + 1], 106, x + 75, 170, color=GREY)  # the number this step uses
        if k:
            # the result of the step before, read back
            c.curve_arrow(sx[k - 1] + w - 40, 202, x - 18, 232, x + 22, 202, color=BLUE)
    c.arrow(tx[0], 106, sx[0] + 40, 170, color=GREY)  # the first number starts the chain
    c.box(640, 170, 70, 32, "5.", fill=OUT, mono=True)
    c.curve_arrow(sx[2] + w - 40, 202, 600, 232, 662, 202, color=BLUE)
    c.text(790, 186, "answer", size=11, color=GREY)
    c.text(330, 240, "each result is read back by the next step", size=11, color=BLUE)
    c.save(folder, "12_scratchpad.svg")


def depth(folder: Path) -> None:
    c = Canvas(
        860,
        300,
        "Sequential depth per answer: L layers for the direct answer, "
        "L layers per step with a scratchpad",
    )
    layers, cell, gap = 3, 26, 6

    def column(x, bottom, label, fill, highlight=False):
        for layer in range(layers):
            y = bottom - (layer + 1) * (cell + gap)
            c.rect(
                x,
                y,
                cell,
                cell,
                fill=fill,
                stroke=ACCENT if highlight else GREY,
                width=1.8 if highlight else 1.0,
                radius=3,
            )
        c.text(x + cell / 2, bottom + 12, label, size=11, mono=True)

    bottom = 200
    # left: direct
    c.text(200, 30, "direct answer", size=13, weight="bold")
    xs = [40 + 40 * k for k in range(8)]
    for x, t in zip(xs[:7], ["3", "+", "5", "*", "7", "…", "="]):
        column(x, bottom, t, LIGHT)
    column(xs[7] + 10, bottom, "5", OUT, highlight=True)
    c.text(200, 232, "the answer needs every operation,", size=11, color=ACCENT)
    c.text(200, 248, "all worked out within L = 3 layers", size=11, color=ACCENT)
    # right: scratchpad
    c.text(630, 30, "scratchpad", size=13, weight="bold")
    sx = [450 + 80 * k for k in range(5)]
    labels = ["=", "8", "6", "5", "5."]
    for k, (x, t) in enumerate(zip(sx, labels)):
        column(x, bottom, t, OUT if k else LIGHT, highlight=k > 0)
        if k:
            top = bottom - layers * (cell + gap)
            middle = (sx[k - 1] + x) / 2 + cell / 2
            c.curve_arrow(
                sx[k - 1] + cell, top + 4, middle, top - 30, x + 4, bottom - 4, color=BLUE
            )
    c.text(630, 232, "each written result is input to the next step:", size=11, color=BLUE)
    c.text(630, 248, "L layers per step, L × steps in all", size=11, color=BLUE)
    c.line(410, 50, 410, 270, color=GREY, dashed=True)
    c.text(
        430,
        285,
        "(columns: token positions; squares: the L layers a token's computation passes through)",
        size=10,
        color=GREY,
    )
    c.save(folder, "12_depth.svg")


def main(folder: Path = HERE) -> None:
    scratchpad(folder)
    depth(folder)


if __name__ == "__main__":
    main()
