"""The reward model: a GPT backbone with a scalar head, trained on preference pairs (Bradley–Terry).

InstructGPT (Ouyang et al. 2022, eq. 1) trains r_θ(x, y) so that the reply people preferred scores
higher:

    loss(θ) = −E_(x, y_w, y_l) [ log σ( r_θ(x, y_w) − r_θ(x, y_l) ) ]

This is the Bradley–Terry model (1952) of paired comparisons: P(y_w ≻ y_l) = σ(r_w − r_l). Only the
*difference* of rewards matters, so the scale's zero is arbitrary.

Two ways to turn the backbone's hidden states (one vector per token) into one number:

* ``pooling="last"`` (InstructGPT, TRL): the hidden state of the last token of ``prompt + reply``
  (the newline that ends the reply), which has attended to everything before it. Sequences are
  left-padded (see ``sft.py``) so the last token is always at the final position.
* ``pooling="mean"``: the average of the hidden states over the *reply's* tokens only (prompt and
  padding masked out), then the linear head; equivalently the mean of a per-token score. That suits
  a preference that adds up word by word (a sentiment lexicon): every token reports its own
  contribution instead of one position having to summarise the whole reply.
"""

from __future__ import annotations

import copy
import math
import numbers
import random
from collections.abc import Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F

from course.align.tasks import Pair, annotate_pairs, left_pad
from course.device import eval_mode
from course.special_tokens import CHAT_EOS as EOS
from course.special_tokens import CHAT_PAD as PAD

POOLINGS = ("last", "mean", "sum")


class RewardModel(nn.Module):
    """``backbone.hidden_states`` (B, T, C) → pooled (B, C) → linear head → reward (B,).

    ``pooling="last"`` reads the final position; ``pooling="mean"`` averages over the reply tokens
    given by ``reply_mask`` (B, T), 1 on the reply and 0 on prompt and padding; ``pooling="sum"``
    adds them up, so the reward is a sum of per-token scores (head(Σ h_t) = Σ head(h_t) -
    (n-1)·bias) - the shape of an annotator that rates each word, which notebook 10 uses."""

    def __init__(self, backbone: nn.Module, pooling: str = "last"):
        super().__init__()
        if pooling not in POOLINGS:
            raise ValueError(f"pooling must be one of {POOLINGS}, got {pooling!r}")
        self.backbone = backbone
        self.config = backbone.config
        self.pooling = pooling
        self.head = nn.Linear(backbone.config.n_embd, 1)
        nn.init.normal_(self.head.weight, std=0.02)
        nn.init.zeros_(self.head.bias)

    @classmethod
    def from_pretrained(cls, model: nn.Module, pooling: str = "last") -> RewardModel:
        """A reward model whose backbone starts as a *copy* of ``model`` (InstructGPT starts from
        the SFT model)."""
        return cls(copy.deepcopy(model), pooling)

    def forward(self, idx: torch.Tensor, reply_mask: torch.Tensor | None = None) -> torch.Tensor:
        if idx.dim() != 2:
            raise ValueError(
                f"the reward model takes token ids of shape (batch, time), got {tuple(idx.shape)}"
            )
        block = self.config.block_size
        if idx.size(1) > block:
            raise ValueError(
                f"the input has {idx.size(1)} tokens but the reward model's context is {block}; "
                "it cannot read the whole reply, so it refuses to score it. Shorten the prompt or "
                "reply (fewer max_new_tokens), or train a reward model with a longer block_size"
            )
        hidden = self.backbone.hidden_states(idx)  # (B, T, C)
        if self.pooling == "last":
            return self.head(hidden[:, -1]).squeeze(-1).float()  # (B,)
        if reply_mask is None or reply_mask.shape != idx.shape:
            raise ValueError(
                f"a {self.pooling}-pooled reward model needs reply_mask, shaped like the token "
                "ids, with 1 on the "
                "reply's tokens; pair_batches and score build it for you"
            )
        m = reply_mask.to(hidden.dtype).unsqueeze(-1)  # (B, T, 1)
        pooled = (hidden * m).sum(1)  # (B, C)
        if self.pooling == "mean":
            pooled = pooled / m.sum(1).clamp(min=1)  # mean over the reply only
        return self.head(pooled).squeeze(-1).float()  # (B,)


def _check_count(name: str, value) -> None:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"{name} must be a whole number >= 1, got {value!r}")


