"""Direct Preference Optimisation (Rafailov et al. 2023): learn from preference pairs with no reward
model and no RL.

DPO notices that the KL-regularised RL objective of RLHF has a closed-form optimum, π*(y|x) ∝
π_ref(y|x) · exp(r(x, y) / β), so a policy *defines* a reward up to a constant: r(x, y) = β ·
log(π(y|x) / π_ref(y|x)) + const. Put that into the Bradley–Terry loss and the constant cancels (eq.
7 of the paper):

    L_DPO = −E log σ( β·[log π(y_w|x) − log π_ref(y_w|x)] − β·[log π(y_l|x) − log π_ref(y_l|x)] )

The bracketed terms, times β, are the *implicit rewards* of the chosen and rejected replies; their
difference is the *margin*, and the fraction of pairs with a positive margin is the preference
accuracy."""

from __future__ import annotations

import math
import numbers
import random
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F

from course.align.sft import IGNORE, encode_example
from course.align.tasks import Pair, left_pad
from course.generate import whole_number
from course.special_tokens import CHAT_EOS as EOS
from course.special_tokens import CHAT_PAD as PAD


def sequence_logprob(model, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Sum of log π(y_t | x_≤t) over the positions where ``y`` is not -100 (the reply), shape
    (B,)."""
    if x.shape != y.shape:
        raise ValueError(
            f"inputs {tuple(x.shape)} and labels {tuple(y.shape)} must have one shape "
            "(batch, time); build both with encode_pair_batch"
        )
    logits = model(x).float()  # (B, T, V)
    logp = torch.log_softmax(logits, dim=-1)
    mask = y != IGNORE
    picked = logp.gather(-1, y.clamp(min=0).unsqueeze(-1)).squeeze(-1)  # (B, T)
    return (picked * mask).sum(-1)


@dataclass
class DPOStats:
    loss: torch.Tensor
    chosen_reward: torch.Tensor  # β (log π − log π_ref) of the chosen replies, (B,)
    rejected_reward: torch.Tensor
    margin: torch.Tensor  # chosen_reward − rejected_reward, (B,)
    accuracy: float  # fraction of pairs with a positive margin


def check_beta(beta: float) -> None:
    """β must be a finite positive number: NaN or inf turns every implicit reward into NaN."""
    if isinstance(beta, bool) or not isinstance(beta, numbers.Real) or not 0 < beta < math.inf:
        raise ValueError(
            f"beta must be a finite number > 0 (it sets how far the policy may move "
            f"from the reference; 0.1 is usual), got {beta!r}"
        )


def dpo_loss(
    policy_chosen: torch.Tensor,
    policy_rejected: torch.Tensor,
    ref_chosen: torch.Tensor,
    ref_rejected: torch.Tensor,
    beta: float = 0.1,
) -> DPOStats:
    """Eq. 7 of the DPO paper from the four sequence log-probabilities (each of shape (B,))."""
    check_beta(beta)
    shapes = {tuple(t.shape) for t in (policy_chosen, policy_rejected, ref_chosen, ref_rejected)}
    if len(shapes) > 1:  # (B,) against (B, 1) would broadcast to a (B, B) loss, silently wrong
        raise ValueError(
            f"the four log-probabilities must have one shape (B,), got {sorted(shapes)}"
        )
    if policy_chosen.numel() == 0:
        raise ValueError(
            "the batch is empty (no pairs): the mean of no losses is NaN; pass at least one pair"
        )
    chosen_reward = beta * (policy_chosen - ref_chosen)
    rejected_reward = beta * (policy_rejected - ref_rejected)
    margin = chosen_reward - rejected_reward
    loss = -F.logsigmoid(margin).mean()
    return DPOStats(
        loss,
        chosen_reward.detach(),
        rejected_reward.detach(),
        margin.detach(),
        float((margin > 0).float().mean()),
    )


def encode_pair_batch(tokenizer, pairs: Sequence[Pair]) -> tuple[torch.Tensor, torch.Tensor]:
    """Left-padded inputs and reply-only labels for [chosen..., rejected...]: two tensors of shape
    (2B, T)."""
    if not pairs:
        raise ValueError("no preference pairs to encode; pass at least one")

    def reply(text: str) -> str:
        return text if text.endswith(EOS) else text + EOS

    encoded = [encode_example(tokenizer, p.prompt, reply(p.chosen)) for p in pairs]
    encoded += [encode_example(tokenizer, p.prompt, reply(p.rejected)) for p in pairs]
    pad_id = tokenizer.encode(PAD)[0]
    return left_pad([a for a, _ in encoded], pad_id), left_pad([b for _, b in encoded], IGNORE)


@dataclass
class DPOHistory:
    loss: list[float] = field(default_factory=list)
    accuracy: list[float] = field(default_factory=list)
    margin: list[float] = field(default_factory=list)
    chosen_reward: list[float] = field(default_factory=list)
    rejected_reward: list[float] = field(default_factory=list)
    seconds: float = 0.0
    sequences: int = 0  # forward passes over a (prompt + reply) sequence, a rough compute measure


def train_dpo(
    policy,
    reference,
    tokenizer,
    pairs: Sequence[Pair],
    *,
    steps: int = 200,
    batch_size: int = 32,
    beta: float = 0.1,
    lr: float = 1e-4,
    seed: int = 0,
    progress: bool = True,
) -> DPOHistory:
    """Fine-tune ``policy`` on preference pairs with the DPO loss; ``reference`` stays frozen."""
    from tqdm.auto import tqdm

    if not pairs:
        raise ValueError("DPO needs at least one preference pair")
    check_beta(beta)  # before any work, not after the first batch
    steps = whole_number("steps", steps, 0)
    batch_size = whole_number("batch_size", batch_size, 1)
    if isinstance(lr, bool) or not isinstance(lr, numbers.Real) or not 0 < lr < math.inf:
        raise ValueError(f"lr must be a finite number > 0, got {lr!r}")
    device = next(policy.parameters()).device
    # frozen: only ever run under torch.no_grad(), its weights are never handed to the optimiser
    reference.eval()
    trainable = [p for p in policy.parameters() if p.requires_grad]
    if not trainable:
        raise ValueError(
            "the policy has no trainable parameters (requires_grad is False everywhere); "
            "copy the model before freezing it, or call p.requires_grad_(True)"
        )
    optimizer = torch.optim.AdamW(trainable, lr=lr, weight_decay=0.0)
    rng = random.Random(seed)
    history = DPOHistory()
    began = time.perf_counter()
    policy.train()
    for _ in tqdm(range(steps), desc="DPO", disable=not progress):
        batch = rng.sample(list(pairs), min(batch_size, len(pairs)))
        x, y = encode_pair_batch(tokenizer, batch)
        x, y = x.to(device), y.to(device)
        with torch.no_grad():
            ref = sequence_logprob(reference, x, y)  # (2B,)
        pol = sequence_logprob(policy, x, y)
        n = len(batch)
        stats = dpo_loss(pol[:n], pol[n:], ref[:n], ref[n:], beta)
        optimizer.zero_grad(set_to_none=True)
        stats.loss.backward()
        torch.nn.utils.clip_grad_norm_(policy.parameters(), 1.0)
        optimizer.step()
        history.loss.append(float(stats.loss.detach()))
        history.accuracy.append(stats.accuracy)
        history.margin.append(float(stats.margin.mean()))
        history.chosen_reward.append(float(stats.chosen_reward.mean()))
        history.rejected_reward.append(float(stats.rejected_reward.mean()))
        history.sequences += 2 * len(x)  # policy and reference each read every sequence
    history.seconds = time.perf_counter() - began
    return history


@torch.no_grad()
def preference_accuracy(
    policy, reference, tokenizer, pairs: Sequence[Pair], beta: float = 0.1, batch_size: int = 64
) -> tuple[float, float]:
    """(fraction of pairs whose implicit reward margin is positive, mean margin) on held-out
    pairs."""
    if not pairs:
        raise ValueError(
            "no preference pairs to measure accuracy on (the fraction of none is undefined)"
        )
    batch_size = whole_number("batch_size", batch_size, 1)
    check_beta(beta)
    policy.eval()
    margins = []
    for s in range(0, len(pairs), batch_size):
        batch = list(pairs[s : s + batch_size])
        x, y = encode_pair_batch(tokenizer, batch)
        device = next(policy.parameters()).device
        x, y = x.to(device), y.to(device)
        pol, ref = sequence_logprob(policy, x, y), sequence_logprob(reference, x, y)
        n = len(batch)
        margins.append(dpo_loss(pol[:n], pol[n:], ref[:n], ref[n:], beta).margin.cpu())
    margin = torch.cat(margins)
    return float((margin > 0).float().mean()), float(margin.mean())
