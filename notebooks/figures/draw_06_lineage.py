"""Notebook 06's lineage figure: the Transformer's halves became families (GPT, BERT, T5, LLaMA).

Every number is the one the model's paper states (parameters; training tokens, or the corpus as the
paper describes it when it gives no token count). Where a paper gives none, the figure says so.
The citations are in notebook 06's markdown, beside the figure.
"""

from pathlib import Path

from _style import ACCENT, ATTN, BLUE, EMBED, GREY, INK, LANGS, LIGHT, MLP, OUT, Canvas

HERE = Path(__file__).resolve().parent

X0, YEAR = 95, 160  # x of the 2017 column, pixels per year
BOX_W, BOX_H, LANE = 144, 70, 92

# The Chinese variant's labels (docs/glossary.md's terms); names, numbers and years stay as written.
ZH = {
    "The Transformer's lineage: decoder-only GPT models, the encoder-only BERT, "
    "the encoder-decoder T5 and the open decoder-only LLaMA, with parameters and "
    "training data as their papers state them": (
        "Transformer 的谱系：仅解码器的 GPT 系列、仅编码器的 BERT、编码器–解码器的 T5 "
        "与开放权重的仅解码器 LLaMA，参数量与训练数据均以各自论文所述为准"
    ),
    "Two halves, two families: parameters and training data, as each paper states them": (
        "两半结构，两个家族：参数量与训练数据，均以各自论文所述为准"
    ),
    "decoder-only (causal LM)": "仅解码器（因果语言模型）",
    "decoder-only, open weights": "仅解码器，开放权重",
    "encoder-only (masked LM)": "仅编码器（掩码语言模型）",
    "encoder–decoder": "编码器–解码器",
    "decoder": "解码器",
    "encoder": "编码器",
    "both halves": "两半都用",
    "117M parameters*": "117M 参数*",
    "BooksCorpus:": "BooksCorpus：",
    "7,000+ books": "7000 多本书",
    "1.5B parameters": "1.5B 参数",
    "WebText: 40 GB,": "WebText：40 GB，",
    "8M documents": "800 万篇文档",
    "175B parameters": "175B 参数",
    "300B tokens": "300B 词元",
    "1.3B–175B parameters": "1.3B–175B 参数",
    "GPT-3 fine-tuned": "在 GPT-3 上",
    "on human feedback": "用人类反馈微调",
    "size: not disclosed": "规模：未公开",
    "data: not disclosed": "数据：未公开",
    "ChatGPT (Nov 2022): a sibling": "ChatGPT（2022 年 11 月）：同源",
    "model; no paper, no size": "模型；无论文，未公开规模",
    "7B–65B parameters": "7B–65B 参数",
    "1.0T tokens (7B, 13B)": "1.0T 词元（7B、13B）",
    "1.4T tokens (33B, 65B)": "1.4T 词元（33B、65B）",
    "110M / 340M parameters": "110M / 340M 参数",
    "3.3B words,": "33 亿词，",
    "~40 epochs": "约 40 轮",
    "up to 11B parameters": "最大 11B 参数",
    "C4: ~1T tokens": "C4：约 1T 词元",
    "seen in pre-training": "即预训练中所见的量",
    "* GPT-1's paper gives its shape (12 layers, width 768, 12 heads); "
    "the count 117M is the GPT-2 paper's. Years: first public version.": (
        "* GPT-1 的论文只给出形状（12 层，宽 768，12 个头）；117M 这一参数量出自 GPT-2 的论文。"
        "年份：首个公开版本。"
    ),
}


def year_x(year: int) -> float:
    return X0 + (year - 2017) * YEAR


def model(
    c: Canvas, year: int, y: float, name: str, lines: list[str], fill: str, dashed: bool = False
) -> tuple[float, float]:
    """One model: name and year, then parameters and training data. Returns its left and right x."""
    x = year_x(year) - BOX_W / 2
    c.rect(x, y, BOX_W, BOX_H, fill=fill, dashed=dashed)
    c.text(x + BOX_W / 2, y + 13, name, size=11.5, weight="bold")
    for k, line in enumerate(lines):
        c.text(
            x + BOX_W / 2,
            y + 31 + 14 * k,
            line,
            size=10 if k == 0 else 9.5,
            color=INK if k == 0 else GREY,
        )
    return x, x + BOX_W


