"""Checkpoints: weights as safetensors, the model's config as JSON, trainer state beside them.

A checkpoint is a handful of files in a folder (the folder may hold other things too):
    model-step000120.safetensors   the weights (safe to load: no pickle); a new name at each save
    trainer-step000120.pt          optimizer, RNG and batch-stream state (only for resuming;
                                   read with weights_only=True)
    config.json                    the model's constructor arguments, so the code can rebuild it
    state.json                     written last: step, loss history, and which weights and trainer
                                   files (and which config) make up this checkpoint

Why this shape: a save must never destroy the previous checkpoint before the new one is complete.
Each file goes to a temporary name, is flushed to disk, and is renamed into place
(``course.atomic``); the weights get a fresh name instead of overwriting the old ones, and
``state.json`` — the one file that says which weights belong to the checkpoint — is replaced
last. A crash at any moment therefore leaves either the old ``state.json`` naming the old, intact
files, or the new one naming the new files. Only after that are the old weights deleted. A save
touches nothing else in the folder.

Older checkpoints (``model.safetensors`` and ``trainer.pt``, no file list in ``state.json``)
still load.
"""

from __future__ import annotations

import dataclasses
import json
import random
import re
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from safetensors import safe_open
from safetensors.torch import load_model, save_model

from course import atomic

WEIGHTS, CONFIG, TRAINER, STATE = "model.safetensors", "config.json", "trainer.pt", "state.json"
MANIFEST = "_checkpoint"  # the key of state.json that lists the checkpoint's files
# the names a save may create (and so the only ones it may delete)
_OUR_FILE = re.compile(r"(model|trainer)-[A-Za-z0-9_-]+\.(safetensors|pt)")


class CheckpointError(RuntimeError):
    """A checkpoint is missing, corrupt, or belongs to a different model."""


def as_dict(config: Any) -> dict:
    if config is None:
        return {}
    if dataclasses.is_dataclass(config):
        return dataclasses.asdict(config)
    if isinstance(config, dict):
        return dict(config)
    raise TypeError(f"a model config must be a dataclass or a dict, not {type(config).__name__}")


# ----------------------------------------------------------------------------- reading
def _read_json(path: Path, what: str) -> dict:
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise CheckpointError(
            f"{path} is not valid JSON ({error}); the checkpoint is corrupt, "
            "delete the folder and train again"
        ) from None
    if not isinstance(value, dict):
        kind = type(value).__name__
        raise CheckpointError(
            f"{path} should hold a JSON object ({what}), not {kind}; the "
            "checkpoint is corrupt, delete the folder and train again"
        )
    return value


def _raw_state(directory: Path) -> dict:
    path = directory / STATE
    return _read_json(path, "the step and loss history") if path.is_file() else {}


def _files(directory: Path) -> dict:
    """The checkpoint's file names, from state.json (or the fixed names of an older checkpoint)."""
    manifest = _raw_state(directory).get(MANIFEST)
    if manifest is None:
        return {"weights": WEIGHTS, "trainer": TRAINER, "config": None}
    listed = manifest if isinstance(manifest, dict) else {}
    names = [listed.get("weights"), listed.get("trainer")]
    ours = all(n is None or (isinstance(n, str) and _OUR_FILE.fullmatch(n)) for n in names)
    if not isinstance(names[0], str) or not ours:
        raise CheckpointError(
            f"{directory / STATE} lists files that a checkpoint never writes "
            f"({manifest!r}); the checkpoint is corrupt, delete the folder and "
            "train again"
        )
    return manifest


def weights_path(directory: str | Path) -> Path:
    """The safetensors file that holds this checkpoint's weights."""
    return Path(directory) / _files(Path(directory))["weights"]


def exists(directory: str | Path) -> bool:
    directory = Path(directory)
    if not directory.is_dir():
        return False
    try:
        files = _files(directory)
    except CheckpointError:
        return True  # something is there: loading it will say what is wrong
    has_config = files.get("config") is not None or (directory / CONFIG).is_file()
    return (directory / files["weights"]).is_file() and has_config


def read_config(directory: str | Path) -> dict:
    directory = Path(directory)
    if not exists(directory):
        raise CheckpointError(
            f"no checkpoint at {directory} (expected {STATE} naming the weights, "
            f"or {WEIGHTS} and {CONFIG}); train a model first, or point to the "
            "folder that holds one"
        )
    config = _files(directory).get("config")
    if config is not None:  # the copy that belongs to these weights (config.json may be newer)
        if not isinstance(config, dict):
            raise CheckpointError(
                f"{directory / STATE} holds a config that is not a JSON object; "
                "the checkpoint is corrupt, delete the folder and train again"
            )
        return config
    return _read_json(directory / CONFIG, "the model's config")


