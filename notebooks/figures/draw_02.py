"""Notebook 02's diagram: skip-gram with negative sampling, on the two tables of SkipGram."""

from pathlib import Path

from _style import ACCENT, ATTN, EMBED, GREEN, GREY, LANGS, LIGHT, OUT, Canvas

HERE = Path(__file__).resolve().parent

# The Chinese variant's labels (docs/glossary.md's terms); symbols, math and code stay as
# written.
ZH = {
    "Skip-gram with negative sampling: "
    "the centre word's vector scores real and noise context words": (
        "带负采样的跳元模型（skip-gram）：用中心词的向量给真实上下文词和噪声词打分"
    ),
    "centre c": "中心词 c",
    "window = 2: every o": "窗口 = 2：所有满足",
    "with |pos − c| ≤ 2": "|pos − c| ≤ 2 的 o",
    "k noise words n_i": "k 个噪声词 n_i",
    "σ(u_o^T v_c) → 1: real pair": "σ(u_o^T v_c) → 1：真实词对",
    "σ(u_{n_i}^T v_c) → 0: noise": "σ(u_{n_i}^T v_c) → 0：噪声",
    "batch: centre (B,), context (B,), negatives (B, k)": (
        "批量：centre (B,)、context (B,)、negatives (B, k)"
    ),
}


def table(c: Canvas, x, y, w, h, name, rows: dict, n_rows=12):
    """An embedding table drawn as V rows; rows = {row index: (label, fill)} are highlighted."""
    c.rect(x, y, w, h, fill="white", radius=0)
    step = h / n_rows
    for i in range(1, n_rows):
        c.line(x, y + i * step, x + w, y + i * step, color="#cccccc", width=0.8)
    for i, (label, fill) in rows.items():
        c.rect(x, y + i * step, w, step, fill=fill, radius=0)
        c.text(x + w / 2, y + (i + 0.5) * step, label, size=12)
    c.text(x + w / 2, y - 12, name, mono=True, size=12)
    c.text(x + w / 2, y + h + 14, "V × d", size=11, color=GREY)
    return step


def skipgram(folder: Path, lang: str = "en") -> None:
    c = Canvas(
        640,
        400,
        "Skip-gram with negative sampling: "
        "the centre word's vector scores real and noise context words",
        lang,
        ZH,
    )
    words = ["the", "king", "rules", "the", "land"]
    x0, y0, w, h = 170, 30, 60, 28
    for k, word in enumerate(words):
        fill = EMBED if k == 2 else (ATTN if abs(k - 2) <= 2 else LIGHT)
        c.box(x0 + k * (w + 8), y0, w, h, word, fill=fill, mono=True, size=12)
    c.text(x0 + 2 * (w + 8) + w / 2, y0 + h + 12, "centre c", size=11)
    c.text(
        x0 + 5 * (w + 8) + 6, y0 + h / 2, "window = 2: every o", size=11, color=GREY, anchor="start"
    )
    c.text(
        x0 + 5 * (w + 8) + 6,
        y0 + h / 2 + 15,
        "with |pos − c| ≤ 2",
        size=11,
        color=GREY,
        anchor="start",
    )

    ty, th, tw = 120, 180, 80
    step = table(c, 40, ty, tw, th, "centre", {5: ("v_c", EMBED)})
    table(
        c,
        480,
        ty,
        tw,
        th,
        "context",
        {2: ("u_o", ATTN), 7: ("u_{n_1}", LIGHT), 9: ("u_{n_2}", LIGHT)},
    )
    # arrows from the text to the rows
    cx = x0 + 2 * (w + 8) + w / 2
    c.path_arrow([(cx, y0 + h + 22), (cx, 88), (80, 88), (80, ty + 5 * step)], color=GREEN)
    ox = x0 + 3 * (w + 8) + w / 2
    c.path_arrow([(ox, y0 + h), (ox, 80), (520, 80), (520, ty + 2 * step)], color=ACCENT)
    c.box(455, 345, 130, 34, "P_n(w) ∝ count^{3/4}", fill="white", size=12)
    c.arrow(520, 345, 520, ty + th + 22, color=GREY)
    c.text(528, 333, "k noise words n_i", size=11, color=GREY, anchor="start")

    # the two kinds of score
    vy = ty + 5.5 * step
    pos_y, neg_y = ty + 2.5 * step, ty + 8.5 * step
    for y, row_y, target, name in (
        (pos_y, ty + 2.5 * step, "→ 1: real pair", "u_o^T v_c"),
        (neg_y, ty + 8.5 * step, "→ 0: noise", "u_{n_i}^T v_c"),
    ):
        c.op(300, y, "·", r=11)
        c.path_arrow([(120, vy), (220, vy), (220, y), (289, y)])
        c.arrow(480, row_y, 311, y)
        c.box(330, y - 38, 130, 24, f"σ({name}) {target}", fill=OUT, size=11)
    c.text(230, 350, "L = −log σ(u_o^T v_c) − Σ_i log σ(−u_{n_i}^T v_c)", size=13)
    c.text(230, 378, "batch: centre (B,), context (B,), negatives (B, k)", size=11, color=GREY)
    c.save(folder, "02_skipgram.svg")


def main(folder: Path = HERE) -> None:
    for lang in LANGS:
        skipgram(folder, lang)


if __name__ == "__main__":
    main()
