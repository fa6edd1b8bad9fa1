"""Grounded generation: put retrieved passages in the prompt, read the answer off, and score it.

The prompt format of notebook 11 extends the chat format of notebooks 09-10 by one line:

    Context: Velmora: It lies on the river Oskel. The town was founded in 1423.     <- retrieved
    passage(s) User: Which river is Velmora on? Bot: Oskel
    <- the model's reply, one line

Without retrieval (closed book) the ``Context:`` line is left out and the model must answer from
what its weights hold. Scores (Lewis et al. 2020 and most RAG evaluations use the same two ideas):

* **accuracy**: the reply equals the gold answer (case, spaces and a final full stop ignored);
* **hallucination rate**: the fraction of questions answered with something *wrong* — a reply that
  is neither correct nor an abstention ("I don't know", or nothing at all). A model that never
  abstains hallucinates on every question it gets wrong.

:func:`outcome` sorts the wrong answers by what went wrong (the two kinds of hallucination of the
survey literature, plus the retriever's share):

* **factuality error**: a wrong answer with no passage to read — the model's memory invented it;
* **faithfulness error**: a wrong answer that the given passage does not say — the model ignored
  or contradicted what it was shown;
* **from the passage**: a wrong answer copied from the passage — faithful to what it read, wrong
  because the retriever showed the wrong passage (a retrieval error, not the reader's).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import torch

from course.device import eval_mode

ABSTENTIONS = ("i don't know", "i do not know", "unknown")
MAX_QUESTION_CHARS = 120


def check_question(question: str, max_chars: int = MAX_QUESTION_CHARS) -> str:
    """The question with outer white space removed; a clear error for an empty or over-long one."""
    if not isinstance(question, str):
        raise TypeError(f"the question must be a string, got {type(question).__name__}")
    question = " ".join(question.split())  # newlines would break the one-line chat format
    if not question:
        raise ValueError(
            "the question is empty; ask something such as 'Which river is Velmora on?'"
        )
    if len(question) > max_chars:
        raise ValueError(
            f"the question has {len(question)} characters but at most {max_chars} fit beside the "
            "retrieved passage in the model's context; ask a shorter question"
        )
    return question


def build_prompt(question: str, passages: Sequence[str] = ()) -> str:
    """The prompt the model reads: retrieved passages (if any) on one ``Context:`` line, then the
    question."""
    question = check_question(question)
    context = " ".join(" ".join(p.split()) for p in passages)
    head = f"Context: {context}\n" if context else ""
    return f"{head}User: {question}\nBot:"


def extract_answer(reply: str) -> str:
    """The answer in a raw reply: its first line, stripped of spaces and a final full stop."""
    line = reply.split("\n")[0].strip()
    return line[:-1].strip() if line.endswith(".") else line


def normalize(answer: str) -> str:
    """Lower case, single spaces, no final full stop: what two answers must share to count as
    equal."""
    return " ".join(extract_answer(answer).lower().split())


def is_correct(reply: str, gold: str) -> bool:
    return normalize(reply) == normalize(gold)


def is_abstention(reply: str) -> bool:
    """An explicit "I don't know", or no answer at all (an empty reply claims nothing)."""
    return normalize(reply) in ABSTENTIONS or not normalize(reply)


@dataclass(frozen=True)
class Scores:
    """Accuracy, hallucination rate and abstention rate over a set of questions (each a
    fraction)."""

    accuracy: float
    hallucination_rate: float
    abstention_rate: float
    n: int

    def __str__(self) -> str:
        return (
            f"accuracy {self.accuracy:.0%}, hallucination rate {self.hallucination_rate:.0%}, "
            f"abstained {self.abstention_rate:.0%} (n={self.n})"
        )


def score(replies: Sequence[str], golds: Sequence[str]) -> Scores:
    """Score replies against gold answers: accuracy + hallucination rate + abstention rate = 1."""
    if len(replies) != len(golds):
        raise ValueError(f"{len(replies)} replies but {len(golds)} gold answers")
    if not replies:
        raise ValueError("nothing to score: pass at least one reply")
    n = len(replies)
    correct = sum(is_correct(r, g) for r, g in zip(replies, golds))
    abstained = sum(is_abstention(r) and not is_correct(r, g) for r, g in zip(replies, golds))
    return Scores(correct / n, (n - correct - abstained) / n, abstained / n, n)


OUTCOMES = ("correct", "abstained", "factuality error", "faithfulness error", "from the passage")


def outcome(reply: str, gold: str | None, passage: str | None = None) -> str:
    """What one reply is, one of ``OUTCOMES``.

    ``gold=None`` marks an unanswerable question: "I don't know" is then the right reply, and any
    answer is wrong. A wrong answer is a *factuality error* without a passage; with one, it is
    *from the passage* if the passage says it (word for word) and a *faithfulness error* if not.

    >>> outcome("Oskel", "Oskel"), outcome("Rafo", "Oskel")
    >>> outcome("Rafo", None, "on the river Rafo.")
    ('correct', 'factuality error', 'from the passage')
    """
    if gold is not None and is_correct(reply, gold):
        return "correct"
    if is_abstention(reply):
        return "abstained"
    if not passage:
        return "factuality error"
    said = re.search(rf"\b{re.escape(normalize(reply))}\b", " ".join(passage.lower().split()))
    return "from the passage" if said else "faithfulness error"


def outcomes(
    replies: Sequence[str],
    golds: Sequence[str | None],
    passages: Sequence[str | None] | None = None,
) -> dict[str, float]:
    """The fraction of replies of each kind in ``OUTCOMES`` (they add up to 1); see
    :func:`outcome`."""
    passages = [None] * len(replies) if passages is None else list(passages)
    if not (len(replies) == len(golds) == len(passages)) or not replies:
        raise ValueError(
            f"outcomes needs equally long, non-empty lists: {len(replies)} replies, "
            f"{len(golds)} gold answers, {len(passages)} passages"
        )
    kinds = [outcome(r, g, p) for r, g, p in zip(replies, golds, passages)]
    return {kind: kinds.count(kind) / len(kinds) for kind in OUTCOMES}


def follows(
    replies: Sequence[str], context_answers: Sequence[str], memory_answers: Sequence[str]
) -> dict[str, float]:
    """With a deliberately wrong context: how often the reply repeats the context, how often the
    model's memory (the true fact it was trained on), and how often neither."""
    if not (len(replies) == len(context_answers) == len(memory_answers)) or not replies:
        raise ValueError(
            "follows needs equally long, non-empty lists of replies, context answers and memory "
            "answers"
        )
    n = len(replies)
    ctx = sum(is_correct(r, c) for r, c in zip(replies, context_answers))
    mem = sum(is_correct(r, m) for r, m in zip(replies, memory_answers))
    return {"context": ctx / n, "memory": mem / n, "neither": (n - ctx - mem) / n}