def read_state(directory: str | Path) -> dict:
    """The ``state`` dict given to :func:`save_checkpoint` ({} when there is none)."""
    state = _raw_state(Path(directory))
    state.pop(MANIFEST, None)
    return state


def read_trainer(directory: str | Path) -> dict:
    """The trainer file (optimizer, RNG and ``trainer_state``); raises CheckpointError if absent."""
    directory = Path(directory)
    files = _files(directory)
    legacy = files["weights"] == WEIGHTS  # an older checkpoint: fixed names
    path = directory / (TRAINER if legacy else files.get("trainer") or "")
    if path == directory or not path.is_file():
        raise CheckpointError(
            f"{directory} holds no trainer state (optimizer, RNG), so training "
            "cannot resume from it; train from scratch (resume=False)"
        )
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # a truncated or foreign file
        raise CheckpointError(
            f"{path} cannot be read ({error}); the file is corrupt, "
            "delete the folder and train again"
        ) from None


# ----------------------------------------------------------------------------- RNG state
def rng_state() -> dict:
    """Every random number generator a training step may draw from (torch, Python, NumPy)."""
    import numpy as np

    kind, keys, position, has_gauss, gauss = np.random.get_state(legacy=True)
    numpy_rng = [kind, torch.from_numpy(keys.astype("int64")), position, has_gauss, gauss]
    state = {
        "torch_rng": torch.get_rng_state(),
        "python_rng": random.getstate(),
        "numpy_rng": numpy_rng,
    }
    if torch.cuda.is_initialized():  # (is_available() would be a CUDA call on the CPU path)
        state["cuda_rng"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict) -> None:
    import numpy as np

    torch.set_rng_state(state["torch_rng"])
    if "python_rng" in state:
        version, internal, gauss = state["python_rng"]
        random.setstate((version, tuple(internal), gauss))
    if "numpy_rng" in state:
        kind, keys, position, has_gauss, gauss = state["numpy_rng"]
        np.random.set_state((kind, keys.numpy().astype("uint32"), position, has_gauss, gauss))
    if "cuda_rng" in state and torch.cuda.is_initialized():
        torch.cuda.set_rng_state_all(state["cuda_rng"])


# ----------------------------------------------------------------------------- saving
def _fresh_name(directory: Path, stem: str, suffix: str, tag: str) -> str:
    """``stem-tag.suffix``, or with a counter when that name is taken: a save never overwrites."""
    name, n = f"{stem}-{tag}{suffix}", 2
    while (directory / name).exists():
        name, n = f"{stem}-{tag}-{n}{suffix}", n + 1
    return name


def _remove_unlisted(directory: Path, names: list[str | None]) -> None:
    """Delete those of ``names`` (files a save wrote) that the manifest on disk does not list."""
    try:
        listed = _files(directory)
    except CheckpointError:
        return
    keep = (listed.get("weights"), listed.get("trainer"))
    for name in names:
        if name and _OUR_FILE.fullmatch(name) and name not in keep:
            (directory / name).unlink(missing_ok=True)


def check_folder(directory: str | Path) -> Path:
    """Create the checkpoint folder now, or raise CheckpointError saying why it cannot hold one."""
    directory = Path(directory)
    try:
        return atomic.check_writable_folder(directory)
    except (NotADirectoryError, PermissionError, FileExistsError) as error:
        raise CheckpointError(f"cannot save a checkpoint in {directory}: {error}") from None


