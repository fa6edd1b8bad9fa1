"""An LLM is two files: export a course GPT to one weights file that ``run.py`` runs with NumPy.

The weights file is safetensors (readable by the ``safetensors`` library too):

    bytes 0-7        N, the header's length, a little-endian uint64
    bytes 8 .. 8+N   JSON: {name: {"dtype", "shape", "data_offsets": [start, end]}, ...,
                            "__metadata__": {"format", "version", "config", "tokenizer", "quant"}}
                     padded with spaces to a multiple of 8 bytes
    the rest         every tensor's bytes, little-endian, one after the other

Tensors get one naming scheme for both model families, the LLaMA names ModernGPT uses
(``embed_tokens.weight``, ``layers.0.self_attn.q_proj.weight``, ``layers.0.mlp.up_proj.weight`` ...;
the table in ``course.models.modern``), so ``run.py`` has a single code path: a ModernGPT exports
under its own names, a GPT's GPT-2 names are mapped onto them (:data:`GPT2_TO_LLAMA`). Version 1
of the format had names of its own (``tok_emb``, ``blocks.0.attn.q``); ``run.py`` refuses such a
file and asks for a new export.
Quantised weights are stored packed with a ``<name>.scale`` tensor beside them, and ``quant`` in the
metadata says how:

    int8   per output row (channel):  scale = max|w_row| / 127,  q = round(w / scale) in [-127, 127]
    int4   per group of 32 inputs:    scale = max|w_group| / 7,  q = round(w / scale) in [-8, 7],
           stored as q + 8, two weights per byte (low nibble first); scales in float16
    bf16   the top 16 bits of each float32, rounded to nearest even (no scale)

Round-to-nearest with a symmetric grid: the error of each weight is at most scale / 2.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np
import torch

from course.atomic import replacing
from course.two_files import run as runner

FORMAT, VERSION = runner.FORMAT, runner.VERSION
SCHEMES = ("fp32", "bf16", "int8", "int4")
RUNNER = Path(runner.__file__)


# ---------------------------------------------------------------------------- quantisation
def quantise_int8(w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(out, in) float32 -> int8 (out, in) and one float32 scale per row (out,)."""
    scale = np.abs(w).max(axis=1) / 127.0
    scale = np.where(scale == 0, 1.0, scale).astype(np.float32)  # an all-zero row: any scale works
    q = np.clip(np.round(w / scale[:, None]), -127, 127).astype(np.int8)
    return q, scale


