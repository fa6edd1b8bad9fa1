"""The reward model: a GPT backbone with a scalar head, trained on preference pairs (Bradley–Terry).

InstructGPT (Ouyang et al. 2022, eq. 1) trains r_θ(x, y) so that the reply people preferred scores higher:

    loss(θ) = −E_(x, y_w, y_l) [ log σ( r_θ(x, y_w) − r_θ(x, y_l) ) ]

This is the Bradley–Terry model (1952) of paired comparisons: P(y_w ≻ y_l) = σ(r_w − r_l). Only the
*difference* of rewards matters, so the scale's zero is arbitrary.

The reward is read at the last token of ``prompt + reply`` (the newline that ends the reply): that
position has attended to everything before it. Sequences are left-padded (see ``sft.py``) so the
last token is always at the final position.
"""
from __future__ import annotations

import copy
import random
from collections.abc import Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F

from course.align.tasks import EOS, PAD, Pair


class RewardModel(nn.Module):
    """``backbone.hidden_states`` (B, T, C) → last position (B, C) → linear head → reward (B,)."""

    def __init__(self, backbone: nn.Module):
        super().__init__()
        self.backbone = backbone
        self.config = backbone.config
        self.head = nn.Linear(backbone.config.n_embd, 1)
        nn.init.normal_(self.head.weight, std=0.02)
        nn.init.zeros_(self.head.bias)

    @classmethod
    def from_pretrained(cls, model: nn.Module) -> "RewardModel":
        """A reward model whose backbone starts as a *copy* of ``model`` (InstructGPT starts from the SFT model)."""
        return cls(copy.deepcopy(model))

    def forward(self, idx: torch.Tensor) -> torch.Tensor:
        if idx.dim() != 2:
            raise ValueError(f"the reward model takes token ids of shape (batch, time), got {tuple(idx.shape)}")
        block = self.config.block_size
        if idx.size(1) > block:
            raise ValueError(f"the input has {idx.size(1)} tokens but the reward model's context is {block}; "
                             "it cannot read the whole reply, so it refuses to score it. Shorten the prompt or "
                             "reply (fewer max_new_tokens), or train a reward model with a longer block_size")
        hidden = self.backbone.hidden_states(idx)  # (B, T, C)
        return self.head(hidden[:, -1]).squeeze(-1).float()  # (B,)


def bradley_terry_loss(reward_chosen: torch.Tensor, reward_rejected: torch.Tensor) -> torch.Tensor:
    """−mean log σ(r_chosen − r_rejected). ``logsigmoid`` keeps it finite for large differences."""
    return -F.logsigmoid(reward_chosen - reward_rejected).mean()


def encode_pairs(tokenizer, pairs: Sequence[Pair]) -> list[tuple[list[int], list[int]]]:
    """Token ids of (prompt + chosen, prompt + rejected) for each pair; replies end with EOS."""
    out = []
    for p in pairs:
        chosen = p.chosen if p.chosen.endswith(EOS) else p.chosen + EOS
        rejected = p.rejected if p.rejected.endswith(EOS) else p.rejected + EOS
        out.append((tokenizer.encode(p.prompt + chosen), tokenizer.encode(p.prompt + rejected)))
    return out


def _left_pad(seqs: Sequence[list[int]], pad_id: int) -> torch.Tensor:
    longest = max(len(s) for s in seqs)
    return torch.tensor([[pad_id] * (longest - len(s)) + list(s) for s in seqs], dtype=torch.long)


def pair_batches(tokenizer, pairs: Sequence[Pair], batch_size: int = 32, seed: int = 0):
    """A function returning a random batch ``(chosen_ids, rejected_ids)`` each call (for ``fit``)."""
    encoded = encode_pairs(tokenizer, pairs)
    if not encoded:
        raise ValueError("no preference pairs to train on")
    rng = random.Random(seed)
    pad_id = tokenizer.encode(PAD)[0]

    def get_batch():
        batch = rng.sample(encoded, min(batch_size, len(encoded)))
        both = _left_pad([c for c, _ in batch] + [r for _, r in batch], pad_id)  # one length for both halves
        return both[:len(batch)], both[len(batch):]
    return get_batch


def reward_loss(model: RewardModel, batch) -> torch.Tensor:
    """The Bradley–Terry loss of a ``(chosen_ids, rejected_ids)`` batch: a ``loss_fn`` for ``course.train.fit``."""
    chosen, rejected = batch
    rewards = model(torch.cat([chosen, rejected]))  # one forward pass for both halves: (2B,)
    return bradley_terry_loss(rewards[:len(chosen)], rewards[len(chosen):])


@torch.no_grad()
def score(model: RewardModel, tokenizer, prompts: Sequence[str], replies: Sequence[str],
          batch_size: int = 128) -> torch.Tensor:
    """Reward of each (prompt, reply), shape (N,)."""
    device = next(model.parameters()).device
    pad_id = tokenizer.encode(PAD)[0]
    was_training = model.training
    model.eval()
    out = []
    for s in range(0, len(prompts), batch_size):
        seqs = [tokenizer.encode(p + (r if r.endswith(EOS) else r + EOS))
                for p, r in zip(prompts[s:s + batch_size], replies[s:s + batch_size])]
        out.append(model(_left_pad(seqs, pad_id).to(device)).cpu())
    model.train(was_training)
    return torch.cat(out) if out else torch.empty(0)


@torch.no_grad()
def pair_accuracy(model: RewardModel, tokenizer, pairs: Sequence[Pair]) -> tuple[float, torch.Tensor]:
    """Fraction of pairs where r(chosen) > r(rejected), and the reward differences (N,)."""
    prompts = [p.prompt for p in pairs]
    diff = score(model, tokenizer, prompts, [p.chosen for p in pairs]) - score(model, tokenizer, prompts, [p.rejected for p in pairs])
    return float((diff > 0).float().mean()), diff


def calibration(diff: torch.Tensor, bins: int = 8) -> tuple[list[float], list[float], list[int]]:
    """Predicted P(A preferred) = σ(r_A − r_B) against how often A was the annotator's choice, in equal-count bins.

    ``diff`` holds r(chosen) − r(rejected) per labelled pair. Each pair is counted in both orders,
    (A, B) = (chosen, rejected) with outcome 1 and the reverse with outcome 0, so the bins cover
    predictions from 0 to 1. A calibrated model has predicted == observed in every bin.
    Returns (mean predicted, observed frequency, count) per bin.
    """
    diff = diff.float().flatten()
    prob = torch.sigmoid(torch.cat([diff, -diff]))
    outcome = torch.cat([torch.ones_like(diff), torch.zeros_like(diff)])
    order = torch.argsort(prob)
    predicted, observed, counts = [], [], []
    for chunk in torch.tensor_split(order, bins):
        if len(chunk) == 0:
            continue
        predicted.append(float(prob[chunk].mean()))
        observed.append(float(outcome[chunk].mean()))
        counts.append(len(chunk))
    return predicted, observed, counts
