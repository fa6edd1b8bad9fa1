"""Checks for the exercises of notebook 07 (GPT from scratch)."""
from __future__ import annotations

import torch

from course.exercises import exercise


def bpe_merge(fn) -> bool:
    """``fn(ids, pair, new_id)`` replaces each non-overlapping occurrence of ``pair``, left to right."""
    with exercise("bpe_merge") as ex:
        got = ex.call(fn, [1, 2, 3, 1, 2], (1, 2), 9)
        ex.expect(list(got) == [9, 3, 9], "replace every occurrence of the pair (1, 2) by 9: expected [9, 3, 9]")
        ex.expect(list(ex.call(fn, [5, 6], (1, 2), 9)) == [5, 6], "when the pair does not occur, return the ids unchanged")
        got = list(ex.call(fn, [7, 7, 7], (7, 7), 8))
        ex.expect(got == [8, 7], f"occurrences must not overlap: [7, 7, 7] with (7, 7) -> [8, 7], got {got}")
        got = list(ex.call(fn, [1, 2, 1], (2, 1), 4))
        ex.expect(got == [1, 4], f"a pair at the very end counts too: [1, 2, 1] with (2, 1) -> [1, 4], got {got}")
    return ex.passed


def top_k_logits(fn) -> bool:
    """``fn(logits, k)``: logits (B, V) with everything below each row's k-th largest set to -inf."""
    with exercise("top_k_logits") as ex:
        logits = torch.tensor([[1.0, 3.0, 2.0, 0.5], [0.0, -1.0, 4.0, 2.0]])
        got = ex.call(fn, logits.clone(), 2)
        ex.expect(isinstance(got, torch.Tensor) and got.shape == logits.shape, "return a tensor shaped like the logits")
        kept = torch.isfinite(got)
        ex.expect(kept.sum(-1).tolist() == [2, 2], "keep exactly k logits per row (the others become -inf)")
        ex.expect(kept.tolist() == [[False, True, True, False], [False, False, True, True]],
                  "keep the k *largest* logits of each row (use torch.topk on the last dimension)")
        ex.expect(torch.equal(got[kept], logits[kept]), "the kept logits must keep their values")
        ex.expect(torch.isfinite(ex.call(fn, logits.clone(), 10)).all(), "k larger than the vocabulary keeps everything")
    return ex.passed


def gpt_parameter_count(fn) -> bool:
    """``fn(vocab_size, block_size, n_layer, n_embd)``: parameters of our GPT (biases on, weights tied)."""
    from course.models.gpt import GPT, GPTConfig

    with exercise("gpt_parameter_count") as ex:
        for v, b, l, c in [(65, 64, 2, 32), (100, 128, 4, 64), (50, 16, 1, 8)]:
            want = GPT(GPTConfig(vocab_size=v, block_size=b, n_layer=l, n_head=2, n_embd=c)).num_parameters(non_embedding=False)
            got = ex.call(fn, v, b, l, c)
            tied_twice = want + v * c
            ex.expect(got != tied_twice, "the LM head shares its matrix with the token embedding: count V*C once")
            ex.expect(got == want, f"for vocab {v}, block {b}, {l} layers, width {c}: expected {want:,}, got {got}. "
                      "Per block: 2 LayerNorms (2C each), attention (C*3C + 3C, C*C + C), MLP (C*4C + 4C, 4C*C + C); "
                      "plus token (V*C) and position (block*C) embeddings and the final LayerNorm (2C)")
    return ex.passed
