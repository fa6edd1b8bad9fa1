import json

import pytest
import torch

from course import checkpoint as ckpt


class Tiny(torch.nn.Module):
    def __init__(self, vocab=10, dim=4):
        super().__init__()
        self.embed = torch.nn.Embedding(vocab, dim)
        self.head = torch.nn.Linear(dim, vocab, bias=False)
        self.head.weight = self.embed.weight  # tied, as in GPT-2

    def forward(self, x):
        return self.head(self.embed(x))


def test_round_trip_restores_weights_config_and_optimizer(tmp_path):
    torch.manual_seed(0)
    model = Tiny()
    opt = torch.optim.AdamW(model.parameters(), lr=0.1)
    model(torch.tensor([[1, 2]])).sum().backward()
    opt.step()
    ckpt.save_checkpoint(tmp_path / "run", model, {"vocab": 10, "dim": 4}, optimizer=opt, state={"step": 7})

    other = Tiny()
    other_opt = torch.optim.AdamW(other.parameters(), lr=0.1)
    state = ckpt.load_checkpoint(tmp_path / "run", other, config={"vocab": 10, "dim": 4}, optimizer=other_opt)
    assert state == {"step": 7}
    torch.testing.assert_close(other.embed.weight, model.embed.weight)
    assert other.head.weight is other.embed.weight  # tying survives
    torch.testing.assert_close(other_opt.state_dict()["state"][0]["exp_avg"], opt.state_dict()["state"][0]["exp_avg"])
    assert ckpt.read_config(tmp_path / "run") == {"vocab": 10, "dim": 4}


def test_config_mismatch_is_a_clear_error(tmp_path):
    ckpt.save_checkpoint(tmp_path / "run", Tiny(), {"vocab": 10, "dim": 4})
    with pytest.raises(ckpt.CheckpointError, match="dim=4 in the checkpoint but 8 here"):
        ckpt.load_checkpoint(tmp_path / "run", Tiny(dim=8), config={"vocab": 10, "dim": 8})


def test_shape_mismatch_is_a_clear_error(tmp_path):
    ckpt.save_checkpoint(tmp_path / "run", Tiny(), {"vocab": 10, "dim": 4})
    with pytest.raises(ckpt.CheckpointError, match=r"embed.weight: checkpoint \(10, 4\) vs model \(10, 8\)"):
        ckpt.load_checkpoint(tmp_path / "run", Tiny(dim=8))


def test_missing_and_corrupt_checkpoints(tmp_path):
    with pytest.raises(ckpt.CheckpointError, match="no checkpoint"):
        ckpt.load_checkpoint(tmp_path / "nowhere", Tiny())
    ckpt.save_checkpoint(tmp_path / "run", Tiny(), {"vocab": 10, "dim": 4})
    (tmp_path / "run" / ckpt.WEIGHTS).write_bytes(b"\x00garbage")
    with pytest.raises(ckpt.CheckpointError, match="corrupt"):
        ckpt.load_checkpoint(tmp_path / "run", Tiny())
    (tmp_path / "run" / ckpt.CONFIG).write_text("{not json")
    with pytest.raises(ckpt.CheckpointError, match="not valid JSON"):
        ckpt.read_config(tmp_path / "run")


def test_resaving_replaces_the_folder_and_leaves_no_temporaries(tmp_path):
    model = Tiny()
    ckpt.save_checkpoint(tmp_path / "run", model, {"vocab": 10, "dim": 4}, state={"step": 1})
    ckpt.save_checkpoint(tmp_path / "run", model, {"vocab": 10, "dim": 4}, state={"step": 2})
    assert [p.name for p in tmp_path.iterdir()] == ["run"]
    assert json.loads((tmp_path / "run" / ckpt.STATE).read_text()) == {"step": 2}


def test_load_model_from_rebuilds_with_the_saved_config(tmp_path):
    model = Tiny(vocab=12, dim=3)
    ckpt.save_checkpoint(tmp_path / "run", model, {"vocab": 12, "dim": 3})
    rebuilt = ckpt.load_model_from(tmp_path / "run", lambda c: Tiny(**c))
    torch.testing.assert_close(rebuilt.embed.weight, model.embed.weight)
