"""Checks for the exercises of notebook 06 (the Transformer)."""

from __future__ import annotations

import math

import torch

from course.exercises import exercise


def attention(fn) -> bool:
    """``fn(q, k, v, mask)`` -> (output, weights): softmax(q k^T / sqrt(d_k)) v, masked keys get
    weight 0."""
    from course.models.attention import scaled_dot_product_attention

    with exercise("attention") as ex:
        g = torch.Generator().manual_seed(0)
        q, k, v = (
            torch.randn(2, 4, 8, generator=g),
            torch.randn(2, 5, 8, generator=g),
            torch.randn(2, 5, 3, generator=g),
        )
        got = ex.call(fn, q, k, v, None)
        ex.expect(isinstance(got, tuple) and len(got) == 2, "return a pair (output, weights)")
        out, w = got
        want_out, want_w = scaled_dot_product_attention(q, k, v)
        ex.expect(
            w.shape == (2, 4, 5),
            "weights have one row per query and one column per key: (batch, 4, 5)",
        )
        unscaled = torch.softmax(q @ k.transpose(-2, -1), dim=-1)
        ex.expect(
            not torch.allclose(w, unscaled, atol=1e-4),
            "divide the scores by sqrt(d_k) before the softmax",
        )
        ex.expect(
            torch.allclose(w.sum(-1), torch.ones(2, 4), atol=1e-5),
            "each row of weights must sum to 1 (softmax over the keys)",
        )
        ex.expect(
            torch.allclose(w, want_w, atol=1e-5) and torch.allclose(out, want_out, atol=1e-5),
            "weights = softmax(q @ k.transpose(-2, -1) / sqrt(d_k)), output = weights @ v",
        )
        mask = torch.tensor([True, True, True, False, False]).expand(4, 5)
        out, w = ex.call(fn, q, k, v, mask)
        ex.expect(
            torch.all(w[..., 3:] == 0),
            "masked keys (mask False) must get weight exactly 0: fill their scores with -inf",
        )
        want_out, _ = scaled_dot_product_attention(q, k, v, mask)
        ex.expect(
            torch.allclose(out, want_out, atol=1e-5),
            "with a mask, the output averages only the allowed values",
        )
    return ex.passed


def positional_encoding(fn) -> bool:
    """``fn(max_len, d_model)``: PE[pos, 2i] = sin(pos / 10000^(2i/d)),
    PE[pos, 2i+1] = cos(same)."""
    with exercise("positional_encoding") as ex:
        pe = ex.call(fn, 20, 6)
        ex.expect(
            isinstance(pe, torch.Tensor) and tuple(pe.shape) == (20, 6),
            "return a (max_len, d_model) tensor",
        )
        ex.expect(
            torch.allclose(pe[0], torch.tensor([0.0, 1, 0, 1, 0, 1])),
            "position 0: sin(0) = 0 in even columns, cos(0) = 1 in odd",
        )
        angle = 5 / 10000 ** (2 / 6)
        ex.expect(
            abs(float(pe[5, 2]) - math.sin(angle)) < 1e-5
            and abs(float(pe[5, 3]) - math.cos(angle)) < 1e-5,
            "columns 2i and 2i+1 share the angle pos / 10000^(2i / d_model) (i counts pairs, not "
            "columns)",
        )
        ex.expect(
            abs(float(pe[7, 0]) - math.sin(7)) < 1e-5,
            "the first pair turns fastest: PE[pos, 0] = sin(pos)",
        )
    return ex.passed


def causal_mask(fn) -> bool:
    """``fn(size)``: (size, size) bool, True where query i may look at key j (j <= i)."""
    with exercise("causal_mask") as ex:
        m = ex.call(fn, 4)
        ex.expect(
            isinstance(m, torch.Tensor) and m.dtype == torch.bool and m.shape == (4, 4),
            "return a (size, size) boolean tensor",
        )
        ex.expect(
            bool(m.diagonal().all()), "a position may attend to itself (the diagonal is True)"
        )
        ex.expect(
            not bool(m[0, 1]), "position 0 must not see position 1: the upper triangle is False"
        )
        ex.expect(
            torch.equal(m, torch.ones(4, 4, dtype=torch.bool).tril()),
            "True on and below the diagonal only",
        )
    return ex.passed


def fill_blank(fn) -> bool:
    """``fn(model, left, right, candidates)``: the candidate c that makes left + [c] + right most
    probable under a causal LM (``model(ids (1, T)) -> logits (1, T, V)``)."""
    import torch.nn.functional as F

    from course.models.gpt import GPT, GPTConfig

    def sequence_logp(model, ids):  # log p(ids[1:] | the ids before each), summed
        logp = F.log_softmax(model(torch.tensor([ids]))[0, :-1], dim=-1)
        return float(logp.gather(1, torch.tensor(ids[1:])[:, None]).sum())

    with exercise("fill_blank") as ex:
        torch.manual_seed(0)
        model = GPT(GPTConfig(vocab_size=12, block_size=16, n_layer=1, n_head=2, n_embd=16)).eval()
        with torch.no_grad():
            for p in model.parameters():
                p.add_(torch.randn_like(p) * 1.0)  # a random model with opinions
            g = torch.Generator().manual_seed(1)
            candidates = list(range(1, 12))
            # problems where the right side changes the answer: the point of the exercise
            cases = []
            for _ in range(300):
                left = torch.randint(1, 12, (5,), generator=g).tolist()
                right = torch.randint(1, 12, (4,), generator=g).tolist()
                scores = [sequence_logp(model, left + [c] + right) for c in candidates]
                best = candidates[max(range(len(candidates)), key=scores.__getitem__)]
                left_only = int(model(torch.tensor([left]))[0, -1, 1:].argmax()) + 1
                if best != left_only:
                    cases.append((left, right, best))
                if len(cases) == 5:
                    break
            for left, right, best in cases:
                got = ex.call(fn, model, left, right, candidates)
                ex.expect(
                    isinstance(got, int) or (isinstance(got, torch.Tensor) and got.numel() == 1),
                    "return one candidate id (an int)",
                )
                ex.expect(int(got) in candidates, "return one of the candidates")
                ex.expect(
                    int(got) == best,
                    "score each candidate c by log p(left + [c] + right), summing the log-"
                    "probabilities of c and of every token of `right`, not only of c",
                )
    return ex.passed