# ------------------------------------------------------------------------- answering with the model
@dataclass(frozen=True)
class Answer:
    """A reply with what produced it."""

    question: str
    prompt: str
    answer: str
    confidence: float  # mean probability the model gave to each character of its (greedy) answer
    passages: tuple = ()  # (chunk text, retrieval score) pairs shown to the model


@torch.no_grad()
def answer_confidence(
    model, tokenizer, prompts: Sequence[str], replies: Sequence[str]
) -> list[float]:
    """Mean per-token probability of ``reply + newline`` after ``prompt`` (how sure the model
    was)."""
    from course.align.sft import IGNORE, collate, encode_example
    from course.special_tokens import CHAT_EOS as EOS
    from course.special_tokens import CHAT_PAD as PAD

    device = next(model.parameters()).device
    with eval_mode(model):
        out = []
        encoded = [encode_example(tokenizer, p, f" {r}{EOS}") for p, r in zip(prompts, replies)]
        for begin in range(0, len(encoded), 64):
            x, y = collate(encoded[begin : begin + 64], tokenizer.encode(PAD)[0])
            probs = model(x.to(device)).float().softmax(-1).cpu()  # (B, T, V)
            mask = y != IGNORE
            picked = probs.gather(-1, y.clamp(min=0)[..., None])[..., 0]  # (B, T)
            out += ((picked * mask).sum(1) / mask.sum(1)).tolist()
    return out


def prompt_fits(model, tokenizer, prompt: str, max_new_tokens: int) -> None:
    """A clear error when ``prompt`` plus the answer would not fit in the model's context."""
    need, block = len(tokenizer.encode(prompt)) + max_new_tokens, model.config.block_size
    if need > block:
        raise ValueError(
            f"the prompt has {need - max_new_tokens} tokens and the answer may take "
            f"{max_new_tokens} "
            f"more, but the model reads at most {block}; ask a shorter question or retrieve "
            "fewer/shorter passages"
        )


def pad_prompt(tokenizer, prompt: str, length: int, pad: str = "\n") -> str:
    """Left-pad ``prompt`` with ``pad`` to exactly ``length`` tokens.

    Why: our GPT learns one vector per absolute position. Batches are left-padded to their longest
    member, so without a fixed length a short closed-book prompt would end at position ~45 when
    asked alone but at ~120 when trained beside long reading prompts: the answer would start at
    positions the model never answered from. Padding every prompt to one length puts every answer at
    the same place."""
    n = len(tokenizer.encode(prompt))
    if n > length:
        raise ValueError(
            f"the prompt has {n} tokens, more than the fixed prompt length {length}; "
            "ask a shorter question or retrieve a shorter passage"
        )
    return pad * (length - n) + prompt


