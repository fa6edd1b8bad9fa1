"""The GPU path of the trainer (skipped without CUDA), the FLOPs/MFU arithmetic, and a CPU run that
must never touch a CUDA API."""

import importlib
import math
import os
import sys

import pytest
import torch

import course
from course import flops, train
from course.models.modern import ModernConfig, ModernGPT, training_loss
from course.train import History, TrainConfig, fit

needs_cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
TINY = dict(vocab_size=32, block_size=32, n_layer=2, n_head=4, n_embd=64)


def counting_batches(vocab=32, rows=8, T=32):
    def get_batch():
        x = (torch.randint(0, vocab, (rows, 1)) + torch.arange(T + 1)) % vocab
        return x[:, :-1], x[:, 1:]

    return get_batch


# ----------------------------------------------------------------------------- FLOPs and MFU (CPU)
def test_peak_table_matches_real_device_names():
    assert flops.peak_flops_for_name("NVIDIA H100 80GB HBM3") == 989e12
    assert flops.peak_flops_for_name("NVIDIA H100 PCIe") == 756e12
    assert flops.peak_flops_for_name("NVIDIA A100-SXM4-80GB") == 312e12
    assert flops.peak_flops_for_name("NVIDIA H200") == 989e12
    assert flops.peak_flops_for_name("NVIDIA L4") == 121e12
    assert flops.peak_flops_for_name("NVIDIA L40S") == 362e12
    assert flops.peak_flops_for_name("NVIDIA A10G") is None
    assert flops.peak_flops_for_name("Some Future GPU") is None


def test_peak_override_and_cpu(monkeypatch):
    monkeypatch.delenv("COURSE_PEAK_FLOPS", raising=False)
    assert flops.peak_flops("cpu") is None
    monkeypatch.setenv("COURSE_PEAK_FLOPS", "1.5e12")
    assert flops.peak_flops("cpu") == 1.5e12
    monkeypatch.setenv("COURSE_PEAK_FLOPS", "fast")
    with pytest.raises(ValueError, match="989e12"):
        flops.peak_flops("cpu")