def bradley_terry_loss(
    reward_chosen: torch.Tensor, reward_rejected: torch.Tensor, label_noise: float = 0.0
) -> torch.Tensor:
    """−mean log P(label), with P(label) = σ(r_chosen − r_rejected): the Bradley–Terry likelihood.

    ``label_noise`` ε > 0 is the chance that the annotator flipped a label: the label is then right
    with probability (1 − ε)·σ(d) + ε·σ(−d), d = r_chosen − r_rejected. A pair the model is sure is
    mislabelled costs at most −log ε instead of growing without bound, so the few flipped labels
    stop dragging the reward towards them (the likelihood of a noisy label, not label smoothing,
    which would pull every d back towards a finite value). ``logsigmoid`` keeps both forms finite.
    """
    if not 0 <= label_noise < 0.5:
        raise ValueError(f"label_noise is a flip probability in [0, 0.5), got {label_noise}")
    if reward_chosen.shape != reward_rejected.shape:  # (B,) - (B, 1) would broadcast to (B, B)
        raise ValueError(
            f"chosen and rejected rewards must have one shape, got "
            f"{tuple(reward_chosen.shape)} and {tuple(reward_rejected.shape)}; "
            "index both with the same pairs"
        )
    if reward_chosen.numel() == 0:
        raise ValueError(
            "the batch is empty (no pairs): the mean of no losses is NaN; pass at least one pair"
        )
    d = reward_chosen - reward_rejected
    if label_noise == 0:
        return -F.logsigmoid(d).mean()
    right, flipped = math.log1p(-label_noise), math.log(label_noise)
    return -torch.logaddexp(F.logsigmoid(d) + right, F.logsigmoid(-d) + flipped).mean()


def ranked_pairs(
    prompts: Sequence[str],
    replies: Sequence[Sequence[str]],
    *,
    noise: float = 0.1,
    min_gap: float = 0.05,
    seed: int = 0,
) -> list[Pair]:
    """All C(K, 2) labelled pairs from K replies per prompt (InstructGPT, sec. 3.5);
    ``replies[k][i]`` answers ``prompts[i]``.

    Each comparison is labelled by ``tasks.annotate_pairs`` (ties dropped, ``noise`` of the labels
    flipped independently). K samples give K(K−1)/2 comparisons instead of K/2 disjoint pairs.
    """
    if len(replies) < 2 or any(len(r) != len(prompts) for r in replies):
        raise ValueError(
            "ranked_pairs needs K >= 2 lists of replies, each as long as the list of prompts"
        )
    ps, a, b = [], [], []
    for i, prompt in enumerate(prompts):
        for j in range(len(replies)):
            for k in range(j + 1, len(replies)):
                ps.append(prompt)
                a.append(replies[j][i])
                b.append(replies[k][i])
    return annotate_pairs(ps, a, b, noise=noise, min_gap=min_gap, seed=seed)


def encode_reply(tokenizer, prompt: str, reply: str) -> tuple[list[int], list[int]]:
    """Token ids of ``prompt + reply`` (the reply ending with EOS) and a mask: 0 on the prompt, 1 on
    the reply."""
    reply = reply if reply.endswith(EOS) else reply + EOS
    p, r = tokenizer.encode(prompt), tokenizer.encode(reply)
    return p + r, [0] * len(p) + [1] * len(r)


def encode_pairs(
    tokenizer, pairs: Sequence[Pair]
) -> list[tuple[tuple[list[int], list[int]], tuple[list[int], list[int]]]]:
    """``((ids, mask) of prompt + chosen, (ids, mask) of prompt + rejected)`` for each pair (see
    ``encode_reply``)."""
    return [
        (encode_reply(tokenizer, p.prompt, p.chosen), encode_reply(tokenizer, p.prompt, p.rejected))
        for p in pairs
    ]


