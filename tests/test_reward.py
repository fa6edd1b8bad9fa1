import math

import pytest
import torch

from course.align import tasks
from course.align.reward import (RewardModel, bradley_terry_loss, calibration, pair_accuracy, pair_batches,
                                 reward_loss, score)
from course.models.gpt import GPT, GPTConfig
from course.train import TrainConfig, fit

TOK = tasks.tokenizer()


def reward_model(block: int = 40) -> RewardModel:
    torch.manual_seed(0)
    return RewardModel(GPT(GPTConfig(vocab_size=TOK.vocab_size, block_size=block, n_layer=1, n_head=2, n_embd=32)))


def test_bradley_terry_loss_by_hand():
    chosen, rejected = torch.tensor([1.0, 0.0, 2.0]), torch.tensor([0.0, 0.0, -1.0])
    # -log sigmoid(d) = log(1 + e^-d) for d = 1, 0, 3
    expected = (math.log(1 + math.exp(-1)) + math.log(2) + math.log(1 + math.exp(-3))) / 3
    assert bradley_terry_loss(chosen, rejected).item() == pytest.approx(expected, rel=1e-6)
    # only the difference matters
    assert bradley_terry_loss(chosen + 5, rejected + 5).item() == pytest.approx(expected, rel=1e-6)


def test_reward_model_refuses_inputs_longer_than_its_context():
    model = reward_model(block=16)
    with pytest.raises(ValueError, match="context is 16"):
        model(torch.zeros(1, 17, dtype=torch.long))
    with pytest.raises(ValueError, match="context"):
        score(model, TOK, ["User: hello there\nBot:"], [" a very long reply"])


def test_reward_is_one_scalar_per_sequence_read_at_the_last_token():
    model = reward_model()
    idx = torch.randint(0, TOK.vocab_size, (3, 10))
    r = model(idx)
    assert r.shape == (3,)
    changed = idx.clone()
    changed[:, -1] = (changed[:, -1] + 1) % TOK.vocab_size
    assert not torch.allclose(model(changed), r)


def test_reward_model_learns_a_simple_preference_with_fit():
    pairs = [tasks.Pair("Q:", " yes" * (1 + i % 3), " no" * (1 + i % 2), 1.0) for i in range(16)]
    model = reward_model()
    fit(model, pair_batches(TOK, pairs, batch_size=8), loss_fn=reward_loss, device="cpu", progress=False,
        plot=False, config=TrainConfig(steps=40, lr=3e-3))
    accuracy, diff = pair_accuracy(model, TOK, pairs)
    assert accuracy == 1.0 and diff.shape == (16,)


def test_calibration_counts_both_orders():
    predicted, observed, counts = calibration(torch.tensor([2.0, -1.0, 0.5, 3.0]), bins=2)
    assert sum(counts) == 8
    assert predicted[0] < 0.5 < predicted[1]
    assert all(0 <= o <= 1 for o in observed)
