"""One training loop for every lesson: ``fit(model, get_batch, ...)``.

What it does, in the order a learner meets the ideas:
* AdamW (weight decay only on matrices), learning rate with linear warmup then cosine decay,
* gradient clipping, bf16 autocast on CUDA (plain fp32 on the CPU),
* a tqdm progress bar, periodic evaluation, a live loss plot in a notebook,
* a clear stop when the loss becomes NaN or infinite,
* checkpoints (safetensors + JSON) that a later run or a later notebook resumes from.
"""
from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F

from course import checkpoint as ckpt
from course.device import autocast, get_device
from course.live_plot import LivePlot, in_notebook


class TrainingDiverged(FloatingPointError):
    """The loss became NaN or infinite: training stopped before it could corrupt a checkpoint."""


@dataclass
class TrainConfig:
    steps: int = 1000
    lr: float = 1e-3
    min_lr: float | None = None  # end of the cosine; default lr / 10
    warmup_steps: int = 0
    weight_decay: float = 0.0
    betas: tuple[float, float] = (0.9, 0.99)
    grad_clip: float | None = 1.0  # max global gradient norm; None turns clipping off
    eval_every: int = 100  # also evaluates at the last step
    eval_batches: int = 10  # batches per evaluation when val batches come from a function
    checkpoint_every: int | None = None  # besides the final save, when a checkpoint folder is given


