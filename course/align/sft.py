"""Supervised fine-tuning (SFT): train on (prompt, reply) pairs, with the prompt masked out of the
loss.

The model reads the whole sequence ``prompt + reply`` but is graded only on the reply: at prompt
positions the target is -100, which ``F.cross_entropy(..., ignore_index=-100)`` skips. So SFT
teaches "how to answer", not "how to write prompts" (Ouyang et al. 2022, sec. 3.5; the same masking
as Alpaca and most instruction-tuning code).

Batches are left-padded with :data:`~course.align.tasks.PAD` (a newline) so every sequence ends at
the last position: our GPT has no padding mask, and leading newlines look like the gap between two
documents, which the model saw all through pretraining. The same padding is used when generating.
"""

from __future__ import annotations

import random
from collections.abc import Sequence

import torch

from course.align.tasks import Example, left_pad
from course.device import eval_mode
from course.special_tokens import CHAT_EOS as EOS
from course.special_tokens import CHAT_PAD as PAD

IGNORE = -100  # the label cross-entropy skips


def encode_example(tokenizer, prompt: str, response: str) -> tuple[list[int], list[int]]:
    """Token ids of ``prompt + response`` and labels for next-token training, prompt masked.

    Returns ``(inputs, labels)`` of equal length ``len(prompt) + len(response) - 1`` (the usual
    shift by one): ``labels[t]`` is the token after ``inputs[t]``, or -100 when that token is part
    of the prompt.

    >>> # prompt "ab", response "c\\n": inputs "abc", labels [-100, id('c'), id('\\n')]
    """
    p, r = tokenizer.encode(prompt), tokenizer.encode(response)
    if not p or not r:
        raise ValueError("an SFT example needs a non-empty prompt and a non-empty response")
    ids = p + r
    inputs, targets = ids[:-1], ids[1:]
    # target index t predicts ids[t+1]; ids[t+1] belongs to the prompt when t + 1 < len(p)
    labels = [IGNORE if t + 1 < len(p) else targets[t] for t in range(len(targets))]
    return inputs, labels


def collate(
    encoded: Sequence[tuple[list[int], list[int]]], pad_id: int, block_size: int | None = None
):
    """Left-pad a list of (inputs, labels) to one length: ``(x, y)`` LongTensors of shape (B, T)."""
    longest = max(len(x) for x, _ in encoded)
    if block_size is not None and longest > block_size:
        raise ValueError(
            f"an example has {longest} tokens but the model's context is {block_size}; "
            "shorten the prompts or responses, or use a model with a longer block_size"
        )
    return left_pad([x for x, _ in encoded], pad_id), left_pad([y for _, y in encoded], IGNORE)


def sft_batches(
    examples: Sequence[Example],
    tokenizer,
    batch_size: int = 32,
    *,
    block_size: int | None = None,
    seed: int = 0,
    replay_ids: torch.Tensor | None = None,
    replay_rows: int = 0,
):
    """A function returning a random batch ``(x, y)`` of examples each call (for
    ``course.train.fit``).

    With ``replay_ids`` (the pretraining text as token ids) and ``replay_rows > 0``, every batch
    also carries ``replay_rows`` random windows of that text, as long as the batch's examples and
    trained on every token: *replay* (rehearsal) of pretraining data, which keeps fine-tuning from
    overwriting what pretraining taught (InstructGPT mixes pretraining gradients into RL for the
    same reason)."""
    encoded = [encode_example(tokenizer, e.prompt, e.response) for e in examples]
    if not encoded:
        raise ValueError("no SFT examples to train on")
    if replay_rows and replay_ids is None:
        raise ValueError("replay_rows > 0 needs replay_ids, the token ids of the pretraining text")
    rng = random.Random(seed)
    # separate, so batches without replay are unchanged
    window_rng = torch.Generator().manual_seed(seed)
    pad_id = tokenizer.encode(PAD)[0]

    def get_batch():
        x, y = collate(rng.sample(encoded, min(batch_size, len(encoded))), pad_id, block_size)
        if not replay_rows:
            return x, y
        length = x.size(1)  # (B, T): the replayed windows take the same length T
        if len(replay_ids) <= length + 1:
            raise ValueError(
                f"the replay text has {len(replay_ids)} tokens, too few for windows of {length}"
            )
        starts = torch.randint(len(replay_ids) - length - 1, (replay_rows,), generator=window_rng)
        text_x = torch.stack([replay_ids[s : s + length] for s in starts])  # (replay_rows, T)
        text_y = torch.stack([replay_ids[s + 1 : s + length + 1] for s in starts])
        return torch.cat([x, text_x]), torch.cat([y, text_y])  # (B + replay_rows, T)

    return get_batch


def text_batches(
    ids: torch.Tensor, block_size: int, batch_size: int, *, generator: torch.Generator | None = None
):
    """Random windows of a long token sequence, ``(x, y)`` with y shifted by one (plain
    pretraining)."""
    if len(ids) <= block_size + 1:
        raise ValueError(f"the text has {len(ids)} tokens, too few for windows of {block_size}")

    def get_batch():
        starts = torch.randint(len(ids) - block_size - 1, (batch_size,), generator=generator)
        x = torch.stack([ids[s : s + block_size] for s in starts])
        y = torch.stack([ids[s + 1 : s + block_size + 1] for s in starts])
        return x, y

    return get_batch


