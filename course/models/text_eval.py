"""Evaluating word vectors: nearest neighbours, WordSim-353 (Spearman) and the Google analogy
questions.

Works on any (V, d) matrix of vectors with its list of words, so our skip-gram and gensim's Word2Vec
are scored by exactly the same code. The test sets ship with gensim
(``gensim.test.utils.datapath``), so everything runs offline."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np


def _unit(vectors) -> np.ndarray:
    E = np.asarray(
        vectors.detach().cpu() if hasattr(vectors, "detach") else vectors, dtype=np.float64
    )
    norms = np.linalg.norm(E, axis=1, keepdims=True)
    return E / np.where(norms > 0, norms, 1.0)


def nearest(vectors, itos: Sequence[str], word: str, k: int = 8) -> list[tuple[str, float]]:
    """The k words with the highest cosine similarity to ``word`` (itself excluded)."""
    stoi = {w: i for i, w in enumerate(itos)}
    if word not in stoi:
        raise KeyError(
            f"{word!r} is not in the vocabulary of {len(itos)} words; try a more frequent word"
        )
    E = _unit(vectors)
    sims = E @ E[stoi[word]]
    sims[stoi[word]] = -np.inf
    best = np.argsort(-sims)[:k]
    return [(itos[i], float(sims[i])) for i in best]


def _gensim_file(name: str) -> Path:
    try:
        from gensim.test.utils import datapath
    except ImportError as error:
        raise ImportError("the evaluation sets ship with gensim: pip install gensim") from error
    return Path(datapath(name))


def wordsim353() -> list[tuple[str, str, float]]:
    """The 353 word pairs with mean human similarity ratings (0-10), lower-cased."""
    rows = []
    for line in _gensim_file("wordsim353.tsv").read_text(encoding="utf-8").splitlines():
        if line.startswith("#") or not line.strip():
            continue
        a, b, score = line.split("\t")[:3]
        rows.append((a.lower(), b.lower(), float(score)))
    return rows


def wordsim_spearman(vectors, itos: Sequence[str], pairs=None) -> tuple[float, int]:
    """Spearman correlation between cosine similarity and human ratings, over the pairs whose two
    words are both in the vocabulary. Returns (rho, pairs used)."""
    from scipy.stats import spearmanr

    pairs = wordsim353() if pairs is None else pairs
    stoi = {w: i for i, w in enumerate(itos)}
    E = _unit(vectors)
    model, human = [], []
    for a, b, score in pairs:
        if a in stoi and b in stoi:
            model.append(float(E[stoi[a]] @ E[stoi[b]]))
            human.append(score)
    if len(model) < 3:
        raise ValueError(
            "fewer than 3 WordSim pairs are in the vocabulary: train on a larger, more general "
            "corpus"
        )
    return float(spearmanr(model, human).statistic), len(model)


def analogy_questions() -> dict[str, list[tuple[str, str, str, str]]]:
    """The Google analogy set: section name -> questions (a, b, c, d) meaning a : b :: c : d,
    lower-cased."""
    sections: dict[str, list] = {}
    current = None
    for line in _gensim_file("questions-words.txt").read_text(encoding="utf-8").splitlines():
        if line.startswith(":"):
            current = line[1:].strip()
            sections[current] = []
        elif line.strip() and current is not None:
            sections[current].append(tuple(line.lower().split()))
    return sections


def analogy_accuracy(
    vectors,
    itos: Sequence[str],
    questions: Sequence[tuple[str, str, str, str]],
    restrict: int | None = None,
) -> tuple[float, int]:
    """3CosAdd: answer a : b :: c : ? with the word nearest to v_b - v_a + v_c, the three question
    words excluded (as gensim and the original tool do). Only questions whose four words are among
    the first ``restrict`` words of ``itos`` count. Returns (accuracy, questions used)."""
    itos = list(itos)[:restrict] if restrict else list(itos)
    stoi = {w: i for i, w in enumerate(itos)}
    E = _unit(
        np.asarray(vectors.detach().cpu() if hasattr(vectors, "detach") else vectors)[: len(itos)]
    )
    usable = [q for q in questions if all(w in stoi for w in q)]
    if not usable:
        return float("nan"), 0
    idx = np.array([[stoi[w] for w in q] for q in usable])  # (Q, 4)
    correct = 0
    for start in range(0, len(idx), 512):
        q = idx[start : start + 512]
        target = E[q[:, 1]] - E[q[:, 0]] + E[q[:, 2]]  # (q, d)
        sims = target @ E.T  # (q, V)
        rows = np.arange(len(q))[:, None]
        sims[rows, q[:, :3]] = -np.inf
        correct += int((sims.argmax(1) == q[:, 3]).sum())
    return correct / len(usable), len(usable)


def gensim_corpus(wikipedia: bool = True, lee: bool = True) -> list[list[str]]:
    """Token lists of the English text that gensim ships: ~106 Wikipedia articles (~450k words) and
    the 300 Lee news articles (~60k words), lower-cased, punctuation removed (gensim's own
    tokenizer)."""
    from gensim.utils import simple_preprocess

    docs: list[list[str]] = []
    if wikipedia:
        from gensim.corpora import WikiCorpus

        dump = _gensim_file("enwiki-latest-pages-articles1.xml-p000000010p000030302-shortened.bz2")
        docs += list(WikiCorpus(str(dump), dictionary={}, processes=1).get_texts())
    if lee:
        docs += [
            simple_preprocess(line)
            for line in _gensim_file("lee_background.cor").read_text(encoding="utf-8").splitlines()
            if line.strip()
        ]
    if not docs:
        raise ValueError("choose at least one of wikipedia=True, lee=True")
    return docs
