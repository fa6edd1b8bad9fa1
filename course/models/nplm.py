"""Bengio, Ducharme, Vincent & Jauvin (2003), "A Neural Probabilistic Language Model".

The model reads the previous n-1 words, looks each up in one shared table C of word feature vectors,
concatenates them into x, and scores every word of the vocabulary (eq. 1 of the paper):

    y = b + W x + U tanh(d + H x)          P(w_t = i | context) = softmax(y)_i

C: (V, m) embeddings · H: (h, (n-1)m) · d: (h,) · U: (V, h) · b: (V,) · W: (V, (n-1)m), the optional
"direct" connections from the input straight to the output (the paper tried with and without).
Because similar words end up with similar rows of C, a context never seen in training still gets
a sensible prediction from contexts that look like it — what a table of counts cannot do.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn as nn

from course.device import eval_mode


@dataclass
class NPLMConfig:
    vocab_size: int
    context_size: int = 3  # n-1 previous tokens
    embed_dim: int = 30  # m in the paper
    hidden_dim: int = 100  # h in the paper
    direct: bool = False  # W: input -> output connections
    dropout: float = (
        0.0  # on x and on the hidden layer; not in the paper, it helps on small corpora
    )

    def __post_init__(self):
        for name in ("vocab_size", "context_size", "embed_dim", "hidden_dim"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be a positive integer, got {getattr(self, name)}")
        if not 0 <= self.dropout < 1:
            raise ValueError(f"dropout must lie in [0, 1), got {self.dropout}")


class NPLM(nn.Module):
    """``model(context)`` with context ids of shape (batch, context_size) returns logits (batch,
    vocab)."""

    def __init__(self, config: NPLMConfig):
        super().__init__()
        self.config = config
        c = config
        self.C = nn.Embedding(c.vocab_size, c.embed_dim)  # the shared word feature table
        self.H = nn.Linear(c.context_size * c.embed_dim, c.hidden_dim)  # bias is d
        self.U = nn.Linear(c.hidden_dim, c.vocab_size)  # bias is b
        self.W = (
            nn.Linear(c.context_size * c.embed_dim, c.vocab_size, bias=False) if c.direct else None
        )
        self.drop = nn.Dropout(c.dropout)
        nn.init.normal_(self.C.weight, std=0.1)

    def forward(self, context: torch.Tensor) -> torch.Tensor:
        if context.dim() != 2 or context.size(1) != self.config.context_size:
            raise ValueError(
                f"expected context ids of shape (batch, {self.config.context_size}), "
                f"got {tuple(context.shape)}"
            )
        x = self.C(context).flatten(1)  # (batch, n-1, m) -> (batch, (n-1)·m): the concatenation
        x = self.drop(x)
        hidden = self.drop(torch.tanh(self.H(x)))  # (batch, h): tanh(d + H x)
        y = self.U(hidden)  # (batch, V): b + U tanh(d + H x)
        if self.W is not None:
            y = y + self.W(x)  # + W x
        return y


def context_windows(
    ids: torch.Tensor, context_size: int, start: int | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """Every (context, next token) pair of a 1-D id stream, targets from ``start`` on.

    Returns X of shape (N, context_size) and Y of shape (N,) with N = len(ids) - start.
    ``start`` defaults to ``context_size`` (the first position with a full context).
    """
    ids = torch.as_tensor(ids, dtype=torch.long)
    start = context_size if start is None else start
    if start < context_size:
        raise ValueError(
            f"start={start} is before the first full context (context_size={context_size})"
        )
    if len(ids) <= start:
        raise ValueError(f"the stream has {len(ids)} tokens: too short for start={start}")
    # (N, context_size)
    X = ids.unfold(0, context_size, 1)[start - context_size : len(ids) - context_size]
    return X, ids[start:]


@torch.no_grad()
def token_log_probs(
    model: NPLM, ids, start: int | None = None, batch_size: int = 4096
) -> torch.Tensor:
    """Log-probability (nats) the model gives each token ``ids[start:]``; same contract as
    ``course.models.ngram.token_log_probs`` so the two can be compared and mixed token by token."""
    X, Y = context_windows(ids, model.config.context_size, start)
    device = next(model.parameters()).device
    with eval_mode(model):
        out = []
        for i in range(0, len(Y), batch_size):
            logits = model(X[i : i + batch_size].to(device)).float()
            out.append(
                torch.log_softmax(logits, -1)
                .gather(1, Y[i : i + batch_size, None].to(device))[:, 0]
                .cpu()
            )
    return torch.cat(out)


@torch.no_grad()
def generate(
    model: NPLM,
    context: list[int],
    length: int,
    generator: torch.Generator | None = None,
    stop: int | None = None,
    temperature: float = 1.0,
) -> list[int]:
    """Sample ``length`` ids (or until ``stop``), sliding the window one token at a time."""
    device = next(model.parameters()).device
    window = list(context)[-model.config.context_size :]
    if len(window) != model.config.context_size:
        raise ValueError(
            f"give at least {model.config.context_size} context ids (pad with a start token)"
        )
    with eval_mode(model):
        out = []
        for _ in range(length):
            logits = model(torch.tensor([window], device=device)).float()[0].cpu()
            probs = torch.softmax(logits / temperature, -1)
            nxt = int(torch.multinomial(probs, 1, generator=generator))
            if stop is not None and nxt == stop:
                break
            out.append(nxt)
            window = window[1:] + [nxt]
    return out
