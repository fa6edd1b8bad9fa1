import math

import pytest
import torch

from course import checkpoint as ckpt
from course.train import (
    History,
    TrainConfig,
    TrainingDiverged,
    cosine_lr,
    evaluate,
    fit,
    next_token_loss,
)


class Bigram(torch.nn.Module):
    def __init__(self, vocab: int = 8):
        super().__init__()
        self.config = {"vocab": vocab}
        self.table = torch.nn.Embedding(vocab, vocab)

    def forward(self, x):
        return self.table(x)


def make_batches(vocab: int = 8, seed: int = 0):
    """A deterministic rule (next = current + 1 mod vocab), so the loss can fall near zero."""

    def get_batch():
        x = torch.randint(0, vocab, (16, 12))
        return x, (x + 1) % vocab

    return get_batch


def test_fit_lowers_the_loss_and_evaluates():
    torch.manual_seed(0)
    model = Bigram()
    history = fit(
        model,
        make_batches(),
        val_batches=make_batches(),
        device="cpu",
        progress=False,
        config=TrainConfig(steps=150, lr=0.1, eval_every=50, eval_batches=2),
    )
    assert history.train_loss[0] > math.log(8) * 0.8
    assert history.final_val_loss < 0.2 * history.train_loss[0]
    assert history.eval_step == [0, 50, 100, 149]
    assert history.tokens == 150 * 16 * 12


def test_cpu_bf16_trains_a_gpt_with_fp32_weights():
    from course.models.gpt import GPT, GPTConfig

    torch.manual_seed(0)
    model = GPT(GPTConfig(vocab_size=8, block_size=12, n_layer=1, n_head=2, n_embd=16))
    seen = []
    model.lm_head.register_forward_hook(lambda module, inputs, out: seen.append(out.dtype))
    history = fit(
        model,
        make_batches(),
        device="cpu",
        progress=False,
        config=TrainConfig(steps=120, lr=1e-2, eval_every=1000, cpu_bf16=True),
    )
    assert seen[0] == torch.bfloat16  # the matmuls ran in bf16 ...
    assert all(p.dtype == torch.float32 for p in model.parameters())  # ... the weights stayed fp32
    assert history.train_loss[-1] < 0.3 * history.train_loss[0]


def test_resume_continues_exactly_where_it_stopped(tmp_path):
    config = TrainConfig(steps=40, lr=0.05, eval_every=100)
    torch.manual_seed(1)
    straight = Bigram()
    fit(straight, make_batches(), config=config, device="cpu", progress=False)

    torch.manual_seed(1)
    first = Bigram()
    half = TrainConfig(steps=40, lr=0.05, eval_every=100, checkpoint_every=20)

    class Stop(Exception):
        pass

    calls = {"n": 0}
    batches = make_batches()

    def interrupted():
        calls["n"] += 1
        if calls["n"] > 25:  # crash after the step-20 checkpoint was written
            raise Stop
        return batches()

    with pytest.raises(Stop):
        fit(
            first,
            interrupted,
            config=half,
            device="cpu",
            progress=False,
            checkpoint_dir=tmp_path / "run",
        )
    assert ckpt.read_state(tmp_path / "run")["step"] == 20

    resumed = Bigram()
    history = fit(
        resumed,
        make_batches(),
        config=half,
        device="cpu",
        progress=False,
        checkpoint_dir=tmp_path / "run",
        resume=True,
    )
    assert history.step[0] == 0 and history.step[-1] == 39 and len(history.step) == 40
    torch.testing.assert_close(resumed.table.weight, straight.table.weight)


def test_nan_loss_stops_with_a_clear_message_and_keeps_the_old_checkpoint(tmp_path):
    model = Bigram()
    fit(
        model,
        make_batches(),
        config=TrainConfig(steps=3),
        device="cpu",
        progress=False,
        checkpoint_dir=tmp_path / "c",
    )
    before = ckpt.weights_path(tmp_path / "c").read_bytes()

    def poisoned_loss(model, batch):
        return model(batch[0]).sum() * float("nan")

    with pytest.raises(TrainingDiverged, match="Lower the learning rate"):
        fit(
            model,
            make_batches(),
            config=TrainConfig(steps=3),
            loss_fn=poisoned_loss,
            device="cpu",
            progress=False,
            checkpoint_dir=tmp_path / "c",
        )
    assert ckpt.weights_path(tmp_path / "c").read_bytes() == before


