"""Arithmetic that takes several steps, written two ways: the answer at once, or a scratchpad first.

A problem is a chain of one-digit numbers joined by "+" and "*", worked out from left to right and
keeping only the last digit (arithmetic modulo 10, like a calculator with a one-digit display). A
GPT reads the prompt and learns to write one of two completions (Nye et al. 2021, "Show your work"):

    prompt       3+5*7+9=
    direct       5.                     the answer, then "." (the end)
    scratchpad   3+5=8;8*7=6;6+9=5;5.   one step per operation, each reading the last result

Each step is a lookup in a table of 200 entries; the answer at once needs every step inside one
forward pass. Problems have 2 to 9 numbers ("terms"); every step has the same shape.

Splits are fixed by the problem itself (a checksum of its prompt), so a held-out problem never
appears in training, whatever the seed: 10% test, 10% dev (for choosing recipes), 80% train.
Training uses 2, 3, 4 and 6 terms; problems with 5 terms are a held-out *length* no model is trained
on.

A training row holds one worked problem from position 0, padded to the row length; the loss is taken
on the completion only (the numbers of a prompt are random and cannot be predicted).
"""

from __future__ import annotations

import itertools
import random
import zlib
from collections.abc import Callable, Sequence

import torch
import torch.nn.functional as F

from course.device import eval_mode

DIGITS = "0123456789"
OPS = "+*"
VOCAB = DIGITS + OPS + "=;."  # 15 characters; "." ends every completion
STOI = {ch: i for i, ch in enumerate(VOCAB)}
FORMATS = ("direct", "scratchpad")
TRAIN_TERMS = (2, 3, 4, 6)  # numbers of terms seen in training
HELD_OUT_TERMS = 5  # a length never trained on
ALL_TERMS = (2, 3, 4, 5, 6)
MAX_TERMS = 9
IGNORE = -100  # target value that F.cross_entropy skips

Problem = tuple  # (3, "+", 5, "*", 7): numbers 0-9 and operators, alternating


# ---------------------------------------------------------------------------- text of a problem
def n_terms(problem: Problem) -> int:
    """How many numbers a problem has: ``(3, "+", 5, "*", 7)`` -> 3."""
    return (len(problem) + 1) // 2


def apply(op: str, a: int, b: int) -> int:
    """One step: ``a op b``, keeping the last digit."""
    return (a + b) % 10 if op == "+" else (a * b) % 10


def prompt(problem: Problem) -> str:
    """``(3, "+", 5, "*", 7)`` -> ``"3+5*7="``."""
    numbers, ops = problem[0::2], problem[1::2]
    digits_ok = all(isinstance(d, int) and 0 <= d <= 9 for d in numbers)
    if (
        not 2 <= len(numbers) <= MAX_TERMS
        or len(ops) != len(numbers) - 1
        or not digits_ok
        or any(o not in OPS for o in ops)
    ):
        raise ValueError(
            f"a problem alternates 2 to {MAX_TERMS} digits with '+' or '*', "
            f"like (3, '+', 5, '*', 7); got {problem}"
        )
    return "".join(str(x) for x in problem) + "="


def scratchpad_steps(problem: Problem) -> list[str]:
    """One step per operation: ``(3, "+", 5, "*", 7)`` -> ``["3+5=8", "8*7=6"]``."""
    prompt(problem)  # refuses a malformed problem
    steps, value = [], problem[0]
    for op, d in zip(problem[1::2], problem[2::2]):
        steps.append(f"{value}{op}{d}={apply(op, value, d)}")
        value = apply(op, value, d)
    return steps


def evaluate(problem: Problem) -> int:
    """The answer: the problem worked out from left to right, modulo 10."""
    value = problem[0]
    for op, d in zip(problem[1::2], problem[2::2]):
        value = apply(op, value, d)
    return value


def completion(problem: Problem, fmt: str) -> str:
    """What the model should write after the prompt, in format ``"direct"`` or ``"scratchpad"``."""
    answer = f"{evaluate(problem)}."
    if fmt == "direct":
        return answer
    if fmt == "scratchpad":
        return "".join(step + ";" for step in scratchpad_steps(problem)) + answer
    raise ValueError(f"format must be one of {FORMATS}, got {fmt!r}")


def answer_of(text: str) -> str:
    """The answer a completion states: what follows the last ";" and comes before the first "."."""
    return text.split(".")[0].split(";")[-1]


def completion_length(terms: int, fmt: str) -> int:
    """Characters in a completion of a problem with ``terms`` numbers: 2 direct, 6 more per step."""
    return 2 if fmt == "direct" else 2 + 6 * (terms - 1)


