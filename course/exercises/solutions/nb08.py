"""Worked solutions to the exercises of notebook 08."""

from __future__ import annotations

import torch


def rms_norm(x, weight, eps):
    # no mean subtracted (that would be LayerNorm): only the root-mean-square is divided out
    return x * torch.rsqrt(x.pow(2).mean(dim=-1, keepdim=True) + eps) * weight


def rotate_pairs(x, position, base):
    d = x.shape[-1]
    theta = base ** (-torch.arange(0, d, 2, dtype=torch.float64) / d)  # (d/2,)
    angle = position * theta
    cos, sin = torch.cos(angle).to(x.dtype), torch.sin(angle).to(x.dtype)
    even, odd = x[0::2], x[1::2]
    out = torch.empty_like(x)
    out[0::2] = even * cos - odd * sin
    out[1::2] = even * sin + odd * cos
    return out


def kv_cache_bytes(n_layer, n_kv_head, head_dim, seq_len, batch_size, bytes_per_value):
    return 2 * n_layer * n_kv_head * head_dim * seq_len * batch_size * bytes_per_value
