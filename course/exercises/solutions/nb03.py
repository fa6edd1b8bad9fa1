"""Worked solutions for notebook 03's exercises."""

from __future__ import annotations

import torch


def nplm_forward(context, C, H, d, U, b):
    x = C[context].reshape(context.shape[0], -1)  # (batch, n·m): the concatenated feature vectors
    return b + torch.tanh(d + x @ H.T) @ U.T


def mixture_perplexity(logp_a, logp_b, weight):
    p = weight * torch.exp(logp_a) + (1 - weight) * torch.exp(logp_b)
    return torch.exp(-torch.log(p).mean())


def name_windows(name, context_size, stoi):
    X, Y = [], []
    window = [stoi["."]] * context_size
    for ch in name + ".":
        X.append(list(window))
        Y.append(stoi[ch])
        window = window[1:] + [stoi[ch]]
    return X, Y