def encode(text: str) -> list[int]:
    try:
        return [STOI[ch] for ch in text]
    except KeyError as error:
        raise ValueError(
            f"{error.args[0]!r} is not in the arithmetic vocabulary {VOCAB!r}"
        ) from None


def decode(ids: Sequence[int]) -> str:
    return "".join(VOCAB[i] for i in ids)


# ---------------------------------------------------------------------------- splits and sampling
def split_of(problem: Problem) -> str:
    """``"test"``, ``"dev"`` or ``"train"``, from a checksum of the prompt (same on any machine)."""
    bucket = zlib.crc32(prompt(problem).encode()) % 10
    return "test" if bucket == 0 else "dev" if bucket == 1 else "train"


def _build(numbers, ops) -> Problem:
    return tuple(x for pair in zip(numbers, ops + ("",)) for x in pair)[:-1]


def sample_problem(rng: random.Random, terms: int, split: str) -> Problem:
    """A random problem with ``terms`` numbers from ``split`` (rejection sampling)."""
    while True:
        problem = _build(
            tuple(rng.randrange(10) for _ in range(terms)),
            tuple(rng.choice(OPS) for _ in range(terms - 1)),
        )
        if split_of(problem) == split:
            return problem


def problems(n: int, terms: int, split: str, seed: int = 0) -> list[Problem]:
    """``n`` distinct problems with ``terms`` numbers from one split (seeded), or all of them when
    the split holds fewer (two terms make only 200 problems, about 20 of them in the test split)."""
    rng = random.Random(f"{seed}-{terms}-{split}")
    if 10**terms * 2 ** (terms - 1) <= 20 * n:  # few enough to list: sample from all of them
        every = [
            _build(ds, ops)
            for ds in itertools.product(range(10), repeat=terms)
            for ops in itertools.product(OPS, repeat=terms - 1)
        ]
        every = [p for p in every if split_of(p) == split]
        return rng.sample(every, min(n, len(every)))
    seen: dict[Problem, None] = {}
    while len(seen) < n:
        seen.setdefault(sample_problem(rng, terms, split), None)
    return list(seen)


# ---------------------------------------------------------------------------- training rows
def worked_text(terms: Problem, fmt: str) -> tuple[list[int], list[bool]]:
    """Token ids of prompt + completion, and for each one whether it belongs to the completion."""
    p, c = prompt(terms), completion(terms, fmt)
    return encode(p + c), [False] * len(p) + [True] * len(c)


def row_length(fmt: str, terms: Sequence[int] = TRAIN_TERMS) -> int:
    """Input tokens per training row: the longest worked problem, less its last token (a target)."""
    return max(2 * k + completion_length(k, fmt) for k in terms) - 1


def training_rows(
    fmt: str, batch_size: int, *, seed: int = 0, terms: Sequence[int] = TRAIN_TERMS
) -> Callable[[], tuple[torch.Tensor, torch.Tensor]]:
    """A function that returns one batch ``(x, y)`` of random training problems, each
    (batch_size, row_length(fmt, terms)).

    Each row holds one worked problem from position 0, padded with "." to the row length, so every
    row costs the same compute. ``y`` is ``x`` shifted by one, with IGNORE wherever the next token
    is part of the prompt or padding: the model is scored on what it writes, not on the random
    numbers it is given.
    """
    rng = random.Random(seed)
    length = row_length(fmt, terms) + 1

    def batch():
        rows, targets = [], []
        for _ in range(batch_size):
            ids, scored = worked_text(sample_problem(rng, rng.choice(terms), "train"), fmt)
            pad = length - len(ids)
            ids, scored = ids + [STOI["."]] * pad, scored + [False] * pad
            rows.append(ids[:-1])
            targets.append([t if s else IGNORE for t, s in zip(ids[1:], scored[1:])])
        return torch.tensor(rows), torch.tensor(targets)

    return batch


# ---------------------------------------------------------------------------- measuring a model
def _group_by_length(items: Sequence[Problem]) -> dict[int, list[int]]:
    groups: dict[int, list[int]] = {}
    for i, problem in enumerate(items):
        groups.setdefault(n_terms(problem), []).append(i)
    return groups


