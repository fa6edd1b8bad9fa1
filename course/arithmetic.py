"""Adding a list of numbers, written two ways: the answer at once, or a scratchpad of steps first.

A problem is a list of two-digit numbers (its "terms"). A GPT reads the prompt and learns to write
one of two completions (Nye et al. 2021, "Show your work"):

    prompt       23+45+17+88=
    direct       173.                                   the answer, then "." (the end)
    scratchpad   023+45=068;068+17=085;085+88=173;173.   one running total per step, then the answer

Totals and answers are always three digits and terms two, so every step has the same shape. A model
that writes the scratchpad does one two-number addition per step; a model that answers directly must
add all the terms inside one forward pass, with a fixed number of layers.

Splits are fixed by the problem itself (a checksum of its prompt), so a held-out problem never appears
in training, whatever the seed: 10% test, 10% dev (for choosing recipes), 80% train. Training uses
2, 3, 4 and 6 terms; problems with 5 terms are a held-out *length* no model is trained on.

A training row holds one worked problem from position 0, padded to the row length; the loss is taken
on the completion only (the terms of a prompt are random and cannot be predicted).
"""
from __future__ import annotations

import random
import zlib
from collections.abc import Callable, Sequence

import torch
import torch.nn.functional as F

DIGITS = "0123456789"
VOCAB = DIGITS + "+=;."  # 14 characters; "." ends every completion
STOI = {ch: i for i, ch in enumerate(VOCAB)}
FORMATS = ("direct", "scratchpad")
TRAIN_TERMS = (2, 3, 4, 6)  # numbers of terms seen in training
HELD_OUT_TERMS = 5  # a length never trained on
ALL_TERMS = (2, 3, 4, 5, 6)
IGNORE = -100  # target value that F.cross_entropy skips

Problem = tuple[int, ...]


# ---------------------------------------------------------------------------- text of a problem
def prompt(terms: Problem) -> str:
    """``(23, 45, 17)`` -> ``"23+45+17="``."""
    if len(terms) < 2 or any(not 0 <= t <= 99 for t in terms):
        raise ValueError(f"a problem is at least two numbers from 0 to 99, got {terms}")
    return "+".join(f"{t:02d}" for t in terms) + "="


def scratchpad_steps(terms: Problem) -> list[str]:
    """The running totals, one step per added term: ``(23, 45, 17)`` -> ``["023+45=068", "068+17=085"]``."""
    steps, total = [], terms[0]
    for t in terms[1:]:
        steps.append(f"{total:03d}+{t:02d}={total + t:03d}")
        total += t
    return steps


def completion(terms: Problem, fmt: str) -> str:
    """What the model should write after the prompt, in format ``"direct"`` or ``"scratchpad"``."""
    answer = f"{sum(terms):03d}."
    if fmt == "direct":
        return answer
    if fmt == "scratchpad":
        return "".join(step + ";" for step in scratchpad_steps(terms)) + answer
    raise ValueError(f"format must be one of {FORMATS}, got {fmt!r}")


def answer_of(text: str) -> str:
    """The answer a completion states: the digits after the last ";" and before the first "."."""
    return text.split(".")[0].split(";")[-1]


def completion_length(n_terms: int, fmt: str) -> int:
    """Characters in a completion: 4 for direct, 11 more per step for the scratchpad."""
    return 4 if fmt == "direct" else 4 + 11 * (n_terms - 1)


def encode(text: str) -> list[int]:
    try:
        return [STOI[ch] for ch in text]
    except KeyError as error:
        raise ValueError(f"{error.args[0]!r} is not in the arithmetic vocabulary {VOCAB!r}") from None


def decode(ids: Sequence[int]) -> str:
    return "".join(VOCAB[i] for i in ids)


# ---------------------------------------------------------------------------- splits and sampling
def split_of(terms: Problem) -> str:
    """``"test"``, ``"dev"`` or ``"train"``, from a checksum of the prompt (the same on every machine)."""
    bucket = zlib.crc32(prompt(terms).encode()) % 10
    return "test" if bucket == 0 else "dev" if bucket == 1 else "train"


def sample_problem(rng: random.Random, n_terms: int, split: str) -> Problem:
    """A random problem with ``n_terms`` terms from ``split`` (rejection sampling: ~1.25 draws for train)."""
    while True:
        terms = tuple(rng.randrange(100) for _ in range(n_terms))
        if split_of(terms) == split:
            return terms


def problems(n: int, n_terms: int, split: str, seed: int = 0) -> list[Problem]:
    """``n`` distinct problems of one length from one split (seeded)."""
    rng, seen = random.Random(f"{seed}-{n_terms}-{split}"), {}
    while len(seen) < n:
        seen.setdefault(sample_problem(rng, n_terms, split), None)
    return list(seen)


# ---------------------------------------------------------------------------- training rows
def worked_text(terms: Problem, fmt: str) -> tuple[list[int], list[bool]]:
    """Token ids of prompt + completion, and for each one whether it belongs to the completion."""
    p, c = prompt(terms), completion(terms, fmt)
    return encode(p + c), [False] * len(p) + [True] * len(c)


def row_length(fmt: str, n_terms: Sequence[int] = TRAIN_TERMS) -> int:
    """Input tokens per training row: the longest worked problem, less the last token (only a target)."""
    return max(3 * k + completion_length(k, fmt) for k in n_terms) - 1


