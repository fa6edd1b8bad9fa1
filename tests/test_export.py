"""course.export and run.py: the file format, quantisation error bounds, and a runner that needs
only NumPy and reproduces PyTorch's logits and greedy tokens."""

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
import torch

from course import export
from course.generate import generate
from course.models.gpt import GPT, GPTConfig
from course.models.modern import ModernConfig, ModernGPT
from course.two_files import run

ROOT = Path(__file__).resolve().parent.parent
CHARS = [chr(c) for c in range(32, 32 + 40)]


def tiny_gpt(**changes):
    torch.manual_seed(0)
    return GPT(
        GPTConfig(
            **{**dict(vocab_size=40, block_size=16, n_layer=2, n_head=2, n_embd=32), **changes}
        )
    ).eval()


def tiny_modern(**changes):
    torch.manual_seed(0)
    sizes = dict(block_size=16, n_layer=2, n_head=4, n_embd=32, mlp_hidden=64)
    return ModernGPT(ModernConfig.llama_style(40, **{**sizes, **changes})).eval()


MODELS = {
    "gpt": tiny_gpt,
    "gpt-no-bias": lambda: tiny_gpt(bias=False),
    "llama-style": tiny_modern,
    "llama-style-mqa": lambda: tiny_modern(n_kv_head=1),
    "modern-layernorm-gelu-learned": lambda: ModernGPT(
        ModernConfig(vocab_size=40, block_size=16, n_layer=2, n_head=2, n_embd=32, bias=False)
    ).eval(),
}


# ---------------------------------------------------------------------------- the file
def test_fp32_round_trip_is_bit_exact_and_the_file_is_safetensors(tmp_path):
    model = tiny_gpt()
    tensors, config = export.model_tensors(model)
    size = export.write(tmp_path / "m.safetensors", tensors, config, CHARS)
    assert size == (tmp_path / "m.safetensors").stat().st_size
    stored, meta = export.read(tmp_path / "m.safetensors")
    assert meta == {"config": config, "tokenizer": CHARS, "quant": {}}
    assert sorted(stored) == sorted(tensors)
    for name in tensors:
        assert (
            stored[name].dtype == np.float32 and stored[name].tobytes() == tensors[name].tobytes()
        )
    from safetensors.numpy import load_file  # the library reads our file too

    assert all(
        np.array_equal(v, tensors[k]) for k, v in load_file(tmp_path / "m.safetensors").items()
    )
    header_length = int.from_bytes((tmp_path / "m.safetensors").read_bytes()[:8], "little")
    assert header_length % 8 == 0


def test_the_tied_lm_head_is_stored_once_and_qkv_are_split():
    tensors, config = export.model_tensors(tiny_gpt())
    assert "lm_head.weight" not in tensors and tensors["embed_tokens.weight"].shape == (40, 32)
    c_attn = tiny_gpt().blocks[0].attn.c_attn.weight.detach().numpy()
    assert np.array_equal(
        np.concatenate([tensors[f"layers.0.self_attn.{x}_proj.weight"] for x in "qkv"]), c_attn
    )
    n_params = sum(p.numel() for p in tiny_gpt().parameters())
    assert sum(t.size for t in tensors.values()) == n_params
    assert config["n_kv_head"] == 2 and config["position"] == "learned"


def test_truncated_and_wrong_version_files_are_refused(tmp_path):
    path = tmp_path / "m.safetensors"
    export.export(tiny_gpt(), CHARS, path)
    raw = path.read_bytes()
    (tmp_path / "short.safetensors").write_bytes(raw[:-100])
    with pytest.raises(ValueError, match="truncated.*export the model again"):
        run.GPT(tmp_path / "short.safetensors")
    (tmp_path / "header.safetensors").write_bytes(raw[:50])
    with pytest.raises(ValueError, match="truncated"):
        export.read(tmp_path / "header.safetensors")
    n = int.from_bytes(raw[:8], "little")
    header = json.loads(raw[8 : 8 + n])
    for version, error in [
        ("3", "version '3'.*version '2'"),
        # version 1 had its own tensor names: say so, and what to do
        ("1", "version 1, with the old tensor names.*export the model again"),
    ]:
        header["__metadata__"]["version"] = version
        text = json.dumps(header).encode()
        text += b" " * (-len(text) % 8)
        other = tmp_path / f"v{version}.safetensors"
        other.write_bytes(len(text).to_bytes(8, "little") + text + raw[8 + n :])
        with pytest.raises(ValueError, match=error):
            run.GPT(other)


