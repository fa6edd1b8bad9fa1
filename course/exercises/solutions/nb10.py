"""Worked solutions to the exercises of notebook 10."""

from __future__ import annotations

import torch
import torch.nn.functional as F


def bt_loss(r_chosen, r_rejected):
    return -F.logsigmoid(r_chosen - r_rejected).mean()


def dpo(policy_w, policy_l, ref_w, ref_l, beta):
    margin = beta * ((policy_w - ref_w) - (policy_l - ref_l))
    return -F.logsigmoid(margin).mean()


def advantages(rewards, values, gamma, lam):
    out = torch.zeros_like(rewards)
    running = 0.0
    for t in reversed(range(len(rewards))):
        next_value = values[t + 1] if t + 1 < len(rewards) else 0.0
        delta = rewards[t] + gamma * next_value - values[t]
        running = delta + gamma * lam * running
        out[t] = running
    return out
