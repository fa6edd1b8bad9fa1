"""LoRA from scratch (Hu et al. 2021): fine-tune a frozen weight W through a low-rank update B·A.

For a linear layer ``y = x Wᵀ + b`` with W of shape (out, in), LoRA trains only

    A: (r, in)  initialised at random,   B: (out, r)  initialised to ZERO,
    y = x Wᵀ + b + (alpha / r) · x Aᵀ Bᵀ                                  (eq. 3 of the paper)

so at the start the model is exactly the pretrained one (B = 0), and the update ΔW = (alpha/r)·B·A
has rank at most r. With r much smaller than in and out, the trainable parameters are a few
percent of the layer's. For inference the update is *merged*: W' = W + (alpha/r)·B·A, and the
model is an ordinary model again, with no extra cost per token. The adapters (only A and B) are
saved to their own small safetensors file and can be loaded onto a fresh copy of the base model.
"""

from __future__ import annotations

import json
import math
import numbers
from collections.abc import Sequence
from pathlib import Path

import torch
import torch.nn as nn


class LoRALinear(nn.Module):
    """A frozen ``nn.Linear`` plus a trainable low-rank update (alpha / r) · B · A."""

    def __init__(self, base: nn.Linear, r: int = 4, alpha: float = 8.0, dropout: float = 0.0):
        super().__init__()
        if isinstance(base, LoRALinear):
            raise ValueError(
                "this layer already has a LoRA adapter; train that one, or merge it "
                "first (merge_lora(model)) and then add a new one"
            )
        if (
            isinstance(r, bool)
            or not isinstance(r, numbers.Real)
            or not math.isfinite(r)
            or r != int(r)
            or r < 1
        ):
            raise ValueError(f"LoRA rank r must be a whole number >= 1, got {r!r}")
        r = int(r)
        if r > min(base.in_features, base.out_features):
            raise ValueError(
                f"rank {r} exceeds the layer's size {tuple(base.weight.shape)}; choose a smaller r"
            )
        if (
            isinstance(alpha, bool)
            or not isinstance(alpha, numbers.Real)
            or not math.isfinite(alpha)
        ):
            raise ValueError(
                f"LoRA alpha must be a finite number (the update is scaled by "
                f"alpha / r), got {alpha!r}"
            )
        if not 0 <= dropout < 1:
            raise ValueError(f"LoRA dropout must lie in [0, 1), got {dropout!r}")
        self.base = base
        for p in self.base.parameters():
            p.requires_grad_(False)
        self.r, self.alpha = r, alpha
        self.scaling = alpha / r  # keeps the update's size comparable when r changes
        # the adapters live where the frozen weight lives, in its precision (bf16, fp64, ...):
        # x @ Aᵀ needs one dtype on both sides
        like = dict(device=base.weight.device, dtype=base.weight.dtype)
        self.lora_A = nn.Parameter(torch.empty(r, base.in_features, **like))  # (r, in)
        self.lora_B = nn.Parameter(torch.zeros(base.out_features, r, **like))  # (out, r)
        # the same init as nn.Linear (and the paper's code)
        nn.init.kaiming_uniform_(self.lora_A, a=math.sqrt(5))
        self.dropout = nn.Dropout(dropout) if dropout > 0 else nn.Identity()

    @property
    def in_features(self) -> int:
        return self.base.in_features

    @property
    def out_features(self) -> int:
        return self.base.out_features

    @property
    def weight(self) -> torch.Tensor:
        """The effective weight W + (alpha/r)·B·A (for code that reads ``.weight`` directly)."""
        return self.base.weight + self.delta_weight()

    @property
    def bias(self):
        return self.base.bias

    def delta_weight(self) -> torch.Tensor:
        return (self.lora_B @ self.lora_A) * self.scaling  # (out, r) @ (r, in) -> (out, in)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # (..., in) -> (..., r) -> (..., out): never builds the full (out, in) update while training
        return self.base(x) + (self.dropout(x) @ self.lora_A.t() @ self.lora_B.t()) * self.scaling

    def merged(self) -> nn.Linear:
        """An ordinary nn.Linear whose weight is W + (alpha/r)·B·A."""
        out = nn.Linear(
            self.in_features,
            self.out_features,
            bias=self.base.bias is not None,
            device=self.base.weight.device,
            dtype=self.base.weight.dtype,
        )
        with torch.no_grad():
            out.weight.copy_(self.base.weight + self.delta_weight())
            if self.base.bias is not None:
                out.bias.copy_(self.base.bias)
        return out

    def extra_repr(self) -> str:
        return f"r={self.r}, alpha={self.alpha}"


def _set_child(model: nn.Module, name: str, module: nn.Module) -> None:
    parent_name, _, child = name.rpartition(".")
    parent = model.get_submodule(parent_name) if parent_name else model
    setattr(parent, child, module)


def attention_linears(model: nn.Module, targets: Sequence[str] = ("attn",)) -> list[str]:
    """Names of the nn.Linear layers whose qualified name contains one of ``targets`` (default:
    attention)."""
    return [
        name
        for name, m in model.named_modules()
        if isinstance(m, nn.Linear) and any(t in name for t in targets)
    ]


