"""Batches for next-token training: random windows cut from one long tensor of token ids.

A language model learns from every position of a window at once:
    window  = tokens[i : i + block_size + 1]
    x, y    = window[:-1], window[1:]          # y[t] is the token that follows x[:t+1]
so one (batch, block_size) batch holds batch * block_size prediction problems.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch


def as_tokens(ids: Sequence[int] | torch.Tensor) -> torch.Tensor:
    """A 1-D int64 tensor of token ids from a list or tensor."""
    tokens = torch.as_tensor(ids, dtype=torch.long)
    if tokens.dim() != 1:
        raise ValueError(f"expected a 1-D sequence of token ids, got shape {tuple(tokens.shape)}")
    return tokens


def train_val_split(
    tokens: Sequence[int] | torch.Tensor, val_fraction: float = 0.1
) -> tuple[torch.Tensor, torch.Tensor]:
    """The first ``1 - val_fraction`` of the text for training, the rest for validation.

    A contiguous split (not a shuffle): validation text is text the model has never seen any part
    of, as in nanoGPT's Shakespeare split (first 90% / last 10%).
    """
    if not 0 < val_fraction < 1:
        raise ValueError(f"val_fraction must lie in (0, 1), got {val_fraction}")
    tokens = as_tokens(tokens)
    n_train = int(len(tokens) * (1 - val_fraction))
    return tokens[:n_train], tokens[n_train:]


def random_windows(
    tokens: torch.Tensor,
    batch_size: int,
    block_size: int,
    *,
    generator: torch.Generator | None = None,
    device: torch.device | str | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """One batch: ``batch_size`` windows at random offsets. Returns x, y, each (batch_size,
    block_size)."""
    if len(tokens) < block_size + 1:
        raise ValueError(
            f"the text has {len(tokens)} tokens, too few for windows of {block_size} + 1; "
            "use a smaller block_size or a longer text"
        )
    starts = torch.randint(len(tokens) - block_size, (batch_size,), generator=generator)  # (B,)
    # (B, block + 1): one gather, no Python loop
    offsets = starts[:, None] + torch.arange(block_size + 1)
    windows = tokens[offsets]
    x, y = windows[:, :-1], windows[:, 1:]
    if device is not None:
        x, y = x.to(device), y.to(device)
    return x, y


class Batcher:
    """A batch source for ``course.train.fit``: each call returns a new random (x, y) batch.

    It remembers its random generator, so a checkpoint can save where the stream of batches is
    (``state_dict``) and a resumed run continue from there (``load_state_dict``) instead of
    starting the sequence again.
    """

    def __init__(
        self,
        tokens: torch.Tensor,
        batch_size: int,
        block_size: int,
        generator: torch.Generator | None,
        device: torch.device | str | None,
    ):
        self.tokens, self.batch_size, self.block_size = tokens, batch_size, block_size
        self.generator, self.device = generator, device

    def __call__(self) -> tuple[torch.Tensor, torch.Tensor]:
        return random_windows(
            self.tokens,
            self.batch_size,
            self.block_size,
            generator=self.generator,
            device=self.device,
        )

    def state_dict(self) -> dict:
        """Where the stream is (empty without a seed: batches then come from torch's global RNG)."""
        return {"generator": self.generator.get_state()} if self.generator is not None else {}

    def load_state_dict(self, state: dict) -> None:
        if self.generator is not None and "generator" in state:
            self.generator.set_state(state["generator"])


def batcher(
    tokens: Sequence[int] | torch.Tensor,
    batch_size: int,
    block_size: int,
    *,
    seed: int | None = None,
    device: torch.device | str | None = None,
) -> Batcher:
    """A function that returns a new random batch at each call (what ``course.train.fit`` takes).

    With ``seed`` the sequence of batches is reproducible and independent of other random draws,
    and ``fit`` saves and restores its position with a checkpoint (exact resume).

    >>> train_batches = batcher(train_ids, batch_size=32, block_size=128, seed=0)
    >>> x, y = train_batches()
    """
    tokens = as_tokens(tokens)
    if len(tokens) < block_size + 1:
        raise ValueError(
            f"the text has {len(tokens)} tokens, too few for windows of {block_size} + 1; "
            "use a smaller block_size or a longer text"
        )
    generator = torch.Generator().manual_seed(seed) if seed is not None else None
    return Batcher(tokens, batch_size, block_size, generator, device)