def test_cosine_schedule_warms_up_then_decays_to_the_floor():
    lrs = [cosine_lr(s, lr=1.0, steps=100, warmup_steps=10, min_lr=0.1) for s in range(101)]
    assert lrs[0] == pytest.approx(0.1) and lrs[9] == pytest.approx(1.0)
    assert all(a >= b for a, b in zip(lrs[10:], lrs[11:]))
    assert lrs[100] == pytest.approx(0.1)


def test_gradient_clipping_bounds_the_update():
    model = Bigram()
    before = model.table.weight.detach().clone()

    def huge_loss(model, batch):
        return model(batch[0]).sum() * 1e6

    fit(
        model,
        make_batches(),
        loss_fn=huge_loss,
        config=TrainConfig(steps=1, lr=1e-3, grad_clip=1.0, betas=(0.0, 0.0)),
        optimizer=torch.optim.SGD(model.parameters(), lr=1e-3),
        device="cpu",
        progress=False,
    )
    assert (model.table.weight - before).norm() <= 1e-3 * 1.0 + 1e-6


def test_history_summaries():
    h = History(
        step=list(range(10)), train_loss=[float(10 - i) for i in range(10)], val_loss=[2.0, 1.5]
    )
    assert h.final_val_loss == 1.5
    assert h.final_train_loss == 1.0


def test_batch_objects_with_a_to_method_are_moved_and_eval_can_use_its_own_loss():
    class Batch:
        def __init__(self, x, y):
            self.x, self.y = x, y
            self.moved_to = None

        def to(self, device):
            moved = Batch(self.x.to(device), self.y.to(device))
            moved.moved_to = torch.device(device)
            return moved

    seen = []

    def train_loss(model, batch):
        seen.append(batch.moved_to)
        return torch.nn.functional.cross_entropy(model(batch.x).flatten(0, 1), batch.y.flatten())

    def eval_loss(model, batch):
        return torch.tensor(42.0)

    get = make_batches()
    history = fit(
        Bigram(),
        lambda: Batch(*get()),
        loss_fn=train_loss,
        eval_loss_fn=eval_loss,
        val_batches=lambda: Batch(*get()),
        config=TrainConfig(steps=3, eval_every=1, eval_batches=1),
        device="cpu",
        progress=False,
    )
    assert seen == [torch.device("cpu")] * 3
    assert history.val_loss == [42.0, 42.0, 42.0]


def test_evaluate_weights_batches_by_their_rows():
    """A DataLoader's smaller last batch must count for its rows, not as a whole batch."""
    torch.manual_seed(0)
    model = Bigram()
    x = torch.randint(0, 8, (5, 12))
    y = torch.randint(0, 8, (5, 12))
    with torch.no_grad():
        per_row = [float(next_token_loss(model, (x[i : i + 1], y[i : i + 1]))) for i in range(5)]
    uneven = [(x[:4], y[:4]), (x[4:], y[4:])]  # 4 rows, then 1
    assert evaluate(model, uneven) == pytest.approx(sum(per_row) / 5, rel=1e-5)


# ------------------------------------------------------------------ issue 15: guards, exact resume
class Stop(Exception):
    pass


def crash_after(train_steps: int, loss_fn=next_token_loss):
    """A training loss that raises on training step ``train_steps`` (evaluations don't count)."""
    seen = {"n": 0}

    def loss(model, batch):
        if model.training:
            seen["n"] += 1
            if seen["n"] > train_steps:
                raise Stop
        return loss_fn(model, batch)

    return loss


def global_rng_batches():
    return make_batches(), make_batches()


def seeded_batchers():
    from course.lm_data import batcher

    text = torch.arange(400) % 8
    return batcher(text, 16, 12, seed=0), batcher(text, 16, 12, seed=1)


def lists():
    generator = torch.Generator().manual_seed(0)
    x = torch.randint(0, 8, (7, 16, 12), generator=generator)
    return [(b, (b + 1) % 8) for b in x], [(b, (b + 1) % 8) for b in x[:2]]


def shuffled_loader():
    from torch.utils.data import DataLoader, TensorDataset

    x = torch.randint(0, 8, (40, 12), generator=torch.Generator().manual_seed(0))
    # 3 batches a pass, the last one short
    loader = DataLoader(
        TensorDataset(x, (x + 1) % 8),
        batch_size=16,
        shuffle=True,
        generator=torch.Generator().manual_seed(0),
    )
    return loader, [(x[:8], (x[:8] + 1) % 8)]


