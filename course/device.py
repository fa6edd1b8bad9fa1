"""Device choice, mixed precision and seeding: a leaf every other module may import."""

from __future__ import annotations

import contextlib
import os
import random

import torch

from course.threads import use_idle_cores

_VALID = ("cuda", "mps", "cpu")


def get_device(verbose: bool = False) -> torch.device:
    """Pick ``cuda``, then Apple ``mps``, then ``cpu``.

    ``COURSE_DEVICE=cpu`` (or ``cuda``, ``cuda:1``, ``mps``) overrides the choice,
    e.g. to compare speeds or to keep a GPU free. On the CPU, torch gets one thread per core that
    other programs leave idle (:mod:`course.threads`: a busy core makes every step wait).
    """
    wanted = os.environ.get("COURSE_DEVICE", "").strip().lower()
    if wanted:
        kind = wanted.split(":")[0]
        if kind not in _VALID:
            raise ValueError(
                f"COURSE_DEVICE={wanted!r} is not one of {_VALID}; unset it or pick one of those"
            )
        if kind == "cuda" and not torch.cuda.is_available():
            raise RuntimeError(
                "COURSE_DEVICE asks for cuda but torch sees no CUDA GPU; unset COURSE_DEVICE"
            )
        if kind == "mps" and not _mps_available():
            raise RuntimeError(
                "COURSE_DEVICE asks for mps but this torch has no Apple GPU support; unset "
                "COURSE_DEVICE"
            )
        device = torch.device(wanted)
    elif torch.cuda.is_available():
        device = torch.device("cuda")
    elif _mps_available():
        device = torch.device("mps")
    else:
        device = torch.device("cpu")
    if device.type == "cpu":
        use_idle_cores()
    if verbose:
        print(describe(device))
    return device


def _mps_available() -> bool:
    backend = getattr(torch.backends, "mps", None)
    return bool(backend is not None and backend.is_available())


def describe(device: torch.device) -> str:
    """One line a learner can read: which device, and what that means for speed."""
    if device.type == "cuda":
        index = device.index or 0
        name = torch.cuda.get_device_name(index)
        memory = torch.cuda.get_device_properties(index).total_memory / 2**30
        precision = (
            "bf16 autocast"
            if cuda_autocast_dtype(device) == torch.bfloat16
            else "fp16 autocast with a gradient scaler (this GPU has no native bf16)"
        )
        return f"Using GPU: {name} ({memory:.0f} GiB) with {precision}"
    if device.type == "mps":
        return "Using the Apple GPU (mps)"
    threads, why = use_idle_cores()
    fewer = f"; {why}" if why.startswith("other programs") else ""
    plural = "s" if threads != 1 else ""
    return f"Using the CPU ({threads} thread{plural}{fewer}): no GPU found, every lesson still runs"


def cpu_has_native_bf16() -> bool:
    """True on CPUs with bf16 instructions (AVX512-BF16: AMD Zen 4+, Intel Cooper Lake+; AMX:
    Sapphire Rapids+).

    There a bf16 matrix multiply runs about twice as fast as an fp32 one (measured on this course's
    2-core EPYC: 209 vs 92 GFLOP/s per core at 768x128x512); elsewhere bf16 is emulated and slower.
    """
    checks = ("_is_avx512_bf16_supported", "_is_amx_tile_supported")
    return any(getattr(torch.cpu, name, lambda: False)() for name in checks)


def cuda_autocast_dtype(device: torch.device | str) -> torch.dtype:
    """bf16 on GPUs that compute in it natively (Ampere, compute capability 8.0, and newer), else
    fp16.

    Colab's free T4 and the V100 (7.5 and 7.0) have no bf16 units: there bf16 is emulated and slow,
    or refused, so they get fp16, whose narrow range needs a gradient scaler (:func:`grad_scaler`).
    """
    device = torch.device(device)
    major, _ = torch.cuda.get_device_capability(device)
    return torch.bfloat16 if major >= 8 else torch.float16


def grad_scaler(device: torch.device | str) -> torch.amp.GradScaler:
    """A gradient scaler that is active only where autocast runs in fp16 (CUDA GPUs without bf16).

    fp16 overflows above 65,504 and rounds small gradients to zero; the scaler multiplies the loss
    before ``backward`` and divides the gradients before the step, skipping steps that overflowed.
    Everywhere else it is a no-op, so a training loop can always call it.
    """
    device = torch.device(device)
    return torch.amp.GradScaler(device.type, enabled=needs_grad_scaler(device))


def needs_grad_scaler(device: torch.device | str) -> bool:
    """True where autocast runs in fp16: a CUDA GPU without native bf16."""
    device = torch.device(device)
    return device.type == "cuda" and cuda_autocast_dtype(device) == torch.float16


def autocast(device: torch.device | str, cpu_bf16: bool = False):
    """Mixed precision on CUDA (bf16 where native, fp16 elsewhere: :func:`cuda_autocast_dtype`); on
    the CPU plain fp32 unless ``cpu_bf16`` asks for bf16 autocast.

    The lessons train in fp32 on the CPU: their figures were measured that way, and on CPUs without
    native bf16 it would be slower. ``cpu_bf16=True`` is the speed option for CPUs that have it
    (see :func:`cpu_has_native_bf16`); weights, optimizer state and the loss stay fp32.
    """
    device = torch.device(device)
    if device.type == "cuda":
        return torch.autocast("cuda", dtype=cuda_autocast_dtype(device))
    if device.type == "cpu" and cpu_bf16:
        return torch.autocast("cpu", dtype=torch.bfloat16)
    return contextlib.nullcontext()


def seed_everything(seed: int = 0) -> torch.Generator:
    """Seed Python, NumPy (if installed) and torch; return a torch Generator seeded the same way.

    ``COURSE_SEED_OFFSET=k`` adds k to every seed given here, so ``benchmarks/claims.py --seeds 3``
    can re-run a notebook at other seeds and show how much each claimed figure moves; data splits
    and batch streams that take their own ``seed=`` argument stay where they are."""
    seed = seed + seed_offset()
    random.seed(seed)
    try:
        import numpy as np

        np.random.seed(seed % 2**32)
    except ImportError:  # numpy is a dependency, but seeding must never be the thing that fails
        pass
    torch.manual_seed(seed)
    if torch.cuda.is_available():
        torch.cuda.manual_seed_all(seed)
    return torch.Generator().manual_seed(seed)


def seed_offset() -> int:
    """The shift ``COURSE_SEED_OFFSET`` asks for (0 when unset); a clear error when it is not an
    integer."""
    text = os.environ.get("COURSE_SEED_OFFSET", "").strip()
    if not text:
        return 0
    try:
        return int(text)
    except ValueError:
        raise ValueError(
            f"COURSE_SEED_OFFSET={text!r} is not an integer; unset it or give e.g. 1"
        ) from None


@contextlib.contextmanager
def eval_mode(model: torch.nn.Module):
    """``model.eval()`` inside the block (dropout off), then back to the mode it was in.

    >>> with eval_mode(model):
    ...     logits = model(x)
    """
    was_training = model.training
    model.eval()
    try:
        yield model
    finally:
        model.train(was_training)