def save_checkpoint(
    directory: str | Path,
    model: torch.nn.Module,
    config: Any = None,
    *,
    optimizer: torch.optim.Optimizer | None = None,
    state: dict | None = None,
    trainer_state: dict | None = None,
) -> Path:
    """Save ``model`` (and optimizer, RNG, ``trainer_state``) as a checkpoint in ``directory``.

    The folder is created if needed (nested folders too, with the usual permissions) and may hold
    other files: they are left alone. The previous checkpoint there stays loadable until the new
    one is complete (see the module docstring).
    """
    directory = check_folder(directory)
    state = dict(state or {})
    if MANIFEST in state:
        raise ValueError(
            f"state may not use the key {MANIFEST!r}: the checkpoint lists its files there"
        )
    config_dict = as_dict(config)
    step = state.get("step")
    tag = f"step{step:06d}" if isinstance(step, int) and step >= 0 else secrets.token_hex(3)
    try:
        previous = _files(directory) if (directory / STATE).is_file() else {}
    except CheckpointError:  # a corrupt state.json: this save replaces it
        previous = {}
    weights = _fresh_name(directory, "model", ".safetensors", tag)
    trainer = None
    if optimizer is not None or trainer_state is not None:
        trainer = _fresh_name(directory, "trainer", ".pt", tag)
    try:
        with atomic.replacing(directory / weights) as tmp:
            save_model(model, str(tmp))  # handles tied weights (e.g. GPT's embedding = lm head)
        if trainer is not None:
            with atomic.replacing(directory / trainer) as tmp:
                torch.save(
                    {
                        "optimizer": optimizer.state_dict() if optimizer is not None else None,
                        **rng_state(),
                        "trainer_state": trainer_state or {},
                    },
                    tmp,
                )
        atomic.write_text(directory / CONFIG, json.dumps(config_dict, indent=2, sort_keys=True))
        state[MANIFEST] = {"weights": weights, "trainer": trainer, "config": config_dict}
        atomic.write_text(directory / STATE, json.dumps(state, indent=1))  # the commit point
    finally:  # whichever set state.json does not name (the old one, or a failed new one) goes
        ours = [weights, trainer, previous.get("weights"), previous.get("trainer")]
        _remove_unlisted(directory, ours)
    return directory


# ----------------------------------------------------------------------------- loading
def _check_shapes(path: Path, model: torch.nn.Module) -> None:
    if not path.is_file():
        raise CheckpointError(
            f"{path} is missing although {path.parent / STATE} names it; the "
            "checkpoint is incomplete, delete the folder and train again"
        )
    try:
        with safe_open(str(path), framework="pt") as f:
            stored = {k: tuple(f.get_slice(k).get_shape()) for k in f.keys()}  # noqa: SIM118
    except Exception as error:  # safetensors raises its own error types for truncated files
        raise CheckpointError(
            f"{path} cannot be read ({error}); the file is corrupt, delete it and train again"
        ) from None
    expected = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    wrong = [
        f"{k}: checkpoint {stored[k]} vs model {expected[k]}"
        for k in stored
        if k in expected and stored[k] != expected[k]
    ]
    if wrong:
        raise CheckpointError(
            "the checkpoint was saved from a model of a different shape:\n  "
            + "\n  ".join(wrong[:8])
            + "\nbuild the model with the checkpoint's config.json, or train a new checkpoint"
        )


def load_checkpoint(
    directory: str | Path,
    model: torch.nn.Module,
    *,
    config: Any = None,
    optimizer: torch.optim.Optimizer | None = None,
    device: str | torch.device | None = None,
    restore_rng: bool = False,
) -> dict:
    """Load weights (and optionally optimizer state) into ``model``; return the saved state dict.

    When ``config`` is given it must equal the checkpoint's config, key for key.
    ``restore_rng=True`` also puts back the torch, Python and NumPy random states of the save.
    """
    directory = Path(directory)
    saved = read_config(directory)
    if config is not None:
        wanted = json.loads(json.dumps(as_dict(config), sort_keys=True))
        diff = sorted(k for k in set(saved) | set(wanted) if saved.get(k) != wanted.get(k))
        if diff:
            details = ", ".join(
                f"{k}={saved.get(k)!r} in the checkpoint but {wanted.get(k)!r} here" for k in diff
            )
            raise CheckpointError(
                f"checkpoint {directory} is for a different model config: {details}. "
                "Use the checkpoint's config, or train a new checkpoint for this one"
            )
    path = weights_path(directory)
    _check_shapes(path, model)
    device = device or next(iter(model.parameters())).device
    missing, unexpected = load_model(model, str(path), strict=False, device=str(device))
    if missing or unexpected:
        raise CheckpointError(
            f"checkpoint {directory} does not fit this model: missing {sorted(missing)[:5]}, "
            f"unexpected {sorted(unexpected)[:5]}"
        )
    if optimizer is not None or restore_rng:
        trainer = read_trainer(directory)
        if optimizer is not None:
            if trainer.get("optimizer") is None:
                raise CheckpointError(
                    f"{directory} holds no optimizer state, so training cannot resume from it"
                )
            optimizer.load_state_dict(trainer["optimizer"])
        if restore_rng:
            set_rng_state(trainer)
    return read_state(directory)


def load_model_from(
    directory: str | Path,
    build: Callable[[dict], torch.nn.Module],
    device: str | torch.device = "cpu",
) -> torch.nn.Module:
    """Rebuild a model from a checkpoint's config.json with ``build(config)`` and load its
    weights."""
    model = build(read_config(directory)).to(device)
    load_checkpoint(directory, model, device=device)
    return model