def quantise_int4(w: np.ndarray, group: int = 32) -> tuple[np.ndarray, np.ndarray]:
    """(out, in) float32 -> uint8 (out, in / 2), two 4-bit weights a byte, and float16 scales
    (out, in / group): 4 + 16 / group bits per weight, 4.5 for groups of 32."""
    rows, cols = w.shape
    if cols % group or group % 2:
        raise ValueError(
            f"int4 groups of {group} must tile the {cols} inputs of each row; pick an "
            f"even group that divides {cols}, or keep this matrix in int8"
        )
    grouped = w.reshape(rows, cols // group, group)
    exact = np.abs(grouped).max(axis=2) / 7.0
    exact = np.where(exact == 0, 1.0, exact)
    # scales in float16 (half a bit per weight, not one): rounded up, so no |w / scale| exceeds 7
    scale = exact.astype(np.float16)
    scale = np.where(
        scale.astype(np.float64) < exact, np.nextafter(scale, np.float16(np.inf)), scale
    )
    q = np.clip(np.round(grouped / scale[:, :, None]), -8, 7).astype(np.int16) + 8  # 0 .. 15
    q = q.reshape(rows, cols // 2, 2).astype(np.uint8)
    return q[:, :, 0] | (q[:, :, 1] << 4), scale


def to_bf16(w: np.ndarray) -> np.ndarray:
    """float32 -> the bits of bfloat16 (uint16), rounded to nearest even, as torch rounds."""
    bits = np.ascontiguousarray(w, dtype=np.float32).view(np.uint32).astype(np.uint64)
    return ((bits + 0x7FFF + ((bits >> 16) & 1)) >> 16).astype(np.uint16)


def quantise(
    tensors: dict[str, np.ndarray],
    scheme: str,
    *,
    group: int = 32,
    which: Callable[[str], bool] | Iterable[str] | None = None,
):
    """Store the weight matrices of ``tensors`` in ``scheme``; return (stored tensors, quant
    metadata).

    ``which`` picks the matrices (a set of names or a predicate); by default every 2-D weight.
    Vectors (norms, biases) stay float32: they are a tiny share of the bytes and sensitive.
    """
    if scheme not in SCHEMES:
        raise ValueError(f"scheme {scheme!r} is not one of {SCHEMES}")
    if which is None:
        chosen = lambda name: True  # noqa: E731
    else:
        chosen = which if callable(which) else set(which).__contains__
    stored, quant = {}, {}
    for name, w in tensors.items():
        if scheme == "fp32" or w.ndim != 2 or not chosen(name):
            stored[name] = w
        elif scheme == "bf16":
            stored[name], quant[name] = to_bf16(w), {"kind": "bf16"}
        elif scheme == "int8":
            stored[name], stored[name + ".scale"] = quantise_int8(w)
            quant[name] = {"kind": "int8"}
        else:
            stored[name], stored[name + ".scale"] = quantise_int4(w, group)
            quant[name] = {"kind": "int4", "group": group}
    return stored, quant


def dequantise(stored: dict[str, np.ndarray], quant: dict) -> dict[str, np.ndarray]:
    """Float32 tensors back from ``quantise``'s output (the scales are folded in and dropped)."""
    out = {}
    for name, t in stored.items():
        if name.endswith(".scale") and name[:-6] in quant:
            continue
        out[name] = (
            runner.dequantise(t, stored.get(name + ".scale"), quant[name]) if name in quant else t
        )
    return out


# ---------------------------------------------------------------------------- model -> tensors
# GPT-2's module names (course.models.gpt) -> the LLaMA names of the file. Besides these,
# "blocks.i." becomes "layers.i.", and attn.c_attn, the fused (3C, C) query/key/value matrix, is
# split into self_attn.q_proj, k_proj and v_proj.
GPT2_TO_LLAMA = {
    "wte": "embed_tokens",
    "wpe": "embed_positions",
    "ln_1": "input_layernorm",
    "attn.c_proj": "self_attn.o_proj",
    "ln_2": "post_attention_layernorm",
    "mlp.c_fc": "mlp.up_proj",
    "mlp.c_proj": "mlp.down_proj",
    "ln_f": "norm",
    "lm_head": "lm_head",
}


def _numpy(t: torch.Tensor) -> np.ndarray:
    return t.detach().to("cpu", torch.float32).numpy().copy()


def _gpt2_tensors(params: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """A GPT's state dict under the file's LLaMA names (``blocks.0.ln_1.weight`` ->
    ``layers.0.input_layernorm.weight``)."""
    out = {}
    for name, w in params.items():
        module, kind = name.rsplit(".", 1)  # e.g. "blocks.0.attn.c_attn", "weight"
        prefix = ""
        if module.startswith("blocks."):
            _, i, module = module.split(".", 2)
            prefix = f"layers.{i}."
        if module == "attn.c_attn":  # (3C, ...) -> 3 x (C, ...)
            for letter, part in zip("qkv", np.split(w, 3, axis=0)):
                out[f"{prefix}self_attn.{letter}_proj.{kind}"] = part.copy()
        else:
            out[f"{prefix}{GPT2_TO_LLAMA[module]}.{kind}"] = w
    return out


def model_tensors(model: torch.nn.Module) -> tuple[dict[str, np.ndarray], dict]:
    """The course's GPT (notebook 07) or ModernGPT (notebook 08) as named float32 arrays +
    config."""
    if not (hasattr(model, "wte") or hasattr(model, "embed_tokens")):
        raise TypeError(
            f"cannot export a {type(model).__name__}: export course.models.gpt.GPT or "
            "course.models.modern.ModernGPT"
        )
    params = {k: _numpy(v) for k, v in model.state_dict().items()}
    c = model.config
    if hasattr(model, "wte"):  # course.models.gpt.GPT
        gelus = {block.mlp.gelu_approximate for block in model.blocks}
        if gelus != {"none"}:  # e.g. OpenAI's GPT-2 loaded by course.pretrained uses the tanh form
            raise ValueError(
                f"run.py computes the exact GELU, but this model's MLPs use {sorted(gelus)}; "
                "export a model trained with the course's GPT (exact GELU)"
            )
        config = dict(
            n_kv_head=c.n_head,
            norm="layernorm",
            norm_eps=model.ln_f.eps,
            mlp="gelu",
            position="learned",
            rope_base=10000.0,
        )
        tied = model.lm_head.weight is model.wte.weight
        out = _gpt2_tensors(params)
    else:  # course.models.modern.ModernGPT
        if c.n_expert:
            raise ValueError(
                "run.py has no mixture-of-experts layer; export a dense model (n_expert=0)"
            )
        config = dict(
            n_kv_head=c.kv_heads,
            norm=c.norm,
            norm_eps=c.norm_eps,
            mlp=c.mlp,
            position=c.position,
            rope_base=c.rope_base,
        )
        tied = model.lm_head.weight is model.embed_tokens.weight
        out = params  # ModernGPT's names are the file's names
    if tied:
        out.pop("lm_head.weight", None)  # run.py reads the logits out with embed_tokens.weight
    config.update(
        vocab_size=c.vocab_size,
        block_size=c.block_size,
        n_layer=c.n_layer,
        n_head=c.n_head,
        n_embd=c.n_embd,
    )
    return out, config


# ---------------------------------------------------------------------------- the file
_DTYPE_NAMES = {np.dtype(v): k for k, v in runner.DTYPES.items()}


def write(
    path: str | Path,
    tensors: dict[str, np.ndarray],
    config: dict,
    chars: list[str],
    quant: dict | None = None,
) -> int:
    """Write the weights file; return its size in bytes."""
    header, offset = {}, 0
    for name in sorted(tensors):
        t = tensors[name]
        header[name] = {
            "dtype": _DTYPE_NAMES[t.dtype],
            "shape": list(t.shape),
            "data_offsets": [offset, offset + t.nbytes],
        }
        offset += t.nbytes
    header["__metadata__"] = {
        "format": FORMAT,
        "version": VERSION,
        "config": json.dumps(config),
        "tokenizer": json.dumps(list(chars)),
        "quant": json.dumps(quant or {}),
    }
    text = json.dumps(header, ensure_ascii=False).encode("utf-8")
    text += b" " * (-len(text) % 8)  # pad so the data starts 8-byte aligned
    path = Path(path)
    with replacing(path) as tmp, open(tmp, "wb") as f:  # a failed write keeps the old file whole
        f.write(len(text).to_bytes(8, "little"))
        f.write(text)
        for name in sorted(tensors):
            t = tensors[name]
            f.write(np.ascontiguousarray(t, dtype=t.dtype.newbyteorder("<")).tobytes())
    return path.stat().st_size


def read(path: str | Path) -> tuple[dict[str, np.ndarray], dict]:
    """(tensors as stored, metadata {"config", "tokenizer", "quant"}): run.py's own reader."""
    return runner.read_weights(path)


def export(
    model: torch.nn.Module,
    chars: list[str],
    path: str | Path,
    scheme: str = "fp32",
    *,
    group: int = 32,
    which=None,
) -> int:
    """Write ``model`` (and its character vocabulary) to ``path`` in ``scheme``; return the
    bytes."""
    tensors, config = model_tensors(model)
    stored, quant = quantise(tensors, scheme, group=group, which=which)
    return write(path, stored, config, chars, quant)


def write_runner(folder: str | Path) -> Path:
    """Copy run.py into ``folder`` (beside the weights); return its path."""
    target = Path(folder) / "run.py"
    with replacing(target) as tmp:
        shutil.copyfile(RUNNER, tmp)
    return target
