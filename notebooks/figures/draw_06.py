"""Notebook 06's diagrams: multi-head attention, shape by shape, and the pre-LN encoder/decoder
layers."""

from pathlib import Path

from _style import ACCENT, ATTN, EMBED, GREY, LANGS, MLP, NORM, Canvas

HERE = Path(__file__).resolve().parent

# The Chinese variant's labels (docs/glossary.md's terms); symbols, math and code stay as written.
ZH = {
    "Multi-head attention: project, split into heads, attend, merge, project": (
        "多头注意力：投影、拆分成多个头、计算注意力、合并、再投影"
    ),
    "h heads": "h 个头",
    "rows sum to 1": "每行之和为 1",
    "merge: (B, T, d)": "合并：(B, T, d)",
    "output (B, T, d)": "输出 (B, T, d)",
    "Pre-LN Transformer layers: the encoder layer and the decoder layer": (
        "前置归一化（Pre-LN）的 Transformer 层：编码器层与解码器层"
    ),
    "src embedding + PE": "源嵌入 + 位置编码",
    "tgt embedding + PE": "目标嵌入 + 位置编码",
    "self-attention": "自注意力",
    "masked self-attention": "掩码自注意力",
    "cross-attention": "交叉注意力",
    "FFN: d → d_{ff} → d": "前馈网络：d → d_{ff} → d",
    "FFN": "前馈网络",
    "memory (B, S, d)": "记忆 (B, S, d)",
}


def stacked(c: Canvas, x, y, w, h, label, fill, sub=None, copies=3, size=13):
    """A box drawn as a stack of `copies` (one per head), front copy labelled."""
    for k in reversed(range(1, copies)):
        c.rect(x + 5 * k, y - 5 * k, w, h, fill=fill)
    c.box(x, y, w, h, label, fill=fill, sub=sub, size=size)


def multi_head(folder: Path, lang: str = "en") -> None:
    c = Canvas(
        720,
        430,
        "Multi-head attention: project, split into heads, attend, merge, project",
        lang,
        ZH,
    )
    c.box(260, 382, 160, 32, "X", fill=EMBED, sub="(B, T, d)")
    for x, name in ((100, "Q"), (300, "K"), (500, "V")):
        c.box(x, 310, 80, 30, f"W^{name}", fill="white")
        c.path_arrow([(340, 382), (340, 366), (x + 40, 366), (x + 40, 340)])
        stacked(c, x - 20, 228, 120, 40, name, ATTN, sub="(B, h, T, d/h)", size=14)
        c.arrow(x + 40, 310, x + 40, 268)
    c.text(650, 250, "h heads", size=11, color=GREY)
    stacked(c, 80, 128, 520, 44, "softmax(Q K^T / √d_k + mask) V", ATTN, size=14)
    for x in (140, 340, 540):
        c.arrow(x, 228, x, 172)
    # one head's attention weights: a T x T matrix whose rows sum to 1 (causal here)
    gx, gy, cell = 630, 110, 14
    shades = ["#fce5cd", "#f9cb9c", "#f6b26b", "#e69138"]
    for i in range(5):
        for j in range(5):
            fill = shades[(i * 3 + j * 5) % 4] if j <= i else "white"
            c.rect(gx + j * cell, gy + i * cell, cell, cell, fill=fill, radius=0, width=0.6)
    c.text(gx + 35, gy - 12, "A: (B, h, T, T)", size=11, color=GREY)
    c.text(gx + 35, gy + 84, "rows sum to 1", size=11, color=GREY)
    c.box(180, 62, 260, 32, "[head_1; …; head_h] W^O", fill="white")
    c.arrow(310, 123, 310, 94)
    c.text(170, 78, "merge: (B, T, d)", size=11, color=GREY, anchor="end")
    c.arrow(310, 62, 310, 38)
    c.text(310, 24, "output (B, T, d)", size=12)
    c.save(folder, "06_multi_head_attention.svg")


def transformer_block(folder: Path, lang: str = "en") -> None:
    c = Canvas(
        760, 560, "Pre-LN Transformer layers: the encoder layer and the decoder layer", lang, ZH
    )
    ex, dx, route = 220, 540, 375
    # the encoder layer
    c.box(ex - 80, 510, 160, 30, "src embedding + PE", fill=EMBED, size=12)
    y = c.residual(ex, 510, "self-attention", "self_attn", ATTN, w=170)
    c.arrow(ex, y - 10, ex, y - 28)
    y = c.residual(ex, y - 28, "FFN: d → d_{ff} → d", "mlp", MLP, w=170)
    c.rect(ex - 120, y - 16, 230, 510 - y + 10, dashed=True, stroke=GREY, radius=10)
    c.lines(
        ex - 126,
        (y + 510) / 2,
        ["EncoderLayer", "× N"],
        size=11,
        color=GREY,
        anchor="end",
        mono=True,
    )
    c.box(ex - 45, y - 60, 90, 24, "LayerNorm", fill=NORM, size=11)
    c.arrow(ex, y - 10, ex, y - 36)
    c.box(ex - 65, y - 110, 130, 30, "memory (B, S, d)", fill="white", size=12)
    c.arrow(ex, y - 60, ex, y - 80)
    memory_y = y - 95
    # the decoder layer
    c.box(dx - 80, 510, 160, 30, "tgt embedding + PE", fill=EMBED, size=12)
    y = c.residual(dx, 510, "masked self-attention", "self_attn", ATTN, w=170)
    c.arrow(dx, y - 10, dx, y - 22)
    cross_y = y - 22 - 73
    y = c.residual(dx, y - 22, "cross-attention", "cross_attn", ATTN, w=170)
    c.arrow(dx, y - 10, dx, y - 22)
    y = c.residual(dx, y - 22, "FFN", "mlp", MLP, w=170)
    c.rect(dx - 120, y - 16, 230, 510 - y + 10, dashed=True, stroke=GREY, radius=10)
    c.lines(
        dx + 116,
        (y + 510) / 2,
        ["DecoderLayer", "× N"],
        size=11,
        color=GREY,
        anchor="start",
        mono=True,
    )
    c.box(dx - 45, y - 60, 90, 24, "LayerNorm", fill=NORM, size=11)
    c.arrow(dx, y - 10, dx, y - 36)
    c.box(dx - 60, y - 102, 120, 26, "Linear → logits", fill="white", size=11)
    c.arrow(dx, y - 60, dx, y - 76)
    # memory feeds every decoder layer's cross-attention as keys and values
    c.path_arrow(
        [(ex + 65, memory_y), (route, memory_y), (route, cross_y), (dx - 85, cross_y)], color=ACCENT
    )
    c.text(route + 8, cross_y - 10, "K, V", size=12, color=ACCENT, anchor="start")
    c.text(dx + 98, cross_y + 22, "Q", size=12, color=ACCENT)
    c.save(folder, "06_transformer_block.svg")


def main(folder: Path = HERE) -> None:
    for lang in LANGS:
        multi_head(folder, lang)
        transformer_block(folder, lang)


if __name__ == "__main__":
    main()
