"""Worked solutions to the exercises of notebook 05."""

from __future__ import annotations

import torch


def additive_attention(query, keys, mask, W, U, b, v):
    # (batch, 1, attn) + (batch, src_len, attn) -> tanh -> (batch, src_len)
    scores = (torch.tanh((query @ W.T).unsqueeze(1) + keys @ U.T + b) @ v.T).squeeze(-1)
    scores = scores.masked_fill(~mask, float("-inf"))
    return torch.softmax(scores, dim=-1)


def beam_step(scores, logp, k):
    totals = (scores[:, None] + logp).flatten()  # (beams * vocab,)
    best, index = totals.topk(k)
    vocab = logp.size(1)
    return index // vocab, index % vocab, best
