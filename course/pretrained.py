"""Pretrained GPTs: the course's own Shakespeare GPT (notebook 07's, for later lessons), OpenAI's
GPT-2 in the course's own GPT, and the course's GPT as a Hugging Face model.

``model, tokenizer = pretrained_or_train()`` loads the character-level Shakespeare GPT that notebook
07 saved in the user cache, or trains a quick one when there is none (later notebooks need it).

The GPT of notebook 07 has GPT-2's architecture and GPT-2's parameter names, so the released
weights fit it once three details are taken care of:

* GPT-2 was written in TensorFlow with ``Conv1D`` layers, and Hugging Face kept them: a Conv1D
  stores its weight as (in, out) and computes ``x @ W + b``, where ``nn.Linear`` stores (out, in)
  and computes ``x @ Wᵀ + b``. So ``c_attn``, ``c_proj`` and ``c_fc`` weights are transposed.
* GPT-2's MLP uses the tanh approximation of GELU (Hugging Face calls it ``gelu_new``); the course
  uses the exact erf form. The loaded model's MLPs are switched to the approximation
  (``MLP.gelu_approximate = "tanh"``), without which the logits differ by about 1e-3.
* The keys start with ``transformer.`` (or nothing) and say ``h.0`` where the course says
  ``blocks.0``; the causal-mask buffers of old checkpoints (``attn.bias``) are not weights.

``load_gpt2()`` downloads ``openai-community/gpt2`` (124M parameters, 548 MB) from the Hugging Face
hub into the course's user cache at a pinned revision, checks the weights' sha256, and returns a
``course.models.gpt.GPT``; ``gpt2_tokenizer()`` returns its byte-level BPE (GPT-2's own
``tokenizer.json``, run by the ``tokenizers`` library). ``export_gpt2(model, folder)`` writes any
course GPT as a ``transformers`` ``GPT2LMHeadModel`` folder, for pipelines or the hub.

>>> model = load_gpt2()                          # needs the internet once, then the cache
>>> tokenizer = gpt2_tokenizer()
>>> ids = torch.tensor([tokenizer.encode("The meaning of life is")])
>>> tokenizer.decode(generate(model, ids, 20, top_k=40)[0].tolist())
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn as nn

from course.checkpoint import CheckpointError, load_checkpoint, read_config, save_checkpoint
from course.config import budget
from course.data import cache_dir, load
from course.device import get_device
from course.lm_data import batcher, train_val_split
from course.models.gpt import GPT, GPTConfig
from course.text import CharTokenizer
from course.train import TrainConfig, fit

GPT2_REPO = "openai-community/gpt2"


@dataclass(frozen=True)
class PinnedWeights:
    """A hub repository at a fixed commit, and the sha256 and size of its weights file there."""

    revision: str
    sha256: str
    size: int


# The revision is a commit of the hub repository, so these bytes never change under us.
PINNED = {
    GPT2_REPO: PinnedWeights(
        revision="607a30d783dfa663caf39e06633721c8d4cfcd7e",
        sha256="248dfc3911869ec493c76e65bf2fcf7f615828b0254c12b473182f0f81d3a707",
        size=548_105_171,
    ),
}
WEIGHTS, CONFIG, TOKENIZER = "model.safetensors", "config.json", "tokenizer.json"
# GPT-2's activation names in transformers: the first two are the tanh approximation
TANH_GELUS, EXACT_GELUS = ("gelu_new", "gelu_pytorch_tanh"), ("gelu",)


class PretrainedUnavailable(RuntimeError):
    """The pretrained files are neither in the cache nor downloadable now."""


class PretrainedChecksumError(RuntimeError):
    """A downloaded weights file is not the one the course pins."""


# ----------------------------------------------------------------------------- files
def hub_cache() -> Path:
    """Where hub downloads go: ``huggingface/`` inside the course's user cache."""
    return cache_dir() / "huggingface"


