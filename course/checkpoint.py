"""Checkpoints: weights as safetensors, the model's config as JSON, trainer state beside them.

A checkpoint is a folder:
    model.safetensors   the weights (safe to load: no pickle)
    config.json         the model's constructor arguments, so the code can rebuild it
    trainer.pt          optimizer state and RNG state (only for resuming; read with weights_only=True)
    state.json          step number and the loss history so far

Saving writes a sibling temporary folder and renames it into place, so an interrupted save never
leaves a half-written checkpoint where a good one used to be.
"""
from __future__ import annotations

import dataclasses
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any, Callable

import torch
from safetensors import safe_open
from safetensors.torch import load_model, save_model

WEIGHTS, CONFIG, TRAINER, STATE = "model.safetensors", "config.json", "trainer.pt", "state.json"


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


def save_checkpoint(directory: str | Path, model: torch.nn.Module, config: Any = None, *,
                    optimizer: torch.optim.Optimizer | None = None, state: dict | None = None) -> Path:
    directory = Path(directory)
    directory.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{directory.name}.", dir=directory.parent))
    try:
        save_model(model, str(tmp / WEIGHTS))  # handles tied weights (e.g. GPT's embedding = lm head)
        (tmp / CONFIG).write_text(json.dumps(as_dict(config), indent=2, sort_keys=True), encoding="utf-8")
        (tmp / STATE).write_text(json.dumps(state or {}, indent=1), encoding="utf-8")
        if optimizer is not None:
            torch.save({"optimizer": optimizer.state_dict(), "torch_rng": torch.get_rng_state()}, tmp / TRAINER)
        old = directory.with_name(f".{directory.name}.old")
        if directory.exists():
            shutil.rmtree(old, ignore_errors=True)
            os.replace(directory, old)
        os.replace(tmp, directory)
        shutil.rmtree(old, ignore_errors=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return directory


def exists(directory: str | Path) -> bool:
    directory = Path(directory)
    return (directory / WEIGHTS).is_file() and (directory / CONFIG).is_file()


def read_config(directory: str | Path) -> dict:
    directory = Path(directory)
    if not exists(directory):
        raise CheckpointError(f"no checkpoint at {directory} (expected {WEIGHTS} and {CONFIG}); "
                              "train a model first, or point to the folder that holds one")
    try:
        return json.loads((directory / CONFIG).read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise CheckpointError(f"{directory / CONFIG} is not valid JSON ({error}); the checkpoint is corrupt, "
                              "delete the folder and train again") from None


def read_state(directory: str | Path) -> dict:
    path = Path(directory) / STATE
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}


def _check_shapes(path: Path, model: torch.nn.Module) -> None:
    try:
        with safe_open(str(path), framework="pt") as f:
            stored = {k: tuple(f.get_slice(k).get_shape()) for k in f.keys()}
    except Exception as error:  # safetensors raises its own error types for truncated files
        raise CheckpointError(f"{path} cannot be read ({error}); the file is corrupt, delete it and train again") from None
    expected = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    wrong = [f"{k}: checkpoint {stored[k]} vs model {expected[k]}" for k in stored if k in expected and stored[k] != expected[k]]
    if wrong:
        raise CheckpointError("the checkpoint was saved from a model of a different shape:\n  " + "\n  ".join(wrong[:8])
                              + "\nbuild the model with the checkpoint's config.json, or train a new checkpoint")


def load_checkpoint(directory: str | Path, model: torch.nn.Module, *, config: Any = None,
                    optimizer: torch.optim.Optimizer | None = None, device: str | torch.device | None = None,
                    restore_rng: bool = False) -> dict:
    """Load weights (and optionally optimizer state) into ``model``; return the saved state dict.

    When ``config`` is given it must equal the checkpoint's config.json, key for key.
    """
    directory = Path(directory)
    saved = read_config(directory)
    if config is not None:
        wanted = json.loads(json.dumps(as_dict(config), sort_keys=True))
        diff = sorted(k for k in set(saved) | set(wanted) if saved.get(k) != wanted.get(k))
        if diff:
            details = ", ".join(f"{k}={saved.get(k)!r} in the checkpoint but {wanted.get(k)!r} here" for k in diff)
            raise CheckpointError(f"checkpoint {directory} is for a different model config: {details}. "
                                  "Use the checkpoint's config, or train a new checkpoint for this one")
    _check_shapes(directory / WEIGHTS, model)
    device = device or next(iter(model.parameters())).device
    missing, unexpected = load_model(model, str(directory / WEIGHTS), strict=False, device=str(device))
    if missing or unexpected:
        raise CheckpointError(f"checkpoint {directory} does not fit this model: missing {sorted(missing)[:5]}, "
                              f"unexpected {sorted(unexpected)[:5]}")
    if optimizer is not None or restore_rng:
        trainer_path = directory / TRAINER
        if not trainer_path.is_file():
            raise CheckpointError(f"{trainer_path} is missing, so training cannot resume from {directory}")
        trainer = torch.load(trainer_path, map_location="cpu", weights_only=True)
        if optimizer is not None:
            optimizer.load_state_dict(trainer["optimizer"])
        if restore_rng:
            torch.set_rng_state(trainer["torch_rng"])
    return read_state(directory)


def load_model_from(directory: str | Path, build: Callable[[dict], torch.nn.Module],
                    device: str | torch.device = "cpu") -> torch.nn.Module:
    """Rebuild a model from a checkpoint's config.json with ``build(config)`` and load its weights."""
    model = build(read_config(directory)).to(device)
    load_checkpoint(directory, model, device=device)
    return model
