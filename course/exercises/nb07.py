"""Checks for the exercises of notebook 07 (GPT from scratch)."""

from __future__ import annotations

import torch

from course.exercises import exercise


def bpe_encode(fn) -> bool:
    """``fn(word_bytes, merges)``: token ids of one chunk, applying learned merges
    by rank (earliest first)."""
    from course.text.bpe import BPETokenizer

    with exercise("bpe_encode") as ex:
        a, b, c = ord("a"), ord("b"), ord("c")
        merges = [(a, b), (256, c), (b, c)]  # 256 = "ab", 257 = "abc", 258 = "bc"
        got = list(ex.call(fn, b"abc", merges))
        ex.expect(
            got == [257],
            f"'abc' with merges ab -> 256, (256, c) -> 257 must become [257], got {got}",
        )
        got = list(ex.call(fn, b"xyz", merges))
        ex.expect(
            got == [ord("x"), ord("y"), ord("z")],
            "with no applicable merge, return the raw byte values",
        )
        merges2 = [(b, c), (a, b)]  # "bc" was learned first
        got = list(ex.call(fn, b"abc", merges2))
        ex.expect(
            got == [a, 256],
            "apply the *earliest learned* merge first: 'abc' with [bc, ab] -> [97, 256], "
            f"got {got}",
        )
        tok = BPETokenizer.train("the then there these the the that " * 20, vocab_size=270)
        for word in (" the", " there", " thesis"):
            want = tok.encode(word)
            got = list(ex.call(fn, word.encode(), tok.merges))
            ex.expect(
                got == want,
                f"{word!r}: expected {want}, got {got} "
                "(repeat: find the lowest-rank pair present, merge it)",
            )
    return ex.passed


def top_p_logits(fn) -> bool:
    """``fn(logits, p)``: keep the smallest set of most likely tokens whose
    probability reaches p."""
    with exercise("top_p_logits") as ex:
        logits = torch.log(torch.tensor([[0.1, 0.5, 0.25, 0.15]]))
        got = ex.call(fn, logits.clone(), 0.7)
        ex.expect(
            isinstance(got, torch.Tensor) and got.shape == logits.shape,
            "return a tensor shaped like the logits",
        )
        ex.expect(
            torch.isfinite(got).tolist() == [[False, True, True, False]],
            "p = 0.7: 0.5 alone is not enough, 0.5 + 0.25 is: keep those two tokens, set the rest "
            "to -inf",
        )
        kept = torch.isfinite(got)
        ex.expect(torch.allclose(got[kept], logits[kept]), "the kept logits keep their values")
        got = ex.call(fn, logits.clone(), 0.3)
        ex.expect(
            torch.isfinite(got).tolist() == [[False, True, False, False]],
            "the most likely token is always kept",
        )
        got = ex.call(fn, logits.clone(), 1.0)
        ex.expect(bool(torch.isfinite(got).all()), "p = 1 keeps every token")
        two = torch.log(torch.tensor([[0.6, 0.4, 0.0 + 1e-9, 1e-9], [0.05, 0.05, 0.2, 0.7]]))
        ex.expect(
            torch.isfinite(ex.call(fn, two, 0.75)).tolist()
            == [[True, True, False, False], [False, False, True, True]],
            "filter each row on its own (sort within the row, cumulative sum along the last "
            "dimension)",
        )
    return ex.passed


def kv_cache_bytes(fn) -> bool:
    """``fn(n_layer, n_head, head_dim, seq_len, batch_size, bytes_per_value)``: memory of
    a KV cache."""
    with exercise("kv_cache_bytes") as ex:
        got = ex.call(fn, 4, 4, 32, 128, 1, 4)
        ex.expect(got != 4 * 4 * 32 * 128 * 4, "store both keys *and* values: a factor 2")
        ex.expect(
            got == 2 * 4 * 4 * 32 * 128 * 4,
            "2 (K and V) x layers x heads x head_dim x positions x batch x bytes",
        )
        ex.expect(
            ex.call(fn, 12, 12, 64, 1024, 8, 2) == 2 * 12 * 12 * 64 * 1024 * 8 * 2,
            "every sequence of the batch has its own cache",
        )
    return ex.passed


def use_gap(fn) -> bool:
    """``fn(states, uses)``: mean cosine of same-use pairs minus different-use pairs,
    centred states."""

    def reference(states, uses):
        h = torch.nn.functional.normalize(states - states.mean(0), dim=-1)
        cos = h @ h.T
        i, j = torch.triu_indices(len(uses), len(uses), 1)
        same = torch.tensor([uses[a] == uses[b] for a, b in zip(i.tolist(), j.tolist())])
        pairs = cos[i, j]
        return (pairs[same].mean() - pairs[~same].mean()).item()

    with exercise("use_gap") as ex:
        two_groups = torch.tensor([[1.0, 0.0], [1.0, 0.1], [-1.0, 0.0], [-1.0, -0.1]])
        got = ex.call(fn, two_groups, ["noun", "noun", "verb", "verb"])
        is_number = isinstance(got, (float, int)) or (
            isinstance(got, torch.Tensor) and got.numel() == 1
        )
        ex.expect(is_number, "return one number (a float, or a 0-d tensor)")
        got = float(got)
        ex.expect(
            got > 1.5,
            f"two tight groups pointing opposite ways give a gap close to 2, got {got:.3f}",
        )
        rng = torch.Generator().manual_seed(0)
        # a large shared part, as in a residual stream
        offset = torch.randn(1, 8, generator=rng) * 10
        states = torch.randn(12, 8, generator=rng) + offset
        uses = ["noun"] * 5 + ["verb"] * 7
        want = reference(states, uses)
        got = float(ex.call(fn, states, uses))
        ex.expect(
            abs(got - want) < 1e-4,
            f"expected {want:.4f}, got {got:.4f}: subtract the mean state first (the shared part "
            "would make every cosine close to 1), count each pair once and never a state with "
            "itself",
        )
    return ex.passed
