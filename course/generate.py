"""Text generation from a language model: greedy, temperature, top-k, top-p sampling, and a KV
cache.

One step of generation:
    logits = model(context)[:, -1]            # (B, V): scores for the next token
    logits = logits / temperature             # < 1 sharpens the distribution, > 1 flattens it
    keep the k largest (top-k) and/or the smallest set whose probability reaches p
    (top-p, "nucleus")
    next = argmax (greedy) or a draw from softmax(logits)

Without a cache every step runs the whole context again: O(T) work per token, O(T^2) for T tokens.
With a key/value cache (``model.new_kv_cache``) each step feeds only the newest token and reuses the
keys and values computed before: the outputs are identical, the work per token no longer grows with
the context (apart from attention itself).

Encoder-decoder models (notebooks 05 and 06) decode with their own ``greedy_decode`` and
``beam_search``; :func:`translate` at the end runs them on a list of sentences.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import torch

from course.device import eval_mode

if TYPE_CHECKING:  # for the annotations only: inference may read the data layer, never the reverse
    from course.seq2seq_data import TranslationTask


def whole_number(name: str, value, minimum: int) -> int:
    """``value`` as an int when it is a whole number >= ``minimum`` (3 and 3.0 are; 2.5, NaN, inf,
    True and "3" are not); otherwise a ValueError that names the argument."""
    if (
        isinstance(value, bool)
        or not isinstance(value, numbers.Real)
        or not math.isfinite(value)
        or value != int(value)
        or value < minimum
    ):
        raise ValueError(f"{name} must be a whole number >= {minimum}, got {value!r}")
    return int(value)


def check_sampling_args(temperature: float, top_k: int | None, top_p: float | None) -> None:
    """Raise a ValueError that says what to do for settings that have no meaning."""
    if (
        isinstance(temperature, bool)
        or not isinstance(temperature, numbers.Real)
        or not 0 < temperature < math.inf
    ):
        raise ValueError(
            f"temperature must be a finite number > 0, got {temperature!r}; "
            "for deterministic output (the limit temperature -> 0) pass greedy=True, "
            "for nearly uniform draws a large finite temperature such as 100"
        )
    if top_k is not None:
        try:
            whole_number("top_k", top_k, 1)
        except ValueError:
            raise ValueError(
                f"top_k must be a whole number >= 1 (the number of tokens kept), "
                f"got {top_k!r}; pass top_k=None to keep every token"
            ) from None
    if top_p is not None and (
        isinstance(top_p, bool) or not isinstance(top_p, numbers.Real) or not 0 < top_p <= 1
    ):
        raise ValueError(
            f"top_p must lie in (0, 1] (the probability mass kept), got {top_p!r}; "
            "pass top_p=None (or 1.0) to keep every token"
        )


def check_logits(logits: torch.Tensor) -> None:
    """Refuse scores no token can be chosen from: NaN or +inf anywhere, or a row that is all -inf.

    NaN logits mean the model's weights (or its input) hold NaN, usually a diverged training run;
    argmax would quietly answer token 0 and sampling would fail deep inside torch.
    """
    nan, plus_inf = torch.isnan(logits), logits == math.inf
    empty_row = (logits == -math.inf).all(dim=-1)
    if not bool(nan.any() | plus_inf.any() | empty_row.any()):  # one device sync per step
        return
    if nan.any() or plus_inf.any():
        what = "NaN" if nan.any() else "+inf"
        raise ValueError(
            f"the model's next-token scores contain {what}: its weights (or input) "
            "are not finite, usually because training diverged. Reload a good "
            "checkpoint, or retrain with a lower learning rate"
        )
    raise ValueError(
        "every next-token score of a row is -inf, so no token can be chosen; "
        "loosen the filters (top_k, top_p) or check the mask you applied"
    )


def filter_top_k(logits: torch.Tensor, k: int) -> torch.Tensor:
    """Set every logit below the k-th largest of its row to -inf. logits: (B, V)."""
    check_sampling_args(1.0, k, None)
    k = min(int(k), logits.size(-1))
    kth = torch.topk(logits, k, dim=-1).values[..., -1:]  # (B, 1)
    return logits.masked_fill(logits < kth, float("-inf"))


def filter_top_p(logits: torch.Tensor, p: float) -> torch.Tensor:
    """Nucleus filtering (Holtzman et al. 2020): keep the smallest set of most likely tokens whose
    probabilities sum to at least p; the most likely token is always kept. logits: (B, V)."""
    check_sampling_args(1.0, None, p)
    sorted_logits, order = torch.sort(logits, dim=-1, descending=True)
    probs = sorted_logits.softmax(dim=-1)
    mass_before = probs.cumsum(dim=-1) - probs  # probability of the tokens ranked above each one
    drop_sorted = mass_before >= p  # already reached p without this token
    drop = torch.zeros_like(drop_sorted).scatter(-1, order, drop_sorted)  # back to vocabulary order
    return logits.masked_fill(drop, float("-inf"))


def sample_next(
    logits: torch.Tensor,
    *,
    temperature: float = 1.0,
    top_k: int | None = None,
    top_p: float | None = None,
    greedy: bool = False,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Pick the next token for each row of ``logits`` (B, V); returns (B, 1) token ids."""
    check_sampling_args(temperature, top_k, top_p)
    check_logits(logits)
    if greedy:
        return logits.argmax(dim=-1, keepdim=True)
    # softmax(l / T) == softmax((l - max l) / T); shifting first keeps a tiny T finite: the best
    # token scores 0 and the others -inf at worst, the greedy limit instead of inf - inf = NaN
    logits = logits.float()
    logits = (logits - logits.max(dim=-1, keepdim=True).values) / temperature
    if top_k is not None:
        logits = filter_top_k(logits, top_k)
    if top_p is not None and top_p < 1:
        logits = filter_top_p(logits, top_p)
    probs = logits.softmax(dim=-1)
    if generator is not None and generator.device != probs.device:
        return torch.multinomial(probs.to(generator.device), 1, generator=generator).to(
            logits.device
        )
    return torch.multinomial(probs, 1, generator=generator)


