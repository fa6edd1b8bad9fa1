"""Notebook 09's diagram: a LoRA layer, a frozen weight plus a trainable low-rank update."""

from pathlib import Path

from _style import ACCENT, FROZEN, GREY, LANGS, LIGHT, TRAIN, Canvas

HERE = Path(__file__).resolve().parent

# The Chinese variant's labels (docs/glossary.md's terms); symbols, math and code stay as written.
ZH = {
    "LoRA: h = W x + (alpha / r) B A x, with W frozen and only A and B trained": (
        "LoRA：h = W x + (alpha / r) B A x，W 冻结，只训练 A 和 B"
    ),
    "frozen": "冻结",
    "random start": "随机初始化",
    "zeros at start": "初始为零",
    "trained: r·(d_{in} + d_{out}) numbers; merged for inference: W' = W + (α/r) B A": (
        "训练 r·(d_{in} + d_{out}) 个数；推理时合并：W' = W + (α/r) B A"
    ),
}


def lora(folder: Path, lang: str = "en") -> None:
    c = Canvas(
        640,
        360,
        "LoRA: h = W x + (alpha / r) B A x, with W frozen and only A and B trained",
        lang,
        ZH,
    )
    c.box(250, 310, 120, 32, "x", fill=LIGHT, sub="d_{in}")
    # the frozen base layer
    c.box(90, 120, 160, 130, "W", fill=FROZEN, size=18)
    c.text(170, 215, "d_{out} × d_{in}", size=11, color=GREY)
    c.text(170, 232, "frozen", size=11, color=GREY)
    c.text(150, 108, "base", size=11, color=GREY, mono=True)
    c.path_arrow([(310, 310), (310, 290), (170, 290), (170, 250)])
    # the low-rank path: A narrows to r, B widens back
    ax, top = 420, 196
    c.polygon(
        [(ax - 70, 266), (ax + 70, 266), (ax + 22, top + 30), (ax - 22, top + 30)], fill=TRAIN
    )
    c.text(ax, 246, "A", size=16)
    c.text(ax + 82, 246, "lora_A (r, d_in)", size=10, color=GREY, mono=True, anchor="start")
    c.text(ax + 82, 260, "random start", size=10, color=GREY, anchor="start")
    c.path_arrow([(310, 290), (ax, 290), (ax, 266)])
    c.polygon([(ax - 22, top), (ax + 22, top), (ax + 70, 130), (ax - 70, 130)], fill=TRAIN)
    c.text(ax, 166, "B", size=16)
    c.text(ax + 82, 160, "lora_B (d_out, r)", size=10, color=GREY, mono=True, anchor="start")
    c.text(ax + 82, 174, "zeros at start", size=10, color=GREY, anchor="start")
    c.text(ax + 34, top + 15, "r", size=12, color=ACCENT)
    c.line(ax - 22, top + 15, ax + 22, top + 15, color=ACCENT, dashed=True)
    c.box(ax - 30, 84, 60, 26, "× α/r", fill="white", size=12)
    c.arrow(ax, 130, ax, 110)
    c.op(310, 60, "+")
    c.path_arrow([(170, 120), (170, 60), (300, 60)])
    c.path_arrow([(ax, 84), (ax, 60), (320, 60)])
    c.arrow(310, 50, 310, 26)
    c.text(310, 14, "h = W x + (α/r) B A x", size=13)
    c.text(ax + 82, 97, "scaling = alpha / r", size=10, color=GREY, mono=True, anchor="start")
    c.text(
        320,
        350,
        "trained: r·(d_{in} + d_{out}) numbers; merged for inference: W' = W + (α/r) B A",
        size=11,
        color=GREY,
    )
    c.save(folder, "09_lora.svg")


def main(folder: Path = HERE) -> None:
    for lang in LANGS:
        lora(folder, lang)


if __name__ == "__main__":
    main()
