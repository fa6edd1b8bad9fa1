"""Notebook 01's diagrams: a bag of words loses word order; an n-gram model reads a window."""

from pathlib import Path

from _style import ACCENT, ATTN, BLUE, GREY, LANGS, LIGHT, MLP, OUT, Canvas

HERE = Path(__file__).resolve().parent

# The Chinese variant's labels (docs/glossary.md's terms); symbols, math and code stay as
# written.
ZH = {
    "Two sentences with opposite meanings get the same bag-of-words vector": (
        "两个意思相反的句子得到相同的词袋向量"
    ),
    "vocabulary: one axis per word": "词表：每个词一个维度",
    "count": "计数",
    "same counts, opposite meanings: word order is gone": "计数相同，意思相反：词序丢失了",
    "one-hot words: cos(king, queen) = cos(king, bites) = 0": (
        "独热向量：cos(king, queen) = cos(king, bites) = 0"
    ),
    "A trigram model predicts the next word from the two words before it": (
        "三元语法模型根据前两个词预测下一个词"
    ),
    "context h: n − 1 = 2 words": "上下文 h：n − 1 = 2 个词",
    "predict": "预测",
    "next window": "下一个窗口",
    "an unseen (h, w): count 0, probability 0 → smoothing (add-k, Kneser-Ney)": (
        "没见过的 (h, w)：计数为 0，概率为 0 → 平滑（加 k 平滑、Kneser-Ney）"
    ),
}


def bag_of_words(folder: Path, lang: str = "en") -> None:
    c = Canvas(
        620, 240, "Two sentences with opposite meanings get the same bag-of-words vector", lang, ZH
    )
    vocab = ["bites", "dog", "man", "the"]
    sentences = ["the dog bites the man", "the man bites the dog"]
    col_x, col_w, table_x = 330, 58, 330
    # the vocabulary: one axis (column) per word
    c.text(table_x + 2 * col_w, 26, "vocabulary: one axis per word", size=11, color=GREY)
    for j, word in enumerate(vocab):
        c.box(col_x + j * col_w, 40, col_w, 28, word, fill=MLP, radius=0, mono=True, size=12)
    for i, sentence in enumerate(sentences):
        y = 84 + i * 44
        c.box(20, y, 210, 32, sentence, fill=LIGHT, mono=True, size=12)
        c.arrow(232, y + 16, col_x - 8, y + 16, label="count", size=10)
        for j, count in enumerate([1, 1, 1, 2]):
            c.box(col_x + j * col_w, y, col_w, 32, str(count), fill="white", radius=0)
    c.text(col_x + 4 * col_w + 24, 118, "=", size=22, color=ACCENT)
    c.text(col_x + 4 * col_w + 24, 138, "cos 1", size=11, color=ACCENT)
    c.text(310, 184, "same counts, opposite meanings: word order is gone", size=12, color=ACCENT)
    # one-hot words are orthogonal: king is as far from queen as from bites
    c.text(310, 214, "one-hot words: cos(king, queen) = cos(king, bites) = 0", size=12, color=GREY)
    c.save(folder, "01_bag_of_words.svg")


def ngram_window(folder: Path, lang: str = "en") -> None:
    c = Canvas(
        580, 230, "A trigram model predicts the next word from the two words before it", lang, ZH
    )
    words = ["before", "we", "proceed", "any", "further", ",", "hear", "me"]
    x, y, h, gap = 20, 70, 34, 8
    boxes = []
    for word in words:
        w = 16 + 8.2 * max(len(word), 2)
        boxes.append((x, w))
        x += w + gap
    roles = {1: ("w_{t-2}", ATTN), 2: ("w_{t-1}", ATTN), 3: ("w_t", OUT)}
    for k, (word, (bx, bw)) in enumerate(zip(words, boxes)):
        fill = roles.get(k, (None, "white"))[1]
        c.box(bx, y, bw, h, word, fill=fill, mono=True, size=13)
        if k in roles:
            c.text(bx + bw / 2, y + h + 16, roles[k][0], size=13)
    # the context h = the n-1 previous words
    left, right = boxes[1][0], boxes[2][0] + boxes[2][1]
    c.path_arrow([(left, y - 8), (left, y - 16), (right, y - 16), (right, y - 8)], head=False)
    c.text((left + right) / 2, y - 28, "context h: n − 1 = 2 words", size=12)
    tx = boxes[3][0] + boxes[3][1] / 2
    c.curve_arrow(right, y - 16, tx, y - 16, tx, y - 4, color=ACCENT)
    c.text(tx + 8, y - 24, "predict", size=11, color=ACCENT, anchor="start")
    # the next window, one word later
    nl, nr = boxes[2][0] - 3, boxes[4][0] + boxes[4][1] + 3
    c.rect(nl, y - 4, nr - nl, h + 8, dashed=True, stroke=BLUE, radius=8)
    c.text(nr + 6, y + h + 16, "next window", size=11, color=BLUE, anchor="start")
    c.text(
        290,
        166,
        "P(w_t | w_{t-2} w_{t-1})  =  c(w_{t-2} w_{t-1} w_t) / c(w_{t-2} w_{t-1})",
        size=14,
    )
    c.text(
        290,
        198,
        "an unseen (h, w): count 0, probability 0 → smoothing (add-k, Kneser-Ney)",
        size=11,
        color=GREY,
    )
    c.save(folder, "01_ngram_window.svg")


def main(folder: Path = HERE) -> None:
    for lang in LANGS:
        bag_of_words(folder, lang)
        ngram_window(folder, lang)


if __name__ == "__main__":
    main()
