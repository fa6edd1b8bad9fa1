"""Notebook 08's diagrams: the modern block (RMSNorm, RoPE, GQA, SwiGLU), GQA's head sharing,
MoE routing."""

from pathlib import Path

from _style import ACCENT, ATTN, BLUE, EMBED, GREEN, GREY, LANGS, LIGHT, MLP, OUT, Canvas

HERE = Path(__file__).resolve().parent

# The Chinese variant's labels (docs/glossary.md's terms); symbols, math and code stay as
# written.
ZH = {
    "A modern decoder block: RMSNorm, attention with RoPE and GQA, SwiGLU": (
        "现代的解码器块：RMSNorm、带 RoPE 与 GQA 的注意力、SwiGLU"
    ),
    "attention": "注意力",
    "no position table: RoPE acts inside attention": "没有位置嵌入表：RoPE 在注意力内部起作用",
    "H heads": "H 个头",
    "H_{kv} heads": "H_{kv} 个头",
    "rotate pair i by m·θ_i": "第 i 对旋转 m·θ_i",
    "causal": "因果",
    "k, v repeated": "k、v 重复",
    "H / H_{kv} times": "H / H_{kv} 次",
    "KV cache: H_{kv} heads instead of H": "键值缓存：只存 H_{kv} 个头，而不是 H 个",
    "SiLU(W_{gate} x) ⊙ (W_{up} x), then W_{down}": "SiLU(W_{gate} x) ⊙ (W_{up} x)，再乘 W_{down}",
    "hidden ⅔·4C": "隐藏层 ⅔·4C",
    "three matrices, ⅔ the width: 8C^2 weights, as GPT-2's MLP": (
        "三个矩阵，宽度取 ⅔：共 8C^2 个权重，与 GPT-2 的 MLP 相同"
    ),
    "Multi-head, grouped-query and multi-query attention: which query heads share K and V": (
        "多头、分组查询与多查询注意力：哪些查询头共享 K 和 V"
    ),
    **{f"cache: {n}/8 of MHA's": f"缓存：MHA 的 {n}/8" for n in (1, 2, 8)},
    "H = 8 query heads; query head h reads KV head ⌊h / (H / H_{kv})⌋": (
        "H = 8 个查询头；查询头 h 读取第 ⌊h / (H / H_{kv})⌋ 个 KV 头"
    ),
    "A mixture-of-experts layer: a router sends each token to its top-k experts": (
        "混合专家层：路由器把每个词元送往它得分最高的 k 个专家"
    ),
    "one token": "一个词元",
    **{f"Expert_{i}": f"专家_{i}" for i in range(1, 5)},
    "top-k = 2 of E = 4: weights p_i / (p_1 + p_3); the other experts do not run": (
        "E = 4 个专家中取 top-k = 2：权重 p_i / (p_1 + p_3)；其余专家不运行"
    ),
}


def modern_block(folder: Path, lang: str = "en") -> None:
    c = Canvas(
        820, 560, "A modern decoder block: RMSNorm, attention with RoPE and GQA, SwiGLU", lang, ZH
    )
    cx = 150
    c.box(cx - 70, 510, 140, 30, "x", fill=LIGHT, sub="(B, T, C)")
    y = c.residual(
        cx, 500, "attention", "self_attn", ATTN, norm="RMSNorm", norm_code="input_layernorm", w=180
    )
    attn_y = 500 - 76
    c.arrow(cx, y - 10, cx, y - 40)
    ffn_bottom = y - 40
    y = c.residual(
        cx,
        ffn_bottom,
        "SwiGLU",
        "mlp",
        MLP,
        norm="RMSNorm",
        norm_code="post_attention_layernorm",
        w=180,
    )
    ffn_y = ffn_bottom - 76
    c.rect(cx - 125, y - 16, 250, 500 - y + 10, dashed=True, stroke=GREY, radius=10)
    c.text(cx, y - 30, "layers: n_layer × Block → norm → lm_head", size=10, color=GREY, mono=True)
    c.text(cx, 552, "no position table: RoPE acts inside attention", size=10, color=GREY)

    # the attention, opened
    px, py = 360, 300
    c.rect(px, py, 440, 190, fill="#fffaf3", stroke=GREY, radius=10)
    c.line(cx + 90, attn_y, px, py + 95, color=GREY, dashed=True)
    rows = [("q_proj", "H heads"), ("k_proj", "H_{kv} heads"), ("v_proj", "H_{kv} heads")]
    for i, (name, heads) in enumerate(rows):
        y0 = py + 28 + i * 50
        c.box(px + 14, y0, 80, 28, name, fill=ATTN, mono=True, size=12)
        c.text(px + 100, y0 + 38, heads, size=10, color=GREY, anchor="start")
        if i < 2:
            c.box(px + 130, y0, 60, 28, "RoPE", fill=EMBED, size=12)
            c.arrow(px + 94, y0 + 14, px + 130, y0 + 14)
            c.arrow(px + 190, y0 + 14, px + 240, y0 + 14)
        else:
            c.arrow(px + 94, y0 + 14, px + 240, y0 + 14)
    c.text(px + 160, py + 16, "rotate pair i by m·θ_i", size=10, color=GREY)
    c.box(px + 240, py + 28, 120, 128, "", fill=ATTN)
    c.lines(
        px + 300, py + 92, ["causal", "attention", "", "k, v repeated", "H / H_{kv} times"], size=11
    )
    c.box(px + 374, py + 78, 56, 28, "o_proj", fill=ATTN, mono=True, size=11)
    c.arrow(px + 360, py + 92, px + 374, py + 92)
    c.text(px + 220, py + 178, "KV cache: H_{kv} heads instead of H", size=11, color=ACCENT)

    # SwiGLU, opened
    qx, qy = 360, 60
    c.rect(qx, qy, 440, 190, fill="#f5f9fd", stroke=GREY, radius=10)
    c.line(cx + 90, ffn_y, qx, qy + 95, color=GREY, dashed=True)
    c.box(qx + 20, qy + 40, 70, 28, "gate_proj", fill=MLP, mono=True, size=11)
    c.box(qx + 20, qy + 120, 70, 28, "up_proj", fill=MLP, mono=True, size=11)
    c.box(qx + 130, qy + 40, 60, 28, "SiLU", fill="white", size=12)
    c.arrow(qx + 90, qy + 54, qx + 130, qy + 54)
    c.op(qx + 240, qy + 94, "×")
    c.path_arrow([(qx + 190, qy + 54), (qx + 240, qy + 54), (qx + 240, qy + 84)])
    c.path_arrow([(qx + 90, qy + 134), (qx + 240, qy + 134), (qx + 240, qy + 104)])
    c.box(qx + 300, qy + 80, 70, 28, "down_proj", fill=MLP, mono=True, size=11)
    c.arrow(qx + 250, qy + 94, qx + 300, qy + 94)
    c.text(qx + 220, qy + 20, "SiLU(W_{gate} x) ⊙ (W_{up} x), then W_{down}", size=11)
    c.text(qx + 130, qy + 94, "hidden ⅔·4C", size=10, color=GREY)
    c.text(
        qx + 220,
        qy + 172,
        "three matrices, ⅔ the width: 8C^2 weights, as GPT-2's MLP",
        size=10,
        color=GREY,
    )
    c.save(folder, "08_modern_block.svg")