def endless_generator():
    def batches():
        generator = torch.Generator().manual_seed(0)
        while True:
            x = torch.randint(0, 8, (16, 12), generator=generator)
            yield x, (x + 1) % 8

    return batches(), make_batches()


@pytest.mark.parametrize(
    "sources", [global_rng_batches, seeded_batchers, lists, shuffled_loader, endless_generator]
)
def test_an_interrupted_then_resumed_run_equals_an_uninterrupted_one_bit_for_bit(tmp_path, sources):
    config = TrainConfig(steps=12, lr=0.05, eval_every=4, eval_batches=2, checkpoint_every=5)

    def run(folder, loss_fn=next_token_loss, resume=False):
        torch.manual_seed(0)  # a fresh process: same seed, a new model, new batch sources
        model = Bigram()
        train, val = sources()
        history = fit(
            model,
            train,
            val_batches=val,
            config=config,
            loss_fn=loss_fn,
            eval_loss_fn=next_token_loss,
            device="cpu",
            progress=False,
            checkpoint_dir=folder,
            resume=resume,
        )
        return model, history

    straight, straight_history = run(tmp_path / "straight")
    with pytest.raises(Stop):
        run(tmp_path / "cut", loss_fn=crash_after(7))  # dies at step 7, after the step-5 save
    assert ckpt.read_state(tmp_path / "cut")["step"] == 5
    resumed, history = run(tmp_path / "cut", resume=True)
    assert history.train_loss == straight_history.train_loss
    assert history.eval_step == straight_history.eval_step
    assert history.val_loss == straight_history.val_loss
    assert torch.equal(resumed.table.weight, straight.table.weight)


def nan_gradient_loss(model, batch):
    """A finite loss (0) whose gradient is NaN: d sqrt(|u|)/du at u = 0 is inf * 0."""
    return (model(batch[0]).sum() * 0).abs().sqrt()


def test_nan_gradients_with_a_finite_loss_never_reach_a_checkpoint(tmp_path):
    model = Bigram()
    fit(
        model,
        make_batches(),
        config=TrainConfig(steps=3),
        device="cpu",
        progress=False,
        checkpoint_dir=tmp_path / "c",
    )
    before = ckpt.weights_path(tmp_path / "c").read_bytes()
    weights = model.table.weight.detach().clone()
    with pytest.raises(TrainingDiverged, match="gradient norm became nan") as stop:
        fit(
            model,
            make_batches(),
            config=TrainConfig(steps=3, checkpoint_every=1),
            loss_fn=nan_gradient_loss,
            device="cpu",
            progress=False,
            checkpoint_dir=tmp_path / "c",
        )
    message = str(stop.value)
    assert "(step 3) holds finite weights and was not overwritten" in message
    assert "Nothing" not in message
    assert ckpt.weights_path(tmp_path / "c").read_bytes() == before
    assert torch.equal(model.table.weight, weights)  # the bad step was not applied
    with pytest.raises(TrainingDiverged, match="gradient norm became nan"):  # without clipping, too
        fit(
            model,
            make_batches(),
            config=TrainConfig(steps=3, grad_clip=None),
            loss_fn=nan_gradient_loss,
            device="cpu",
            progress=False,
        )


def test_the_message_after_a_nan_loss_names_the_checkpoint_this_run_saved(tmp_path):
    def nan_from_step_4(model, batch):
        loss = next_token_loss(model, batch)
        nan_from_step_4.calls += 1
        return loss * float("nan") if nan_from_step_4.calls > 4 else loss

    nan_from_step_4.calls = 0
    with pytest.raises(TrainingDiverged, match=r"the loss became nan at step 4") as stop:
        fit(
            Bigram(),
            make_batches(),
            config=TrainConfig(steps=10, checkpoint_every=2),
            loss_fn=nan_from_step_4,
            device="cpu",
            progress=False,
            checkpoint_dir=tmp_path / "c",
        )
    assert f"{tmp_path / 'c'} (step 4) holds finite weights" in str(stop.value)
    with pytest.raises(TrainingDiverged, match="No checkpoint folder was given, so nothing was"):
        fit(
            Bigram(),
            make_batches(),
            config=TrainConfig(steps=3),
            device="cpu",
            progress=False,
            loss_fn=lambda m, b: next_token_loss(m, b) * float("inf"),
        )


