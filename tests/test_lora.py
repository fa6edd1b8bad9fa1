from pathlib import Path

import pytest
import torch

from course.align.lora import (
    LoRALinear,
    add_lora,
    count_parameters,
    load_adapters,
    merge_lora,
    save_adapters,
)
from course.models.gpt import GPT, GPTConfig


def gpt(seed: int = 0, **kw) -> GPT:
    torch.manual_seed(seed)
    config = dict(vocab_size=96, block_size=32, n_layer=2, n_head=2, n_embd=32)
    config.update(kw)
    return GPT(GPTConfig(**config))


def randomise_B(model):
    torch.manual_seed(1)
    for m in model.modules():
        if isinstance(m, LoRALinear):
            torch.nn.init.normal_(m.lora_B, std=0.1)


def test_b_zero_leaves_outputs_unchanged():
    model = gpt()
    idx = torch.randint(0, 96, (2, 16))
    before = model(idx)
    names = add_lora(model, r=4, alpha=8)
    assert names == [
        "blocks.0.attn.c_attn",
        "blocks.0.attn.c_proj",
        "blocks.1.attn.c_attn",
        "blocks.1.attn.c_proj",
    ]
    assert torch.equal(model(idx), before)


def test_merged_weights_equal_the_adapter_path():
    model = gpt()
    add_lora(model, r=4, alpha=8)
    randomise_B(model)
    idx = torch.randint(0, 96, (2, 16))
    adapter_out = model(idx)
    layer = model.blocks[0].attn.c_attn
    expected_weight = layer.base.weight + (8 / 4) * layer.lora_B @ layer.lora_A
    assert torch.allclose(layer.merged().weight, expected_weight)
    assert merge_lora(model) == 4
    assert not any(isinstance(m, LoRALinear) for m in model.modules())
    assert torch.allclose(model(idx), adapter_out, atol=1e-5)


def test_only_adapters_train_and_they_are_few():
    model = gpt(n_embd=96, n_head=4, n_layer=4, block_size=96)
    add_lora(model, r=4, alpha=8)
    trainable, total = count_parameters(model)
    names = {n for n, p in model.named_parameters() if p.requires_grad}
    assert names and all(n.endswith("lora_A") or n.endswith("lora_B") for n in names)
    assert trainable / total < 0.05
    # a LoRA step changes only A and B
    idx = torch.randint(0, 96, (2, 16))
    model(idx).sum().backward()
    assert model.wte.weight.grad is None and model.blocks[0].attn.c_attn.base.weight.grad is None


def test_notebook_lora_matches_package():
    torch.manual_seed(0)
    base = torch.nn.Linear(8, 6)
    layer = LoRALinear(base, r=2, alpha=4)
    torch.nn.init.normal_(layer.lora_B)
    x = torch.randn(3, 8)
    # the plain construction of notebook 09
    W, b, A, B = base.weight, base.bias, layer.lora_A, layer.lora_B
    plain = x @ W.T + b + (4 / 2) * (x @ A.T @ B.T)
    assert torch.allclose(layer(x), plain, atol=1e-6)


def test_adapters_save_and_load_separately(tmp_path):
    model = gpt()
    add_lora(model, r=4, alpha=8)
    randomise_B(model)
    idx = torch.randint(0, 96, (2, 16))
    expected = model(idx)
    path = save_adapters(model, tmp_path / "adapters.safetensors")
    assert path.stat().st_size < 40_000  # only A and B, not the model
    fresh = load_adapters(gpt(), path)  # same base weights (same seed), adapters from the file
    assert torch.allclose(fresh(idx), expected, atol=1e-6)


def test_adapters_load_onto_the_layers_the_file_names(tmp_path):
    """Adapters on attention and the MLP's first layer reload without repeating the targets."""
    model = gpt()
    wrapped = add_lora(model, r=2, alpha=4, targets=("attn", "mlp.c_fc"))
    assert sorted(wrapped) == sorted(
        f"blocks.{i}.{n}" for i in range(2) for n in ("attn.c_attn", "attn.c_proj", "mlp.c_fc")
    )
    randomise_B(model)
    idx = torch.randint(0, 96, (2, 16))
    path = save_adapters(model, tmp_path / "adapters.safetensors")
    fresh = load_adapters(gpt(), path)
    assert sorted(n for n, m in fresh.named_modules() if isinstance(m, LoRALinear)) == sorted(
        wrapped
    )
    assert torch.allclose(fresh(idx), model(idx), atol=1e-6)
    with pytest.raises(ValueError, match="trained on layers"):
        load_adapters(gpt(n_layer=1), path)


def test_errors_say_what_to_do(tmp_path):
    with pytest.raises(ValueError, match="rank"):
        LoRALinear(torch.nn.Linear(4, 4), r=8)
    with pytest.raises(ValueError, match="targets"):
        add_lora(gpt(), targets=("nothing_like_this",))
    with pytest.raises(ValueError, match="add_lora"):
        save_adapters(gpt(), tmp_path / "a.safetensors")


def test_a_failed_adapter_save_leaves_the_previous_file_whole(tmp_path, monkeypatch):
    import safetensors.torch

    model = gpt()
    add_lora(model, r=2)
    path = save_adapters(model, tmp_path / "adapters.safetensors")
    before = path.read_bytes()

    def full_disk(tensors, filename, metadata=None):
        Path(filename).write_bytes(b"half")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(safetensors.torch, "save_file", full_disk)
    with pytest.raises(OSError, match="No space"):
        save_adapters(model, path)
    assert path.read_bytes() == before and [p.name for p in tmp_path.iterdir()] == [
        "adapters.safetensors"
    ]
