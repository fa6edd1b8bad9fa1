"""Notebook 13's diagrams: the weights file byte by byte, and the INT4 quantisation grid."""

from pathlib import Path

from _style import ACCENT, ATTN, BLUE, EMBED, GREY, LANGS, LIGHT, MLP, NORM, OUT, Canvas

HERE = Path(__file__).resolve().parent

# The Chinese variant's labels (docs/glossary.md's terms); symbols, math and code stay as
# written.
ZH = {
    "The two files: model.safetensors (length, JSON header, tensor bytes) and run.py": (
        "两个文件：model.safetensors（长度、JSON 头部、张量字节）与 run.py"
    ),
    "file 1: model.safetensors": "文件 1：model.safetensors",
    "byte 0": "字节 0",
    "8 + N: tensor data": "8 + N：张量数据",
    "end of file": "文件末尾",
    "8 bytes, uint64": "8 字节，uint64",
    "header: N bytes of JSON": "头部：N 字节的 JSON",
    "names, dtypes, shapes, offsets": "名称、dtype、形状、偏移",
    "data\\_offsets count from": "data\\_offsets 从数据区",
    "the start of the data": "的开头算起",
    "\\_\\_metadata\\_\\_ makes the file": "\\_\\_metadata\\_\\_ 让文件",
    "self-describing: the config,": "自带说明：配置、",
    "the vocabulary and how each": "词表，以及每个",
    "tensor is quantised": "张量如何量化",
    "reads": "读取",
    "file 2: run.py": "文件 2：run.py",
    "tokens → forward pass + KV cache → next token": "词元 → 前向传播 + 键值缓存 → 下一个词元",
    "dequantises each matrix when it is used": "每个矩阵用到时才反量化",
    "NumPy only, about 190 lines": "只用 NumPy，约 190 行",
    "INT4 round-to-nearest: 16 levels, one float16 scale per group of 32 weights": (
        "INT4 就近取整：16 个等级，每组 32 个权重共用一个 float16 缩放因子"
    ),
    "INT4: a grid of 16 levels, spaced by one scale per group of 32 weights": (
        "INT4：16 个等级的网格，间距是每组 32 个权重共用的一个缩放因子"
    ),
    "scale = max|w| / 7 in each group": "每组内 scale = max|w| / 7",
    "q = round(w / scale), clipped to [−8, 7]": "q = round(w / scale)，裁剪到 [−8, 7]",
    "ŵ = q × scale:  |w − ŵ| ≤ scale / 2": "ŵ = q × scale：|w − ŵ| ≤ scale / 2",
    "one row": "一行",
    **{f"32 weights · scale_{g}": f"32 个权重 · scale_{g}" for g in range(4)},
    "pack": "打包",
    "high 4 bits": "高 4 位",
    "low 4 bits": "低 4 位",
    "one byte holds two weights: 4 bits + 16/32 for the scale = 4.5 bits": (
        "一个字节存两个权重：4 位 + 缩放因子分摊的 16/32 位 = 4.5 位"
    ),
}


def file_layout(folder: Path, lang: str = "en") -> None:
    c = Canvas(
        760,
        400,
        "The two files: model.safetensors (length, JSON header, tensor bytes) and run.py",
        lang,
        ZH,
    )
    c.title_text("file 1: model.safetensors", x=300, y=22)
    # the byte strip
    y, h = 44, 46
    c.box(20, y, 110, h, "N", fill=NORM, sub="8 bytes, uint64")
    c.box(
        130, y, 210, h, "header: N bytes of JSON", fill=ATTN, sub="names, dtypes, shapes, offsets"
    )
    parts = [
        ("embed_positions.weight", EMBED, 140),
        ("scale", NORM, 46),
        ("embed_tokens.weight", EMBED, 120),
        ("layers.0…", MLP, 80),
        ("…", LIGHT, 24),
    ]
    x = 340
    starts = {}
    for name, fill, w in parts:
        c.box(
            x, y, w, h, name, fill=fill, size=10 if name != "…" else 11, radius=0, mono=name != "…"
        )
        starts[name] = x
        x += w
    c.text(20, y + h + 14, "byte 0", size=10, color=GREY, anchor="start")
    c.text(130, y + h + 14, "8", size=10, color=GREY, anchor="start")
    c.text(340, y + h + 14, "8 + N: tensor data", size=10, color=GREY, anchor="start")
    c.text(x, y + h + 14, "end of file", size=10, color=GREY, anchor="end")
    # the header, zoomed (tensors sorted by name)
    hy = 128
    c.rect(20, hy, 525, 178, fill="white", stroke=GREY, dashed=True)
    lines = [
        '{"embed_positions.weight": {"dtype": "I8", "shape": [128, 128],',
        '                           "data_offsets": [0, 16384]},',
        ' "embed_positions.weight.scale": {"dtype": "F32", "shape": [128], ...},',
        ' "embed_tokens.weight": {...}, "layers.0.input_layernorm.bias": {...},',
        ' ..., "layers.0.self_attn.k_proj.weight": {...}, ...',
        ' "__metadata__": {"format": "llm-course/two-files", "version": "2",',
        '                  "config": "{\\"n_kv_head\\": 4, \\"norm\\": \\"layernorm\\", ...}",',
        '                  "tokenizer": "[\\"\\\\n\\", \\" \\", \\"!\\", ...]",',
        '                  "quant": "{\\"embed_positions.weight\\": {...}, ...}"}}',
    ]
    for i, line in enumerate(lines):
        c.text(30, hy + 18 + i * 18, line, size=11, mono=True, anchor="start")
    c.path_arrow([(225, y + h), (225, hy)], color=GREY)
    c.curve_arrow(
        405, hy + 32, 440, 104, starts["embed_positions.weight"] + 70, y + h + 2, color=ACCENT
    )
    c.text(560, 150, "data\\_offsets count from", size=11, color=ACCENT, anchor="start")
    c.text(560, 165, "the start of the data", size=11, color=ACCENT, anchor="start")
    c.text(560, 215, "\\_\\_metadata\\_\\_ makes the file", size=11, color=GREY, anchor="start")
    c.text(560, 230, "self-describing: the config,", size=11, color=GREY, anchor="start")
    c.text(560, 245, "the vocabulary and how each", size=11, color=GREY, anchor="start")
    c.text(560, 260, "tensor is quantised", size=11, color=GREY, anchor="start")
    # file two
    c.box(20, 330, 260, 50, "file 2: run.py", fill=OUT, sub="NumPy only, about 190 lines")
    c.arrow(280, 355, 360, 355, label="reads", label_dy=-9)
    c.box(
        360,
        330,
        380,
        50,
        "tokens → forward pass + KV cache → next token",
        fill=LIGHT,
        sub="dequantises each matrix when it is used",
    )
    c.save(folder, "13_file_layout.svg")


