"""Worked solutions for the exercises of notebook 06."""

import math

import torch


def attention(q, k, v, mask=None):
    scores = q @ k.transpose(-2, -1) / math.sqrt(q.size(-1))  # (..., T_q, T_k)
    if mask is not None:
        scores = scores.masked_fill(~mask, float("-inf"))
    weights = scores.softmax(dim=-1)
    return weights @ v, weights


def positional_encoding(max_len, d_model):
    pos = torch.arange(max_len, dtype=torch.float32)[:, None]
    i = torch.arange(0, d_model, 2, dtype=torch.float32)  # 2i for each pair
    angle = pos / 10000 ** (i / d_model)  # (max_len, d_model / 2)
    pe = torch.zeros(max_len, d_model)
    pe[:, 0::2], pe[:, 1::2] = torch.sin(angle), torch.cos(angle)
    return pe


def causal_mask(size):
    return torch.ones(size, size, dtype=torch.bool).tril()


def fill_blank(model, left, right, candidates):
    """The candidate c maximising log p(c | left) + log p(right | left, c) under a causal LM."""
    import torch.nn.functional as F

    best, best_score = None, float("-inf")
    for c in candidates:
        ids = torch.tensor([list(left) + [c] + list(right)])  # (1, T)
        with torch.no_grad():
            logp = F.log_softmax(model(ids)[0, :-1], dim=-1)  # (T - 1, V): predictions of ids[1:]
        targets = ids[0, 1:]
        # the tokens from c on; the left part's probability is the same for every candidate
        score = float(logp.gather(1, targets[:, None])[len(left) - 1 :].sum())
        if score > best_score:
            best, best_score = c, score
    return best