def test_the_file_uses_the_llama_names_for_both_model_families():
    gpt_names = set(export.model_tensors(tiny_gpt())[0])
    modern = ModernGPT(
        ModernConfig.gpt2_style(40, block_size=16, n_layer=2, n_head=2, n_embd=32)
    )  # the same model as tiny_gpt's, in ModernGPT
    modern_tensors = export.model_tensors(modern)[0]
    # a ModernGPT exports under its own parameter names (the tied head stored once)
    assert set(modern_tensors) == {n for n, _ in modern.named_parameters()}
    assert gpt_names == set(modern_tensors), gpt_names ^ set(modern_tensors)


def test_unsupported_models_are_refused_with_a_reason():
    with pytest.raises(ValueError, match="mixture-of-experts"):
        export.model_tensors(tiny_modern(n_expert=2))
    with pytest.raises(TypeError, match="cannot export"):
        export.model_tensors(torch.nn.Linear(2, 2))


# ---------------------------------------------------------------------------- quantisation
def test_int8_per_row_error_is_at_most_half_a_step():
    w = np.random.default_rng(0).normal(size=(48, 64)).astype(np.float32)
    w[3] = 0.0  # an all-zero row must not divide by zero
    q, scale = export.quantise_int8(w)
    assert q.dtype == np.int8 and scale.shape == (48,) and np.abs(q).max() <= 127
    back = run.dequantise(q, scale, {"kind": "int8"})
    assert np.all(np.abs(back - w) <= scale[:, None] / 2 * (1 + 1e-6))
    assert np.array_equal(back[3], np.zeros(64)) and np.isclose(np.abs(back).max(), np.abs(w).max())


def test_int4_group_error_is_at_most_half_a_step_and_packs_two_a_byte():
    w = np.random.default_rng(1).normal(size=(8, 96)).astype(np.float32)
    packed, scale = export.quantise_int4(w, group=32)
    assert packed.shape == (8, 48) and packed.dtype == np.uint8 and scale.shape == (8, 3)
    assert scale.dtype == np.float16 and np.all(
        scale.astype(np.float64) * 7 >= np.abs(w).reshape(8, 3, 32).max(2)
    )
    back = run.dequantise(packed, scale, {"kind": "int4", "group": 32})
    step = np.repeat(scale.astype(np.float32), 32, axis=1)
    assert np.all(np.abs(back - w) <= step / 2 * (1 + 1e-6))
    # the nibble layout: the low nibble holds the even input, both stored as q + 8
    q = np.clip(np.round(w[0, :2] / np.float32(scale[0, 0])), -8, 7).astype(int) + 8
    assert packed[0, 0] == q[0] | (q[1] << 4)
    with pytest.raises(ValueError, match="divides 96"):
        export.quantise_int4(w, group=40)


def test_bf16_matches_torch_rounding():
    w = np.random.default_rng(2).normal(size=(5, 7)).astype(np.float32) * 1e3
    ours = export.to_bf16(w)
    theirs = torch.from_numpy(w).bfloat16().view(torch.int16).numpy().view(np.uint16)
    assert np.array_equal(ours, theirs)
    assert np.array_equal(
        run.dequantise(ours, None, {"kind": "bf16"}), torch.from_numpy(w).bfloat16().float().numpy()
    )


def test_quantise_leaves_vectors_in_fp32_and_which_picks_matrices():
    tensors, _ = export.model_tensors(tiny_gpt())
    stored, quant = export.quantise(tensors, "int8", which={"embed_tokens.weight"})
    assert list(quant) == ["embed_tokens.weight"] and stored["embed_tokens.weight"].dtype == np.int8
    stored, quant = export.quantise(tensors, "int4")
    assert all(tensors[n].ndim == 2 for n in quant) and stored["norm.weight"].dtype == np.float32
    back = export.dequantise(stored, quant)
    assert sorted(back) == sorted(tensors) and all(
        back[n].shape == tensors[n].shape for n in tensors
    )
    with pytest.raises(ValueError, match="not one of"):
        export.quantise(tensors, "int2")


