import contextlib
import json
import os
import shutil
import stat

import pytest
import torch
from safetensors.torch import save_model

from course import atomic
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
    ckpt.save_checkpoint(
        tmp_path / "run", model, {"vocab": 10, "dim": 4}, optimizer=opt, state={"step": 7}
    )

    other = Tiny()
    other_opt = torch.optim.AdamW(other.parameters(), lr=0.1)
    state = ckpt.load_checkpoint(
        tmp_path / "run", other, config={"vocab": 10, "dim": 4}, optimizer=other_opt
    )
    assert state == {"step": 7}
    torch.testing.assert_close(other.embed.weight, model.embed.weight)
    assert other.head.weight is other.embed.weight  # tying survives
    torch.testing.assert_close(
        other_opt.state_dict()["state"][0]["exp_avg"], opt.state_dict()["state"][0]["exp_avg"]
    )
    assert ckpt.read_config(tmp_path / "run") == {"vocab": 10, "dim": 4}


def test_config_mismatch_is_a_clear_error(tmp_path):
    ckpt.save_checkpoint(tmp_path / "run", Tiny(), {"vocab": 10, "dim": 4})
    with pytest.raises(ckpt.CheckpointError, match="dim=4 in the checkpoint but 8 here"):
        ckpt.load_checkpoint(tmp_path / "run", Tiny(dim=8), config={"vocab": 10, "dim": 8})


def test_shape_mismatch_is_a_clear_error(tmp_path):
    ckpt.save_checkpoint(tmp_path / "run", Tiny(), {"vocab": 10, "dim": 4})
    with pytest.raises(
        ckpt.CheckpointError, match=r"embed.weight: checkpoint \(10, 4\) vs model \(10, 8\)"
    ):
        ckpt.load_checkpoint(tmp_path / "run", Tiny(dim=8))


def test_missing_and_corrupt_checkpoints(tmp_path):
    with pytest.raises(ckpt.CheckpointError, match="no checkpoint"):
        ckpt.load_checkpoint(tmp_path / "nowhere", Tiny())
    ckpt.save_checkpoint(tmp_path / "run", Tiny(), {"vocab": 10, "dim": 4})
    ckpt.weights_path(tmp_path / "run").write_bytes(b"\x00garbage")
    with pytest.raises(ckpt.CheckpointError, match="corrupt"):
        ckpt.load_checkpoint(tmp_path / "run", Tiny())
    (tmp_path / "run" / ckpt.STATE).write_text("{not json")
    with pytest.raises(ckpt.CheckpointError, match="not valid JSON"):
        ckpt.read_config(tmp_path / "run")


def test_resaving_replaces_the_checkpoint_and_leaves_no_temporaries(tmp_path):
    model = Tiny()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    for step in (1, 2):
        ckpt.save_checkpoint(tmp_path / "run", model, CONFIG, optimizer=opt, state={"step": step})
    assert [p.name for p in tmp_path.iterdir()] == ["run"]
    assert sorted(p.name for p in (tmp_path / "run").iterdir()) == [
        "config.json",
        "model-step000002.safetensors",
        "state.json",
        "trainer-step000002.pt",
    ]
    assert ckpt.read_state(tmp_path / "run") == {"step": 2}
    assert json.loads((tmp_path / "run" / ckpt.STATE).read_text())["step"] == 2


def test_load_model_from_rebuilds_with_the_saved_config(tmp_path):
    model = Tiny(vocab=12, dim=3)
    ckpt.save_checkpoint(tmp_path / "run", model, {"vocab": 12, "dim": 3})
    rebuilt = ckpt.load_model_from(tmp_path / "run", lambda c: Tiny(**c))
    torch.testing.assert_close(rebuilt.embed.weight, model.embed.weight)


# ------------------------------------------------------------------------ issue 15: nothing lost
def filled(value: float) -> Tiny:
    model = Tiny()
    with torch.no_grad():
        model.embed.weight.fill_(value)
    return model


def loaded_value(directory) -> float:
    model = Tiny()
    ckpt.load_checkpoint(directory, model)
    return float(model.embed.weight[0, 0].detach())


def test_a_save_leaves_unrelated_files_and_folders_alone(tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    (tmp_path / "run1").mkdir()
    (tmp_path / "run1" / "lesson.ipynb").write_text("{}")
    for value in (1.0, 2.0):
        ckpt.save_checkpoint(tmp_path, filled(value), CONFIG, state={"step": int(value)})
    assert (tmp_path / "notes.txt").read_text() == "mine"
    assert (tmp_path / "run1" / "lesson.ipynb").read_text() == "{}"
    assert loaded_value(tmp_path) == 2.0
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_a_file_at_the_target_is_refused_and_kept(tmp_path):
    (tmp_path / "run").write_text("not a folder")
    with pytest.raises(ckpt.CheckpointError, match="is a file, not a folder"):
        ckpt.save_checkpoint(tmp_path / "run", Tiny(), {"vocab": 10, "dim": 4})
    assert (tmp_path / "run").read_text() == "not a folder"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]
    with pytest.raises(ckpt.CheckpointError, match="is a file, not a folder"):
        ckpt.save_checkpoint(tmp_path / "run" / "deeper", Tiny(), {"vocab": 10, "dim": 4})


