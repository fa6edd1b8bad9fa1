import math

import pytest
import torch

from course import checkpoint as ckpt
from course.train import History, TrainConfig, TrainingDiverged, cosine_lr, evaluate, fit, next_token_loss


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
    history = fit(model, make_batches(), val_batches=make_batches(), device="cpu", progress=False,
                  config=TrainConfig(steps=150, lr=0.1, eval_every=50, eval_batches=2))
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
    history = fit(model, make_batches(), device="cpu", progress=False,
                  config=TrainConfig(steps=120, lr=1e-2, eval_every=1000, cpu_bf16=True))
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
        fit(first, interrupted, config=half, device="cpu", progress=False, checkpoint_dir=tmp_path / "run")
    assert ckpt.read_state(tmp_path / "run")["step"] == 20

    resumed = Bigram()
    history = fit(resumed, make_batches(), config=half, device="cpu", progress=False,
                  checkpoint_dir=tmp_path / "run", resume=True)
    assert history.step[0] == 0 and history.step[-1] == 39 and len(history.step) == 40
    torch.testing.assert_close(resumed.table.weight, straight.table.weight)


def test_nan_loss_stops_with_a_clear_message_and_keeps_the_old_checkpoint(tmp_path):
    model = Bigram()
    fit(model, make_batches(), config=TrainConfig(steps=3), device="cpu", progress=False, checkpoint_dir=tmp_path / "c")
    before = ckpt.weights_path(tmp_path / "c").read_bytes()

    def poisoned_loss(model, batch):
        return model(batch[0]).sum() * float("nan")

    with pytest.raises(TrainingDiverged, match="Lower the learning rate"):
        fit(model, make_batches(), config=TrainConfig(steps=3), loss_fn=poisoned_loss, device="cpu",
            progress=False, checkpoint_dir=tmp_path / "c")
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

    fit(model, make_batches(), loss_fn=huge_loss, config=TrainConfig(steps=1, lr=1e-3, grad_clip=1.0, betas=(0.0, 0.0)),
        optimizer=torch.optim.SGD(model.parameters(), lr=1e-3), device="cpu", progress=False)
    assert (model.table.weight - before).norm() <= 1e-3 * 1.0 + 1e-6


def test_history_summaries():
    h = History(step=list(range(10)), train_loss=[float(10 - i) for i in range(10)], val_loss=[2.0, 1.5])
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
    history = fit(Bigram(), lambda: Batch(*get()), loss_fn=train_loss, eval_loss_fn=eval_loss,
                  val_batches=lambda: Batch(*get()), config=TrainConfig(steps=3, eval_every=1, eval_batches=1),
                  device="cpu", progress=False)
    assert seen == [torch.device("cpu")] * 3
    assert history.val_loss == [42.0, 42.0, 42.0]


def test_evaluate_weights_batches_by_their_rows():
    """A DataLoader's smaller last batch must count for its rows, not as a whole batch."""
    torch.manual_seed(0)
    model = Bigram()
    x = torch.randint(0, 8, (5, 12))
    y = torch.randint(0, 8, (5, 12))
    with torch.no_grad():
        per_row = [float(next_token_loss(model, (x[i:i + 1], y[i:i + 1]))) for i in range(5)]
    uneven = [(x[:4], y[:4]), (x[4:], y[4:])]  # 4 rows, then 1
    assert evaluate(model, uneven) == pytest.approx(sum(per_row) / 5, rel=1e-5)