def _offline() -> bool:
    flags = (os.environ.get("COURSE_OFFLINE", ""), os.environ.get("HF_HUB_OFFLINE", ""))
    return any(f.strip().lower() in {"1", "true", "yes", "on"} for f in flags)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _verify(path: Path, pinned: PinnedWeights) -> None:
    """Check size and sha256 of a pinned weights file; a small stamp beside the cache remembers a
    file already checked (same path, size and mtime), so 548 MB are hashed once, not every load."""
    stat = path.stat()
    stamp = hub_cache() / f"verified-{pinned.sha256[:16]}.json"
    seen = {"path": str(path.resolve()), "size": stat.st_size, "mtime_ns": stat.st_mtime_ns}
    try:
        if json.loads(stamp.read_text()) == seen:
            return
    except (OSError, ValueError):
        pass
    if stat.st_size != pinned.size or _sha256(path) != pinned.sha256:
        raise PretrainedChecksumError(
            f"{path} is not the pinned GPT-2 weights (expected {pinned.size:,} bytes with sha256 "
            f"{pinned.sha256[:12]}...): a broken or altered download. Delete {hub_cache()} and "
            "call load_gpt2() again"
        )
    stamp.parent.mkdir(parents=True, exist_ok=True)
    tmp = stamp.with_suffix(".part")
    tmp.write_text(json.dumps(seen))
    os.replace(tmp, stamp)


def _hub_unreachable() -> str | None:
    """Why the hub cannot be reached (its host name does not resolve), or None. Checked before a
    download because the hub client retries a dead network for about half a minute."""
    import socket
    from urllib.parse import urlparse

    from huggingface_hub import constants

    if any(os.environ.get(v) for v in ("HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy")):
        return None  # behind a proxy the name may only resolve there: let the client try
    host = urlparse(constants.ENDPOINT).hostname or "huggingface.co"
    try:
        socket.getaddrinfo(host, 443)
    except OSError as error:
        return f"no network: {host} does not resolve ({error})"
    return None


def hub_file(repo: str, filename: str, *, revision: str | None = None) -> Path:
    """One file of a hub repository, from the course's cache or downloaded into it (with a
    progress bar). Offline (``COURSE_OFFLINE=1``, ``HF_HUB_OFFLINE=1`` or no network) only the
    cache is read, and a missing file fails at once with what to do."""
    pinned = PINNED.get(repo)
    revision = revision or (pinned.revision if pinned else "main")
    try:
        from huggingface_hub import hf_hub_download
    except ImportError:
        raise PretrainedUnavailable(
            "loading from the Hugging Face hub needs the huggingface_hub "
            "package: pip install huggingface_hub"
        ) from None

    def fetch(local_files_only: bool) -> Path:
        return Path(
            hf_hub_download(
                repo,
                filename,
                revision=revision,
                cache_dir=hub_cache(),
                local_files_only=local_files_only,
            )
        )

    why = None
    try:
        path = fetch(local_files_only=True)  # a commit's files never change: the cache suffices
    except Exception:  # not cached (yet)
        why = (
            "COURSE_OFFLINE (or HF_HUB_OFFLINE) is set and the file is not in the cache"
            if _offline()
            else _hub_unreachable()
        )
        if why is None:
            try:
                path = fetch(local_files_only=False)
            except Exception as error:  # no such repo or file, a refused or broken download, ...
                why = f"the download failed ({type(error).__name__}: {error})"
    if why is not None:
        raise PretrainedUnavailable(
            f"Could not get {filename} of {repo} at revision {revision[:12]}: {why}. Run once with "
            f"the internet (the files are cached in {hub_cache()}), or download the repository's "
            f"{CONFIG}, {WEIGHTS} and {TOKENIZER} to a folder and pass the folder instead: "
            "load_gpt2('/path/to/folder')"
        )
    if pinned is not None and filename == WEIGHTS and revision == pinned.revision:
        _verify(path, pinned)
    return path


def _local_or_hub(source: str | Path, filename: str, revision: str | None) -> Path:
    folder = Path(source).expanduser()
    if folder.is_dir():
        path = folder / filename
        if not path.is_file():
            raise FileNotFoundError(
                f"{folder} has no {filename}; a GPT-2 folder holds {CONFIG}, "
                f"{WEIGHTS} and {TOKENIZER} (export_gpt2 writes the first two)"
            )
        return path
    if isinstance(source, Path) or str(source).startswith((".", "/", "~")):
        raise FileNotFoundError(
            f"no folder at {source}; pass an existing folder, or a hub "
            f"repository name such as {GPT2_REPO!r}"
        )
    return hub_file(str(source), filename, revision=revision)


