"""Checks for the exercises of notebook 11 (retrieval-augmented generation)."""

from __future__ import annotations

import torch

from course.exercises import exercise


def _close(got, want: float) -> bool:
    """True when ``got`` is a number within 1e-9 of ``want`` (False, not an error,
    for anything else)."""
    try:
        return abs(float(got) - want) < 1e-9
    except (TypeError, ValueError):
        return False


def chunk_words(fn) -> bool:
    """``fn(words, size, overlap)`` -> windows of ``size`` words, neighbours sharing ``overlap``
    words, the last window ending at the last word."""
    with exercise("chunk_words") as ex:
        words = [f"w{i}" for i in range(10)]
        got = ex.call(fn, words, 4, 1)
        ex.expect(
            isinstance(got, list) and all(isinstance(c, list) for c in got),
            "return a list of lists of words",
        )
        ex.expect(
            got[:2] == [words[0:4], words[3:7]],
            "windows start every size - overlap = 3 words: [w0..w3], then [w3..w6]",
        )
        ex.expect(
            got == [words[0:4], words[3:7], words[6:10]],
            "three windows cover ten words with size 4, overlap 1",
        )
        got = ex.call(fn, words, 4, 0)
        ex.expect(
            got[-1] == words[6:10] and len(got) == 3,
            "with no overlap, [w0..w3], [w4..w7], then the last window is moved back to end at w9: "
            "[w6..w9]",
        )
        ex.expect(
            ex.call(fn, words[:3], 4, 1) == [words[:3]],
            "a text shorter than one window is a single chunk",
        )
        ex.expect(
            all(len(c) == 5 for c in ex.call(fn, [f"x{i}" for i in range(23)], 5, 2)),
            "every window has exactly `size` words (move the last one back rather than leave it "
            "short)",
        )
    return ex.passed


def recall_at_k(fn) -> bool:
    """``fn(retrieved, relevant, k)``: fraction of queries with a relevant id
    among their first k."""
    with exercise("recall_at_k") as ex:
        retrieved = [[3, 1, 2], [0, 5, 4], [7, 8, 9]]
        relevant = [{1}, {4, 9}, {0}]
        ex.expect(
            _close(ex.call(fn, retrieved, relevant, 3), 2 / 3),
            "query 0 finds 1 and query 1 finds 4 in their top 3; query 2 never finds 0: recall@3 = "
            "2/3",
        )
        ex.expect(
            _close(ex.call(fn, retrieved, relevant, 1), 0),
            "no query has a relevant id in first place: recall@1 = 0",
        )
        ex.expect(
            _close(ex.call(fn, retrieved, relevant, 2), 1 / 3),
            "look only at the first k ids of each ranked list",
        )
        ex.expect(
            _close(ex.call(fn, [[1, 4]], [{1, 4}], 2), 1.0),
            "a query counts once, however many relevant ids it finds (the fraction of queries, not "
            "of ids)",
        )
    return ex.passed


def hallucination_rate(fn) -> bool:
    """``fn(replies, golds)``: fraction of replies that are wrong and not an abstention
    ("I don't know" or nothing)."""
    with exercise("hallucination_rate") as ex:
        got = ex.call(
            fn,
            ["Oskel", "Rafo", "I don't know", "Velmora"],
            ["Oskel", "Jisteix", "Voukjul", "Rafo"],
        )
        ex.expect(
            _close(got, 0.5),
            "two of four replies are confidently wrong (Rafo, Velmora): 0.5. "
            "A correct reply and an honest 'I don't know' are not hallucinations",
        )
        ex.expect(
            _close(ex.call(fn, [" oskel."], ["Oskel"]), 0),
            "compare answers after normalising: strip spaces and a final full stop, ignore case",
        )
        ex.expect(
            _close(ex.call(fn, ["I DON'T KNOW."], ["Oskel"]), 0),
            "an abstention in any case is not a hallucination",
        )
        ex.expect(
            _close(ex.call(fn, ["", " "], ["Oskel", "Rafo"]), 0),
            "an empty reply claims nothing: it is no hallucination",
        )
    return ex.passed


def mean_pool(fn) -> bool:
    """``fn(hidden, mask)``: (B, T, C) states and a (B, T) 0/1 mask -> (B, C) mean over the
    unmasked positions."""
    with exercise("mean_pool") as ex:
        hidden = torch.arange(12, dtype=torch.float).reshape(2, 3, 2)
        mask = torch.tensor([[1.0, 1.0, 0.0], [1.0, 1.0, 1.0]])
        got = ex.call(fn, hidden, mask)
        ex.expect(
            isinstance(got, torch.Tensor) and got.shape == (2, 2),
            "return one C-vector per text: shape (B, C)",
        )
        ex.expect(
            torch.allclose(got[1], torch.tensor([8.0, 9.0])),
            "with a full mask, average over all T positions",
        )
        ex.expect(
            torch.allclose(got[0], torch.tensor([1.0, 2.0])),
            "padding positions (mask 0) must not enter the mean: divide by the number of real "
            "tokens",
        )
    return ex.passed
