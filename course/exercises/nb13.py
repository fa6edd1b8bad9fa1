"""Checks for the exercises of notebook 13 (an LLM is two files: export, NumPy runner,
quantisation)."""

from __future__ import annotations

import numpy as np

from course.exercises import exercise


def _array(got, shape) -> bool:
    """True when ``got`` is a NumPy array of ``shape`` (False, not an error, for anything else)."""
    return isinstance(got, np.ndarray) and got.shape == shape


def dequantise_int8(fn) -> bool:
    """``fn(q, scale)``: int8 (rows, cols) and one float32 scale per row -> float32 weights
    q * scale."""
    with exercise("dequantise_int8") as ex:
        q = np.array([[127, -127, 0], [1, 2, -3]], dtype=np.int8)
        scale = np.array([0.01, 0.5], dtype=np.float32)
        got = ex.call(fn, q, scale)
        ex.expect(_array(got, (2, 3)), "return a NumPy array with q's shape (rows, cols)")
        ex.expect(
            got.dtype == np.float32,
            "return float32 (q.astype(np.float32) before multiplying): "
            "int8 arithmetic would overflow and lose the fractions",
        )
        want = np.array([[1.27, -1.27, 0.0], [0.5, 1.0, -1.5]], dtype=np.float32)
        ex.expect(
            np.allclose(got, want),
            "w = q * scale, with scale[i] for every weight of row i: "
            "scale[:, None] makes the scales a column",
        )
    return ex.passed


def unpack_int4(fn) -> bool:
    """``fn(packed)``: uint8 (rows, cols / 2), two weights a byte stored as q + 8, low nibble
    first -> int8 (rows, cols) in [-8, 7]."""
    with exercise("unpack_int4") as ex:
        packed = np.array([[0x8F, 0x70], [0x08, 0xFF]], dtype=np.uint8)
        got = ex.call(fn, packed)
        ex.expect(
            _array(got, (2, 4)),
            "two weights a byte: (rows, cols / 2) bytes give (rows, cols) weights",
        )
        want = np.array([[7, 0, -8, -1], [0, -8, 7, 7]])
        ex.expect(
            not np.array_equal(got, want + 8),
            "subtract 8: the file stores q + 8 so that it fits 0..15",
        )
        swapped = want.reshape(2, 2, 2)[:, :, ::-1].reshape(2, 4)
        ex.expect(
            not np.array_equal(got, swapped),
            "the first weight of each pair is in the low 4 bits "
            "(byte & 0x0F), the second in the high 4 bits (byte >> 4)",
        )
        ex.expect(
            np.array_equal(got, want),
            "for each byte: low = (byte & 15) - 8, high = (byte >> 4) - 8, "
            "then interleave: low, high, low, high ...",
        )
        ex.expect(
            np.issubdtype(got.dtype, np.signedinteger),
            "return signed integers (e.g. int8): uint8 cannot hold -8 .. -1",
        )
    return ex.passed


def attention_step(fn) -> bool:
    """``fn(q, keys, values)``: q (heads, D), keys and values (heads, T, D) -> (heads, D)."""
    with exercise("attention_step") as ex:
        rng = np.random.default_rng(0)
        q = rng.normal(size=(2, 4)).astype(np.float32)
        keys = rng.normal(size=(2, 5, 4)).astype(np.float32)
        values = rng.normal(size=(2, 5, 4)).astype(np.float32)
        got = ex.call(fn, q, keys, values)
        ex.expect(_array(got, (2, 4)), "one D-vector per head: shape (heads, D)")
        scores = np.einsum("hd,htd->ht", q, keys)
        unscaled = np.exp(scores - scores.max(-1, keepdims=True))
        unscaled = np.einsum("ht,htd->hd", unscaled / unscaled.sum(-1, keepdims=True), values)
        ex.expect(
            not np.allclose(got, unscaled, atol=1e-5),
            "divide the scores q·k by sqrt(D) before the softmax",
        )
        scores = scores / 2.0
        weights = np.exp(scores - scores.max(-1, keepdims=True))
        weights /= weights.sum(-1, keepdims=True)
        want = np.einsum("ht,htd->hd", weights, values)
        ex.expect(
            np.allclose(got, want, atol=1e-5),
            "per head: scores = keys @ q / sqrt(D) (T,), "
            "softmax over the T positions, then weights @ values (D,)",
        )
        big = ex.call(fn, q * 1000, keys, values)
        ex.expect(
            np.all(np.isfinite(big)),
            "subtract the largest score before exp(), or large scores overflow to inf/nan",
        )
    return ex.passed
