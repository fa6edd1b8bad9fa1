"""Notebook 12's diagrams: the scratchpad as a chain of small steps, and the sequential depth a
fixed-depth GPT gets per answer with and without it."""

from pathlib import Path

from _style import ACCENT, BLUE, GREY, LANGS, LIGHT, MLP, OUT, Canvas

HERE = Path(__file__).resolve().parent

# The Chinese variant's labels (docs/glossary.md's terms); symbols, math and code stay as
# written.
ZH = {
    "One problem, two completions: the answer at once, or one written step per operation": (
        "同一道题，两种续写：直接给出答案，或每个运算写出一步"
    ),
    "3+5*7+9=   …   two ways to finish it (keep the last digit)": (
        "3+5*7+9=   …   两种写法（结果只取个位）"
    ),
    "prompt": "提示词",
    "direct: all three operations inside one forward pass": (
        "直接作答：三个运算都在一次前向传播中完成"
    ),
    "scratchpad: one operation per step, each result written down": (
        "草稿：每步一个运算，每个结果都写下来"
    ),
    "answer": "答案",
    "each result is read back by the next step": "每个结果都被下一步读回",
    "Sequential depth per answer: L layers for the direct answer, "
    "L layers per step with a scratchpad": (
        "每个答案的串行深度：直接作答只有 L 层，用草稿时每一步 L 层"
    ),
    "direct answer": "直接作答",
    "the answer needs every operation,": "答案需要每一个运算，",
    "all worked out within L = 3 layers": "全都要在 L = 3 层之内算完",
    "scratchpad": "草稿",
    "each written result is input to the next step:": "写下的每个结果都是下一步的输入：",
    "L layers per step, L × steps in all": "每步 L 层，总共 L × 步数",
    "(columns: token positions; squares: the L layers a token's computation passes through)": (
        "（列：词元位置；方格：一个词元的计算所经过的 L 层）"
    ),
}


def scratchpad(folder: Path, lang: str = "en") -> None:
    c = Canvas(
        860,
        250,
        "One problem, two completions: the answer at once, or one written step per operation",
        lang,
        ZH,
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


def depth(folder: Path, lang: str = "en") -> None:
    c = Canvas(
        860,
        300,
        "Sequential depth per answer: L layers for the direct answer, "
        "L layers per step with a scratchpad",
        lang,
        ZH,
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
    for lang in LANGS:
        scratchpad(folder, lang)
        depth(folder, lang)


if __name__ == "__main__":
    main()
