"""Notebook 07's diagrams: the GPT, module by module with its code names, and the KV cache."""

from pathlib import Path

from _style import ACCENT, ATTN, EMBED, GREY, LANGS, LIGHT, MLP, NORM, OUT, Canvas

HERE = Path(__file__).resolve().parent

# The Chinese variant's labels (docs/glossary.md's terms); symbols, math and code stay as
# written.
ZH = {
    "The GPT: token and position embeddings, n_layer pre-LN blocks, tied LM head": (
        "GPT：词元嵌入与位置嵌入、n_layer 个前置归一化块、与嵌入共享权重的 LM 头"
    ),
    "causal self-attention": "因果自注意力",
    "MLP: C → 4C → C": "MLP：C → 4C → C",
    "same weights (tied)": "同一份权重（共享）",
    "Generating with and without a KV cache: which tokens each step computes": (
        "不用与使用键值缓存的生成：每一步要计算哪些词元"
    ),
    "without a cache": "不用缓存",
    "with a KV cache": "使用键值缓存",
    "token position →": "词元位置 →",
    **{f"step {k}": f"第 {k} 步" for k in range(1, 7)},
    "step t runs all t tokens again": "第 t 步把 t 个词元全部重算",
    "O(T^2) token passes": "共 O(T^2) 次词元计算",
    "step t runs one token": "第 t 步只算一个词元",
    "O(T) token passes": "共 O(T) 次词元计算",
    "grey: keys and values read from the cache": "灰色：从缓存中读出的键和值",
    "one step, one layer": "一步、一层",
    "append": "追加",
}


def gpt_stack(folder: Path, lang: str = "en") -> None:
    c = Canvas(
        540,
        640,
        "The GPT: token and position embeddings, n_layer pre-LN blocks, tied LM head",
        lang,
        ZH,
    )
    cx = 280
    c.box(cx - 60, 596, 120, 30, "idx", fill=LIGHT, sub="(B, T)", mono=True, sub_mono=False)
    c.box(cx - 170, 530, 130, 36, "wte", fill=EMBED, sub="(V, C)", mono=True, sub_mono=False)
    c.box(cx + 40, 530, 130, 36, "wpe", fill=EMBED, sub="(block_size, C)", mono=True)
    c.path_arrow([(cx, 596), (cx, 582), (cx - 105, 582), (cx - 105, 566)])
    c.path_arrow([(cx, 582), (cx + 105, 582), (cx + 105, 566)])
    c.text(cx + 112, 590, "arange(T)", size=10, color=GREY, mono=True, anchor="start")
    c.op(cx, 500, "+")
    c.path_arrow([(cx - 105, 530), (cx - 105, 500), (cx - 10, 500)])
    c.path_arrow([(cx + 105, 530), (cx + 105, 500), (cx + 10, 500)])
    c.text(cx + 16, 478, "x: (B, T, C)", size=11, color=GREY, anchor="start")
    y = c.residual(
        cx,
        470,
        "causal self-attention",
        "attn: c_attn → q, k, v → c_proj",
        ATTN,
        norm_code="ln_1",
        w=230,
    )
    c.arrow(cx, y - 10, cx, y - 26)
    y = c.residual(
        cx, y - 26, "MLP: C → 4C → C", "mlp: c_fc → GELU → c_proj", MLP, norm_code="ln_2", w=230
    )
    c.rect(cx - 150, y - 16, 300, 470 - y + 8, dashed=True, stroke=GREY, radius=10)
    c.lines(
        cx + 156,
        (y + 470) / 2,
        ["Block", "× n_layer"],
        size=11,
        color=GREY,
        anchor="start",
        mono=True,
    )
    c.box(cx - 50, y - 64, 100, 26, "LayerNorm", fill=NORM, size=11)
    c.text(cx + 56, y - 51, "ln_f", size=10, color=GREY, mono=True, anchor="start")
    c.arrow(cx, y - 10, cx, y - 38)
    c.box(cx - 70, y - 116, 140, 32, "lm_head", fill=EMBED, mono=True)
    c.arrow(cx, y - 64, cx, y - 84)
    c.box(cx - 70, y - 168, 140, 32, "logits", fill=OUT, sub="(B, T, V)", mono=True, sub_mono=False)
    c.arrow(cx, y - 116, cx, y - 136)
    # weight tying: lm_head.weight is wte.weight
    c.path_arrow(
        [(cx - 170, 548), (cx - 240, 548), (cx - 240, y - 100), (cx - 70, y - 100)],
        color=ACCENT,
        dashed=True,
        head=False,
    )
    c.text(cx - 234, y - 112, "same weights (tied)", size=11, color=ACCENT, anchor="start")
    c.save(folder, "07_gpt_stack.svg")


