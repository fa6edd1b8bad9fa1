"""Checks for the exercises of notebook 02 (word embeddings)."""

from __future__ import annotations

import numpy as np

from course.exercises import exercise


def skipgram_pairs(fn) -> bool:
    """``fn(tokens, window)`` -> list of (centre, context) pairs for every context within
    ``window``."""
    with exercise("skipgram_pairs") as ex:
        got = ex.call(fn, ["a", "b", "c"], 1)
        ex.expect(isinstance(got, list), "return a list of (centre, context) tuples")
        ex.expect(
            sorted(map(tuple, got)) == sorted([("a", "b"), ("b", "a"), ("b", "c"), ("c", "b")]),
            "with window 1, each word pairs with its left and right neighbour (not with itself)",
        )
        got = ex.call(fn, ["a", "b", "c", "d"], 2)
        ex.expect(
            len(got) == 10,
            "window 2 over 4 words: 3 pairs at distance 1 and 2 at distance 2, both directions",
        )
        ex.expect(
            ("a", "c") in map(tuple, got) and ("d", "b") in map(tuple, got),
            "include distance-2 neighbours",
        )
        ex.expect(ex.call(fn, ["x"], 3) == [], "a single word has no context")
    return ex.passed


def noise_distribution(fn) -> bool:
    """``fn(counts)`` (a NumPy array) -> probabilities ∝ counts ** 0.75."""
    with exercise("noise_distribution") as ex:
        got = np.asarray(ex.call(fn, np.array([16.0, 1.0])), dtype=float)
        ex.expect(got.shape == (2,), "return one probability per word")
        ex.expect(abs(got.sum() - 1) < 1e-9, "normalise: the probabilities must sum to 1")
        ex.expect(
            np.allclose(got, [8 / 9, 1 / 9]),
            "raise the counts to the power 3/4 (16^0.75 = 8) before normalising",
        )
    return ex.passed


def analogy(fn) -> bool:
    """``fn(vectors, itos, a, b, c)`` -> the word d for a : b :: c : d, by 3CosAdd,
    excluding a, b, c."""
    with exercise("analogy") as ex:
        itos = ["man", "woman", "king", "queen", "throne"]
        E = np.array([[1, 0, 0], [1, 1, 0], [1, 0, 1], [1, 1, 1], [1, 0, 1.2]], dtype=float)
        ex.expect(
            ex.call(fn, E, itos, "man", "woman", "king") == "queen",
            "compute v_woman - v_man + v_king and return the word with the highest cosine "
            "similarity",
        )
        ex.expect(
            ex.call(fn, E * np.array([[1], [1], [10], [1], [1]]), itos, "man", "woman", "king")
            == "queen",
            "normalise every vector to unit length first: a long vector must not win by length "
            "alone",
        )
        # a small man -> woman offset: v_king itself is nearest to the target, as often happens in
        # practice
        near = np.array([[1, 0, 0], [1, 0.05, 0], [0, 0, 1], [0, 0.5, 1], [0, -1, 0]], dtype=float)
        ex.expect(
            ex.call(fn, near, itos, "man", "woman", "king") == "queen",
            "exclude the three question words from the answers (here 'king' itself is closest to "
            "the target)",
        )
    return ex.passed