def pair_batches(
    tokenizer,
    pairs: Sequence[Pair],
    batch_size: int = 32,
    seed: int = 0,
    *,
    by_prompt: bool = False,
):
    """A function returning a random batch ``(ids, mask, chosen, rejected)`` each call (for
    ``fit``).

    ``ids`` (N, T) are left-padded ``prompt + reply`` sequences, ``mask`` (N, T) is 1 on the reply
    tokens (0 on prompt and padding: what a pooled model reads), and ``chosen``/``rejected`` (P,)
    index the rows of each pair. Plain batches hold ``batch_size`` random pairs, every reply its own
    row. ``by_prompt=True`` (InstructGPT, sec. 3.5) samples ``batch_size`` *prompts* and takes all
    of their pairs, each distinct reply scored once: K replies cost K forward passes for up to
    K(K−1)/2 pairs. A prompt's pairs must be consecutive in ``pairs``, as ``ranked_pairs`` lists
    them (the same prompt text asked twice elsewhere in the list is a separate group)."""
    _check_count("batch_size", batch_size)
    encoded = encode_pairs(tokenizer, pairs)
    if not encoded:
        raise ValueError("no preference pairs to train on")
    rng = random.Random(seed)
    pad_id = tokenizer.encode(PAD)[0]
    # one group per run of consecutive pairs with the same prompt: its distinct replies and pairs
    if by_prompt:
        groups: list[tuple[str, dict[str, int], list, list]] = []
        for p, (c, r) in zip(pairs, encoded):
            if not groups or groups[-1][0] != p.prompt:
                groups.append((p.prompt, {}, [], []))
            _, rows, seqs, index = groups[-1]
            for reply, seq in [(p.chosen, c), (p.rejected, r)]:
                if reply not in rows:
                    rows[reply] = len(seqs)
                    seqs.append(seq)
            index.append((rows[p.chosen], rows[p.rejected]))
        units = [(seqs, index) for _, _, seqs, index in groups]
    else:
        units = [([c, r], [(0, 1)]) for c, r in encoded]

    def get_batch():
        seqs, chosen, rejected = [], [], []
        for unit_seqs, index in rng.sample(units, min(batch_size, len(units))):
            chosen += [len(seqs) + a for a, _ in index]
            rejected += [len(seqs) + b for _, b in index]
            seqs += unit_seqs
        ids = left_pad([s for s, _ in seqs], pad_id)  # (N, T), one length for all
        mask = left_pad([m for _, m in seqs], 0)  # (N, T)
        return ids, mask, torch.tensor(chosen), torch.tensor(rejected)

    return get_batch


def reward_loss(model: RewardModel, batch, label_noise: float = 0.0) -> torch.Tensor:
    """The Bradley–Terry loss of a batch from ``pair_batches``: a ``loss_fn`` for
    ``course.train.fit``.

    For a noisy annotator pass ``loss_fn=functools.partial(reward_loss, label_noise=ε)`` (see
    ``bradley_terry_loss``).
    """
    ids, mask, chosen, rejected = batch
    rewards = model(ids, mask)  # one forward pass for every reply in the batch: (N,)
    return bradley_terry_loss(rewards[chosen], rewards[rejected], label_noise)


@torch.no_grad()
def score(
    model: RewardModel,
    tokenizer,
    prompts: Sequence[str],
    replies: Sequence[str],
    batch_size: int = 128,
) -> torch.Tensor:
    """Reward of each (prompt, reply), shape (N,): ``replies[i]`` answers ``prompts[i]``."""
    if len(prompts) != len(replies):  # zip would silently drop the unmatched ones
        raise ValueError(
            f"{len(prompts)} prompts but {len(replies)} replies; pass one reply per "
            "prompt (repeat a prompt to score several replies to it)"
        )
    _check_count("batch_size", batch_size)
    device = next(model.parameters()).device
    pad_id = tokenizer.encode(PAD)[0]
    with eval_mode(model):
        out = []
        for s in range(0, len(prompts), batch_size):
            encoded = [
                encode_reply(tokenizer, p, r)
                for p, r in zip(prompts[s : s + batch_size], replies[s : s + batch_size])
            ]
            ids = left_pad([e for e, _ in encoded], pad_id).to(device)
            mask = left_pad([m for _, m in encoded], 0).to(device)
            out.append(model(ids, mask).cpu())
    return torch.cat(out) if out else torch.empty(0)


@torch.no_grad()
def pair_accuracy(
    model: RewardModel, tokenizer, pairs: Sequence[Pair]
) -> tuple[float, torch.Tensor]:
    """Fraction of pairs where r(chosen) > r(rejected), and the reward differences (N,)."""
    if not pairs:
        raise ValueError(
            "no preference pairs to measure accuracy on (the fraction of none is undefined)"
        )
    prompts = [p.prompt for p in pairs]
    diff = score(model, tokenizer, prompts, [p.chosen for p in pairs]) - score(
        model, tokenizer, prompts, [p.rejected for p in pairs]
    )
    return float((diff > 0).float().mean()), diff


def calibration(diff: torch.Tensor, bins: int = 8) -> tuple[list[float], list[float], list[int]]:
    """Predicted P(A preferred) = σ(r_A − r_B) against how often A was the annotator's choice, in
    equal-count bins.

    ``diff`` holds r(chosen) − r(rejected) per labelled pair. Each pair is counted in both orders,
    (A, B) = (chosen, rejected) with outcome 1 and the reverse with outcome 0, so the bins cover
    predictions from 0 to 1. A calibrated model has predicted == observed in every bin.
    Returns (mean predicted, observed frequency, count) per bin.
    """
    _check_count("bins", bins)
    if diff.numel() == 0:
        raise ValueError(
            "diff is empty: calibration needs the reward differences of at least one pair"
        )
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