@torch.no_grad()
def generate_completions(
    model: torch.nn.Module,
    items: Sequence[Problem],
    fmt: str,
    context: str = "",
    batch_size: int = 500,
) -> list[str]:
    """Greedy completions (text up to and including the first ".") for each problem's prompt.

    ``context`` is put before every prompt (e.g. worked examples for few-shot prompting). Problems
    are grouped by length so that each batch has prompts of one length; a batch writes the
    completion length of ``fmt`` plus a few tokens, using the model's key/value cache.
    """
    device = next(model.parameters()).device
    with eval_mode(model):
        out: list[str] = [""] * len(items)
        for terms, index in _group_by_length(items).items():
            room = (
                model.config.block_size - len(context) - 2 * terms
            )  # positions left after the prompt
            new = min(completion_length(terms, fmt) + 4, room)
            for start in range(0, len(index), batch_size):
                chunk = index[start : start + batch_size]
                idx = torch.tensor(
                    [encode(context + prompt(items[i])) for i in chunk], device=device
                )
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
                    out[i] = s[: s.index(".") + 1] if "." in s else s
    return out


def exact_match(completions: Sequence[str], items: Sequence[Problem]) -> float:
    """Fraction of problems whose stated answer is exactly right."""
    return sum(answer_of(c) == str(evaluate(p)) for c, p in zip(completions, items)) / len(items)


def completion_match(completions: Sequence[str], items: Sequence[Problem], fmt: str) -> float:
    """Fraction of problems whose whole completion (every step and the answer) is exactly right."""
    return sum(c == completion(p, fmt) for c, p in zip(completions, items)) / len(items)


@torch.no_grad()
def teacher_forced(
    model: torch.nn.Module, items: Sequence[Problem], fmt: str, batch_size: int = 500
) -> dict[str, torch.Tensor]:
    """Score the *correct* completion of each problem, one forward pass per batch, no generation.

    Returns per-problem tensors (len(items),):
      ``digits_right``: digits of the completion the model predicts right (argmax) given the correct
        text before them; ``digits``: how many digits the completion has;
      ``log_likelihood``: log p(correct completion | prompt) in nats, summed over its tokens;
      ``all_right``: 1 when every token of the completion is the argmax (then greedy decoding
        writes exactly the correct completion).
    """
    device = next(model.parameters()).device
    with eval_mode(model):
        n = len(items)
        result = {
            k: torch.zeros(n) for k in ("digits_right", "digits", "log_likelihood", "all_right")
        }
        digit_ids = torch.tensor([STOI[d] for d in DIGITS], device=device)
        for _, index in _group_by_length(items).items():
            for start in range(0, len(index), batch_size):
                chunk = index[start : start + batch_size]
                ids = [worked_text(items[i], fmt)[0] for i in chunk]
                ids = torch.tensor(ids, device=device)  # (B, L): prompt + correct completion
                p_len = len(prompt(items[chunk[0]]))
                logits = model(ids[:, :-1])[:, p_len - 1 :].float()  # the completion's (B, C, V)
                target = ids[:, p_len:]  # (B, C)
                logp = F.log_softmax(logits, -1).gather(-1, target[..., None])[..., 0]  # (B, C)
                right = logits.argmax(-1) == target
                is_digit = torch.isin(target, digit_ids)
                rows = torch.tensor(chunk)
                result["digits_right"][rows] = (right & is_digit).sum(1).float().cpu()
                result["digits"][rows] = is_digit.sum(1).float().cpu()
                result["log_likelihood"][rows] = logp.sum(1).cpu()
                result["all_right"][rows] = right.all(1).float().cpu()
    return result


def digit_accuracy(scores: dict[str, torch.Tensor]) -> float:
    """Per-digit accuracy: digits predicted right / digits, pooled over problems."""
    return float(scores["digits_right"].sum() / scores["digits"].sum())


def mean_log_likelihood(scores: dict[str, torch.Tensor]) -> float:
    """Mean over problems of log p(correct completion | prompt), in nats (0 is certainty)."""
    return float(scores["log_likelihood"].mean())


def largest_jump_share(values: Sequence[float]) -> float:
    """How sharp a curve over a ladder of sizes is: the largest rise between neighbours, as a share
    of the rise from the first to the best value. 0.2 for an even climb over five steps, 1.0 for a
    single jump. A curve that never rises returns 0."""
    total = max(values) - values[0]
    if total <= 0:
        return 0.0
    return max(b - a for a, b in zip(values, values[1:])) / total


def half_rise_index(values: Sequence[float]) -> int:
    """Where a curve over a ladder of sizes gets going: the index of the first value that has
    covered half of the rise from the first value to the best one (0 for a curve that never
    rises)."""
    target = values[0] + 0.5 * (max(values) - values[0])
    return next(i for i, v in enumerate(values) if v >= target)
