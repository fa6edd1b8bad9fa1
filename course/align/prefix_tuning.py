"""Prefix tuning (Li & Liang 2021): trainable keys and values that every attention layer attends to.

A soft prompt (``prompt_tuning``) only touches the input; a *prefix* acts at every layer. Each
attention layer gets P extra key and value vectors per head that every token can attend to, as if P
invisible tokens stood before the input at every depth:

    K' = [K_prefix ; K],  V' = [V_prefix ; V]          (B, H, P + T, hd)
    y  = softmax(Q K'^T / sqrt(hd) + mask) V'           the prefix is visible to every query; the
                                                        tokens keep their causal mask

Only the prefixes are trained (n_layer * 2 * P * C numbers); the model is frozen. Li & Liang train
the prefix through a small MLP for stability; here it is learned directly, which a model this small
tolerates. ``course.models.gpt``'s attention takes no prefix, so :class:`PrefixAttention` wraps it
and redoes its forward with the extra keys and values; the key/value cache still holds only the
real tokens, so generation with the cache works unchanged.
"""

from __future__ import annotations

import math

import torch
import torch.nn as nn
import torch.nn.functional as F


class PrefixAttention(nn.Module):
    """A frozen ``CausalSelfAttention`` whose queries also see ``n_prefix`` trained keys/values."""

    def __init__(self, attn: nn.Module, n_prefix: int):
        super().__init__()
        if n_prefix < 1:
            raise ValueError(
                f"a prefix needs at least one key/value position, got n_prefix={n_prefix}"
            )
        if isinstance(attn, PrefixAttention):
            raise ValueError("this attention layer already has a prefix; train that one")
        self.attn = attn
        for p in attn.parameters():
            p.requires_grad_(False)
        H, C = attn.n_head, attn.n_embd
        like = dict(device=attn.c_attn.weight.device, dtype=attn.c_attn.weight.dtype)
        # (H, P, hd) each; a small random start, so at first the prefix changes attention a little
        self.prefix_keys = nn.Parameter(torch.randn(H, n_prefix, C // H, **like) * 0.02)
        self.prefix_values = nn.Parameter(torch.randn(H, n_prefix, C // H, **like) * 0.02)
        self.n_prefix = n_prefix

    def forward(
        self, x: torch.Tensor, kv_cache=None, layer: int = 0, return_attention: bool = False
    ):
        a = self.attn
        B, T, C = x.shape
        q, k, v = a.c_attn(x).split(C, dim=2)  # 3 x (B, T, C)
        q, k, v = (
            t.view(B, T, a.n_head, C // a.n_head).transpose(1, 2) for t in (q, k, v)
        )  # (B, H, T, hd)
        offset = 0
        if kv_cache is not None:
            offset = kv_cache.length
            k, v = kv_cache.append(
                layer, k, v
            )  # (B, H, offset + T, hd): the cache holds real tokens only
        P = self.n_prefix
        k = torch.cat(
            [self.prefix_keys.expand(B, -1, -1, -1), k], dim=2
        )  # (B, H, P + offset + T, hd)
        v = torch.cat([self.prefix_values.expand(B, -1, -1, -1), v], dim=2)
        # query at position offset + i sees every prefix slot and the tokens up to itself
        causal = (
            torch.arange(offset + T, device=x.device)[None, :]
            <= torch.arange(offset, offset + T, device=x.device)[:, None]
        )  # (T, offset + T)
        mask = torch.cat([causal.new_ones(T, P), causal], dim=1)  # (T, P + offset + T)
        weights = None
        if return_attention:
            scores = (q @ k.transpose(-2, -1)) / math.sqrt(q.size(-1))  # (B, H, T, P + offset + T)
            weights = scores.masked_fill(~mask, float("-inf")).softmax(dim=-1)
            y = a.attn_dropout(weights) @ v
        else:
            y = F.scaled_dot_product_attention(
                q, k, v, attn_mask=mask, dropout_p=a.dropout if self.training else 0.0
            )
        y = y.transpose(1, 2).contiguous().view(B, T, C)  # (B, T, C)
        return a.resid_dropout(a.c_proj(y)), weights


def add_prefix(model: nn.Module, n_prefix: int) -> list[PrefixAttention]:
    """Freeze ``model`` (a ``course.models.gpt.GPT``), give each block's attention a trained prefix.

    Changes ``model`` in place and returns the new layers; ``remove_prefix`` undoes it.
    """
    for p in model.parameters():
        p.requires_grad_(False)
    layers = []
    for block in model.blocks:
        block.attn = PrefixAttention(block.attn, n_prefix)
        layers.append(block.attn)
    return layers


def remove_prefix(model: nn.Module) -> nn.Module:
    """Put back every block's original attention: the base model, exactly as it was."""
    for block in model.blocks:
        if isinstance(block.attn, PrefixAttention):
            block.attn = block.attn.attn
    return model


def prefix_parameters(n_layer: int, n_prefix: int, n_embd: int) -> int:
    """Trainable numbers of prefix tuning: a key and a value vector per layer and prefix slot."""
    return n_layer * 2 * n_prefix * n_embd