def training_rows(fmt: str, batch_size: int, *, seed: int = 0,
                  n_terms: Sequence[int] = TRAIN_TERMS) -> Callable[[], tuple[torch.Tensor, torch.Tensor]]:
    """A function that returns one batch ``(x, y)`` of random training problems, each
    (batch_size, row_length(fmt, n_terms)).

    Each row holds one worked problem from position 0, padded with "." to the row length, so every
    row costs the same compute. ``y`` is ``x`` shifted by one, with IGNORE wherever the next token is
    part of the prompt or padding: the model is scored on what it writes, not on the random terms it
    is given.
    """
    rng = random.Random(seed)
    length = row_length(fmt, n_terms) + 1

    def batch():
        rows, targets = [], []
        for _ in range(batch_size):
            ids, scored = worked_text(sample_problem(rng, rng.choice(n_terms), "train"), fmt)
            pad = length - len(ids)
            ids, scored = ids + [STOI["."]] * pad, scored + [False] * pad
            rows.append(ids[:-1])
            targets.append([t if s else IGNORE for t, s in zip(ids[1:], scored[1:])])
        return torch.tensor(rows), torch.tensor(targets)

    return batch


# ---------------------------------------------------------------------------- measuring a model
def _group_by_length(items: Sequence[Problem]) -> dict[int, list[int]]:
    groups: dict[int, list[int]] = {}
    for i, terms in enumerate(items):
        groups.setdefault(len(terms), []).append(i)
    return groups


@torch.no_grad()
def generate_completions(model: torch.nn.Module, items: Sequence[Problem], fmt: str,
                         context: str = "", batch_size: int = 500) -> list[str]:
    """Greedy completions (text up to and including the first ".") for each problem's prompt.

    ``context`` is put before every prompt (e.g. worked examples for few-shot prompting). Problems
    are grouped by length so that each batch has prompts of one length; a batch writes the
    completion length of ``fmt`` plus a few tokens, using the model's key/value cache.
    """
    device = next(model.parameters()).device
    was_training = model.training
    model.eval()
    out: list[str] = [""] * len(items)
    for n_terms, index in _group_by_length(items).items():
        new = min(completion_length(n_terms, fmt) + 4, model.config.block_size - len(context) - 3 * n_terms)
        for start in range(0, len(index), batch_size):
            chunk = index[start:start + batch_size]
            idx = torch.tensor([encode(context + prompt(items[i])) for i in chunk], device=device)
            cache = model.new_kv_cache(len(chunk))
            logits = model(idx, kv_cache=cache)[:, -1]
            written = []
            for _ in range(new):
                nxt = logits.argmax(-1, keepdim=True)  # (B, 1): greedy
                written.append(nxt)
                logits = model(nxt, kv_cache=cache)[:, -1]
            text = torch.cat(written, 1).tolist()
            for i, ids in zip(chunk, text):
                s = decode(ids)
                out[i] = s[:s.index(".") + 1] if "." in s else s
    model.train(was_training)
    return out


def exact_match(completions: Sequence[str], items: Sequence[Problem]) -> float:
    """Fraction of problems whose stated answer is exactly the right three digits."""
    return sum(answer_of(c) == f"{sum(t):03d}" for c, t in zip(completions, items)) / len(items)


@torch.no_grad()
def teacher_forced(model: torch.nn.Module, items: Sequence[Problem], fmt: str,
                   batch_size: int = 500) -> dict[str, torch.Tensor]:
    """Score the *correct* completion of each problem, one forward pass per batch, no generation.

    Returns per-problem tensors (len(items),):
      ``digits_right``: digits of the completion the model predicts right (argmax) given the correct
        text before them; ``digits``: how many digits the completion has;
      ``log_likelihood``: log p(correct completion | prompt) in nats, summed over its tokens;
      ``all_right``: 1 when every token of the completion is the argmax (then greedy decoding
        writes exactly the correct completion).
    """
    device = next(model.parameters()).device
    was_training = model.training
    model.eval()
    n = len(items)
    result = {k: torch.zeros(n) for k in ("digits_right", "digits", "log_likelihood", "all_right")}
    digit_ids = torch.tensor([STOI[d] for d in DIGITS], device=device)
    for n_terms, index in _group_by_length(items).items():
        for start in range(0, len(index), batch_size):
            chunk = index[start:start + batch_size]
            ids = torch.tensor([worked_text(items[i], fmt)[0] for i in chunk], device=device)  # (B, L)
            p_len = len(prompt(items[chunk[0]]))
            logits = model(ids[:, :-1])[:, p_len - 1:].float()  # predictions of the completion (B, C, V)
            target = ids[:, p_len:]  # (B, C)
            logp = F.log_softmax(logits, -1).gather(-1, target[..., None])[..., 0]  # (B, C)
            right = logits.argmax(-1) == target
            is_digit = torch.isin(target, digit_ids)
            rows = torch.tensor(chunk)
            result["digits_right"][rows] = (right & is_digit).sum(1).float().cpu()
            result["digits"][rows] = is_digit.sum(1).float().cpu()
            result["log_likelihood"][rows] = logp.sum(1).cpu()
            result["all_right"][rows] = right.all(1).float().cpu()
    model.train(was_training)
    return result


def digit_accuracy(scores: dict[str, torch.Tensor]) -> float:
    """Per-digit accuracy: digits predicted right / digits, pooled over problems."""
    return float(scores["digits_right"].sum() / scores["digits"].sum())


def mean_log_likelihood(scores: dict[str, torch.Tensor]) -> float:
    """Mean over problems of log p(correct completion | prompt), in nats (0 is certainty)."""
    return float(scores["log_likelihood"].mean())


def largest_jump_share(values: Sequence[float]) -> float:
    """How sharp a curve over a ladder of sizes is: the largest rise between neighbours, as a share of
    the rise from the first to the best value. 0.2 for an even climb over five steps, 1.0 for a
    single jump. A curve that never rises returns 0."""
    total = max(values) - values[0]
    if total <= 0:
        return 0.0
    return max(b - a for a, b in zip(values, values[1:])) / total
