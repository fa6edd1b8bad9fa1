"""Prompt tuning (Lester et al. 2021): a frozen GPT that reads k trainable vectors before its input.

A hard prompt is words; a *soft prompt* is k embedding vectors P (k, C) that need not be the
embedding of any token, learned by gradient descent while every weight of the model stays frozen:

    x = [P ; E[idx]] + wpe[0 : k + T]        (B, k + T, C)   then the frozen blocks, as usual
    logits = lm_head(ln_f(h))[:, k:]         (B, T, V)       the soft prompt's outputs are dropped

Only k * C numbers are trained, and one model can serve many tasks, each with its own small P.
The soft prompt takes k of the model's positions, so :class:`SoftPrompted` reports a context
(``config.block_size``) k shorter than the model's. It has no key/value cache: ``course.generate``
then feeds the whole context at every step, which gives the same tokens.
"""

from __future__ import annotations

import dataclasses

import torch
import torch.nn as nn


class SoftPrompted(nn.Module):
    """``SoftPrompted(gpt, n_tokens)``: the frozen ``gpt`` with ``n_tokens`` trained vectors first.

    ``init_ids`` (``n_tokens`` token ids) starts the soft prompt at those tokens' embeddings, which
    Lester et al. found trains better than random vectors; without it the vectors start random, at
    the embeddings' scale. The wrapped model's weights are frozen here (``requires_grad=False``).
    """

    def __init__(self, model: nn.Module, n_tokens: int, init_ids: list[int] | None = None):
        super().__init__()
        block = model.config.block_size
        if not 1 <= n_tokens < block:
            raise ValueError(
                f"a soft prompt needs between 1 and {block - 1} vectors (the model's context "
                f"is {block}), got {n_tokens}"
            )
        if init_ids is not None and len(init_ids) != n_tokens:
            raise ValueError(
                f"init_ids has {len(init_ids)} token ids but the soft prompt has {n_tokens} "
                "vectors; pass one id per vector"
            )
        self.model = model
        for p in model.parameters():
            p.requires_grad_(False)
        embedding = model.wte.weight.detach()  # (V, C)
        if init_ids is not None:
            start = embedding[torch.tensor(init_ids, device=embedding.device)].clone()  # (k, C)
        else:
            start = (
                torch.randn(n_tokens, embedding.size(1), device=embedding.device) * embedding.std()
            )
        self.prompt = nn.Parameter(start)  # (k, C): the only trained numbers
        self.n_tokens = n_tokens
        # what generate() and complete() read: the context left for real tokens
        self.config = dataclasses.replace(model.config, block_size=block - n_tokens)

    def forward(self, idx: torch.Tensor) -> torch.Tensor:
        """Logits (B, T, vocab_size) for the tokens ``idx`` (B, T), read after the soft prompt."""
        m, k = self.model, self.n_tokens
        B, T = idx.shape
        if self.config.block_size < T:
            raise ValueError(
                f"the sequence has {T} tokens but only {self.config.block_size} fit after the "
                f"{k}-vector soft prompt; crop it to the last {self.config.block_size}"
            )
        soft = self.prompt.expand(B, -1, -1)  # (B, k, C)
        x = torch.cat([soft, m.wte(idx)], dim=1)  # (B, k + T, C)
        x = m.drop(x + m.wpe(torch.arange(k + T, device=idx.device)))
        for block in m.blocks:
            x, _ = block(x)
        return m.lm_head(m.ln_f(x))[:, k:]  # (B, T, V): drop the soft prompt's positions


def soft_prompt_parameters(n_tokens: int, n_embd: int) -> int:
    """Trainable numbers of a soft prompt: one n_embd-vector per prompt position."""
    return n_tokens * n_embd
