"""Scaled dot-product attention by hand, its masks, and multi-head attention (Vaswani et al. 2017).

    Attention(Q, K, V) = softmax(Q K^T / sqrt(d_k)) V                                  (eq. 1)

Each query row asks "which keys match me?"; the softmax turns the match scores into weights that
sum to one, and the output is the weighted average of the values. Dividing by sqrt(d_k) keeps the
scores' variance near 1 whatever the head size (a dot product of d_k unit-variance terms has
variance d_k), so the softmax does not saturate into a one-hot with vanishing gradients.

    MultiHead(Q, K, V) = Concat(head_1, ..., head_h) W^O,  head_i = Attention(Q W_i^Q, K W_i^K, V
    W_i^V)

Masks here are boolean with True = "may attend", broadcast to (batch, heads, queries, keys).
"""

from __future__ import annotations

import math

import torch
import torch.nn as nn
import torch.nn.functional as F


def causal_mask(size: int, device: torch.device | str | None = None) -> torch.Tensor:
    """(size, size) boolean, True on and below the diagonal: position i may look at 0..i only."""
    return torch.ones(size, size, dtype=torch.bool, device=device).tril()


def padding_mask(tokens: torch.Tensor, pad_id: int = 0) -> torch.Tensor:
    """(batch, 1, 1, keys) boolean, False at padding keys, from token ids (batch, keys)."""
    return (tokens != pad_id)[:, None, None, :]


def scaled_dot_product_attention(
    q: torch.Tensor,
    k: torch.Tensor,
    v: torch.Tensor,
    mask: torch.Tensor | None = None,
    dropout: nn.Module | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Eq. 1 of the paper, computed explicitly. q: (..., T_q, d_k), k: (..., T_k, d_k), v: (...,
    T_k, d_v).

    Returns the output (..., T_q, d_v) and the weights (..., T_q, T_k), each row summing to one.
    A query whose keys are all masked would divide 0 by 0; we raise instead of returning NaN.
    """
    d_k = q.size(-1)
    scores = q @ k.transpose(-2, -1) / math.sqrt(d_k)  # (..., T_q, T_k)
    if mask is not None:
        scores = scores.masked_fill(~mask, float("-inf"))
    weights = scores.softmax(dim=-1)
    if mask is not None and torch.isnan(weights).any():
        raise ValueError(
            "a query has every key masked, so its attention weights are undefined; "
            "check the mask (each row needs at least one True)"
        )
    out = (dropout(weights) if dropout is not None else weights) @ v  # (..., T_q, d_v)
    return out, weights


def attention_weights(q: torch.Tensor, k: torch.Tensor, offset: int = 0) -> torch.Tensor:
    """softmax(Q K^T / sqrt(d_k) + causal mask) for queries at positions offset..offset+T_q-1.

    q: (B, H, T_q, hd), k: (B, H, T_k, hd) -> (B, H, T_q, T_k); row i may look at keys 0..offset+i.
    """
    t_q, t_k = q.size(-2), k.size(-2)
    scores = q @ k.transpose(-2, -1) / math.sqrt(q.size(-1))  # (B, H, T_q, T_k)
    query_pos = torch.arange(offset, offset + t_q, device=q.device)[:, None]
    key_pos = torch.arange(t_k, device=q.device)[None, :]
    scores = scores.masked_fill(key_pos > query_pos, float("-inf"))  # no peeking at the future
    return scores.softmax(dim=-1)


def causal_attention(
    q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, dropout_p: float = 0.0
) -> torch.Tensor:
    """Causal eq. 1 for (B, H, T, d) queries, keys and values of the same length, as fast as we can.

    torch's fused ``F.scaled_dot_product_attention`` almost everywhere; the one exception is bf16 on
    the CPU, where the fused kernel's backward pass is slow at the course's sizes: forward +
    backward for (12, 4, 64, 32) took 3.9 ms there against 1.1 ms for the explicit
    :func:`attention_weights` @ V (fp32: 1.4 ms either way; torch 2.13, AVX512-BF16 EPYC). The
    explicit path stores the (T, T) weights, which is fine up to a few thousand positions."""
    if q.device.type == "cpu" and q.dtype == torch.bfloat16 and q.size(-2) <= 2048:
        weights = attention_weights(q, k)
        return (F.dropout(weights, dropout_p) if dropout_p > 0 else weights) @ v
    return F.scaled_dot_product_attention(q, k, v, is_causal=True, dropout_p=dropout_p)


class MultiHeadAttention(nn.Module):
    """h heads of size d_model // h, each with its own projections, run as one batched matmul.

    ``forward(query, key, value, mask, need_weights)`` -> (output (B, T_q, d_model), weights or
    None). Self-attention passes the same tensor three times; cross-attention (decoder reading the
    encoder) passes the decoder state as query and the encoder output as key and value. Without
    ``need_weights`` the fused ``F.scaled_dot_product_attention`` runs (same result, faster, but it
    never forms the weight matrix); with it, the explicit version above. The projections W^Q, W^K,
    W^V, W^O are ``q_proj``, ``k_proj``, ``v_proj``, ``o_proj``: the names LLaMA and
    ``course.models.modern`` use."""

    def __init__(self, d_model: int, n_heads: int, dropout: float = 0.0, bias: bool = True):
        super().__init__()
        if d_model % n_heads:
            raise ValueError(f"d_model={d_model} must be divisible by n_heads={n_heads}")
        self.d_model, self.n_heads, self.d_head, self.p = (
            d_model,
            n_heads,
            d_model // n_heads,
            dropout,
        )
        self.q_proj = nn.Linear(d_model, d_model, bias=bias)
        self.k_proj = nn.Linear(d_model, d_model, bias=bias)
        self.v_proj = nn.Linear(d_model, d_model, bias=bias)
        self.o_proj = nn.Linear(d_model, d_model, bias=bias)
        self.dropout = nn.Dropout(dropout)

    def _split(self, x: torch.Tensor) -> torch.Tensor:
        B, T, _ = x.shape
        # (B, T, C) -> (B, h, T, d_head)
        return x.view(B, T, self.n_heads, self.d_head).transpose(1, 2)

    def forward(
        self,
        query: torch.Tensor,
        key: torch.Tensor,
        value: torch.Tensor,
        mask: torch.Tensor | None = None,
        need_weights: bool = False,
    ):
        q, k, v = (
            self._split(self.q_proj(query)),
            self._split(self.k_proj(key)),
            self._split(self.v_proj(value)),
        )
        if mask is not None and mask.dim() == 2:
            mask = mask[None, None]  # (T_q, T_k) -> (1, 1, T_q, T_k)
        if need_weights:
            out, weights = scaled_dot_product_attention(
                q, k, v, mask, self.dropout if self.training else None
            )
        else:
            out = F.scaled_dot_product_attention(
                q, k, v, attn_mask=mask, dropout_p=self.p if self.training else 0.0
            )
            weights = None
        B, _, T_q, _ = out.shape
        # (B, h, T_q, d_head) -> (B, T_q, C)
        out = out.transpose(1, 2).reshape(B, T_q, self.d_model)
        return self.o_proj(out), weights