def test_sizes_shrink_about_4x_and_8x(tmp_path):
    model = tiny_gpt(n_embd=64, block_size=32)
    sizes = {
        s: export.export(model, CHARS, tmp_path / f"{s}.safetensors", s) for s in export.SCHEMES
    }
    assert 1.9 < sizes["fp32"] / sizes["bf16"] <= 2.0
    assert 3.0 < sizes["fp32"] / sizes["int8"] < 4.0
    assert 5.0 < sizes["fp32"] / sizes["int4"] < 8.0


# ---------------------------------------------------------------------------- run.py = PyTorch
@pytest.mark.parametrize("name", MODELS)
def test_runner_logits_match_pytorch_with_and_without_the_cache(name, tmp_path):
    model = MODELS[name]()
    export.export(model, CHARS, tmp_path / "m.safetensors")
    runner = run.GPT(tmp_path / "m.safetensors")
    idx = torch.randint(0, 40, (1, 16), generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        reference = model(idx)[0].numpy()
    ids = idx[0].tolist()
    whole = runner.forward(ids, runner.new_cache())
    cache = runner.new_cache()
    pieces = np.concatenate(
        [runner.forward(ids[:9], cache)] + [runner.forward([i], cache) for i in ids[9:]]
    )
    assert whole.dtype == np.float32
    assert np.abs(whole - reference).max() < 1e-4
    assert np.abs(pieces - whole).max() < 1e-5


@pytest.mark.parametrize("name", ["gpt", "llama-style"])
def test_greedy_tokens_equal_pytorch_even_past_the_context(name, tmp_path):
    model = MODELS[name]()
    export.export(model, CHARS, tmp_path / "m.safetensors")
    runner = run.GPT(tmp_path / "m.safetensors")
    # block 16
    torch_tokens = generate(model, torch.tensor([[1, 2, 3]]), 40, greedy=True)[0].tolist()
    assert run.generate(runner, [1, 2, 3], 40) == torch_tokens


def test_quantised_files_run_and_stay_close(tmp_path):
    model = tiny_gpt()
    idx = list(range(16))
    export.export(model, CHARS, tmp_path / "fp32.safetensors")
    reference = run.GPT(tmp_path / "fp32.safetensors")
    fp32 = reference.forward(idx, reference.new_cache())
    for scheme, tolerance in [("bf16", 0.02), ("int8", 0.05), ("int4", 0.5)]:
        export.export(model, CHARS, tmp_path / f"{scheme}.safetensors", scheme)
        runner = run.GPT(tmp_path / f"{scheme}.safetensors")
        assert np.abs(runner.forward(idx, runner.new_cache()) - fp32).max() < tolerance, scheme


BLOCK_TORCH = """
import runpy, sys
class NumpyOnly:  # every import of torch or course fails, as on a machine without them
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("torch", "course"):
            raise ImportError(f"{name} is blocked: run.py must need NumPy alone")
sys.meta_path.insert(0, NumpyOnly())
try:
    import torch
except ImportError:
    pass
else:
    raise SystemExit("the blocker failed")
sys.argv = sys.argv[1:]
runpy.run_path(sys.argv[0], run_name="__main__")
"""


def test_run_py_runs_in_a_process_where_only_numpy_imports(tmp_path):
    model = tiny_gpt()
    export.export(model, CHARS, tmp_path / "model.safetensors", "int4")
    script = export.write_runner(tmp_path)
    assert script.read_text() == (ROOT / "course" / "two_files" / "run.py").read_text()
    (tmp_path / "blocker.py").write_text(textwrap.dedent(BLOCK_TORCH))
    command = [
        sys.executable,
        "-I",
        str(tmp_path / "blocker.py"),
        str(script),
        str(tmp_path / "model.safetensors"),
        "--prompt",
        "AB",
        "--tokens",
        "20",
        "--temperature",
        "0.8",
        "--seed",
        "3",
    ]
    done = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    runner = run.GPT(tmp_path / "model.safetensors")
    expected = run.decode(runner, run.generate(runner, run.encode(runner, "AB"), 20, 0.8, seed=3))
    assert done.stdout.startswith(expected + "\n") and "tokens/s" in done.stdout


# ------------------------------------------------------------------------ notebook 13 = the package
NOTEBOOK = ROOT / "notebooks" / "13_two_files.ipynb"


def test_the_notebooks_run_py_cells_are_the_package_file():
    cells = json.loads(NOTEBOOK.read_text(encoding="utf-8"))["cells"]
    parts = [
        "".join(c["source"])
        for c in cells
        if c["cell_type"] == "code" and "".join(c["source"]).startswith("# run.py · ")
    ]
    assert [p.splitlines()[0][:14] for p in parts] == [f"# run.py · {k}/4" for k in range(1, 5)]
    guard = '\n\n\nif __name__ == "__main__":\n    main()\n'
    assert "\n\n\n".join(parts) + guard == export.RUNNER.read_text(encoding="utf-8"), (
        "notebook 13's run.py cells and course/two_files/run.py differ: edit both the same way"
    )


def test_the_notebooks_hand_written_file_is_what_export_writes(tmp_path):
    # notebook 13, section 2, line for line
    model = tiny_gpt()
    tensors, config = export.model_tensors(model)
    header, offset = {}, 0
    for name in sorted(tensors):
        t = tensors[name]
        header[name] = {
            "dtype": "F32",
            "shape": list(t.shape),
            "data_offsets": [offset, offset + t.nbytes],
        }
        offset += t.nbytes
    header["__metadata__"] = {
        "format": "llm-course/two-files",
        "version": "2",
        "config": json.dumps(config),
        "tokenizer": json.dumps(CHARS),
        "quant": json.dumps({}),
    }
    header_bytes = json.dumps(header, ensure_ascii=False).encode("utf-8")
    header_bytes += b" " * (-len(header_bytes) % 8)
    with open(tmp_path / "by_hand.safetensors", "wb") as f:
        f.write(len(header_bytes).to_bytes(8, "little"))
        f.write(header_bytes)
        for name in sorted(tensors):
            f.write(tensors[name].astype("<f4").tobytes())
    export.write(tmp_path / "package.safetensors", tensors, config, CHARS)
    assert (tmp_path / "by_hand.safetensors").read_bytes() == (
        tmp_path / "package.safetensors"
    ).read_bytes()


def test_runner_refuses_more_positions_than_the_context(tmp_path):
    export.export(tiny_gpt(), CHARS, tmp_path / "m.safetensors")
    runner = run.GPT(tmp_path / "m.safetensors")
    with pytest.raises(ValueError, match="context is 16"):
        runner.forward(list(range(17)), runner.new_cache())


def test_an_untied_lm_head_is_stored_and_used(tmp_path):
    model = tiny_gpt()
    model.lm_head.weight = torch.nn.Parameter(torch.randn(40, 32) * 0.1)  # no longer the embedding
    tensors, _ = export.model_tensors(model)
    assert "lm_head.weight" in tensors
    export.export(model, CHARS, tmp_path / "m.safetensors")
    runner = run.GPT(tmp_path / "m.safetensors")
    with torch.no_grad():
        reference = model(torch.arange(10)[None])[0].numpy()
    assert np.abs(runner.forward(list(range(10)), runner.new_cache()) - reference).max() < 1e-4


def test_a_failed_export_keeps_the_previous_file_whole(tmp_path, monkeypatch):
    model, chars = _tiny_gpt_for_writer_tests()
    path = tmp_path / "model.bin"
    export.export(model, chars, path)
    before = path.read_bytes()

    def full_disk(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(np, "ascontiguousarray", full_disk)  # fails half-way, after the header
    with pytest.raises(OSError, match="No space"):
        export.export(model, chars, path)
    assert path.read_bytes() == before and [p.name for p in tmp_path.iterdir()] == ["model.bin"]


def test_a_gpt_with_the_tanh_gelu_is_refused_not_run_wrongly():
    model, chars = _tiny_gpt_for_writer_tests()
    model.blocks[0].mlp.gelu_approximate = "tanh"  # as course.pretrained loads OpenAI's GPT-2
    with pytest.raises(ValueError, match="exact GELU"):
        export.model_tensors(model)


def _tiny_gpt_for_writer_tests():
    torch.manual_seed(0)
    chars = list("abcdefgh")
    return GPT(GPTConfig(vocab_size=len(chars), block_size=8, n_layer=1, n_head=2, n_embd=8)), chars
