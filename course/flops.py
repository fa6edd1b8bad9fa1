"""How much of the GPU did training use? FLOPs per token, peak FLOP/s, and MFU.

Model FLOPs utilisation (MFU, PaLM paper, appendix B) = achieved model FLOP/s / the device's peak.
"Model" FLOPs count only the arithmetic the model needs, not recomputation, so MFU compares fairly
across implementations. For a decoder-only transformer, training costs per token

    6N + 12 * n_layer * n_embd * T

where N is the number of weights a token is multiplied with (2N forward: one multiply and one add
per weight; 4N backward: gradients for inputs and for weights) and the second term is attention's
QK^T and AV products over a context of T tokens, which involve no weights.
"""

from __future__ import annotations

import os
import re

import torch

# Dense (no 2:4 sparsity) bf16 tensor-core peaks from the vendors' datasheets, in FLOP/s. Matched as
# whole words in torch.cuda.get_device_name(), first match wins ("H100 PCIe" before "H100"; "A10"
# does not match the A10G, whose peak is lower and not in the table).
PEAK_BF16_FLOPS: list[tuple[str, float]] = [
    ("GH200", 989e12),
    ("H200", 989e12),
    ("H100 PCIe", 756e12),
    ("H100 NVL", 835e12),
    ("H100", 989e12),  # SXM
    ("H800", 989e12),
    ("B200", 2250e12),
    ("A100", 312e12),
    ("A800", 312e12),
    ("L40S", 362e12),
    ("L4", 121e12),
    ("A10", 125e12),
    ("RTX 4090", 165e12),
]


def peak_flops_for_name(name: str) -> float | None:
    """Peak bf16 FLOP/s for a GPU name such as 'NVIDIA H100 80GB HBM3'; None when not in the
    table."""
    for key, flops in PEAK_BF16_FLOPS:
        if re.search(rf"\b{re.escape(key)}\b", name, flags=re.IGNORECASE):
            return flops
    return None


def peak_flops(device: torch.device | str) -> float | None:
    """Peak bf16 FLOP/s of one ``device``: ``COURSE_PEAK_FLOPS`` if set, else the table for CUDA
    GPUs.

    The CPU has no entry (its peak depends on the core count, clock and vector width), so MFU is
    reported only on GPUs; set ``COURSE_PEAK_FLOPS=2e12`` (say) to get one anyway.
    """
    override = os.environ.get("COURSE_PEAK_FLOPS", "").strip()
    if override:
        try:
            return float(override)
        except ValueError:
            raise ValueError(
                f"COURSE_PEAK_FLOPS={override!r} is not a number; write e.g. 989e12"
            ) from None
    device = torch.device(device)
    if device.type != "cuda":
        return None
    return peak_flops_for_name(torch.cuda.get_device_name(device.index or 0))


def transformer_flops_per_token(n_params: int, n_layer: int, n_embd: int, seq_len: int) -> float:
    """Training FLOPs per token, PaLM appendix B: 6N + 12 * n_layer * n_embd * seq_len."""
    return 6 * n_params + 12 * n_layer * n_embd * seq_len


def model_flops_per_token(model: torch.nn.Module, seq_len: int) -> float:
    """FLOPs per trained token for any model.

    A model with a ``flops_per_token(seq_len)`` method answers itself (ModernGPT counts only its
    active experts). Otherwise: a config with ``n_layer`` and ``n_embd`` gets the transformer
    formula with N = all parameters (as nanoGPT does: the tied LM head is a real matmul); any other
    model gets 6N, the cost of its weights alone.
    """
    inner = getattr(model, "module", model)
    inner = getattr(inner, "_orig_mod", inner)
    if hasattr(inner, "flops_per_token"):
        return float(inner.flops_per_token(seq_len))
    n_params = sum(p.numel() for p in inner.parameters())
    config = getattr(inner, "config", None)
    n_layer, n_embd = getattr(config, "n_layer", None), getattr(config, "n_embd", None)
    if n_layer and n_embd:
        return float(transformer_flops_per_token(n_params, n_layer, n_embd, seq_len))
    return 6.0 * n_params


def mfu(flops_per_token: float, tokens_per_second: float, peak: float | None) -> float | None:
    """Model FLOPs utilisation in [0, 1]: achieved FLOP/s over peak FLOP/s (None without a peak)."""
    if not peak:
        return None
    return flops_per_token * tokens_per_second / peak