def lineage(folder: Path, lang: str = "en") -> None:
    c = Canvas(
        1140,
        470,
        "The Transformer's lineage: decoder-only GPT models, the encoder-only BERT, "
        "the encoder-decoder T5 and the open decoder-only LLaMA, with parameters and "
        "training data as their papers state them",
        lang=lang,
        labels=ZH,
    )
    c.title_text(
        "Two halves, two families: parameters and training data, as each paper states them"
    )
    names = [
        "decoder-only (causal LM)",
        "decoder-only, open weights",
        "encoder-only (masked LM)",
        "encoder–decoder",
    ]
    top = {name: 58 + LANE * k for k, name in enumerate(names)}
    for name, y in top.items():
        c.line(year_x(2018) - BOX_W / 2 - 20, y + BOX_H / 2, 1130, y + BOX_H / 2, color="#e4e4e4")
        c.text(
            year_x(2018) - BOX_W / 2 - 10,
            y - 10,
            name,
            size=10.5,
            color=GREY,
            anchor="start",
            italic=True,
        )
    # the 2017 Transformer, whose halves start the families
    tx, t_top, t_bottom = year_x(2017), top[names[0]], top[names[-1]] + BOX_H
    c.rect(tx - 55, t_top, 110, t_bottom - t_top, fill=LIGHT)
    c.lines(tx, t_top + 30, ["Transformer", "2017"], size=12)
    c.box(tx - 40, top[names[0]] + BOX_H / 2 + 40, 80, 34, "decoder", fill=MLP, size=11)
    c.box(tx - 40, top[names[2]] + BOX_H / 2 - 17, 80, 34, "encoder", fill=ATTN, size=11)
    c.arrow(
        tx + 40,
        top[names[0]] + BOX_H / 2 + 57,
        year_x(2018) - BOX_W / 2,
        top[names[0]] + BOX_H / 2,
        color=BLUE,
    )
    c.arrow(
        tx + 40,
        top[names[2]] + BOX_H / 2,
        year_x(2018) - BOX_W / 2,
        top[names[2]] + BOX_H / 2,
        color=ACCENT,
    )
    c.arrow(
        tx + 55,
        top[names[3]] + BOX_H / 2,
        year_x(2019) - BOX_W / 2,
        top[names[3]] + BOX_H / 2,
        color=GREY,
        label="both halves",
        label_pos=0.6,
    )

    y = top[names[0]]
    chain = [
        model(
            c, 2018, y, "GPT-1 · 2018", ["117M parameters*", "BooksCorpus:", "7,000+ books"], MLP
        ),
        model(
            c, 2019, y, "GPT-2 · 2019", ["1.5B parameters", "WebText: 40 GB,", "8M documents"], MLP
        ),
        model(c, 2020, y, "GPT-3 · 2020", ["175B parameters", "300B tokens"], MLP),
        model(
            c,
            2022,
            y,
            "InstructGPT · 2022",
            ["1.3B–175B parameters", "GPT-3 fine-tuned", "on human feedback"],
            OUT,
        ),
        model(
            c,
            2023,
            y,
            "GPT-4 · 2023",
            ["size: not disclosed", "data: not disclosed"],
            MLP,
            dashed=True,
        ),
    ]
    for (_, right), (left, _) in zip(chain, chain[1:]):
        c.arrow(right, y + BOX_H / 2, left, y + BOX_H / 2, color=BLUE)
    c.lines(
        year_x(2022),
        y + BOX_H + 20,
        ["ChatGPT (Nov 2022): a sibling", "model; no paper, no size"],
        size=9.5,
        color=GREY,
    )
    model(
        c,
        2023,
        top[names[1]],
        "LLaMA · 2023",
        ["7B–65B parameters", "1.0T tokens (7B, 13B)", "1.4T tokens (33B, 65B)"],
        MLP,
    )
    model(
        c,
        2018,
        top[names[2]],
        "BERT · 2018",
        ["110M / 340M parameters", "3.3B words,", "~40 epochs"],
        ATTN,
    )
    model(
        c,
        2019,
        top[names[3]],
        "T5 · 2019",
        ["up to 11B parameters", "C4: ~1T tokens", "seen in pre-training"],
        EMBED,
    )
    # the time axis
    axis = top[names[-1]] + BOX_H + 22
    for year in range(2017, 2024):
        c.text(year_x(year), axis, str(year), size=11, color=GREY)
    c.text(
        c.width / 2,
        axis + 24,
        "* GPT-1's paper gives its shape (12 layers, width 768, 12 heads); "
        "the count 117M is the GPT-2 paper's. Years: first public version.",
        size=9.5,
        color=GREY,
    )
    c.save(folder, "06_lineage.svg")


def main(folder: Path = HERE) -> None:
    for lang in LANGS:
        lineage(folder, lang)


if __name__ == "__main__":
    main()