def test_the_current_folder_and_nested_new_folders_work_with_the_umask(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    ckpt.save_checkpoint(".", filled(3.0), {"vocab": 10, "dim": 4})
    assert loaded_value(".") == 3.0
    old = os.umask(0o022)
    try:
        ckpt.save_checkpoint(tmp_path / "a" / "b" / "c", filled(4.0), {"vocab": 10, "dim": 4})
    finally:
        os.umask(old)
    assert loaded_value(tmp_path / "a" / "b" / "c") == 4.0
    for folder in (tmp_path / "a", tmp_path / "a" / "b", tmp_path / "a" / "b" / "c"):
        assert stat.S_IMODE(folder.stat().st_mode) == 0o755


def test_corrupt_state_and_a_config_that_is_not_an_object_are_clear_errors(tmp_path):
    ckpt.save_checkpoint(tmp_path / "run", Tiny(), {"vocab": 10, "dim": 4}, state={"step": 1})
    (tmp_path / "run" / ckpt.STATE).write_text("[1, 2]")
    with pytest.raises(ckpt.CheckpointError, match="should hold a JSON object"):
        ckpt.load_checkpoint(tmp_path / "run", Tiny())
    (tmp_path / "run" / ckpt.STATE).write_text('{"_checkpoint": {"weights": "../../etc/passwd"}}')
    with pytest.raises(ckpt.CheckpointError, match="never writes"):
        ckpt.load_checkpoint(tmp_path / "run", Tiny())
    legacy = tmp_path / "legacy"  # the layout of older versions: model.safetensors + config.json
    legacy.mkdir()
    save_model(Tiny(), str(legacy / ckpt.WEIGHTS))
    (legacy / ckpt.CONFIG).write_text('["vocab", 10]')
    with pytest.raises(ckpt.CheckpointError, match="should hold a JSON object"):
        ckpt.read_config(legacy)
    (legacy / ckpt.CONFIG).write_text('{"vocab": 10, "dim": 4}')
    ckpt.load_checkpoint(legacy, Tiny(), config=CONFIG)  # older checkpoints still load


CONFIG = {"vocab": 10, "dim": 4}


class Crash(Exception):
    pass


def crash_at(monkeypatch, point: int, folder, on_crash=None):
    """Make the ``point``-th moment of a save raise: 2k = file k written under its temporary
    name, 2k+1 = file k renamed into place. ``on_crash(folder)`` sees the folder as a kill
    would leave it."""
    real = atomic.replacing
    moments = iter(range(10_000))

    def maybe_crash():
        if next(moments) == point:
            if on_crash is not None:
                on_crash(folder)
            raise Crash

    @contextlib.contextmanager
    def replacing(path):
        with real(path) as tmp:
            yield tmp
            maybe_crash()
        maybe_crash()

    monkeypatch.setattr(atomic, "replacing", replacing)


@pytest.mark.parametrize("point", range(8))
def test_a_save_that_crashes_midway_leaves_the_previous_checkpoint_loadable(
    tmp_path, monkeypatch, point
):
    folder = tmp_path / "run"
    opt = torch.optim.SGD(Tiny().parameters(), lr=0.1)
    ckpt.save_checkpoint(folder, filled(1.0), CONFIG, optimizer=opt, state={"step": 1})
    with monkeypatch.context() as patch:
        crash_at(patch, point, folder)
        with pytest.raises(Crash):
            ckpt.save_checkpoint(folder, filled(2.0), CONFIG, optimizer=opt, state={"step": 2})
    committed = point == 7  # the crash came after state.json, the commit point, was renamed
    assert loaded_value(folder) == (2.0 if committed else 1.0)
    assert ckpt.read_state(folder) == {"step": 2 if committed else 1}
    leftovers = {p.name for p in folder.iterdir()} - {"config.json", "state.json"}
    assert len(leftovers) == 2  # the weights and trainer files of one checkpoint: nothing stray


def test_random_saves_crashes_and_resumes_never_lose_the_last_good_checkpoint(tmp_path_factory):
    from hypothesis import given, settings
    from hypothesis import strategies as st

    # each save crashes at one of its 8 moments (see crash_at) or completes (None); a crash is a
    # kill: the folder stays exactly as it was at that moment (temporary files and all)
    steps = st.tuples(st.sampled_from(["save", "resume"]), st.one_of(st.none(), st.integers(0, 7)))
    plans = st.lists(steps, min_size=1, max_size=8)

    @settings(max_examples=30, deadline=None, derandomize=True)
    @given(plans)
    def property_holds(plan):
        root = tmp_path_factory.mktemp("prop")
        folder = root / "run"
        (root / "run").mkdir()
        (folder / "notes.txt").write_text("mine")
        last_good = None
        for number, (action, crash) in enumerate(plan, start=1):
            if action == "resume":
                if last_good is None:
                    assert not ckpt.exists(folder)
                else:
                    assert loaded_value(folder) == last_good
                    assert ckpt.read_state(folder)["step"] == last_good
                continue
            with pytest.MonkeyPatch.context() as patch:
                snapshot = root / "killed"
                if crash is not None:
                    crash_at(
                        patch, crash, folder, on_crash=lambda f, s=snapshot: shutil.copytree(f, s)
                    )
                try:
                    ckpt.save_checkpoint(
                        folder,
                        filled(float(number)),
                        {"vocab": 10, "dim": 4},
                        optimizer=torch.optim.SGD(Tiny().parameters(), lr=0.1),
                        state={"step": number},
                    )
                    last_good = number
                except Crash:
                    shutil.rmtree(folder)
                    snapshot.rename(folder)  # the disk as the kill left it
                    if crash == 7:
                        last_good = number  # state.json was already in place: the save counts
            assert (folder / "notes.txt").read_text() == "mine"
            if last_good is not None:
                assert loaded_value(folder) == last_good

    property_holds()
