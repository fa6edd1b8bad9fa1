"""Notebook 03's diagram: Bengio et al.'s (2003) neural probabilistic language model, eq. (1)."""

from pathlib import Path

from _style import EMBED, GREY, LANGS, LIGHT, MLP, OUT, Canvas

HERE = Path(__file__).resolve().parent

# The Chinese variant's labels (docs/glossary.md's terms); symbols, math and code stay as
# written.
ZH = {
    "The NPLM: look up each context word in C, concatenate, tanh layer, softmax": (
        "NPLM：在表 C 中查出每个上下文词，拼接，经过 tanh 层，再做 softmax"
    ),
    "C: one table (V × m), shared by every position": "C：一张表（V × m），所有位置共享",
    "C[w]: m numbers": "C[w]：m 个数",
    "h units": "h 个单元",
    "V scores": "V 个分数",
    "W: direct": "W：直连",
    "(optional)": "（可选）",
    "P(w_t = i | context) = softmax(y)_i": "P(w_t = i | 上下文) = softmax(y)_i",
    "context: (B, n−1) ids": "上下文 id：(B, n−1)",
}


def nplm(folder: Path, lang: str = "en") -> None:
    c = Canvas(
        600,
        430,
        "The NPLM: look up each context word in C, concatenate, tanh layer, softmax",
        lang,
        ZH,
    )
    ids = ["w_{t-3}", "w_{t-2}", "w_{t-1}"]
    xs = [110, 230, 350]
    # the context words and the shared lookup table C
    for x, label in zip(xs, ids):
        c.box(x - 40, 372, 80, 30, label, fill=LIGHT)
        c.arrow(x, 372, x, 338)
    c.rect(50, 300, 360, 38, fill=EMBED, dashed=True)
    c.text(230, 319, "C: one table (V × m), shared by every position", size=12)
    for x in xs:
        c.arrow(x, 300, x, 282)
        for k in range(4):  # an m-vector, drawn as 4 cells
            c.rect(x - 32 + 16 * k, 266, 16, 16, fill=EMBED, radius=0)
    c.text(430, 274, "C[w]: m numbers", size=11, color=GREY, anchor="start")
    # the concatenation x
    c.box(
        60,
        208,
        340,
        34,
        "x = [C[w_{t-3}]; C[w_{t-2}]; C[w_{t-1}]]",
        fill=EMBED,
        sub="(n−1)·m",
        size=13,
    )
    for x in xs:
        c.arrow(x, 266, x, 242)
    # hidden layer and output
    c.box(130, 140, 200, 40, "tanh(d + H x)", fill=MLP, sub="h units")
    c.arrow(230, 208, 230, 180)
    c.box(90, 72, 280, 40, "y = b + W x + U tanh(d + H x)", fill=OUT, sub="V scores")
    c.arrow(230, 140, 230, 112)
    c.path_arrow([(400, 225), (470, 225), (470, 92), (370, 92)], dashed=True, color=GREY)
    c.text(476, 160, "W: direct", size=11, color=GREY, anchor="start")
    c.text(476, 175, "(optional)", size=11, color=GREY, anchor="start")
    c.box(110, 14, 240, 34, "P(w_t = i | context) = softmax(y)_i", fill="white", size=12)
    c.arrow(230, 72, 230, 48)
    c.text(430, 387, "context: (B, n−1) ids", size=11, color=GREY, anchor="start")
    c.save(folder, "03_nplm.svg")


def main(folder: Path = HERE) -> None:
    for lang in LANGS:
        nplm(folder, lang)


if __name__ == "__main__":
    main()
