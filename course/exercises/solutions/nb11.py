"""Worked solutions to the exercises of notebook 11."""

from __future__ import annotations


def chunk_words(words, size, overlap):
    if len(words) <= size:
        return [list(words)]
    step = size - overlap
    starts = list(range(0, len(words) - size, step))
    if starts[-1] != len(words) - size:
        starts.append(len(words) - size)  # the last window ends exactly at the last word
    return [list(words[s : s + size]) for s in starts]


def recall_at_k(retrieved, relevant, k):
    hits = sum(bool(set(ranked[:k]) & set(rel)) for ranked, rel in zip(retrieved, relevant))
    return hits / len(retrieved)


def _norm(text):
    text = text.strip()
    text = text[:-1] if text.endswith(".") else text
    return " ".join(text.lower().split())


def hallucination_rate(replies, golds):
    wrong = sum(
        _norm(r) != _norm(g) and _norm(r) not in ("i don't know", "")
        for r, g in zip(replies, golds)
    )
    return wrong / len(replies)


def mean_pool(hidden, mask):
    # (B, T, C) * (B, T, 1) summed over T, divided by the number of real tokens per text (B, 1)
    return (hidden * mask[:, :, None]).sum(1) / mask.sum(1, keepdim=True)