# ----------------------------------------------------------------------------- completions
@torch.no_grad()
def complete(
    model,
    tokenizer,
    prompts: Sequence[str],
    max_new_tokens: int = 16,
    *,
    greedy: bool = True,
    temperature: float = 1.0,
    top_k: int | None = None,
    batch_size: int = 64,
    generator: torch.Generator | None = None,
    stop: str = EOS,
) -> list[str]:
    """The model's reply to each prompt, cut at the first ``stop`` (a newline): batched,
    left-padded.

    Greedy by default (the model's single best guess, for accuracy); ``greedy=False`` samples.
    """
    from course.generate import generate

    device = next(model.parameters()).device
    block = model.config.block_size
    pad_id = tokenizer.encode(PAD)[0]
    with eval_mode(model):
        replies = []
        for start in range(0, len(prompts), batch_size):
            chunk = [tokenizer.encode(p) for p in prompts[start : start + batch_size]]
            longest = max(len(c) for c in chunk)
            if longest + max_new_tokens > block:
                raise ValueError(
                    f"a prompt has {longest} tokens and {max_new_tokens} more are wanted, but the "
                    "model's "
                    f"context is {block}; shorten the prompt or ask for fewer tokens"
                )
            idx = left_pad(chunk, pad_id).to(device)
            out = generate(
                model,
                idx,
                max_new_tokens,
                temperature=temperature,
                top_k=top_k,
                greedy=greedy,
                generator=generator,
            )
            for row in out[:, idx.size(1) :].tolist():
                text = tokenizer.decode(row)
                replies.append(text.split(stop)[0] if stop else text)
    return replies


def accuracy(
    model, tokenizer, examples: Sequence[Example], max_new_tokens: int = 16, **kwargs
) -> float:
    """Fraction of instruction examples answered correctly (greedy replies; see
    ``tasks.is_correct``)."""
    from course.align.tasks import is_correct

    replies = complete(model, tokenizer, [e.prompt for e in examples], max_new_tokens, **kwargs)
    return sum(is_correct(e, r) for e, r in zip(examples, replies)) / max(1, len(examples))


def pretrain_and_finetune(
    data,
    config,
    *,
    pretrain_steps: int,
    sft_steps: int,
    n_examples: int = 4000,
    batch_size: int = 32,
    device=None,
    seed: int = 0,
    progress: bool = True,
    sft_batch_size: int = 8,
    sft_lr: float = 3e-3,
    replay_rows: int = 4,
):
    """Notebook 09 in one call: pretrain a GPT on ``data.mix``, then full SFT; returns ``(base,
    sft)``.

    The SFT recipe is notebook 09's saved one (:func:`instruction_tune`). Notebook 10 uses this
    function when notebook 09's checkpoints are not in the cache. ``data`` is
    ``tasks.prepare_data(text)``; ``config`` a ``GPTConfig`` with the course's 96-character
    vocabulary."""
    from course.align.tasks import tokenizer
    from course.device import get_device, seed_everything
    from course.models.gpt import GPT
    from course.train import TrainConfig, fit

    device = device or get_device()
    tok = tokenizer()
    seed_everything(seed)
    ids = torch.tensor(tok.encode(data.mix))
    base = GPT(config).to(device)
    fit(
        base,
        text_batches(
            ids, config.block_size, batch_size, generator=torch.Generator().manual_seed(seed)
        ),
        device=device,
        config=TrainConfig(
            steps=pretrain_steps, lr=4e-3, warmup_steps=min(50, pretrain_steps // 10)
        ),
        progress=progress,
        plot=False,
        title="pretraining",
    )
    sft = instruction_tune(
        base,
        data,
        steps=sft_steps,
        n_examples=n_examples,
        device=device,
        seed=seed,
        progress=progress,
        batch_size=sft_batch_size,
        lr=sft_lr,
        replay_rows=replay_rows,
    )
    return base, sft


def instruction_tune(
    model,
    data,
    *,
    steps: int,
    n_examples: int = 4000,
    device=None,
    seed: int = 0,
    progress: bool = True,
    batch_size: int = 8,
    lr: float = 3e-3,
    replay_rows: int = 4,
):
    """A fine-tuned copy of ``model``: notebook 09's SFT recipe with replay; ``model`` is left as it
    is.

    Batches of ``batch_size`` instruction examples plus ``replay_rows`` windows of the pretraining
    mix (replay), learning rate ``lr``; notebook 09 trains it for 1000 steps. ``steps=0`` returns an
    untrained copy.
    """
    import copy

    from course.align.tasks import instruction_examples, tokenizer
    from course.device import get_device, seed_everything
    from course.train import TrainConfig, fit

    device = device or get_device()
    tok = tokenizer()
    tuned = copy.deepcopy(model).to(device)
    if steps <= 0:
        return tuned
    seed_everything(seed)
    ids = torch.tensor(tok.encode(data.mix))
    examples = instruction_examples(
        data.train_words,
        {t: data.lines_by_topic[t] for t in data.train_topics},
        n_examples,
        seed=seed + 1,
    )
    batches = sft_batches(
        examples,
        tok,
        batch_size,
        block_size=model.config.block_size,
        seed=seed,
        replay_ids=ids,
        replay_rows=replay_rows,
    )
    fit(
        tuned,
        batches,
        device=device,
        config=TrainConfig(steps=steps, lr=lr, warmup_steps=min(20, steps // 10)),
        progress=progress,
        plot=False,
        title="SFT",
    )
    return tuned