def quant_grid(folder: Path, lang: str = "en") -> None:
    c = Canvas(
        760,
        370,
        "INT4 round-to-nearest: 16 levels, one float16 scale per group of 32 weights",
        lang,
        ZH,
    )
    c.title_text("INT4: a grid of 16 levels, spaced by one scale per group of 32 weights", y=20)
    # the number line with 16 levels
    left, right, y = 60, 700, 150
    step = (right - left) / 15  # levels -8 .. 7
    c.line(left - 20, y, right + 20, y, color=GREY)
    for k in range(16):
        x = left + k * step
        c.line(x, y - 6, x, y + 6)
        c.text(x, y + 18, str(k - 8), size=10, color=GREY)
    c.text(left - 30, y + 18, "q:", size=10, color=GREY, anchor="end")
    zero = left + 8 * step
    c.text(left + 15 * step, y + 34, "7 × scale = max|w|", size=10, color=GREY)
    # some weights and where they round to
    weights = [-5.6, -2.2, -0.4, 1.3, 3.7, 7.0]
    for w in weights:
        wx = zero + w * step
        qx = zero + round(w) * step
        c.circle(wx, y - 40, 4, fill=BLUE, stroke=BLUE)
        c.arrow(wx, y - 36, qx, y - 8, color=ACCENT)
    c.text(zero + 1.3 * step, y - 56, "w", size=11, color=BLUE)
    c.lines(
        60,
        62,
        [
            "scale = max|w| / 7 in each group",
            "q = round(w / scale), clipped to [−8, 7]",
            "ŵ = q × scale:  |w − ŵ| ≤ scale / 2",
        ],
        size=11,
        anchor="start",
    )
    # a row split into groups
    gy = 205
    c.text(20, gy + 15, "one row", size=11, anchor="start")
    for g in range(4):
        x0 = 90 + g * 150
        c.rect(x0, gy, 150, 30, fill=MLP, radius=0)
        c.text(x0 + 75, gy + 15, f"32 weights · scale_{g}", size=11)
    c.text(700, gy + 15, "…", size=13)
    # packing two weights into a byte
    by = 280
    c.box(90, by, 120, 36, "w_0 → q_0", fill=LIGHT, size=11)
    c.box(220, by, 120, 36, "w_1 → q_1", fill=LIGHT, size=11)
    c.arrow(340, by + 18, 420, by + 18, label="pack", label_dy=-9)
    c.box(420, by, 90, 36, "q_1 + 8", fill=ATTN, sub="high 4 bits", size=11, radius=0)
    c.box(510, by, 90, 36, "q_0 + 8", fill=EMBED, sub="low 4 bits", size=11, radius=0)
    c.text(
        510,
        by + 52,
        "one byte holds two weights: 4 bits + 16/32 for the scale = 4.5 bits",
        size=11,
        color=GREY,
    )
    c.save(folder, "13_quant_grid.svg")


def main(folder: Path = HERE) -> None:
    for lang in LANGS:
        file_layout(folder, lang)
        quant_grid(folder, lang)


if __name__ == "__main__":
    main()
