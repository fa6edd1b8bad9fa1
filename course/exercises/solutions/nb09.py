"""Worked solutions to the exercises of notebook 09."""

from __future__ import annotations


def prompt_labels(prompt_ids, reply_ids):
    ids = list(prompt_ids) + list(reply_ids)
    inputs, targets = ids[:-1], ids[1:]
    n_masked = len(prompt_ids) - 1  # targets 0 .. len(prompt)-2 are prompt tokens
    return inputs, [-100] * n_masked + targets[n_masked:]


def lora_forward(x, W, b, A, B, alpha, r):
    return x @ W.T + b + (alpha / r) * (x @ A.T @ B.T)


def lora_parameter_count(shapes, r):
    return sum(r * (d_in + d_out) for d_out, d_in in shapes)


def prefix_mask(n_tokens, n_prefix):
    import torch

    causal = torch.ones(n_tokens, n_tokens).tril()  # token t sees tokens 0 .. t
    return torch.cat([torch.ones(n_tokens, n_prefix), causal], dim=1).bool()  # prefix: always seen
