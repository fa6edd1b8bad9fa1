"""Worked solutions for notebook 02's exercises."""

from __future__ import annotations

import numpy as np


def skipgram_pairs(tokens, window):
    pairs = []
    for i, centre in enumerate(tokens):
        for j in range(max(0, i - window), min(len(tokens), i + window + 1)):
            if j != i:
                pairs.append((centre, tokens[j]))
    return pairs


def noise_distribution(counts):
    p = np.asarray(counts, dtype=float) ** 0.75
    return p / p.sum()


def analogy(vectors, itos, a, b, c):
    E = np.asarray(vectors, dtype=float)
    E = E / np.linalg.norm(E, axis=1, keepdims=True)
    stoi = {w: i for i, w in enumerate(itos)}
    target = E[stoi[b]] - E[stoi[a]] + E[stoi[c]]
    sims = E @ target
    for w in (a, b, c):
        sims[stoi[w]] = -np.inf
    return itos[int(np.argmax(sims))]
