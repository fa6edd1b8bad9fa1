"""Text generation from a language model: greedy, temperature, top-k, top-p sampling, and a KV cache.

One step of generation:
    logits = model(context)[:, -1]            # (B, V): scores for the next token
    logits = logits / temperature             # < 1 sharpens the distribution, > 1 flattens it
    keep the k largest (top-k) and/or the smallest set whose probability reaches p (top-p, "nucleus")
    next = argmax (greedy) or a draw from softmax(logits)

Without a cache every step runs the whole context again: O(T) work per token, O(T^2) for T tokens.
With a key/value cache (``model.new_kv_cache``) each step feeds only the newest token and reuses the
keys and values computed before: the outputs are identical, the work per token no longer grows with
the context (apart from attention itself).
"""
from __future__ import annotations

import torch


def check_sampling_args(temperature: float, top_k: int | None, top_p: float | None) -> None:
    """Raise a ValueError that says what to do for settings that have no meaning."""
    if not temperature > 0:
        raise ValueError(f"temperature must be > 0, got {temperature}; for deterministic output "
                         "(the limit temperature -> 0) pass greedy=True")
    if top_k is not None and (int(top_k) != top_k or top_k < 1):
        raise ValueError(f"top_k must be a whole number >= 1 (the number of tokens kept), got {top_k}; "
                         "pass top_k=None to keep every token")
    if top_p is not None and not 0 < top_p <= 1:
        raise ValueError(f"top_p must lie in (0, 1] (the probability mass kept), got {top_p}; "
                         "pass top_p=None (or 1.0) to keep every token")


def filter_top_k(logits: torch.Tensor, k: int) -> torch.Tensor:
    """Set every logit below the k-th largest of its row to -inf. logits: (B, V)."""
    k = min(int(k), logits.size(-1))
    kth = torch.topk(logits, k, dim=-1).values[..., -1:]  # (B, 1)
    return logits.masked_fill(logits < kth, float("-inf"))


def filter_top_p(logits: torch.Tensor, p: float) -> torch.Tensor:
    """Nucleus filtering (Holtzman et al. 2020): keep the smallest set of most likely tokens whose
    probabilities sum to at least p; the most likely token is always kept. logits: (B, V)."""
    sorted_logits, order = torch.sort(logits, dim=-1, descending=True)
    probs = sorted_logits.softmax(dim=-1)
    mass_before = probs.cumsum(dim=-1) - probs  # probability of the tokens ranked above each one
    drop_sorted = mass_before >= p  # already reached p without this token
    drop = torch.zeros_like(drop_sorted).scatter(-1, order, drop_sorted)  # back to vocabulary order
    return logits.masked_fill(drop, float("-inf"))


def sample_next(logits: torch.Tensor, *, temperature: float = 1.0, top_k: int | None = None,
                top_p: float | None = None, greedy: bool = False,
                generator: torch.Generator | None = None) -> torch.Tensor:
    """Pick the next token for each row of ``logits`` (B, V); returns (B, 1) token ids."""
    if greedy:
        return logits.argmax(dim=-1, keepdim=True)
    logits = logits.float() / temperature
    if top_k is not None:
        logits = filter_top_k(logits, top_k)
    if top_p is not None and top_p < 1:
        logits = filter_top_p(logits, top_p)
    probs = logits.softmax(dim=-1)
    if generator is not None and generator.device != probs.device:
        return torch.multinomial(probs.to(generator.device), 1, generator=generator).to(logits.device)
    return torch.multinomial(probs, 1, generator=generator)


def _logits(model, idx, **kwargs) -> torch.Tensor:
    out = model(idx, **kwargs)
    return out[0] if isinstance(out, tuple) else out


@torch.no_grad()
def generate(model: torch.nn.Module, idx: torch.Tensor, max_new_tokens: int, *, temperature: float = 1.0,
             top_k: int | None = None, top_p: float | None = None, greedy: bool = False,
             use_kv_cache: bool = True, generator: torch.Generator | None = None) -> torch.Tensor:
    """Extend ``idx`` (B, T) by ``max_new_tokens`` tokens; returns (B, T + max_new_tokens).

    A prompt longer than the model's context (``model.config.block_size``) is cropped to its last
    tokens with a printed notice; the returned tensor still starts with the whole prompt. The KV
    cache is used when the model offers one (``new_kv_cache``) and while the sequence fits in the
    context; beyond it, each step re-reads the last ``block_size`` tokens (positions are absolute,
    so cached keys would be wrong), which gives the same tokens as ``use_kv_cache=False``.

    >>> out = generate(model, torch.tensor([[0]]), 100, temperature=0.8, top_k=40)
    """
    check_sampling_args(temperature, top_k, top_p)
    if int(max_new_tokens) != max_new_tokens or max_new_tokens < 0:
        raise ValueError(f"max_new_tokens must be a whole number >= 0, got {max_new_tokens}")
    single = idx.dim() == 1
    if single:
        idx = idx[None]
    if idx.dim() != 2 or idx.size(1) == 0:
        raise ValueError(f"idx must be a non-empty (batch, time) tensor of token ids, got shape {tuple(idx.shape)}; "
                         "start from at least one token (e.g. a newline)")
    block = model.config.block_size
    if idx.size(1) > block:
        print(f"Note: the prompt has {idx.size(1)} tokens but the model's context is {block}; "
              f"the model sees only the last {block}.")
    device = next(model.parameters()).device
    idx = idx.to(device)
    was_training = model.training
    model.eval()
    cache = None
    if use_kv_cache and hasattr(model, "new_kv_cache"):
        cache = model.new_kv_cache(idx.size(0))
    try:
        out = idx
        fed = 0  # how many tokens of `out` the cache already holds
        for _ in range(int(max_new_tokens)):
            if cache is not None and out.size(1) <= block:
                logits = _logits(model, out[:, fed:], kv_cache=cache)[:, -1]  # prompt once, then one token
                fed = out.size(1)
            else:
                logits = _logits(model, out[:, -block:])[:, -1]  # (B, V)
            nxt = sample_next(logits, temperature=temperature, top_k=top_k, top_p=top_p, greedy=greedy,
                              generator=generator)
            out = torch.cat([out, nxt], dim=1)
    finally:
        model.train(was_training)
    return out[0] if single else out
