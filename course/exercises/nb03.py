"""Checks for the exercises of notebook 03 (neural probabilistic language model)."""

from __future__ import annotations

import math

import torch

from course.exercises import exercise


def nplm_forward(fn) -> bool:
    """``fn(context, C, H, d, U, b)`` -> logits y = b + U tanh(d + H x),
    x = the concatenated rows of C."""
    with exercise("nplm_forward") as ex:
        g = torch.Generator().manual_seed(0)
        V, m, h, n = 7, 3, 4, 2
        C, H, d = (
            torch.randn(V, m, generator=g),
            torch.randn(h, n * m, generator=g),
            torch.randn(h, generator=g),
        )
        U, b = torch.randn(V, h, generator=g), torch.randn(V, generator=g)
        context = torch.tensor([[1, 2], [6, 6], [0, 3]])
        got = ex.call(fn, context, C, H, d, U, b)
        ex.expect(
            isinstance(got, torch.Tensor) and got.shape == (3, V),
            "return logits of shape (batch, vocab)",
        )
        x = C[context].reshape(3, n * m)
        ex.expect(
            torch.allclose(got, b + torch.tanh(d + x @ H.T) @ U.T, atol=1e-5),
            "x concatenates the context's rows of C in order: C[context].reshape(batch, n·m); then "
            "y = b + tanh(d + x Hᵀ) Uᵀ",
        )
    return ex.passed


def mixture_perplexity(fn) -> bool:
    """``fn(logp_a, logp_b, weight)`` -> perplexity of P = weight·P_a + (1 - weight)·P_b,
    token by token."""
    with exercise("mixture_perplexity") as ex:
        a = torch.log(torch.tensor([0.5, 0.1]))
        b = torch.log(torch.tensor([0.1, 0.5]))
        got = ex.call(fn, a, b, 0.5)
        ex.expect(
            hasattr(got, "__float__"),
            "return the perplexity as a number or a 0-d tensor (did you forget `return`?)",
        )
        got = float(got)
        ex.expect(
            abs(got - 1 / 0.3) < 1e-5,
            "mix probabilities, not log-probabilities: both tokens get .3, so perplexity 1/.3",
        )
        ex.expect(
            abs(float(ex.call(fn, a, b, 1.0)) - math.exp(-(math.log(0.5) + math.log(0.1)) / 2))
            < 1e-5,
            "weight 1 gives model a alone",
        )
    return ex.passed


def name_windows(fn) -> bool:
    """``fn(name, context_size, stoi)`` -> (X, Y) lists: each character of name + '.', with the
    previous ``context_size`` characters (padded with '.', id stoi['.']) as its context."""
    with exercise("name_windows") as ex:
        stoi = {".": 0, "a": 1, "b": 2}
        got = ex.call(fn, "ab", 2, stoi)
        ex.expect(
            isinstance(got, tuple) and len(got) == 2,
            "return a pair (X, Y) (did you forget `return`?)",
        )
        X, Y = got
        ex.expect(
            list(Y) == [1, 2, 0], "targets: every character of the name, then the end marker '.'"
        )
        ex.expect(
            [list(x) for x in X] == [[0, 0], [0, 1], [1, 2]],
            "contexts start as all '.', then slide: [. .] -> a, [. a] -> b, [a b] -> .",
        )
        X, Y = ex.call(fn, "a", 3, stoi)
        ex.expect(
            [list(x) for x in X] == [[0, 0, 0], [0, 0, 1]] and list(Y) == [1, 0],
            "use context_size characters",
        )
    return ex.passed