# ------------------------------------------------------------------------ Hugging Face -> course
def config_from_hf(hf: dict) -> tuple[GPTConfig, str, float]:
    """The course config for a transformers ``GPT2Config`` (as a dict), with the GELU form and the
    LayerNorm eps; refuses the GPT-2 options the course's GPT does not have."""
    if hf.get("model_type", "gpt2") != "gpt2":
        raise ValueError(
            f"this is a {hf.get('model_type')!r} model, not GPT-2; load_gpt2 maps "
            "GPT-2's architecture only"
        )
    activation = hf.get("activation_function", "gelu_new")
    if activation not in TANH_GELUS + EXACT_GELUS:
        raise ValueError(
            f"activation_function {activation!r} is not a GELU; the course's GPT has "
            f"only {TANH_GELUS + EXACT_GELUS}"
        )
    n_embd = hf["n_embd"]
    unsupported = {
        "n_inner": hf.get("n_inner") not in (None, 4 * n_embd),
        "scale_attn_weights": hf.get("scale_attn_weights", True) is not True,
        "scale_attn_by_inverse_layer_idx": bool(hf.get("scale_attn_by_inverse_layer_idx", False)),
        "add_cross_attention": bool(hf.get("add_cross_attention", False)),
        "tie_word_embeddings": hf.get("tie_word_embeddings", True) is not True,
    }
    bad = [name for name, differs in unsupported.items() if differs]
    if bad:
        raise ValueError(
            f"this GPT-2 sets {bad}, which the course's GPT does not implement "
            "(it has a 4x MLP, 1/sqrt(d) attention scaling and tied embeddings)"
        )
    config = GPTConfig(
        vocab_size=hf["vocab_size"],
        block_size=hf["n_positions"],
        n_layer=hf["n_layer"],
        n_head=hf["n_head"],
        n_embd=n_embd,
        dropout=0.0,
        bias=True,
    )  # dropout 0: for inference; set it to fine-tune
    gelu = "tanh" if activation in TANH_GELUS else "none"
    return config, gelu, float(hf.get("layer_norm_epsilon", 1e-5))


def _course_name(key: str) -> str | None:
    """Course parameter name for a transformers GPT-2 key, or None for a non-weight buffer."""
    key = key.removeprefix("transformer.")
    if key.endswith(("attn.bias", "attn.masked_bias")) and ".c_attn." not in key:
        return None  # old checkpoints' causal-mask buffers: the course builds its mask itself
    if key.startswith("h."):
        return "blocks." + key[2:]
    return key


def _is_conv1d(name: str) -> bool:
    return name.endswith(("c_attn.weight", "c_proj.weight", "c_fc.weight"))


def gpt_from_hf(state: dict[str, torch.Tensor], hf_config: dict) -> GPT:
    """A course GPT holding the weights of a transformers GPT-2 ``state`` dict (Conv1D weights
    transposed to nn.Linear's (out, in)), with GPT-2's GELU and LayerNorm eps."""
    config, gelu, eps = config_from_hf(hf_config)
    model = GPT(config)
    mapped = {}
    for key, tensor in state.items():
        name = _course_name(key)
        if name is None or name == "lm_head.weight":
            continue
        mapped[name] = tensor.t() if _is_conv1d(name) else tensor  # Conv1D (in, out) -> (out, in)
    head = state.get("lm_head.weight")
    if head is not None and not torch.equal(head, mapped.get("wte.weight", head)):
        raise ValueError(
            "this GPT-2's LM head is not its token embedding; the course's GPT ties "
            "them (one matrix reads and writes tokens)"
        )
    mapped["lm_head.weight"] = mapped.get("wte.weight")
    expected = model.state_dict()
    missing = sorted(set(expected) - set(mapped))
    unexpected = sorted(set(mapped) - set(expected))
    if missing or unexpected:
        raise ValueError(
            f"the weights do not fit GPT-2's layout: missing {missing[:4]}, "
            f"unexpected {unexpected[:4]}"
        )
    for name, tensor in mapped.items():
        if tuple(tensor.shape) != tuple(expected[name].shape):
            raise ValueError(
                f"{name} has shape {tuple(tensor.shape)} in the file but "
                f"{tuple(expected[name].shape)} in a GPT built from its config.json"
            )
    model.load_state_dict(mapped)  # copies into the model's fp32 parameters
    for module in model.modules():
        if isinstance(module, nn.LayerNorm):
            module.eps = eps
    for block in model.blocks:
        block.mlp.gelu_approximate = gelu
    return model.eval()