def test_flops_per_token_follows_the_palm_formula():
    # GPT-2 small: 124M parameters (85M non-embedding + 38.6M tied embedding), 12 layers, 768,
    # T=1024
    assert (
        flops.transformer_flops_per_token(124_000_000, 12, 768, 1024)
        == 6 * 124e6 + 12 * 12 * 768 * 1024
    )

    class Plain(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = torch.nn.Linear(10, 10)

    assert flops.model_flops_per_token(Plain(), 7) == 6 * 110
    model = ModernGPT(ModernConfig(**TINY))
    assert flops.model_flops_per_token(model, 16) == model.flops_per_token(16)
    assert flops.mfu(1e9, 100.0, 1e12) == pytest.approx(0.1)
    assert flops.mfu(1e9, 100.0, None) is None


def test_history_reports_steady_throughput_and_mfu():
    h = History(
        step=list(range(10)),
        train_loss=[1.0] * 10,
        tokens=10 * 1000,
        step_seconds=[5.0] + [0.1] * 9,
        flops_per_token=1e6,
        peak_flops=2e10,
    )
    # the slow first (compile) step is left out
    assert h.steady_tokens_per_second == pytest.approx(1000 / 0.1)
    assert h.mfu == pytest.approx(1e6 * 1e4 / 2e10)
    assert math.isnan(History(step_seconds=[0.1], tokens=10).mfu)


# ----------------------------------------------------------------------------- the CPU path
def test_cpu_training_never_calls_a_cuda_api(monkeypatch, tmp_path):
    # (torch.manual_seed itself seeds CUDA lazily: done before the trap is set)
    torch.manual_seed(0)
    model = ModernGPT(ModernConfig(**TINY, n_expert=2, top_k=1))

    # imported before the trap: it indexes torch functions once
    importlib.import_module("torch._dynamo")

    course_dir = os.path.dirname(course.__file__)

    def forbidden(name, original):
        # Only calls made by the course package count: on a machine with CUDA, torch itself asks
        # torch.cuda.is_available() inside the optimizer and elsewhere, which is not ours to forbid.
        def call(*args, **kwargs):
            if sys._getframe(1).f_code.co_filename.startswith(course_dir):
                raise AssertionError(f"the CPU path called {name}")
            return original(*args, **kwargs)

        return call

    for name in (
        "is_available",
        "synchronize",
        "get_device_name",
        "get_device_properties",
        "set_device",
        "current_device",
        "device_count",
        "manual_seed_all",
        "memory_allocated",
        "max_memory_allocated",
    ):
        monkeypatch.setattr(
            torch.cuda, name, forbidden(f"torch.cuda.{name}", getattr(torch.cuda, name))
        )
    monkeypatch.setattr(torch.Tensor, "cuda", forbidden("Tensor.cuda", torch.Tensor.cuda))
    monkeypatch.setattr(train, "enable_tf32", forbidden("enable_tf32", train.enable_tf32))
    for name in ("RANK", "WORLD_SIZE", "LOCAL_RANK"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("COURSE_PEAK_FLOPS", raising=False)
    history = fit(
        model,
        counting_batches(),
        val_batches=counting_batches(),
        loss_fn=training_loss,
        device="cpu",
        progress=False,
        checkpoint_dir=tmp_path / "run",
        config=TrainConfig(steps=6, lr=3e-3, eval_every=3, eval_batches=1),
    )
    assert all(p.device.type == "cpu" for p in model.parameters())
    assert history.flops_per_token == model.flops_per_token(32)
    assert history.peak_flops == 0.0 and math.isnan(history.mfu)
    assert history.steady_tokens_per_second > 0 and len(history.step_seconds) == 6


# ----------------------------------------------------------------------------- the GPU path
@pytest.mark.gpu
@needs_cuda
def test_gpu_fit_uses_bf16_fused_adamw_tf32_and_reports_mfu(capsys):
    torch.manual_seed(0)
    model = ModernGPT(ModernConfig.llama_style(**TINY))
    seen = {}

    def loss_fn(m, batch):
        logits = m(batch[0])
        seen["dtype"] = logits.dtype
        return torch.nn.functional.cross_entropy(logits.flatten(0, 1).float(), batch[1].flatten())

    optimizer = train.make_optimizer(model.cuda(), TrainConfig(lr=3e-3))
    history = fit(
        model,
        counting_batches(),
        loss_fn=loss_fn,
        optimizer=optimizer,
        device="cuda",
        progress=False,
        config=TrainConfig(steps=60, lr=3e-3),
    )
    assert seen["dtype"] == torch.bfloat16
    assert optimizer.defaults["fused"] is True
    assert torch.backends.cuda.matmul.fp32_precision == "tf32"
    assert history.train_loss[-1] < 0.5 * history.train_loss[0]
    assert history.steady_tokens_per_second > 0
    if flops.peak_flops("cuda"):
        assert 0 < history.mfu < 1
        assert "MFU" in capsys.readouterr().out


@pytest.mark.gpu
@needs_cuda
def test_gpu_compiled_training_matches_eager_closely():
    results = []
    for compile_ in (False, True):
        torch.manual_seed(0)
        model = ModernGPT(ModernConfig(**TINY))
        history = fit(
            model,
            counting_batches(),
            device="cuda",
            progress=False,
            config=TrainConfig(steps=20, lr=3e-3, compile=compile_),
        )
        results.append(history.train_loss)
    assert results[1][-1] == pytest.approx(results[0][-1], rel=0.05)


@pytest.mark.gpu
@needs_cuda
def test_flash_attention_kernel_runs_the_model_in_bf16():
    from torch.nn.attention import SDPBackend, sdpa_kernel

    model = ModernGPT(ModernConfig.llama_style(**TINY)).cuda()
    idx = torch.randint(0, 32, (2, 32), device="cuda")
    with torch.autocast("cuda", dtype=torch.bfloat16), sdpa_kernel(SDPBackend.FLASH_ATTENTION):
        flash = model(idx).float()
    reference = model(idx)  # fp32, whatever kernel torch picks
    torch.testing.assert_close(flash, reference, atol=0.1, rtol=0.05)