def kv_cache(folder: Path, lang: str = "en") -> None:
    c = Canvas(
        760,
        330,
        "Generating with and without a KV cache: which tokens each step computes",
        lang,
        ZH,
    )
    n, cell = 6, 24
    panels = ((40, "without a cache"), (290, "with a KV cache"))
    for px, title in panels:
        c.text(px + n * cell / 2 + 20, 30, title, size=13, weight="bold")
        c.text(px + n * cell / 2 + 20, 48, "token position →", size=11, color=GREY)
        for step in range(n):
            y = 62 + step * (cell + 4)
            c.text(px + 2, y + cell / 2, f"step {step + 1}", size=10, color=GREY, anchor="start")
            for pos in range(step + 1):
                cached = px > 100 and pos < step
                fill = "#eeeeee" if cached else (ACCENT if pos == step else "#f4cccc")
                c.rect(px + 44 + pos * cell, y, cell - 3, cell - 3, fill=fill, radius=2, width=0.8)
    c.text(40 + 20 + n * cell / 2, 250, "step t runs all t tokens again", size=11)
    c.text(40 + 20 + n * cell / 2, 266, "O(T^2) token passes", size=11, color=ACCENT)
    c.text(290 + 20 + n * cell / 2, 250, "step t runs one token", size=11)
    c.text(290 + 20 + n * cell / 2, 266, "O(T) token passes", size=11, color=ACCENT)
    c.text(
        290 + 20 + n * cell / 2,
        290,
        "grey: keys and values read from the cache",
        size=10,
        color=GREY,
    )
    # one cached attention step
    x0 = 520
    c.text(x0 + 110, 30, "one step, one layer", size=13, weight="bold")
    c.box(x0 + 70, 276, 60, 28, "x_t", fill=LIGHT)
    c.box(x0 + 60, 226, 80, 28, "c_attn", fill=ATTN, mono=True, size=12)
    c.arrow(x0 + 100, 276, x0 + 100, 254)
    for row, (name, label) in enumerate((("k", "keys"), ("v", "values"))):
        y = 92 + row * 64
        for pos in range(5):
            last = pos == 4
            c.rect(
                x0 + 46 + pos * 28,
                y,
                26,
                26,
                fill=ACCENT if last else "#eeeeee",
                radius=2,
                width=0.8,
            )
            c.text(
                x0 + 59 + pos * 28,
                y + 13,
                f"{name}_{pos + 1}" if not last else f"{name}_t",
                size=10,
                color="white" if last else INK_GREY,
            )
        c.text(x0 + 116, y + 38, f"kv_cache.{label}[layer]", size=9, color=GREY, mono=True)
        c.path_arrow([(x0 + 200, 240), (x0 + 200, y + 13), (x0 + 187, y + 13)], color=ACCENT)
    c.path_arrow([(x0 + 140, 240), (x0 + 200, 240)], color=ACCENT, head=False)
    c.text(x0 + 194, 204, "append", size=10, color=ACCENT, anchor="end")
    c.box(x0 + 2, 50, 40, 26, "q_t", fill=ATTN, size=12)
    c.path_arrow([(x0 + 60, 240), (x0 + 22, 240), (x0 + 22, 76)])
    c.text(x0 + 50, 63, "softmax(q_t K^T / √hd) V", size=11, anchor="start")
    c.text(x0 + 110, 318, "(batch, heads, max_len, head_dim)", size=9, color=GREY, mono=True)
    c.save(folder, "07_kv_cache.svg")


INK_GREY = "#555555"


def main(folder: Path = HERE) -> None:
    for lang in LANGS:
        gpt_stack(folder, lang)
        kv_cache(folder, lang)


if __name__ == "__main__":
    main()
