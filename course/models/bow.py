"""Bag-of-words and TF-IDF document vectors, cosine similarity, and a multinomial Naive Bayes
classifier.

A bag of words forgets order: "dog bites man" and "man bites dog" get the same vector. And every
word is its own axis, orthogonal to every other: "king" and "queen" are exactly as unrelated as
"king" and "cabbage". Notebook 01 shows both; notebook 02 fixes the second with embeddings."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence

import numpy as np

_SPEAKER = re.compile(r"^([A-Z][A-Za-z' ]*[A-Za-z]):$")


def speeches(text: str) -> list[tuple[str, str]]:
    """Split a play in Tiny Shakespeare's layout (a "NAME:" line, the speech, a blank line) into
    (speaker, speech) pairs. Returns [] for text without that layout (e.g. the offline news
    fallback)."""
    out = []
    for block in re.split(r"\n\s*\n", text):
        lines = block.strip().splitlines()
        if len(lines) >= 2:
            match = _SPEAKER.match(lines[0].strip())
            if match:
                out.append((match.group(1).upper(), " ".join(line.strip() for line in lines[1:])))
    return out


def build_vocab(
    docs: Sequence[Sequence[str]], min_df: int = 1, max_size: int | None = None
) -> list[str]:
    """Words that occur in at least ``min_df`` documents, most widespread first (ties
    alphabetical)."""
    df = Counter(w for doc in docs for w in set(doc))
    words = sorted((w for w, c in df.items() if c >= min_df), key=lambda w: (-df[w], w))
    if not words:
        raise ValueError(f"no word occurs in {min_df} or more documents; lower min_df")
    return words[:max_size] if max_size else words


def count_vectors(docs: Sequence[Sequence[str]], vocab: Sequence[str]) -> np.ndarray:
    """(documents, vocabulary) matrix of raw counts; words outside the vocabulary are dropped."""
    index = {w: i for i, w in enumerate(vocab)}
    X = np.zeros((len(docs), len(vocab)))
    for row, doc in enumerate(docs):
        for w, c in Counter(doc).items():
            if w in index:
                X[row, index[w]] = c
    return X


def idf(counts: np.ndarray) -> np.ndarray:
    """Inverse document frequency, idf(t) = ln(N / df(t)), where df(t) counts the documents holding
    t. A word in every document gets 0: it tells documents apart not at all. Unused words get 0
    too."""
    counts = np.asarray(counts)
    n_docs = counts.shape[0]
    df = (counts > 0).sum(axis=0)
    with np.errstate(divide="ignore"):
        return np.where(df > 0, np.log(n_docs / np.maximum(df, 1)), 0.0)


def tfidf(counts: np.ndarray, normalise: bool = True) -> np.ndarray:
    """tf-idf(t, d) = count(t, d) · idf(t), each row scaled to unit length when ``normalise``
    (so long documents do not win cosine comparisons by length alone)."""
    X = np.asarray(counts, dtype=float) * idf(counts)
    if normalise:
        norms = np.linalg.norm(X, axis=1, keepdims=True)
        X = X / np.where(norms > 0, norms, 1.0)
    return X


def cosine(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """cos(a, b) = a·b / (|a| |b|) between rows of a and rows of b (1-D inputs give a number).
    An all-zero vector has similarity 0 with everything."""
    a2, b2 = np.atleast_2d(a).astype(float), np.atleast_2d(b).astype(float)
    if a2.shape[1] != b2.shape[1]:
        raise ValueError(f"vectors must have the same length, got {a2.shape[1]} and {b2.shape[1]}")
    na = np.linalg.norm(a2, axis=1, keepdims=True)
    nb = np.linalg.norm(b2, axis=1, keepdims=True)
    sims = (a2 / np.where(na > 0, na, 1)) @ (b2 / np.where(nb > 0, nb, 1)).T
    return float(sims[0, 0]) if np.ndim(a) == 1 and np.ndim(b) == 1 else sims


class NaiveBayes:
    """Multinomial Naive Bayes on count vectors.

    Score of class c for a document with counts x:  log P(c) + Σ_t x_t · log P(t | c), with P(t | c)
    = (count of t in class c + alpha) / (all words in class c + alpha·V)  (add-alpha, as in 01's
    n-grams). "Naive" because it treats words as independent given the class — a bag of words again.
    """

    def __init__(self, alpha: float = 1.0):
        if alpha <= 0:
            raise ValueError(f"alpha must be positive, got {alpha}")
        self.alpha = alpha

    def fit(self, X: np.ndarray, y: Sequence) -> NaiveBayes:
        X = np.asarray(X, dtype=float)
        y = np.asarray(y)
        if len(X) != len(y):
            raise ValueError(f"{len(X)} documents but {len(y)} labels")
        self.classes_ = np.unique(y)
        counts = np.stack([X[y == c].sum(axis=0) for c in self.classes_])  # (classes, V)
        self.log_prior_ = np.log(np.array([(y == c).mean() for c in self.classes_]))
        smoothed = counts + self.alpha
        # (classes, V)
        self.log_likelihood_ = np.log(smoothed / smoothed.sum(axis=1, keepdims=True))
        return self

    def scores(self, X: np.ndarray) -> np.ndarray:
        """(documents, classes) log P(c) + Σ x_t log P(t|c) — unnormalised log posteriors."""
        if not hasattr(self, "classes_"):
            raise RuntimeError("call fit(X, y) before predicting")
        return np.asarray(X, dtype=float) @ self.log_likelihood_.T + self.log_prior_

    def predict(self, X: np.ndarray) -> np.ndarray:
        scores = self.scores(X)
        return self.classes_[scores.argmax(axis=1)]

    def telling_words(self, vocab: Sequence[str], k: int = 10) -> dict:
        """For each class, the k words whose log P(t|c) most exceeds their average over the other
        classes."""
        out = {}
        for i, c in enumerate(self.classes_):
            others = (
                np.delete(self.log_likelihood_, i, axis=0).mean(axis=0)
                if len(self.classes_) > 1
                else 0
            )
            lift = self.log_likelihood_[i] - others
            out[c] = [vocab[j] for j in np.argsort(-lift)[:k]]
        return out


def accuracy(predicted: Sequence, truth: Sequence) -> float:
    predicted, truth = np.asarray(predicted), np.asarray(truth)
    if len(predicted) != len(truth) or len(truth) == 0:
        raise ValueError("need two non-empty sequences of the same length")
    return float((predicted == truth).mean())


def majority_baseline(train_labels: Sequence, test_labels: Sequence) -> float:
    """Accuracy of always guessing the most common training label: the floor a classifier must
    beat."""
    most = Counter(train_labels).most_common(1)[0][0]
    return float(np.mean(np.asarray(test_labels) == most))


__all__ = [
    "speeches",
    "build_vocab",
    "count_vectors",
    "idf",
    "tfidf",
    "cosine",
    "NaiveBayes",
    "accuracy",
    "majority_baseline",
]
