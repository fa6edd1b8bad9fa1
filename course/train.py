"""One training loop for every lesson: ``fit(model, get_batch, ...)``.

What it does, in the order a learner meets the ideas:
* AdamW (weight decay only on matrices), learning rate with linear warmup then cosine decay,
* gradient clipping, mixed precision on CUDA (bf16, or fp16 with a gradient scaler on GPUs without
  bf16; plain fp32 on the CPU),
* a tqdm progress bar, periodic evaluation, a live loss plot in a notebook,
* a clear stop when the loss becomes NaN or infinite,
* checkpoints (safetensors + JSON) that a later run or a later notebook resumes from.

On a GPU it also turns on what makes training fast there: bf16 autocast, fused AdamW, TF32 for the
fp32 matmuls that remain, optional ``torch.compile``, and it reports tokens/s and the model FLOPs
utilisation (MFU, see ``course.flops``). Launched by ``torchrun --nproc_per_node=N`` the same call
trains data-parallel with DistributedDataParallel (see ``course.distributed``): each process takes
its share of every global batch, and only rank 0 prints, plots and saves.
"""

from __future__ import annotations

import math
import numbers
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import torch

from course import checkpoint as ckpt
from course import distributed
from course import flops as flops_lib
from course.device import autocast, eval_mode, get_device, grad_scaler
from course.live_plot import LivePlot, in_notebook
from course.models.losses import lm_loss
from course.optim import MuonAdamW, decay_groups


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
    compile: bool = False  # torch.compile the model: fused kernels, worth it for long GPU runs
    # bf16 autocast on the CPU too: ~2x faster matmuls where the CPU has bf16 (course.device)
    cpu_bf16: bool = False
    # or "muon": Muon for the blocks' matrices, AdamW for the rest (course.optim)
    optimizer: str = "adamw"

    def __post_init__(self):
        self.validate()

    def validate(self) -> None:
        """Raise ValueError, saying what to change, for settings that cannot train."""
        whole = {
            "steps": (self.steps, 0),
            "eval_every": (self.eval_every, 1),
            "eval_batches": (self.eval_batches, 1),
            "warmup_steps": (self.warmup_steps, 0),
        }
        if self.checkpoint_every is not None:
            whole["checkpoint_every"] = (self.checkpoint_every, 1)
        for name, (value, least) in whole.items():
            if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < least:
                raise ValueError(f"TrainConfig.{name}={value!r}: give a whole number >= {least}")
        if self.grad_clip is not None and not self.grad_clip > 0:
            raise ValueError(
                f"TrainConfig.grad_clip={self.grad_clip!r}: give a positive norm, "
                "or None for no clipping"
            )
        if not (math.isfinite(self.lr) and self.lr >= 0):
            raise ValueError(f"TrainConfig.lr={self.lr!r}: give a finite learning rate >= 0")