def reading_batches(
    examples: Sequence, tokenizer, batch_size: int = 32, *, prompt_len: int, seed: int = 0
):
    """Random training batches ``(x, y)`` in which every answer starts at position ``prompt_len``.

    Each prompt is left-padded to exactly ``prompt_len`` tokens (:func:`pad_prompt`), and each reply
    is *right*-padded to the batch's longest reply (labels -100 there, so the padding is never
    graded; a causal model cannot see what comes after, so right padding changes nothing before it).
    Notebook 09's ``sft_batches`` left-pads whole sequences instead, which aligns the *ends* of the
    replies: a short answer ("1445") would then start several positions later in training than at
    question time, where every prompt ends at ``prompt_len``."""
    import random

    from course.align.sft import IGNORE, encode_example
    from course.special_tokens import CHAT_PAD as PAD

    encoded = [
        encode_example(tokenizer, pad_prompt(tokenizer, e.prompt, prompt_len), e.response)
        for e in examples
    ]
    if not encoded:
        raise ValueError("no reading examples to train on")
    rng = random.Random(seed)
    pad_id = tokenizer.encode(PAD)[0]

    def get_batch():
        batch = rng.sample(encoded, min(batch_size, len(encoded)))
        longest = max(len(x) for x, _ in batch)
        xs = [x + [pad_id] * (longest - len(x)) for x, _ in batch]  # (B, T): prompts end together
        ys = [y + [IGNORE] * (longest - len(y)) for _, y in batch]
        return torch.tensor(xs, dtype=torch.long), torch.tensor(ys, dtype=torch.long)

    return get_batch


def answer_questions(
    model,
    tokenizer,
    questions: Sequence[str],
    *,
    retriever=None,
    k: int = 1,
    contexts: Sequence[Sequence[str]] | None = None,
    max_new_tokens: int = 16,
    pad_to: int | None = None,
) -> list[Answer]:
    """Answer each question greedily: closed book (no retriever, no contexts), with the top-``k``
    passages of ``retriever``, or with the given ``contexts`` (one list of passages per question).

    ``pad_to``: left-pad every prompt to this many tokens (see :func:`pad_prompt`); use the same
    length the model was fine-tuned with."""
    from course.align.sft import complete

    questions = [check_question(q) for q in questions]
    if not questions:
        raise ValueError("no questions to answer")
    if retriever is not None and contexts is not None:
        raise ValueError("pass either a retriever or explicit contexts, not both")
    shown: list[tuple] = [()] * len(questions)
    if retriever is not None:
        scores, ids = retriever.search(questions, k)
        shown = [
            tuple((retriever.chunks[i].text, s) for i, s in zip(row_ids, row_scores))
            for row_ids, row_scores in zip(ids.tolist(), scores.tolist())
        ]
    elif contexts is not None:
        if len(contexts) != len(questions):
            raise ValueError(f"{len(contexts)} contexts for {len(questions)} questions")
        shown = [tuple((p, float("nan")) for p in c) for c in contexts]
    prompts = [build_prompt(q, [p for p, _ in s]) for q, s in zip(questions, shown)]
    fed = [pad_prompt(tokenizer, p, pad_to) for p in prompts] if pad_to else prompts
    for p in fed:
        prompt_fits(model, tokenizer, p, max_new_tokens)
    replies = [extract_answer(r) for r in complete(model, tokenizer, fed, max_new_tokens)]
    confidence = answer_confidence(model, tokenizer, fed, replies)
    return [
        Answer(q, p, r, c, s)
        for q, p, r, c, s in zip(questions, prompts, replies, confidence, shown)
    ]


# --------------------------------------------------------------- a longer context for a trained GPT
def interpolate_positions(wpe: torch.Tensor, new_len: int) -> torch.Tensor:
    """Stretch a learned position table: (old_len, C) -> (new_len, C).

    An analogue, for learned absolute positions, of position interpolation (Chen et al. 2023), which
    rescales the positions fed to RoPE; here the table's rows are interpolated instead.

    New position i takes the vector at old position i * (old_len - 1) / (new_len - 1), interpolated
    linearly between the two nearest learned rows, so every new position resembles a familiar one.
    """
    old_len = wpe.size(0)
    if new_len < 2 or old_len < 2:
        raise ValueError(f"interpolation needs at least 2 positions, got {old_len} -> {new_len}")
    where = torch.linspace(0, old_len - 1, new_len, device=wpe.device)
    lo = where.floor().long()
    hi = (lo + 1).clamp(max=old_len - 1)
    frac = (where - lo)[:, None]
    return wpe[lo] * (1 - frac) + wpe[hi] * frac


def with_longer_context(model, block_size: int):
    """A copy of a ``course.models.gpt.GPT`` that reads ``block_size`` tokens, its position table
    interpolated."""
    from course.models.gpt import GPT, GPTConfig

    if block_size < model.config.block_size:
        raise ValueError(
            f"block_size {block_size} is shorter than the model's {model.config.block_size}; "
            "crop the prompts instead"
        )
    longer = GPT(GPTConfig(**{**model.config.__dict__, "block_size": block_size}))
    state = {k: v for k, v in model.state_dict().items() if k != "wpe.weight"}
    state["wpe.weight"] = interpolate_positions(model.wpe.weight.detach(), block_size)
    longer.load_state_dict(state)
    return longer.to(model.wpe.weight.device)
