import pytest
import torch

from course import device as dev


@pytest.fixture(autouse=True)
def no_override(monkeypatch):
    monkeypatch.delenv("COURSE_DEVICE", raising=False)


def _fake(monkeypatch, cuda: bool, mps: bool):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: cuda)
    monkeypatch.setattr(dev, "_mps_available", lambda: mps)


@pytest.mark.parametrize(
    "cuda, mps, expected", [(True, True, "cuda"), (False, True, "mps"), (False, False, "cpu")]
)
def test_preference_order(monkeypatch, cuda, mps, expected):
    _fake(monkeypatch, cuda, mps)
    assert dev.get_device().type == expected


def test_environment_override(monkeypatch):
    _fake(monkeypatch, True, False)
    monkeypatch.setenv("COURSE_DEVICE", "cpu")
    assert dev.get_device().type == "cpu"


def test_override_to_a_missing_device_is_a_clear_error(monkeypatch):
    _fake(monkeypatch, False, False)
    monkeypatch.setenv("COURSE_DEVICE", "cuda")
    with pytest.raises(RuntimeError, match="unset COURSE_DEVICE"):
        dev.get_device()
    monkeypatch.setenv("COURSE_DEVICE", "tpu")
    with pytest.raises(ValueError, match="not one of"):
        dev.get_device()


def test_autocast_is_a_no_op_on_cpu():
    with dev.autocast("cpu"):
        y = torch.ones(2, 2) @ torch.ones(2, 2)
    assert y.dtype == torch.float32


def test_cpu_bf16_autocast_is_opt_in():
    with dev.autocast("cpu", cpu_bf16=True):
        y = torch.ones(2, 2) @ torch.ones(2, 2)
    assert y.dtype == torch.bfloat16
    assert isinstance(dev.cpu_has_native_bf16(), bool)


def test_seed_everything_makes_runs_repeat():
    gen = dev.seed_everything(3)
    a = torch.rand(3), torch.rand(3, generator=gen)
    gen = dev.seed_everything(3)
    b = torch.rand(3), torch.rand(3, generator=gen)
    torch.testing.assert_close(a, b)


def test_describe_cpu_mentions_the_cpu():
    assert "CPU" in dev.describe(torch.device("cpu"))


@pytest.mark.parametrize(
    "capability, dtype",
    [
        ((7, 0), torch.float16),
        ((7, 5), torch.float16),
        ((8, 0), torch.bfloat16),
        ((9, 0), torch.bfloat16),
    ],
)
def test_cuda_precision_follows_the_gpu(monkeypatch, capability, dtype):
    # V100 (7.0) and Colab's T4 (7.5) have no native bf16: fp16 with a scaler; Ampere (8.0) and
    # newer: bf16.
    monkeypatch.setattr(torch.cuda, "get_device_capability", lambda device=None: capability)
    assert dev.cuda_autocast_dtype("cuda") == dtype
    assert dev.needs_grad_scaler("cuda") == (dtype == torch.float16)
    assert not dev.needs_grad_scaler("cpu")


def test_describe_a_gpu_names_its_precision(monkeypatch):
    class Properties:
        total_memory = 16 * 2**30

    monkeypatch.setattr(torch.cuda, "get_device_name", lambda index=0: "Tesla T4")
    monkeypatch.setattr(torch.cuda, "get_device_properties", lambda index=0: Properties())
    monkeypatch.setattr(torch.cuda, "get_device_capability", lambda device=None: (7, 5))
    assert "fp16 autocast with a gradient scaler" in dev.describe(torch.device("cuda"))
    monkeypatch.setattr(torch.cuda, "get_device_capability", lambda device=None: (9, 0))
    assert dev.describe(torch.device("cuda")).endswith("with bf16 autocast")


def test_the_gradient_scaler_is_a_no_op_off_fp16_gpus():
    scaler = dev.grad_scaler("cpu")
    assert not scaler.is_enabled()
    loss = torch.tensor(2.0, requires_grad=True)
    assert scaler.scale(loss) is loss  # a disabled scaler hands the loss back unchanged


def test_a_seed_offset_shifts_every_seed(monkeypatch):
    dev.seed_everything(3)
    three = torch.rand(3)
    monkeypatch.setenv("COURSE_SEED_OFFSET", "1")
    dev.seed_everything(2)
    torch.testing.assert_close(torch.rand(3), three)  # 2 + 1 is seed 3
    monkeypatch.setenv("COURSE_SEED_OFFSET", "one")
    with pytest.raises(ValueError, match="not an integer"):
        dev.seed_everything(0)
