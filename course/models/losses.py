"""The loss every language model of the course trains with: next-token cross-entropy."""

from __future__ import annotations

import torch
import torch.nn.functional as F


def lm_loss(logits: torch.Tensor, targets: torch.Tensor, ignore_index: int = -100) -> torch.Tensor:
    """Mean cross-entropy of ``logits`` (..., V) against ``targets`` (...), skipping the positions
    whose target is ``ignore_index``. Computed in fp32 even when the logits come from bf16."""
    V = logits.size(-1)
    return F.cross_entropy(
        logits.reshape(-1, V).float(), targets.reshape(-1), ignore_index=ignore_index
    )