def load_gpt2(
    source: str | Path = GPT2_REPO,
    *,
    revision: str | None = None,
    device: torch.device | str | None = None,
) -> GPT:
    """GPT-2 as a ``course.models.gpt.GPT``: ``source`` is a hub repository (default
    ``openai-community/gpt2``, 124M parameters, pinned and checksummed) or a local folder holding
    ``config.json`` and ``model.safetensors`` (what ``export_gpt2`` or ``save_pretrained`` write).
    Raises ``PretrainedUnavailable`` offline when the files are not cached."""
    from safetensors.torch import load_file

    config_path = _local_or_hub(source, CONFIG, revision)
    try:
        hf_config = json.loads(config_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise ValueError(f"{config_path} is not a readable JSON config ({error})") from None
    if not isinstance(hf_config, dict):
        raise ValueError(f"{config_path} holds {type(hf_config).__name__}, not a JSON object")
    model = gpt_from_hf(load_file(str(_local_or_hub(source, WEIGHTS, revision))), hf_config)
    return model.to(device) if device is not None else model


def load_gpt2_if_available(device: torch.device | str | None = None):
    """``(model, tokenizer)`` of GPT-2 124M, or None with the reason printed: in FAST mode (a 548 MB
    download and a 124M-parameter model do not fit a one-minute run) and offline without a cached
    copy. For optional notebook sections: ``real = load_gpt2_if_available(device)``."""
    from course.config import budget

    if not budget(full=True, fast=False):
        print(
            "[skipped in FAST mode: GPT-2 is a 548 MB download and 124M parameters; "
            "unset COURSE_FAST to run this section]"
        )
        return None
    try:
        return load_gpt2(device=device), gpt2_tokenizer()
    except (PretrainedUnavailable, PretrainedChecksumError) as error:
        print(f"[skipped: {error}]")
        return None


# ----------------------------------------------------------------------------- the tokenizer
class GPT2Tokenizer:
    """GPT-2's byte-level BPE (50,257 tokens) read from its ``tokenizer.json`` by the ``tokenizers``
    library; the interface of the course's ``BPETokenizer`` (encode, decode, tokens, vocab_size)."""

    def __init__(self, path: str | Path):
        try:
            from tokenizers import Tokenizer
        except ImportError:
            raise ImportError(
                "GPT-2's tokenizer needs the tokenizers package: pip install tokenizers"
            ) from None
        self.path = Path(path)
        self._tokenizer = Tokenizer.from_file(str(self.path))

    @property
    def vocab_size(self) -> int:
        return self._tokenizer.get_vocab_size()

    def __len__(self) -> int:
        return self.vocab_size

    def encode(self, text: str) -> list[int]:
        return self._tokenizer.encode(text, add_special_tokens=False).ids

    def decode(self, ids) -> str:
        ids = ids.tolist() if isinstance(ids, torch.Tensor) else list(ids)
        return self._tokenizer.decode(ids, skip_special_tokens=False)

    def tokens(self, text: str) -> list[str]:
        """Each token of ``text`` as the text it stands for (for plots and bertviz)."""
        return [self.decode([i]) for i in self.encode(text)]


def gpt2_tokenizer(source: str | Path = GPT2_REPO, *, revision: str | None = None) -> GPT2Tokenizer:
    """GPT-2's tokenizer from the hub (cached like the weights) or from a local folder."""
    return GPT2Tokenizer(_local_or_hub(source, TOKENIZER, revision))


# ------------------------------------------------------------------------ course -> Hugging Face
def hf_config_from_gpt(model: GPT) -> dict:
    """The transformers ``GPT2Config`` fields that describe ``model``."""
    c = model.config
    gelus = {block.mlp.gelu_approximate for block in model.blocks}
    epses = {m.eps for m in model.modules() if isinstance(m, nn.LayerNorm)}
    if len(gelus) > 1 or len(epses) > 1:
        raise ValueError(
            "the blocks mix GELU forms or LayerNorm eps values; GPT-2's config has one of each"
        )
    return dict(
        vocab_size=c.vocab_size,
        n_positions=c.block_size,
        n_embd=c.n_embd,
        n_layer=c.n_layer,
        n_head=c.n_head,
        n_inner=None,
        activation_function="gelu_new" if gelus == {"tanh"} else "gelu",
        layer_norm_epsilon=epses.pop(),
        resid_pdrop=c.dropout,
        embd_pdrop=c.dropout,
        attn_pdrop=c.dropout,
        tie_word_embeddings=True,
    )


def _hf_name(name: str) -> str:
    """transformers' GPT-2 name of a course name: blocks.0.x -> transformer.h.0.x"""
    return "transformer." + ("h." + name[len("blocks.") :] if name.startswith("blocks.") else name)


def hf_state_from_gpt(model: GPT) -> dict[str, torch.Tensor]:
    """``model``'s weights under transformers' GPT-2 names, Linear weights transposed to Conv1D's
    (in, out); the biases of a ``bias=False`` model are written as zeros (GPT-2 always has them)."""
    if type(model) is not GPT:
        raise ValueError(f"export_gpt2 maps the course's GPT only, got {type(model).__name__}")
    state = {}
    for name, tensor in model.state_dict().items():
        if "lora_" in name or ".base." in name:
            raise ValueError(
                "this model carries LoRA adapters; fold them in with "
                "course.align.lora.merge_lora(model) before exporting"
            )
        if name == "lm_head.weight":
            continue  # tied to wte: transformers re-ties it on load
        tensor = tensor.detach().float().cpu()
        state[_hf_name(name)] = (tensor.t() if _is_conv1d(name) else tensor).contiguous()
    for name, module in model.named_modules():  # GPT-2 has every bias; the course may not
        if name == "lm_head" or not isinstance(module, (nn.Linear, nn.LayerNorm)):
            continue
        if module.bias is None:
            width = module.weight.shape[0]  # out_features, or the LayerNorm's width
            state[_hf_name(name) + ".bias"] = torch.zeros(width)
    return state


def export_gpt2(model: GPT, folder: str | Path, *, tokenizer: GPT2Tokenizer | None = None) -> Path:
    """Write ``model`` as a transformers ``GPT2LMHeadModel`` folder (``config.json`` and
    ``model.safetensors``; plus ``tokenizer.json`` for a ``GPT2Tokenizer``), so that
    ``GPT2LMHeadModel.from_pretrained(folder)`` gives the same logits. Files are written beside
    the folder first and moved in one by one; nothing else in the folder is touched.
    The course's own tokenizers have no transformers equivalent and are not exported."""
    try:
        from transformers import GPT2Config, GPT2LMHeadModel
    except ImportError:
        raise ImportError("export_gpt2 needs transformers: pip install transformers") from None
    folder = Path(folder).expanduser()
    if folder.exists() and not folder.is_dir():
        raise FileExistsError(
            f"{folder} is a file; export_gpt2 writes a folder, choose another path"
        )
    hf_model = GPT2LMHeadModel(GPT2Config(**hf_config_from_gpt(model)))
    missing, unexpected = hf_model.load_state_dict(hf_state_from_gpt(model), strict=False)
    missing = [k for k in missing if k != "lm_head.weight" and not k.endswith("attn.bias")]
    if missing or unexpected:
        raise ValueError(
            f"the GPT-2 layout does not fit: missing {missing[:4]}, unexpected {unexpected[:4]}"
        )
    hf_model.tie_weights()
    folder.mkdir(parents=True, exist_ok=True)
    # staged inside the folder, on the same disk, so each os.replace below is atomic
    staging = Path(tempfile.mkdtemp(prefix=".export-", dir=folder))
    try:
        hf_model.save_pretrained(staging)
        if tokenizer is not None:
            shutil.copyfile(tokenizer.path, staging / TOKENIZER)
        for path in sorted(staging.iterdir()):
            os.replace(path, folder / path.name)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return folder


# ----------------------------------------------------- the course's own pretrained Shakespeare GPT
# The character-level Shakespeare GPT of notebook 07, in the two sizes the course uses.
SHAKESPEARE_FULL = dict(block_size=128, n_layer=4, n_head=4, n_embd=128, dropout=0.0, bias=True)
SHAKESPEARE_FAST = dict(block_size=64, n_layer=2, n_head=2, n_embd=64, dropout=0.0, bias=True)
CHECKPOINT_NAME = "gpt-shakespeare-char"


def checkpoint_path(name: str = CHECKPOINT_NAME):
    """Where notebook 07 keeps its pretrained GPT: the user cache (never inside the repository)."""
    return cache_dir() / "checkpoints" / name


def pretrained_or_train(
    name: str = CHECKPOINT_NAME,
    *,
    sizes: dict | None = None,
    steps: int | None = None,
    device: torch.device | str | None = None,
    verbose: bool = True,
):
    """The character-level Shakespeare GPT and its tokenizer: ``model, tokenizer =
    pretrained_or_train()``.

    Loads the checkpoint notebook 07 saved under ``checkpoint_path(name)`` when its config and
    vocabulary match what is asked for (``sizes``: GPTConfig fields except vocab_size; default
    SHAKESPEARE_FULL, or SHAKESPEARE_FAST in FAST mode). Otherwise it says so and trains one now
    (``steps``: default 800, or 150 in FAST mode, as in notebook 07), saves it there, and returns
    it."""
    device = torch.device(device) if device is not None else get_device()
    text = load("tinyshakespeare")
    tokenizer = CharTokenizer.fit(text)
    config = GPTConfig(
        vocab_size=tokenizer.vocab_size,
        **(sizes or budget(full=SHAKESPEARE_FULL, fast=SHAKESPEARE_FAST)),
    )
    path = checkpoint_path(name)
    reason = "none was found"
    tokenizer_file = path / "tokenizer.json"
    if path.is_dir():
        try:
            if read_config(path) != json_ready(config) or not tokenizer_file.is_file():
                reason = f"the one there has another config ({read_config(path)})"
            elif CharTokenizer.load(tokenizer_file).chars != tokenizer.chars:
                reason = "the one there was trained on another text (different characters)"
            else:
                model = GPT(config).to(device)
                load_checkpoint(path, model, config=config, device=device)
                if verbose:
                    print(
                        f"Loaded the pretrained GPT from {path} ({model.num_parameters():,} "
                        "parameters)"
                    )
                return model.eval(), tokenizer
        except (CheckpointError, ValueError) as error:
            reason = f"it could not be loaded ({error})"
    steps = steps or budget(full=800, fast=150)
    if verbose:
        print(
            f"No usable pretrained GPT at {path}: {reason}. Training a quick one now ({steps} "
            "steps); "
            "run notebook 07 for the full model."
        )
    train_ids, val_ids = train_val_split(tokenizer.encode(text), 0.1)
    seed = torch.initial_seed()
    torch.manual_seed(0)
    model = GPT(config)
    batch = 32 if config.block_size >= 128 else 16
    fit(
        model,
        batcher(train_ids, batch, config.block_size, seed=0),
        val_batches=batcher(val_ids, batch, config.block_size, seed=1),
        device=device,
        progress=verbose,
        plot=False,
        config=TrainConfig(
            steps=steps, lr=2e-3, warmup_steps=50, weight_decay=0.1, eval_every=max(1, steps // 5)
        ),
        title="quick GPT pretraining",
    )
    torch.manual_seed(seed)
    save_checkpoint(path, model, config)
    tokenizer.save(tokenizer_file)
    return model.eval(), tokenizer


def json_ready(config: GPTConfig) -> dict:
    """The config as checkpoint.read_config returns it (a plain dict)."""
    return dataclasses.asdict(config)
