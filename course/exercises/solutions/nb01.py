"""Worked solutions for notebook 01's exercises."""

from __future__ import annotations

import math
from collections import Counter


def idf(docs):
    df = Counter(w for doc in docs for w in set(doc))  # set(): count each document once
    return {w: math.log(len(docs) / n) for w, n in df.items()}


def continuation_counts(tokens):
    left_neighbours: dict[str, set] = {}
    for before, word in zip(tokens, tokens[1:]):
        left_neighbours.setdefault(word, set()).add(before)
    return {w: len(s) for w, s in left_neighbours.items()}


def perplexity(log_probs):
    return math.exp(-sum(log_probs) / len(log_probs))