def test_non_finite_weights_are_never_saved(tmp_path):
    class Poisoning(torch.optim.SGD):  # an optimizer bug: the step writes NaN into the weights
        def step(self, closure=None):
            super().step(closure)
            with torch.no_grad():
                self.param_groups[0]["params"][0][0, 0] = float("nan")

    model = Bigram()
    with pytest.raises(TrainingDiverged, match="weights hold NaN or infinite values.*did not save"):
        fit(
            model,
            make_batches(),
            config=TrainConfig(steps=1),
            optimizer=Poisoning(model.parameters(), lr=0.1),
            device="cpu",
            progress=False,
            checkpoint_dir=tmp_path / "c",
        )
    assert not ckpt.exists(tmp_path / "c")


@pytest.mark.parametrize(
    "settings, wrong",
    [
        ({"steps": -5}, "steps=-5"),
        ({"eval_every": 0}, "eval_every=0"),
        ({"checkpoint_every": 0}, "checkpoint_every=0"),
        ({"grad_clip": 0.0}, "grad_clip=0.0"),
        ({"lr": float("nan")}, "lr=nan"),
    ],
)
def test_settings_that_cannot_train_are_refused_clearly(settings, wrong):
    with pytest.raises(ValueError, match=wrong):
        TrainConfig(**settings)
    config = TrainConfig()
    for key, value in settings.items():
        setattr(config, key, value)  # changed after construction: fit checks again
    with pytest.raises(ValueError, match=wrong):
        fit(
            Bigram(),
            make_batches(),
            val_batches=make_batches(),
            config=config,
            device="cpu",
            progress=False,
        )


def test_a_checkpoint_folder_that_is_a_file_is_refused_before_training(tmp_path):
    (tmp_path / "lesson.ipynb").write_text("{}")
    calls = []

    def counted():
        calls.append(1)
        return make_batches()()

    with pytest.raises(ckpt.CheckpointError, match="is a file, not a folder"):
        fit(
            Bigram(),
            counted,
            config=TrainConfig(steps=5),
            device="cpu",
            progress=False,
            checkpoint_dir=tmp_path / "lesson.ipynb",
        )
    assert calls == [] and (tmp_path / "lesson.ipynb").read_text() == "{}"


def test_fit_keeps_the_other_files_of_its_checkpoint_folder(tmp_path):
    (tmp_path / "lesson.ipynb").write_text("{}")  # used to vanish: a save replaced the whole folder
    fit(
        Bigram(),
        make_batches(),
        config=TrainConfig(steps=4, checkpoint_every=2),
        device="cpu",
        progress=False,
        checkpoint_dir=tmp_path,
    )
    assert (tmp_path / "lesson.ipynb").read_text() == "{}"
    assert ckpt.read_state(tmp_path)["step"] == 4


def test_a_gradient_scaler_changes_nothing_but_the_scale(monkeypatch):
    # On a GPU without bf16, fit scales the loss for fp16 (course.device.grad_scaler). Scaling by a
    # power of two and unscaling before clipping and the step is exact in fp32, so the CPU can check
    # the plumbing: the same weights as without a scaler, and a step whose gradients overflow is
    # skipped, not fatal.
    import course.train as train

    def run(scaler_factory):
        monkeypatch.setattr(train, "grad_scaler", scaler_factory)
        torch.manual_seed(0)
        model = Bigram()
        fit(
            model,
            make_batches(),
            config=TrainConfig(steps=20, lr=0.1),
            device="cpu",
            progress=False,
        )
        return model.table.weight.detach().clone()

    plain = run(lambda device: torch.amp.GradScaler("cpu", enabled=False))
    scaled = run(lambda device: torch.amp.GradScaler("cpu", init_scale=2.0**10, growth_interval=5))
    torch.testing.assert_close(scaled, plain, rtol=0, atol=0)

    calls = []

    # a finite loss whose first gradients overflow, as fp16 ones can
    def overflow_first(model, batch):
        calls.append(1)
        return nan_gradient_loss(model, batch) if len(calls) == 1 else next_token_loss(model, batch)

    monkeypatch.setattr(
        train, "grad_scaler", lambda device: torch.amp.GradScaler("cpu", init_scale=2.0**10)
    )
    torch.manual_seed(0)
    model = Bigram()
    before = model.table.weight.detach().clone()
    history = fit(
        model,
        make_batches(),
        config=TrainConfig(steps=3, lr=0.1),
        loss_fn=overflow_first,
        device="cpu",
        progress=False,
    )
    # skipped, went on
    assert len(history.train_loss) == 3 and not torch.equal(model.table.weight, before)
    assert torch.isfinite(model.table.weight).all()