def check_token_ids(idx: torch.Tensor, vocab_size: int | None) -> None:
    """Refuse a prompt that is not integer ids in [0, vocab_size): the embedding would fail with a
    bare IndexError (or, for float ids, a dtype error) that does not say which id is wrong."""
    if idx.dtype.is_floating_point or idx.dtype.is_complex or idx.dtype == torch.bool:
        raise ValueError(
            f"the prompt must hold integer token ids, got dtype {idx.dtype}; "
            "encode the text with the model's tokenizer (torch.tensor(ids) of ints)"
        )
    if vocab_size is None or idx.numel() == 0:
        return
    low, high = int(idx.min()), int(idx.max())
    if low < 0 or high >= vocab_size:
        bad = low if low < 0 else high
        raise ValueError(
            f"the prompt holds token id {bad} but the model's vocabulary has "
            f"{vocab_size} ids (0 to {vocab_size - 1}); encode the prompt with the "
            "tokenizer the model was trained with"
        )


def _logits(model, idx, **kwargs) -> torch.Tensor:
    out = model(idx, **kwargs)
    return out[0] if isinstance(out, tuple) else out


@torch.no_grad()
def generate(
    model: torch.nn.Module,
    idx: torch.Tensor,
    max_new_tokens: int,
    *,
    temperature: float = 1.0,
    top_k: int | None = None,
    top_p: float | None = None,
    greedy: bool = False,
    use_kv_cache: bool = True,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Extend ``idx`` (B, T) by ``max_new_tokens`` tokens; returns (B, T + max_new_tokens).

    A prompt longer than the model's context (``model.config.block_size``) is cropped to its last
    tokens with a printed notice; the returned tensor still starts with the whole prompt. The KV
    cache is used when the model offers one (``new_kv_cache``) and while the sequence fits in the
    context; beyond it, each step re-reads the last ``block_size`` tokens (positions are absolute,
    so cached keys would be wrong), which gives the same tokens as ``use_kv_cache=False``.

    >>> out = generate(model, torch.tensor([[0]]), 100, temperature=0.8, top_k=40)
    """
    check_sampling_args(temperature, top_k, top_p)
    max_new_tokens = whole_number("max_new_tokens", max_new_tokens, 0)
    idx = torch.as_tensor(idx)
    single = idx.dim() == 1
    if single:
        idx = idx[None]
    if idx.dim() != 2 or idx.size(1) == 0:
        raise ValueError(
            "idx must be a non-empty (batch, time) tensor of token ids, got shape "
            f"{tuple(idx.shape)}; "
            "start from at least one token (e.g. a newline)"
        )
    check_token_ids(idx, getattr(model.config, "vocab_size", None))
    block = model.config.block_size
    if idx.size(1) > block:
        print(
            f"Note: the prompt has {idx.size(1)} tokens but the model's context is {block}; "
            f"the model sees only the last {block}."
        )
    device = next(model.parameters()).device
    idx = idx.to(device)
    with eval_mode(model):
        cache = None
        if use_kv_cache and hasattr(model, "new_kv_cache"):
            cache = model.new_kv_cache(idx.size(0))
        out = idx
        fed = 0  # how many tokens of `out` the cache already holds
        for _ in range(max_new_tokens):
            if cache is not None and out.size(1) <= block:
                # prompt once, then one token
                logits = _logits(model, out[:, fed:], kv_cache=cache)[:, -1]
                fed = out.size(1)
            else:
                logits = _logits(model, out[:, -block:])[:, -1]  # (B, V)
            nxt = sample_next(
                logits,
                temperature=temperature,
                top_k=top_k,
                top_p=top_p,
                greedy=greedy,
                generator=generator,
            )
            out = torch.cat([out, nxt], dim=1)
    return out[0] if single else out


# ------------------------------------------------------------ encoder-decoder models: translate
def translate(
    model,
    task: TranslationTask,
    sentences: Sequence[str],
    *,
    beam_size: int = 1,
    max_len: int | None = None,
    batch_size: int = 256,
    strict: bool = False,
    length_penalty: float = 0.0,
) -> list[str]:
    """Translate source strings with any model that has ``greedy_decode(src, src_mask, max_len)``
    and ``beam_search(src, src_mask, beam_size, max_len)`` returning ``(ids, attention)`` (as
    ``course.models.seq2seq.Seq2Seq`` does; a Transformer can offer the same two methods).
    ``max_len`` defaults to twice the longest source plus 10 tokens; ``length_penalty`` is passed to
    beam search (a finished output is ranked by log p / length**length_penalty)."""
    device = next(model.parameters()).device
    with eval_mode(model):
        outputs = []
        step = batch_size if beam_size == 1 else 1  # beam search decodes one sentence at a time
        for start in range(0, len(sentences), step):
            chunk = list(sentences[start : start + step])
            src, mask = task.encode_source(chunk, strict=strict)
            limit = max_len or 2 * src.size(1) + 10
            src, mask = src.to(device), mask.to(device)
            if beam_size == 1:
                ids, _ = model.greedy_decode(src, mask, max_len=limit)
            else:
                extra = {"length_penalty": length_penalty} if length_penalty else {}
                ids, _ = model.beam_search(src, mask, beam_size=beam_size, max_len=limit, **extra)
            outputs += [task.decode_target(row.tolist()) for row in ids.cpu()]
    return outputs


def translator(model, task: TranslationTask, **kwargs) -> Callable[[list[str]], list[str]]:
    """``translate`` with the model and options fixed, ready for ``task.bleu(...)``."""
    return lambda sentences: translate(model, task, sentences, **kwargs)
