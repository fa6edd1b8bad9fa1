"""Checks for the exercises of notebook 08 (modern LLM blocks)."""

from __future__ import annotations

import math

import torch

from course.exercises import exercise


def rms_norm(fn) -> bool:
    """``fn(x, weight, eps)`` = x / sqrt(mean(x^2 over the last dim) + eps) * weight."""
    with exercise("rms_norm") as ex:
        x = torch.tensor([[3.0, -1.0, 1.0, 1.0], [2.0, 2.0, 2.0, 2.0]])
        ones = torch.ones(4)
        got = ex.call(fn, x, ones, 0.0)
        ex.expect(
            isinstance(got, torch.Tensor) and got.shape == x.shape,
            "return a tensor shaped like x: (2, 4)",
        )
        ex.expect(
            torch.allclose(got[1], torch.ones(4), atol=1e-5),
            "a row of 2s has RMS 2, so it normalises to 1s: divide by sqrt(mean(x**2)), not by the "
            "std",
        )
        ex.expect(
            torch.allclose(got[0], x[0] / math.sqrt(3.0), atol=1e-5),
            "[3, -1, 1, 1] has mean square 3: do not subtract the mean (that is LayerNorm)",
        )
        weight = torch.tensor([1.0, 2.0, 0.5, -1.0])
        ex.expect(
            torch.allclose(
                ex.call(fn, x, weight, 0.0),
                x / x.pow(2).mean(-1, keepdim=True).sqrt() * weight,
                atol=1e-5,
            ),
            "multiply the normalised x by weight (one gain per feature)",
        )
        tiny = ex.call(fn, torch.zeros(1, 4), ones, 1e-5)
        ex.expect(
            torch.isfinite(tiny).all(),
            "add eps inside the square root so a zero vector does not divide by 0",
        )
    return ex.passed


def rotate_pairs(fn) -> bool:
    """``fn(x, position, base)`` rotates pair (x[2i], x[2i+1]) of a 1-D x
    by position * base^(-2i/d)."""
    with exercise("rotate_pairs") as ex:
        x = torch.tensor([1.0, 0.0, 1.0, 0.0], dtype=torch.float64)
        got = ex.call(fn, x, 0, 10000.0)
        ex.expect(
            isinstance(got, torch.Tensor) and got.shape == (4,),
            "return a vector with the shape of x: (4,)",
        )
        ex.expect(
            torch.allclose(got, x), "position 0 means angle 0: the vector must come back unchanged"
        )
        got = ex.call(fn, x, 1, 100.0)
        theta = [1.0, 100.0 ** (-2 / 4)]
        want = torch.tensor(
            [math.cos(theta[0]), math.sin(theta[0]), math.cos(theta[1]), math.sin(theta[1])],
            dtype=torch.float64,
        )
        ex.expect(
            torch.allclose(got.double(), want, atol=1e-6),
            "pair i turns by position * base ** (-2 * i / d); (1, 0) becomes (cos a, sin a)",
        )
        g = torch.Generator().manual_seed(0)
        q, k = (
            torch.randn(8, generator=g, dtype=torch.float64),
            torch.randn(8, generator=g, dtype=torch.float64),
        )
        near = ex.call(fn, q, 5, 10000.0) @ ex.call(fn, k, 3, 10000.0)
        far = ex.call(fn, q, 105, 10000.0) @ ex.call(fn, k, 103, 10000.0)
        ex.expect(
            abs(float(near) - float(far)) < 1e-6,
            "q at 5 with k at 3 must score like q at 105 with k at 103: rotate both pairs with the "
            "same angles",
        )
        ex.expect(
            abs(float(ex.call(fn, q, 7, 10000.0).norm()) - float(q.norm())) < 1e-6,
            "a rotation keeps the length of the vector",
        )
    return ex.passed


def kv_cache_bytes(fn) -> bool:
    """``fn(n_layer, n_kv_head, head_dim, seq_len, batch_size, bytes_per_value)`` = the KV cache's
    size."""
    with exercise("kv_cache_bytes") as ex:
        ex.expect(
            ex.call(fn, 1, 1, 1, 1, 1, 1) == 2,
            "one layer, one head, one number, one token: K and V make 2 bytes",
        )
        ex.expect(
            ex.call(fn, 1, 1, 1, 10, 3, 1) == 60,
            "the cache grows with every token of every sequence: x seq_len x batch",
        )
        ex.expect(
            ex.call(fn, 32, 8, 128, 4096, 1, 2) == 2 * 32 * 8 * 128 * 4096 * 2,
            "multiply 2 (K and V) x layers x KV heads x head_dim x tokens x batch x bytes per "
            "value",
        )
        ex.expect(
            ex.call(fn, 32, 32, 128, 4096, 1, 2) == 4 * ex.call(fn, 32, 8, 128, 4096, 1, 2),
            "the cache scales with the KV heads, not the query heads",
        )
    return ex.passed
