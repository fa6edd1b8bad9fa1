"""Checks for the exercises of notebook 05 (seq2seq and attention)."""

from __future__ import annotations

import torch

from course.exercises import exercise
from course.models.seq2seq import AdditiveAttention


def additive_attention(fn) -> bool:
    """``fn(query, keys, mask, W, U, b, v) -> weights``: softmax_j(v·tanh(W q + U h_j + b)),
    0 at padding."""
    with exercise("additive_attention") as ex:
        torch.manual_seed(0)
        layer = AdditiveAttention(4, 6, 5)
        query, keys = torch.randn(2, 4), torch.randn(2, 3, 6)
        mask = torch.tensor([[True, True, True], [True, True, False]])
        W, U, b, v = (
            layer.W.weight.detach(),
            layer.U.weight.detach(),
            layer.U.bias.detach(),
            layer.v.weight.detach(),
        )
        got = ex.call(fn, query, keys, mask, W, U, b, v)
        ex.expect(
            isinstance(got, torch.Tensor) and got.shape == (2, 3),
            "return the weights, one per source position: shape (batch, src_len) = (2, 3)",
        )
        ex.expect(
            torch.allclose(got.sum(-1), torch.ones(2), atol=1e-5),
            "each row must sum to 1: take a softmax over the source positions (dim=-1)",
        )
        ex.expect(
            float(got[1, 2]) == 0.0,
            "the padded position must get weight exactly 0: set its score to -inf before the "
            "softmax",
        )
        with torch.no_grad():
            _, want = layer(query, keys, mask)
        ex.expect(
            torch.allclose(got, want, atol=1e-5),
            "score_j = v · tanh(W q + U h_j + b): W acts on the query, U (and its bias b) on every "
            "key",
        )
    return ex.passed


def beam_step(fn) -> bool:
    """``fn(scores, logp, k) -> (origin, word, new_scores)``: the k best one-word extensions of all
    beams."""
    with exercise("beam_step") as ex:
        scores = torch.tensor([-1.0, -0.5])
        logp = torch.log(torch.tensor([[0.1, 0.6, 0.3], [0.2, 0.2, 0.6]]))
        got = ex.call(fn, scores, logp, 3)
        ex.expect(
            isinstance(got, tuple) and len(got) == 3,
            "return three tensors: origin, word, new_scores",
        )
        origin, word, new = (torch.as_tensor(g) for g in got)
        totals = scores[:, None] + logp
        flat = totals.flatten().sort(descending=True)
        ex.expect(len(new) == 3, "keep exactly k candidates")
        ex.expect(
            torch.allclose(new.float(), flat.values[:3], atol=1e-6),
            "rank candidates by beam score + log p(word): the total log-probability of the whole "
            "output",
        )
        ex.expect(
            origin.tolist() == (flat.indices[:3] // 3).tolist()
            and word.tolist() == (flat.indices[:3] % 3).tolist(),
            "origin is the beam a candidate extends (flat index // vocab), word the token (flat "
            "index % vocab)",
        )
        got1 = ex.call(fn, torch.zeros(1), logp[:1], 1)
        ex.expect(
            torch.as_tensor(got1[1]).tolist() == [1],
            "with one beam and k = 1 a beam step is greedy: the argmax",
        )
    return ex.passed