@dataclass
class History:
    step: list[int] = field(default_factory=list)
    train_loss: list[float] = field(default_factory=list)
    lr: list[float] = field(default_factory=list)
    eval_step: list[int] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    tokens: int = 0
    seconds: float = 0.0
    # wall time of each training step (no eval)
    step_seconds: list[float] = field(default_factory=list)
    flops_per_token: float = 0.0  # model training FLOPs per token (course.flops)
    # summed over all devices; 0 when the device's peak is unknown (e.g. CPU)
    peak_flops: float = 0.0
    world_size: int = 1  # processes that trained (DistributedDataParallel)

    @property
    def tokens_per_second(self) -> float:
        return self.tokens / self.seconds if self.seconds else float("nan")

    @property
    def steady_tokens_per_second(self) -> float:
        """Training throughput from the median step time, leaving out the first steps (warm-up,
        compilation) and the time spent evaluating or saving."""
        if not self.step_seconds or not self.tokens:
            return float("nan")
        timed = self.step_seconds[
            min(len(self.step_seconds) - 1, max(1, len(self.step_seconds) // 10)) :
        ]
        median = sorted(timed)[len(timed) // 2]
        return (self.tokens / len(self.step_seconds)) / median if median > 0 else float("nan")

    @property
    def mfu(self) -> float:
        """Model FLOPs utilisation in [0, 1] (nan when the device's peak is unknown)."""
        value = flops_lib.mfu(self.flops_per_token, self.steady_tokens_per_second, self.peak_flops)
        return float("nan") if value is None else value

    @property
    def final_val_loss(self) -> float:
        return self.val_loss[-1] if self.val_loss else float("nan")

    @property
    def final_train_loss(self) -> float:
        """Mean of the last 10% of logged train losses (a single step is too noisy to report)."""
        if not self.train_loss:
            return float("nan")
        tail = self.train_loss[-max(1, len(self.train_loss) // 10) :]
        return sum(tail) / len(tail)


def cosine_lr(
    step: int, *, lr: float, steps: int, warmup_steps: int = 0, min_lr: float | None = None
) -> float:
    """Linear warmup from 0 to ``lr`` over ``warmup_steps``, then half a cosine down to
    ``min_lr``."""
    min_lr = lr / 10 if min_lr is None else min_lr
    if step < warmup_steps:
        return lr * (step + 1) / warmup_steps
    progress = (step - warmup_steps) / max(1, steps - warmup_steps)
    return min_lr + 0.5 * (lr - min_lr) * (1 + math.cos(math.pi * min(1.0, progress)))


def make_optimizer(model: torch.nn.Module, config: TrainConfig) -> torch.optim.Optimizer:
    """AdamW; biases and norm gains (1-D tensors) get no weight decay, as in GPT-2 and nanoGPT.

    ``config.optimizer == "muon"``: :class:`course.optim.MuonAdamW` instead (same decay rule).
    """
    params = [p for p in model.parameters() if p.requires_grad]
    # fused AdamW on CUDA; torch's default elsewhere
    fused = (bool(params) and params[0].is_cuda) or None
    if config.optimizer == "muon":
        return MuonAdamW(
            model, lr=config.lr, weight_decay=config.weight_decay, betas=config.betas, fused=fused
        )
    if config.optimizer != "adamw":
        raise ValueError(f"TrainConfig.optimizer={config.optimizer!r}: choose 'adamw' or 'muon'")
    return torch.optim.AdamW(
        decay_groups(params, config.weight_decay), lr=config.lr, betas=config.betas, fused=fused
    )


def enable_tf32() -> None:
    """Let CUDA run fp32 matmuls and convolutions on TF32 tensor cores (10-bit mantissa, fp32
    range).

    Under bf16 autocast most matmuls are bf16 already; this speeds up the ones autocast keeps in
    fp32."""
    matmul = torch.backends.cuda.matmul
    if hasattr(matmul, "fp32_precision"):  # torch >= 2.9
        matmul.fp32_precision = "tf32"
        conv = getattr(torch.backends.cudnn, "conv", None)
        if conv is not None and hasattr(conv, "fp32_precision"):
            conv.fp32_precision = "tf32"
    else:
        matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True


def next_token_loss(model: torch.nn.Module, batch) -> torch.Tensor:
    """Cross-entropy of ``model(x)`` against ``y``; targets equal to -100 are ignored (masked)."""
    x, y = batch[0], batch[1]
    out = model(x)
    logits = out[0] if isinstance(out, tuple) else out
    return lm_loss(logits, y)


def to_device(batch, device: torch.device):
    if isinstance(batch, torch.Tensor):
        return batch.to(device, non_blocking=True)
    if isinstance(batch, (list, tuple)):
        return type(batch)(to_device(b, device) for b in batch)
    if isinstance(batch, dict):
        return {k: to_device(v, device) for k, v in batch.items()}
    if callable(getattr(batch, "to", None)):  # batch objects that know how to move themselves
        return batch.to(device)
    return batch


# ------------------------------------------------------------------------------ what a batch is
def is_batch_function(batches) -> bool:
    """True for a function that returns one batch per call; False for an iterable of batches."""
    return callable(batches) and not hasattr(batches, "__iter__")


def _first_tensor(batch: Any) -> torch.Tensor | None:
    """The batch itself when it is a tensor, else the first item of a tuple or list (the inputs)."""
    first = batch[0] if isinstance(batch, (tuple, list)) and batch else batch
    return first if isinstance(first, torch.Tensor) else None


def _batch_tokens(batch) -> int:
    """Tokens (or values) in the batch's inputs: B x T for language-model windows."""
    first = _first_tensor(batch)
    return first.numel() if first is not None else 0


def _sequence_length(batch) -> int:
    first = _first_tensor(batch)
    return int(first.shape[1]) if first is not None and first.dim() >= 2 else 1


def _rows(batch: Any) -> int:
    """Examples in a batch: the length of its first tensor (1 if it holds none)."""
    first = _first_tensor(batch)
    return len(first) if first is not None and first.dim() > 0 else 1


class _ShardedIterable:
    def __init__(self, batches: Iterable, info: distributed.DistInfo):
        self.batches, self.info = batches, info

    def __iter__(self):
        for batch in self.batches:
            yield distributed.shard(batch, self.info.rank, self.info.world_size)


def _sharded(batches, info: distributed.DistInfo):
    """This process's share of every batch from a function or an iterable (see
    distributed.shard)."""
    if not info.enabled:
        return batches
    if is_batch_function(batches):
        return lambda: distributed.shard(batches(), info.rank, info.world_size)
    return _ShardedIterable(batches, info)


def _stream(batches: Callable[[], Any] | Iterable) -> Iterator:
    """Batches from a function (called each step) or from an iterable (restarted when exhausted)."""
    if is_batch_function(batches):
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
def evaluate(
    model: torch.nn.Module,
    batches: Callable[[], Any] | Iterable,
    *,
    loss_fn=next_token_loss,
    n_batches: int = 10,
    device: torch.device | None = None,
) -> float:
    """Mean loss over ``n_batches`` batches from a function, or over every batch of an iterable.

    Each batch's mean loss is weighted by its number of rows, so a smaller last batch of a
    DataLoader counts for what it holds and the result is the mean over examples.
    """
    device = device or next(iter(model.parameters())).device
    with eval_mode(model):
        source = (batches() for _ in range(n_batches)) if is_batch_function(batches) else batches
        total, count = 0.0, 0
        for batch in source:
            rows = _rows(batch)
            with autocast(device):
                total += float(loss_fn(model, to_device(batch, device))) * rows
            count += rows
    if count == 0:
        raise ValueError("the validation batches are empty")
    return total / count


# ----------------------------------------------------------------------------- guards and resume
def _checkpoint_note(checkpoint_dir: str | Path | None) -> str:
    """What is on disk after a stop, said truthfully (read back, not assumed)."""
    if checkpoint_dir is None:
        return "No checkpoint folder was given, so nothing was saved."
    if not ckpt.exists(checkpoint_dir):
        return f"Nothing was saved in {checkpoint_dir}."
    try:
        step = ckpt.read_state(checkpoint_dir).get("step", "?")
    except ckpt.CheckpointError:
        step = "?"
    return (
        f"The checkpoint in {checkpoint_dir} (step {step}) holds finite weights and was not "
        "overwritten; resume from it with resume=True after the fix."
    )


BEFORE_THE_STEP = "Training stopped before that step changed the weights."


def _diverged(
    what: str, step: int, lr: float, checkpoint_dir, stopped: str = BEFORE_THE_STEP
) -> TrainingDiverged:
    return TrainingDiverged(
        f"{what} at step {step} (learning rate {lr:.2e}). {stopped} "
        f"{_checkpoint_note(checkpoint_dir)} Lower the learning rate, turn on gradient clipping, "
        "or check the batch and the loss function for bad values (log of 0, division by 0)."
    )


def _clip_gradients(model: torch.nn.Module, grad_clip: float | None) -> torch.Tensor:
    """The global gradient norm, after clipping it to ``grad_clip`` (when given)."""
    params = [p for p in model.parameters() if p.grad is not None]
    if grad_clip is not None:
        return torch.nn.utils.clip_grad_norm_(params, grad_clip)
    return torch.nn.utils.get_total_norm([p.grad for p in params])


def _weights_finite(model: torch.nn.Module) -> bool:
    flags = [torch.isfinite(p).all() for p in model.parameters() if p.is_floating_point()]
    return bool(torch.stack(flags).all()) if flags else True


def _stream_states(train_batches, val_batches) -> dict:
    """Where each batch function is (its ``state_dict()``, e.g. ``course.lm_data.batcher``'s)."""

    def state_of(source):
        stateful = is_batch_function(source) and hasattr(source, "load_state_dict")
        return source.state_dict() if stateful else None

    return {"train": state_of(train_batches), "val": state_of(val_batches)}


def _restore_streams(saved: dict, train_batches, val_batches, stream: Iterator, start: int) -> None:
    """Put every batch source back where the uninterrupted run had it at step ``start``.

    Functions with ``load_state_dict`` get their saved state; an iterable (a list, a DataLoader) is
    replayed for the ``start`` batches already trained on — exact when it yields the same batches
    each time it is iterated (a DataLoader that shuffles needs its own ``generator=``). Plain
    functions that draw from torch's global RNG are covered by the RNG state of the checkpoint.
    """
    for source, state in ((train_batches, saved.get("train")), (val_batches, saved.get("val"))):
        if state is not None and hasattr(source, "load_state_dict"):
            source.load_state_dict(state)
    if not is_batch_function(train_batches):
        for _ in range(start):
            next(stream)


# ----------------------------------------------------------------------------- the parts of fit
def _setup_device(model: torch.nn.Module, device) -> tuple[distributed.DistInfo, torch.device]:
    """The device to train on (this process's GPU under torchrun), with the model moved there."""
    device = torch.device(device) if device is not None else get_device()
    info, device = distributed.setup(device)  # does nothing unless launched by torchrun
    if device.type == "cuda":
        enable_tf32()
    model.to(device)
    return info, device


def _resume(checkpoint_dir, model, model_config, optimizer, device, main: bool):
    """(history, first step, trainer state) of the run saved in ``checkpoint_dir``, if any."""
    if checkpoint_dir is None or not ckpt.exists(checkpoint_dir):
        return History(), 0, None
    state = ckpt.load_checkpoint(
        checkpoint_dir, model, config=model_config, optimizer=optimizer, device=device
    )
    trainer = ckpt.read_trainer(checkpoint_dir)  # RNG and batch streams: restored by fit
    start = int(state.get("step", 0))
    if main:
        print(f"Resumed from {checkpoint_dir} at step {start}")
    return History(**state.get("history", {})), start, trainer


def _save(
    checkpoint_dir,
    step: int,
    lr: float,
    *,
    model,
    model_config,
    optimizer,
    history,
    config: TrainConfig,
    batches: tuple,
    info: distributed.DistInfo,
) -> None:
    """A checkpoint of the run at ``step``; never weights that hold NaN or inf."""
    if not _weights_finite(model):
        raise _diverged(
            "the weights hold NaN or infinite values",
            step - 1,
            lr,
            checkpoint_dir,
            stopped="Training stopped and did not save them.",
        )
    if info.is_main:  # one writer; the others wait so nobody reads a half-written folder
        state = {"step": step, "history": asdict(history), "train_config": asdict(config)}
        ckpt.save_checkpoint(
            checkpoint_dir,
            model,
            model_config,
            optimizer=optimizer,
            state=state,
            trainer_state=_stream_states(*batches),
        )
    if info.enabled:
        torch.distributed.barrier()


def _set_lr(optimizer: torch.optim.Optimizer, step: int, config: TrainConfig) -> float:
    """Point 1 of fit: this step's learning rate, written into every parameter group."""
    lr = cosine_lr(
        step,
        lr=config.lr,
        steps=config.steps,
        warmup_steps=config.warmup_steps,
        min_lr=config.min_lr,
    )
    for group in optimizer.param_groups:
        group["lr"] = lr
    return lr


def _record_step(history: History, step: int, loss: float, lr: float, batch, world: int) -> None:
    history.step.append(step)
    history.train_loss.append(loss)
    history.lr.append(lr)
    history.tokens += _batch_tokens(batch) * world


def _record_eval(
    history: History, step: int, val: float, loss: float, lr: float, *, bar, plotter, log_line: bool
) -> None:
    history.eval_step.append(step)
    history.val_loss.append(val)
    bar.set_postfix(train=f"{loss:.3f}", val=f"{val:.3f}")
    if log_line:
        print(f"step {step:>6}  train {loss:.4f}  val {val:.4f}  lr {lr:.2e}")
    plotter.update(history)


def _report_speed(history: History, model, seq_len: int, device, info, title: str) -> None:
    """Tokens/s and MFU into ``history``; printed on GPUs and under DDP."""
    history.flops_per_token = flops_lib.model_flops_per_token(model, seq_len)
    peak = flops_lib.peak_flops(device)
    history.peak_flops = peak * info.world_size if peak else 0.0
    if info.is_main and (device.type == "cuda" or info.enabled) and history.step_seconds:
        utilisation = (
            f", MFU {history.mfu:.1%}"
            if history.peak_flops
            else " (peak FLOP/s of this device unknown: no MFU)"
        )
        print(
            f"{title}: {history.steady_tokens_per_second:,.0f} tokens/s on {info.world_size} x "
            f"{device.type}{utilisation}"
        )


def fit(
    model: torch.nn.Module,
    train_batches: Callable[[], Any] | Iterable,
    *,
    config: TrainConfig | None = None,
    val_batches: Callable[[], Any] | Iterable | None = None,
    loss_fn: Callable[[torch.nn.Module, Any], torch.Tensor] = next_token_loss,
    eval_loss_fn: Callable[[torch.nn.Module, Any], torch.Tensor] | None = None,
    optimizer: torch.optim.Optimizer | None = None,
    device: torch.device | str | None = None,
    checkpoint_dir: str | Path | None = None,
    model_config: Any = None,
    resume: bool = False,
    plot: bool | None = None,
    progress: bool = True,
    title: str = "training",
) -> History:
    """Train ``model`` for ``config.steps`` steps and return the loss history.

    ``train_batches`` is a function returning one batch (e.g. random windows of a text) or an
    iterable such as a DataLoader. ``loss_fn(model, batch)`` returns a scalar loss; the default is
    next-token cross-entropy on ``(x, y)`` batches; ``eval_loss_fn`` (default: ``loss_fn``) scores
    the validation batches, for losses that train differently from how they measure.

    Each step is the loop you wrote by hand in the early notebooks, plus what a long run needs:

    1. the learning rate of this step: linear warmup over ``warmup_steps``, then half a cosine down
       to ``min_lr`` (default ``lr / 10``) — :func:`cosine_lr`;
    2. ``loss = loss_fn(model, batch)`` under autocast (bf16 on recent GPUs, fp16 on GPUs without
       bf16, fp32 on the CPU); a NaN or infinite loss stops training (:class:`TrainingDiverged`);
    3. ``optimizer.zero_grad()``, ``loss.backward()`` (under fp16, through a gradient scaler that
       skips the rare step whose gradients overflowed: ``course.device.grad_scaler``);
    4. gradient clipping: the global gradient norm is scaled down to ``grad_clip`` (1.0 by
       default); a NaN or infinite norm stops training before the step is applied;
    5. ``optimizer.step()``: AdamW, betas (0.9, 0.99), weight decay on matrices only
       (:func:`make_optimizer`), unless you pass your own optimizer;
    6. every ``eval_every`` steps and at the last: the mean validation loss (:func:`evaluate`),
       with ``model.eval()`` and no gradients;
    7. with ``checkpoint_dir``: a checkpoint every ``checkpoint_every`` steps and at the end
       (weights, optimizer, RNG and batch-stream state; never weights that hold NaN or inf).
       ``resume=True`` continues a saved run; with batches from ``lm_data.batcher(seed=...)``,
       a list or an unshuffled DataLoader the resumed run equals an uninterrupted one exactly.

    Under ``torchrun --nproc_per_node=N`` every process calls ``fit`` with the same arguments and
    the same seed: each builds the same global batch and trains on its 1/N share, DDP averages the
    gradients, and the result equals one process trained on the global batch. ``loss_fn`` then
    receives the DDP-wrapped model (reach the original through ``model.module``).
    """
    from tqdm.auto import tqdm

    config = config or TrainConfig()
    config.validate()
    info, device = _setup_device(model, device)
    optimizer = optimizer or make_optimizer(model, config)
    model_config = model_config if model_config is not None else getattr(model, "config", None)
    if checkpoint_dir is not None and info.is_main:
        ckpt.check_folder(checkpoint_dir)  # a wrong folder is found now, not after the last step
    history, start, trainer = History(), 0, None
    if resume:
        history, start, trainer = _resume(
            checkpoint_dir, model, model_config, optimizer, device, info.is_main
        )
    save = partial(
        _save,
        checkpoint_dir,
        model=model,
        model_config=model_config,
        optimizer=optimizer,
        history=history,
        config=config,
        batches=(train_batches, val_batches),
        info=info,
    )
    # the module that runs the steps: compiled and/or wrapped; `model` stays the plain one we save
    step_model = eval_model = torch.compile(model) if config.compile else model
    if info.enabled:
        step_model = distributed.wrap(step_model, device)
    history.world_size = info.world_size
    plotter = LivePlot(title, enabled=plot if info.is_main else False)
    log_lines = not in_notebook() and info.is_main and not progress
    stream = _stream(_sharded(train_batches, info))
    val_source = _sharded(val_batches, info) if val_batches is not None else None
    if trainer is not None:
        _restore_streams(
            trainer.get("trainer_state", {}), train_batches, val_batches, stream, start
        )
        ckpt.set_rng_state(trainer)  # last, so replaying an iterable cannot disturb it
    scaler = grad_scaler(device)  # active only under fp16 autocast (GPUs without bf16)
    model.train()
    bar = tqdm(
        range(start, config.steps),
        desc=title,
        disable=not progress or not info.is_main,
        initial=start,
        total=config.steps,
    )
    began, seq_len = time.perf_counter() - history.seconds, 1
    with bar:
        for step in bar:
            step_began = time.perf_counter()
            lr = _set_lr(optimizer, step, config)
            batch = to_device(next(stream), device)
            with autocast(device, cpu_bf16=config.cpu_bf16):
                loss = loss_fn(step_model, batch)
            # the mean over processes, so that every rank sees one value
            loss_value = distributed.all_reduce_mean(loss.detach().float().item(), device)
            if not math.isfinite(loss_value):
                raise _diverged(f"the loss became {loss_value}", step, lr, checkpoint_dir)
            optimizer.zero_grad(set_to_none=True)
            scaler.scale(loss).backward()  # under DDP the gradients are averaged here
            scaler.unscale_(optimizer)  # clip the true gradients, not the scaled ones
            grad_norm = _clip_gradients(model, config.grad_clip)
            if not torch.isfinite(grad_norm) and not scaler.is_enabled():
                what = f"the gradient norm became {float(grad_norm)} (loss {loss_value:.4g})"
                raise _diverged(what, step, lr, checkpoint_dir)
            scaler.step(optimizer)  # under fp16: skips a step whose gradients overflowed
            scaler.update()
            history.step_seconds.append(time.perf_counter() - step_began)
            seq_len = _sequence_length(batch)
            _record_step(history, step, loss_value, lr, batch, info.world_size)
            last = step == config.steps - 1
            if val_source is not None and (step % config.eval_every == 0 or last):
                val = evaluate(
                    eval_model,
                    val_source,
                    loss_fn=eval_loss_fn or loss_fn,
                    n_batches=config.eval_batches,
                    device=device,
                )
                val = distributed.all_reduce_mean(val, device)
                _record_eval(
                    history, step, val, loss_value, lr, bar=bar, plotter=plotter, log_line=log_lines
                )
            elif step % 10 == 0:
                bar.set_postfix(train=f"{loss_value:.3f}")
            history.seconds = time.perf_counter() - began
            every = config.checkpoint_every
            if checkpoint_dir is not None and every and (step + 1) % every == 0 and not last:
                save(step + 1, lr)
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    history.seconds = time.perf_counter() - began
    _report_speed(history, model, seq_len, device, info, title)
    if val_batches is None:
        plotter.update(history)
    if checkpoint_dir is not None:
        save(config.steps, history.lr[-1] if history.lr else config.lr)
    return history
