"""Muon + AdamW as one optimizer: who gets which parameter, training, checkpoints, clear errors."""

import pytest
import torch

from course import checkpoint as ckpt
from course.models.gpt import GPT, GPTConfig
from course.optim import MuonAdamW
from course.train import TrainConfig, fit

pytestmark = pytest.mark.skipif(
    not hasattr(torch.optim, "Muon"), reason="torch.optim.Muon needs torch >= 2.9"
)


def tiny_gpt():
    torch.manual_seed(0)
    return GPT(GPTConfig(vocab_size=8, block_size=12, n_layer=2, n_head=2, n_embd=16))


def batches():
    def get_batch():  # next = current + 1 (mod 8): learnable to near-zero loss
        x = torch.randint(0, 8, (16, 12))
        return x, (x + 1) % 8

    return get_batch


def test_hidden_matrices_go_to_muon_and_everything_else_to_adamw_once():
    model = tiny_gpt()
    opt = MuonAdamW(model, lr=1e-2, weight_decay=0.1)
    adamw, muon = opt.optimizers
    names = {id(p): n for n, p in model.named_parameters()}
    muon_names = {names[id(p)] for g in muon.param_groups for p in g["params"]}
    adamw_names = {names[id(p)] for g in adamw.param_groups for p in g["params"]}
    assert muon_names == {
        n for n, p in model.named_parameters() if n.startswith("blocks.") and p.dim() == 2
    }
    assert "wte.weight" in adamw_names and "blocks.0.ln_1.weight" in adamw_names
    assert muon_names.isdisjoint(adamw_names) and muon_names | adamw_names == set(names.values())
    # 1-D gains and biases are never decayed
    assert all(
        g["weight_decay"] == 0.0
        for g in adamw.param_groups
        if all(p.dim() < 2 for p in g["params"])
    )


def test_fit_with_muon_learns_and_resumes_from_its_checkpoint(tmp_path):
    model = tiny_gpt()
    config = TrainConfig(steps=80, lr=2e-2, eval_every=1000, optimizer="muon")
    history = fit(
        model,
        batches(),
        config=config,
        device="cpu",
        progress=False,
        checkpoint_dir=tmp_path / "run",
    )
    assert history.train_loss[-1] < 0.3 * history.train_loss[0]
    longer = TrainConfig(steps=90, lr=2e-2, eval_every=1000, optimizer="muon")
    resumed = fit(
        tiny_gpt(),
        batches(),
        config=longer,
        device="cpu",
        progress=False,
        checkpoint_dir=tmp_path / "run",
        resume=True,
    )
    assert resumed.step[-1] == 89 and len(resumed.step) == 90  # 10 more steps after the saved 80


def test_an_adamw_checkpoint_is_refused_with_a_clear_message(tmp_path):
    model = tiny_gpt()
    fit(
        model,
        batches(),
        config=TrainConfig(steps=2, eval_every=1000),
        device="cpu",
        progress=False,
        checkpoint_dir=tmp_path / "adamw",
    )
    with pytest.raises(ValueError, match="same TrainConfig.optimizer"):
        ckpt.load_checkpoint(
            tmp_path / "adamw",
            tiny_gpt(),
            config=model.config,
            optimizer=MuonAdamW(tiny_gpt(), lr=1e-2),
        )


def test_unknown_optimizer_name_is_a_clear_error():
    with pytest.raises(ValueError, match="'adamw' or 'muon'"):
        fit(
            tiny_gpt(),
            batches(),
            config=TrainConfig(steps=1, optimizer="sgd"),
            device="cpu",
            progress=False,
        )


def test_blocks_under_a_wrapper_are_found_and_a_model_without_blocks_is_refused():
    wrapper = torch.nn.Module()  # e.g. a reward model: backbone + scalar head
    wrapper.backbone, wrapper.head = tiny_gpt(), torch.nn.Linear(16, 1)
    muon = MuonAdamW(wrapper, lr=1e-2).optimizers[1]
    expected = [
        p
        for n, p in wrapper.backbone.named_parameters()
        if n.startswith("blocks.") and p.dim() == 2
    ]
    assert sum(len(g["params"]) for g in muon.param_groups) == len(expected) > 0
    with pytest.raises(ValueError, match="no hidden weight matrices"):
        MuonAdamW(torch.nn.Linear(4, 4), lr=1e-2)