def gqa(folder: Path, lang: str = "en") -> None:
    c = Canvas(
        700,
        250,
        "Multi-head, grouped-query and multi-query attention: which query heads share K and V",
        lang,
        ZH,
    )
    palette = [ACCENT, BLUE, GREEN, "#8e7cc3", "#e69138", "#45818e", "#a64d79", "#6d9eeb"]
    variants = [("MHA", 8), ("GQA", 2), ("MQA", 1)]
    for col, (name, n_kv) in enumerate(variants):
        x0 = 30 + col * 230
        c.text(x0 + 95, 22, f"{name}: H_{{kv}} = {n_kv}", size=12, weight="bold")
        group = 8 // n_kv
        for h in range(8):
            color = palette[h // group] if n_kv > 1 else palette[0]
            qx = x0 + h * 24
            c.rect(qx, 170, 20, 30, fill="white", stroke=color, radius=3, width=1.6)
            c.text(qx + 10, 185, "q", size=10)
            kv = h // group
            kx = x0 + 95 - n_kv * 12 + kv * 24
            c.line(qx + 10, 170, kx + 10, 106, color=color, width=1)
        for kv in range(n_kv):
            kx = x0 + 95 - n_kv * 12 + kv * 24
            color = palette[kv] if n_kv > 1 else palette[0]
            c.rect(kx, 46, 20, 60, fill=color, stroke=color, radius=3)
            c.text(kx + 10, 66, "k", size=10, color="white")
            c.text(kx + 10, 88, "v", size=10, color="white")
        c.text(x0 + 95, 222, f"cache: {n_kv}/8 of MHA's", size=11, color=GREY)
    c.text(
        350,
        242,
        "H = 8 query heads; query head h reads KV head ⌊h / (H / H_{kv})⌋",
        size=11,
        color=GREY,
    )
    c.save(folder, "08_gqa.svg")


def moe(folder: Path, lang: str = "en") -> None:
    c = Canvas(
        640,
        300,
        "A mixture-of-experts layer: a router sends each token to its top-k experts",
        lang,
        ZH,
    )
    c.box(20, 130, 80, 34, "x", fill=LIGHT, sub="one token")
    c.box(140, 130, 90, 34, "router", fill=OUT, mono=True, size=12)
    c.arrow(100, 147, 140, 147)
    probs = [0.45, 0.08, 0.35, 0.12]
    for i, p in enumerate(probs):
        y = 40 + i * 62
        chosen = i in (0, 2)
        c.rect(270, y + 8, 120 * p / 0.45 * 0.5, 16, fill=ACCENT if chosen else "#dddddd", radius=2)
        c.text(270, y + 1, f"p_{i + 1} = {p:.2f}", size=10, anchor="start")
        c.box(
            400,
            y,
            110,
            32,
            f"Expert_{i + 1}",
            fill=MLP if chosen else "white",
            stroke="#222222" if chosen else GREY,
            color="#222222" if chosen else GREY,
            size=12,
        )
        c.line(230, 147, 268, y + 16, color=GREY, width=0.8)
        c.arrow(342, y + 16, 400, y + 16, color=ACCENT if chosen else "#cccccc")
        if chosen:
            c.arrow(510, y + 16, 560, 147, color=ACCENT)
    c.op(570, 150, "Σ", r=12)
    c.text(610, 150, "y", size=14)
    c.arrow(582, 150, 600, 150)
    c.text(
        335,
        280,
        "top-k = 2 of E = 4: weights p_i / (p_1 + p_3); the other experts do not run",
        size=11,
        color=GREY,
    )
    c.text(185, 178, "p = softmax(W_r x)", size=10, color=GREY)
    c.save(folder, "08_moe.svg")


def main(folder: Path = HERE) -> None:
    for lang in LANGS:
        modern_block(folder, lang)
        gqa(folder, lang)
        moe(folder, lang)


if __name__ == "__main__":
    main()