def add_lora(
    model: nn.Module,
    r: int = 4,
    alpha: float = 8.0,
    targets: Sequence[str] = ("attn",),
    dropout: float = 0.0,
) -> list[str]:
    """Freeze every weight of ``model`` and wrap the matching linear layers with LoRA; return their
    names.

    Only the A and B matrices are trainable afterwards.
    """
    adapted = [n for n, m in model.named_modules() if isinstance(m, LoRALinear)]
    if adapted:
        raise ValueError(
            f"this model already has LoRA adapters on {adapted[:4]}...; adding more "
            "would wrap them again. Train the ones it has, fold them in with "
            "merge_lora(model) first, or start from a fresh copy of the base model"
        )
    names = attention_linears(model, targets)
    if not names:
        linears = [n for n, m in model.named_modules() if isinstance(m, nn.Linear)]
        raise ValueError(
            f"no nn.Linear layer name contains any of {list(targets)}; the model's linear layers "
            f"are {linears[:8]}... pass targets that match the attention projections"
        )
    for p in model.parameters():
        p.requires_grad_(False)
    for name in names:
        _set_child(
            model, name, LoRALinear(model.get_submodule(name), r=r, alpha=alpha, dropout=dropout)
        )
    return names


def merge_lora(model: nn.Module) -> int:
    """Replace every LoRALinear by its merged nn.Linear, in place; return how many were merged."""
    names = [n for n, m in model.named_modules() if isinstance(m, LoRALinear)]
    for name in names:
        _set_child(model, name, model.get_submodule(name).merged())
    return len(names)


def count_parameters(model: nn.Module) -> tuple[int, int]:
    """(trainable, total) parameter counts; tied weights are counted once."""
    seen, trainable, total = set(), 0, 0
    for p in model.parameters():
        if id(p) in seen:
            continue
        seen.add(id(p))
        total += p.numel()
        trainable += p.numel() if p.requires_grad else 0
    return trainable, total


def lora_state_dict(model: nn.Module) -> dict[str, torch.Tensor]:
    """Only the adapter tensors (``...lora_A`` and ``...lora_B``)."""
    return {
        k: v.detach().cpu().contiguous()
        for k, v in model.state_dict().items()
        if k.endswith("lora_A") or k.endswith("lora_B")
    }


def save_adapters(model: nn.Module, path: str | Path) -> Path:
    """Save the LoRA adapters alone (a few KB) as safetensors, with r and alpha in its metadata."""
    from safetensors.torch import save_file

    from course.atomic import replacing

    layers = [m for m in model.modules() if isinstance(m, LoRALinear)]
    if not layers:
        raise ValueError(
            "this model has no LoRA layers to save; call add_lora(model) and train it first"
        )
    if len({(m.r, m.alpha) for m in layers}) > 1:
        raise ValueError(
            "the LoRA layers have different r or alpha, which one adapter file "
            "cannot record; add_lora once with one r and alpha"
        )
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    meta = {
        "r": str(layers[0].r),
        "alpha": str(layers[0].alpha),
        "layers": json.dumps(
            sorted(n for n, m in model.named_modules() if isinstance(m, LoRALinear))
        ),
    }
    with replacing(path) as tmp:  # a failed save leaves the previous adapters whole
        save_file(lora_state_dict(model), str(tmp), metadata=meta)
    return path


def load_adapters(
    model: nn.Module, path: str | Path, targets: Sequence[str] = ("attn",)
) -> nn.Module:
    """Wrap ``model`` (a fresh copy of the base) with LoRA as saved in ``path`` and load the
    adapters.

    The file names the layers it adapts (``save_adapters`` writes them), and exactly those are
    wrapped; ``targets`` is used only for files that do not name them."""
    from safetensors import safe_open

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(
            f"no adapter file at {path}; save one with save_adapters(model, path)"
        )
    with safe_open(str(path), framework="pt") as f:
        meta = f.metadata() or {}
        tensors = {k: f.get_tensor(k) for k in f.keys()}  # noqa: SIM118 (safe_open is not a dict)
    if "r" not in meta:
        raise ValueError(
            f"{path} has no LoRA metadata (r, alpha); was it written by save_adapters?"
        )
    layers = json.loads(meta.get("layers", "[]"))
    if not any(isinstance(m, LoRALinear) for m in model.modules()):
        if layers:
            found = [name for name in attention_linears(model, layers) if name in layers]
            if sorted(found) != layers:
                raise ValueError(
                    f"the adapters were trained on layers {layers[:4]}..., this model has "
                    f"{found[:4]}..."
                )
            targets = layers
        add_lora(model, r=int(meta["r"]), alpha=float(meta["alpha"]), targets=targets)
    missing = [k for k in lora_state_dict(model) if k not in tensors]
    if missing:
        raise ValueError(
            f"{path} lacks adapters for {missing[:4]}; it belongs to a different model"
        )
    device = next(model.parameters()).device
    model.load_state_dict({k: v.to(device) for k, v in tensors.items()}, strict=False)
    return model
