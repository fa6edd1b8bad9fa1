"""Checks for the exercises of notebook 09 (prompting and fine-tuning)."""

from __future__ import annotations

import torch

from course.exercises import exercise


def prompt_labels(fn) -> bool:
    """``fn(prompt_ids, reply_ids) -> (inputs, labels)`` with -100 on prompt targets."""
    with exercise("prompt_labels") as ex:
        got = ex.call(fn, [5, 6, 7], [8, 9])
        ex.expect(isinstance(got, tuple) and len(got) == 2, "return a pair (inputs, labels)")
        inputs, labels = (list(map(int, g)) for g in got)
        ex.expect(
            inputs == [5, 6, 7, 8],
            "inputs are prompt + reply without the last token (position t predicts t + 1)",
        )
        ex.expect(len(labels) == len(inputs), "labels need one entry per input position")
        ex.expect(
            labels[:2] == [-100, -100], "the targets 6 and 7 are prompt tokens: they must be -100"
        )
        ex.expect(
            labels[2:] == [8, 9], "the targets that are reply tokens keep their ids (8, then 9)"
        )
        inputs, labels = (list(map(int, g)) for g in ex.call(fn, [1], [2, 3, 4]))
        ex.expect(
            inputs == [1, 2, 3] and labels == [2, 3, 4],
            "with a one-token prompt no target is a prompt token, so nothing is masked",
        )
    return ex.passed


def lora_forward(fn) -> bool:
    """``fn(x, W, b, A, B, alpha, r)`` = x Wᵀ + b + (alpha/r) x Aᵀ Bᵀ."""
    with exercise("lora_forward") as ex:
        g = torch.Generator().manual_seed(0)
        x, W, b = (
            torch.randn(3, 6, generator=g),
            torch.randn(4, 6, generator=g),
            torch.randn(4, generator=g),
        )
        A = torch.randn(2, 6, generator=g)
        zero = ex.call(fn, x, W, b, A, torch.zeros(4, 2), 8.0, 2)
        ex.expect(
            isinstance(zero, torch.Tensor) and zero.shape == (3, 4),
            "the output has shape (batch, d_out) = (3, 4)",
        )
        ex.expect(
            torch.allclose(zero, x @ W.T + b, atol=1e-5),
            "with B = 0 the layer must equal the frozen x @ W.T + b",
        )
        B = torch.randn(4, 2, generator=g)
        got = ex.call(fn, x, W, b, A, B, 8.0, 2)
        want = x @ W.T + b + 4.0 * (x @ A.T @ B.T)
        unscaled = x @ W.T + b + (x @ A.T @ B.T)
        ex.expect(
            not torch.allclose(got, unscaled, atol=1e-4), "scale the low-rank term by alpha / r"
        )
        ex.expect(
            torch.allclose(got, want, atol=1e-4),
            "compute x @ W.T + b + (alpha / r) * (x @ A.T @ B.T)",
        )
    return ex.passed


def lora_parameter_count(fn) -> bool:
    """``fn(shapes, r)``: r * (d_in + d_out) summed over the layers."""
    with exercise("lora_parameter_count") as ex:
        ex.expect(
            ex.call(fn, [(12, 4)], 1) == 16,
            "one layer (d_out=12, d_in=4) with r=1: A has 4 weights, B has 12",
        )
        ex.expect(
            ex.call(fn, [(12, 4)], 2) == 32, "A is (r, d_in) and B is (d_out, r): both grow with r"
        )
        ex.expect(
            ex.call(fn, [(288, 96), (96, 96)] * 4, 4) == 4 * (4 * (288 + 96) + 4 * (96 + 96)),
            "add up r * (d_in + d_out) over every layer in the list",
        )
    return ex.passed


def prefix_mask(fn) -> bool:
    """``fn(n_tokens, n_prefix)``: (T, P + T) booleans, True where token t may attend."""
    with exercise("prefix_mask") as ex:
        got = ex.call(fn, 3, 2)
        ex.expect(
            isinstance(got, torch.Tensor) and got.shape == (3, 5),
            "return a tensor of shape (n_tokens, n_prefix + n_tokens) = (3, 5)",
        )
        got = got.bool()
        ex.expect(
            bool(got[:, :2].all()),
            "every token may attend to every prefix slot: the first n_prefix columns are all True",
        )
        want = torch.ones(3, 3).tril().bool()
        ex.expect(
            torch.equal(got[:, 2:], want),
            "among the tokens the mask stays causal: token t sees "
            "tokens 0 .. t (a lower-triangular block after the prefix columns)",
        )
        ex.expect(
            torch.equal(ex.call(fn, 1, 4).bool(), torch.ones(1, 5, dtype=torch.bool)),
            "one token sees the whole prefix and itself",
        )
    return ex.passed
