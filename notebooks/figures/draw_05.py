"""Notebook 05's diagrams: the encoder-decoder with one summary vector, then with additive
attention."""

from pathlib import Path

from _style import ACCENT, ATTN, EMBED, GREY, LANGS, LIGHT, OUT, RNN, Canvas

HERE = Path(__file__).resolve().parent

# The Chinese variant's labels (docs/glossary.md's terms); symbols, math and code stay as
# written.
ZH = {
    "The plain encoder-decoder: the whole source passes through one vector c": (
        "朴素的编码器–解码器：整个源句都要挤过一个向量 c"
    ),
    "encoder: bidirectional GRU, h_j = [→h_j; ←h_j]": "编码器：双向 GRU，h_j = [→h_j; ←h_j]",
    "2H numbers": "2H 个数",
    "decoder: s_i = GRU(s_{i-1}, [E y_{i-1}; c])": "解码器：s_i = GRU(s_{i-1}, [E y_{i-1}; c])",
    "every step reads the same c, however long the source": (
        "无论源句多长，每一步读到的都是同一个 c"
    ),
    "Additive attention: at each output step a fresh context c_i weighs every encoder state": (
        "加性注意力：每个输出步都算出新的上下文 c_i，对所有编码器状态加权"
    ),
    "query": "查询",
    "padding: α_{ij} = 0": "填充位置：α_{ij} = 0",
    "encoder states h_j = [→h_j; ←h_j]": "编码器状态 h_j = [→h_j; ←h_j]",
}


def encoder(c: Canvas, xs, y, w=64, h=34):
    """Bidirectional GRU states h_j over source tokens x_j (boxes at xs, top at y)."""
    for j, x in enumerate(xs):
        c.box(x, y, w, h, f"h_{j + 1}", fill=RNN)
        c.box(x + 8, y + 70, w - 16, 28, f"x_{j + 1}", fill=LIGHT)
        c.arrow(x + w / 2, y + 70, x + w / 2, y + h)
        if j:
            c.arrow(xs[j - 1] + w, y + 10, x, y + 10, color=GREY)  # forward GRU
            c.arrow(x, y + h - 10, xs[j - 1] + w, y + h - 10, color=GREY)  # backward GRU


def encoder_decoder(folder: Path, lang: str = "en") -> None:
    c = Canvas(
        700,
        300,
        "The plain encoder-decoder: the whole source passes through one vector c",
        lang,
        ZH,
    )
    xs = [30 + 84 * j for j in range(4)]
    encoder(c, xs, 150)
    c.text(
        xs[0] - 6,
        130,
        "encoder: bidirectional GRU, h_j = [→h_j; ←h_j]",
        size=11,
        color=GREY,
        anchor="start",
    )
    # the summary vector: forward state after the last word + backward state after the first
    c.box(380, 110, 44, 110, "c", fill=ATTN, size=16)
    c.path_arrow([(xs[3] + 64, 160), (380, 160)])
    c.text(402, 236, "2H numbers", size=11, color=GREY)
    # the decoder: a GRU cell, fed the previous word and the same c at every step
    ds = [470 + 76 * i for i in range(3)]
    prev, nxt = ["<bos>", "y_1", "y_2"], ["y_1", "y_2", "<eos>"]
    for i, x in enumerate(ds):
        c.box(x, 150, 60, 34, f"s_{i + 1}", fill=RNN)
        c.box(x + 2, 230, 56, 26, prev[i], fill=LIGHT, size=12)
        c.arrow(x + 30, 230, x + 30, 184)
        c.box(x + 2, 60, 56, 26, nxt[i], fill=OUT, size=12)
        c.arrow(x + 30, 150, x + 30, 86)
        c.path_arrow([(424, 124), (x + 14, 124), (x + 14, 150)], color=ACCENT)
        if i:
            c.arrow(ds[i - 1] + 60, 167, x, 167)
    c.text(580, 36, "decoder: s_i = GRU(s_{i-1}, [E y_{i-1}; c])", size=11, color=GREY)
    c.text(350, 285, "every step reads the same c, however long the source", size=12, color=ACCENT)
    c.save(folder, "05_encoder_decoder.svg")


def attention(folder: Path, lang: str = "en") -> None:
    c = Canvas(
        700,
        420,
        "Additive attention: at each output step a fresh context c_i weighs every encoder state",
        lang,
        ZH,
    )
    xs = [30 + 84 * j for j in range(4)]
    encoder(c, xs, 280)
    alphas = [0.05, 0.15, 0.7, 0.1]
    node = (400, 190)
    for x, a in zip(xs, alphas):
        c.line(x + 32, 280, node[0] - 8, node[1] + 6, color=ACCENT, width=0.6 + 7 * a)
        c.text(
            x + 28,
            268,
            f"α = {a:.2f}" if x == xs[0] else f"{a:.2f}",
            size=10,
            color=ACCENT,
            anchor="end",
        )
    c.op(*node, "Σ", r=12, fill=ATTN)
    c.text(node[0] + 20, node[1] + 20, "c_i = Σ_j α_{ij} h_j", size=12, anchor="start")
    # the decoder step
    c.box(320, 50, 70, 36, "s_{i-1}", fill=RNN)
    c.box(470, 50, 70, 36, "s_i", fill=RNN, sub="GRUCell")
    c.arrow(390, 68, 470, 68)
    c.box(560, 130, 80, 28, "E y_{i-1}", fill=EMBED, size=12)
    c.path_arrow([(600, 130), (600, 110), (520, 110), (520, 86)])
    c.path_arrow([(412, 190), (490, 190), (490, 86)], color=ACCENT)
    c.path_arrow([(340, 86), (340, 150), (392, 181)], dashed=True, color=GREY)
    c.text(332, 130, "query", size=11, color=GREY, anchor="end")
    c.box(470, 6, 120, 26, "p(y_i | y_{<i}, x)", fill=OUT, size=12)
    c.arrow(505, 50, 505, 32)
    # the equations
    c.lines(
        560,
        250,
        [
            "e_{ij} = v^T tanh(W s_{i-1} + U h_j)",
            "α_{ij} = softmax_j(e_{ij})",
            "padding: α_{ij} = 0",
        ],
        size=12,
    )
    c.text(xs[0] - 6, 404, "encoder states h_j = [→h_j; ←h_j]", size=11, color=GREY, anchor="start")
    c.save(folder, "05_attention.svg")


def main(folder: Path = HERE) -> None:
    for lang in LANGS:
        encoder_decoder(folder, lang)
        attention(folder, lang)


if __name__ == "__main__":
    main()
