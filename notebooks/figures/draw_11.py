"""Notebook 11's diagram: the retrieval-augmented generation pipeline, and the closed-book path
beside it."""

from pathlib import Path

from _style import ACCENT, BLUE, EMBED, GREY, LANGS, LIGHT, MLP, OUT, Canvas

HERE = Path(__file__).resolve().parent

# The Chinese variant's labels (docs/glossary.md's terms); symbols, math and code stay as
# written.
ZH = {
    "RAG: chunk and index the articles once; "
    "per question retrieve, put the passage in the prompt, read": (
        "RAG：文章只需分块、建索引一次；每个问题都先检索，把段落放进提示词，再阅读作答"
    ),
    "once": "只做一次",
    "articles": "文章",
    "126 towns": "126 个城镇",
    "chunks": "文本块",
    "1 sentence + town": "1 句话 + 城镇名",
    "index": "索引",
    "per question": "每个问题",
    "question": "问题",
    "held-out town": "留出的城镇",
    "TF-IDF vector (V,)": "TF-IDF 向量 (V,)",
    "index · q": "索引 · q",
    "best chunk": "最佳文本块",
    "GPT reader": "GPT 阅读器",
    "fine-tuned to read": "经微调学会阅读",
    "answer": "答案",
    "from the passage": "依据段落",
    "closed book: no passage, the model answers from memory alone": (
        "闭卷：不给段落，模型只凭记忆作答"
    ),
}


def rag(folder: Path, lang: str = "en") -> None:
    c = Canvas(
        860,
        330,
        "RAG: chunk and index the articles once; "
        "per question retrieve, put the passage in the prompt, read",
        lang,
        ZH,
    )
    w, xs = 120, [15 + 142 * k for k in range(6)]
    # offline: build the index once
    c.text(xs[0], 22, "once", size=11, color=GREY, anchor="start", weight="bold")
    c.box(xs[0], 36, w, 44, "articles", fill=LIGHT, sub="126 towns", size=12)
    c.box(xs[1], 36, w, 44, "chunks", fill=LIGHT, sub="1 sentence + town", size=12)
    c.box(xs[2], 36, w, 44, "index", fill=EMBED, sub="TF-IDF (N, V)", size=12)
    c.arrow(xs[0] + w, 58, xs[1], 58)
    c.arrow(xs[1] + w, 58, xs[2], 58)
    # online: per question
    y = 150
    c.text(xs[0], y - 22, "per question", size=11, color=GREY, anchor="start", weight="bold")
    c.box(xs[0], y, w, 44, "question", fill=LIGHT, sub="held-out town", size=12)
    c.box(xs[1], y, w, 44, "q", fill=EMBED, sub="TF-IDF vector (V,)", size=12)
    c.box(xs[2], y, w, 44, "index · q", fill=EMBED, sub="best chunk", size=12)
    c.arrow(xs[0] + w, y + 22, xs[1], y + 22)
    c.arrow(xs[1] + w, y + 22, xs[2], y + 22)
    c.arrow(xs[2] + w / 2, 80, xs[2] + w / 2, y)
    # the prompt, as the reader sees it
    px, pw = xs[3] - 6, w + 12
    c.rect(px, y - 16, pw, 76, fill="white")
    for k, line in enumerate(["Context: <chunk>", "User: <question>", "Bot:"]):
        c.text(px + 6, y + 2 + k * 20, line, size=10, mono=True, anchor="start")
    c.arrow(xs[2] + w, y + 22, px, y + 22)
    c.box(xs[4], y, w, 44, "GPT reader", fill=MLP, sub="fine-tuned to read", size=12)
    c.arrow(px + pw, y + 22, xs[4], y + 22)
    c.box(xs[5], y, w - 20, 44, "answer", fill=OUT, sub="from the passage", size=12)
    c.arrow(xs[4] + w, y + 22, xs[5], y + 22)
    # the question also goes into the prompt
    c.path_arrow(
        [
            (xs[0] + w / 2, y + 44),
            (xs[0] + w / 2, y + 80),
            (px + pw / 2, y + 80),
            (px + pw / 2, y + 60),
        ],
        color=GREY,
    )
    # closed book: the same model, no passage
    c.path_arrow(
        [(xs[0] + 20, y + 44), (xs[0] + 20, 285), (xs[4] + w / 2, 285), (xs[4] + w / 2, y + 44)],
        color=ACCENT,
        dashed=True,
    )
    c.text(
        (xs[0] + xs[4]) / 2 + 60,
        300,
        "closed book: no passage, the model answers from memory alone",
        size=11,
        color=ACCENT,
    )
    c.text(xs[2] + w / 2, y + 62, "recall@k", size=10, color=BLUE)
    c.save(folder, "11_rag_pipeline.svg")


def main(folder: Path = HERE) -> None:
    for lang in LANGS:
        rag(folder, lang)


if __name__ == "__main__":
    main()