@dataclass
class History:
    step: list[int] = field(default_factory=list)
    train_loss: list[float] = field(default_factory=list)
    lr: list[float] = field(default_factory=list)
    eval_step: list[int] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    tokens: int = 0
    seconds: float = 0.0

    @property
    def tokens_per_second(self) -> float:
        return self.tokens / self.seconds if self.seconds else float("nan")

    @property
    def final_val_loss(self) -> float:
        return self.val_loss[-1] if self.val_loss else float("nan")

    @property
    def final_train_loss(self) -> float:
        """Mean of the last 10% of logged train losses (a single step is too noisy to report)."""
        if not self.train_loss:
            return float("nan")
        tail = self.train_loss[-max(1, len(self.train_loss) // 10):]
        return sum(tail) / len(tail)


def cosine_lr(step: int, *, lr: float, steps: int, warmup_steps: int = 0, min_lr: float | None = None) -> float:
    """Linear warmup from 0 to ``lr`` over ``warmup_steps``, then half a cosine down to ``min_lr``."""
    min_lr = lr / 10 if min_lr is None else min_lr
    if step < warmup_steps:
        return lr * (step + 1) / warmup_steps
    progress = (step - warmup_steps) / max(1, steps - warmup_steps)
    return min_lr + 0.5 * (lr - min_lr) * (1 + math.cos(math.pi * min(1.0, progress)))


def make_optimizer(model: torch.nn.Module, config: TrainConfig) -> torch.optim.Optimizer:
    """AdamW; biases and norm gains (1-D tensors) get no weight decay, as in GPT-2 and nanoGPT."""
    params = [p for p in model.parameters() if p.requires_grad]
    groups = [
        {"params": [p for p in params if p.dim() >= 2], "weight_decay": config.weight_decay},
        {"params": [p for p in params if p.dim() < 2], "weight_decay": 0.0},
    ]
    on_cuda = bool(params) and params[0].is_cuda
    return torch.optim.AdamW(groups, lr=config.lr, betas=config.betas, fused=on_cuda or None)


def next_token_loss(model: torch.nn.Module, batch) -> torch.Tensor:
    """Cross-entropy of ``model(x)`` against ``y``; targets equal to -100 are ignored (masked)."""
    x, y = batch[0], batch[1]
    out = model(x)
    logits = out[0] if isinstance(out, tuple) else out
    return F.cross_entropy(logits.reshape(-1, logits.size(-1)).float(), y.reshape(-1), ignore_index=-100)


def to_device(batch, device: torch.device):
    if isinstance(batch, torch.Tensor):
        return batch.to(device, non_blocking=True)
    if isinstance(batch, (list, tuple)):
        return type(batch)(to_device(b, device) for b in batch)
    if isinstance(batch, dict):
        return {k: to_device(v, device) for k, v in batch.items()}
    return batch


def _batch_tokens(batch) -> int:
    first = batch if isinstance(batch, torch.Tensor) else (batch[0] if isinstance(batch, (list, tuple)) else None)
    return first.numel() if isinstance(first, torch.Tensor) else 0


def _stream(batches: Callable[[], Any] | Iterable) -> Iterator:
    """Batches from a function (called each step) or from an iterable (restarted when exhausted)."""
    if callable(batches) and not hasattr(batches, "__iter__"):
        while True:
            yield batches()
    while True:
        empty = True
        for batch in batches:
            empty = False
            yield batch
        if empty:
            raise ValueError("the training batches are empty: check the dataset and batch size")


@torch.no_grad()
def evaluate(model: torch.nn.Module, batches: Callable[[], Any] | Iterable, *, loss_fn=next_token_loss,
             n_batches: int = 10, device: torch.device | None = None) -> float:
    """Mean loss over ``n_batches`` batches from a function, or over every batch of an iterable."""
    device = device or next(iter(model.parameters())).device
    was_training = model.training
    model.eval()
    source = (batches() for _ in range(n_batches)) if callable(batches) and not hasattr(batches, "__iter__") else batches
    total, count = 0.0, 0
    for batch in source:
        with autocast(device):
            total += float(loss_fn(model, to_device(batch, device)))
        count += 1
    model.train(was_training)
    if count == 0:
        raise ValueError("the validation batches are empty")
    return total / count


def fit(model: torch.nn.Module, train_batches: Callable[[], Any] | Iterable, *,
        config: TrainConfig | None = None, val_batches: Callable[[], Any] | Iterable | None = None,
        loss_fn: Callable[[torch.nn.Module, Any], torch.Tensor] = next_token_loss,
        optimizer: torch.optim.Optimizer | None = None, device: torch.device | str | None = None,
        checkpoint_dir: str | Path | None = None, model_config: Any = None, resume: bool = False,
        plot: bool | None = None, progress: bool = True, title: str = "training") -> History:
    """Train ``model`` for ``config.steps`` steps and return the loss history.

    ``train_batches`` is a function returning one batch (e.g. random windows of a text) or an
    iterable such as a DataLoader. ``loss_fn(model, batch)`` returns a scalar loss; the default is
    next-token cross-entropy on ``(x, y)`` batches. With ``checkpoint_dir`` the run is saved at the
    end (and every ``checkpoint_every`` steps); ``resume=True`` continues from a saved run.
    """
    from tqdm.auto import tqdm

    config = config or TrainConfig()
    device = torch.device(device) if device is not None else get_device()
    model.to(device)
    optimizer = optimizer or make_optimizer(model, config)
    model_config = model_config if model_config is not None else getattr(model, "config", None)
    history, start = History(), 0
    if resume and checkpoint_dir is not None and ckpt.exists(checkpoint_dir):
        state = ckpt.load_checkpoint(checkpoint_dir, model, config=model_config, optimizer=optimizer,
                                     device=device, restore_rng=True)
        start = int(state.get("step", 0))
        history = History(**state.get("history", {}))
        print(f"Resumed from {checkpoint_dir} at step {start}")

    def save(step: int) -> None:
        ckpt.save_checkpoint(checkpoint_dir, model, model_config, optimizer=optimizer,
                             state={"step": step, "history": asdict(history), "train_config": asdict(config)})

    plotter = LivePlot(title, enabled=plot)
    log_lines = not in_notebook()
    stream = _stream(train_batches)
    model.train()
    bar = tqdm(range(start, config.steps), desc=title, disable=not progress, initial=start, total=config.steps)
    began = time.perf_counter() - history.seconds
    for step in bar:
        lr = cosine_lr(step, lr=config.lr, steps=config.steps, warmup_steps=config.warmup_steps, min_lr=config.min_lr)
        for group in optimizer.param_groups:
            group["lr"] = lr
        batch = to_device(next(stream), device)
        with autocast(device):
            loss = loss_fn(model, batch)
        loss_value = loss.detach().float().item()
        if not math.isfinite(loss_value):
            bar.close()
            raise TrainingDiverged(
                f"the loss became {loss_value} at step {step} (learning rate {lr:.2e}). Training stopped and "
                "nothing was saved. Lower the learning rate, turn on gradient clipping, or check the batch for "
                "bad values; a checkpoint saved earlier is untouched.")
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if config.grad_clip is not None:
            torch.nn.utils.clip_grad_norm_(model.parameters(), config.grad_clip)
        optimizer.step()
        history.step.append(step)
        history.train_loss.append(loss_value)
        history.lr.append(lr)
        history.tokens += _batch_tokens(batch)
        last = step == config.steps - 1
        if val_batches is not None and (step % config.eval_every == 0 or last):
            val = evaluate(model, val_batches, loss_fn=loss_fn, n_batches=config.eval_batches, device=device)
            history.eval_step.append(step)
            history.val_loss.append(val)
            bar.set_postfix(train=f"{loss_value:.3f}", val=f"{val:.3f}")
            if log_lines and not progress:
                print(f"step {step:>6}  train {loss_value:.4f}  val {val:.4f}  lr {lr:.2e}")
            plotter.update(history)
        elif step % 10 == 0:
            bar.set_postfix(train=f"{loss_value:.3f}")
        history.seconds = time.perf_counter() - began
        if checkpoint_dir is not None and config.checkpoint_every and (step + 1) % config.checkpoint_every == 0 and not last:
            save(step + 1)
    bar.close()
    history.seconds = time.perf_counter() - began
    if val_batches is None:
        plotter.update(history)
    if checkpoint_dir is not None:
        save(config.steps)
    return history
