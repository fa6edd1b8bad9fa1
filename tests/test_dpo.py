import math

import pytest
import torch

from course.align import tasks
from course.align.dpo import (
    dpo_loss,
    encode_pair_batch,
    preference_accuracy,
    sequence_logprob,
    train_dpo,
)
from course.models.gpt import GPT, GPTConfig

TOK = tasks.tokenizer()


def gpt(config: GPTConfig, seed=0) -> GPT:
    torch.manual_seed(seed)
    return GPT(config)


def test_dpo_loss_by_hand():
    stats = dpo_loss(
        torch.tensor([-1.0]),
        torch.tensor([-2.0]),
        torch.tensor([-1.5]),
        torch.tensor([-1.5]),
        beta=0.5,
    )
    assert stats.chosen_reward.item() == pytest.approx(0.25)
    assert stats.rejected_reward.item() == pytest.approx(-0.25)
    assert stats.margin.item() == pytest.approx(0.5)
    assert stats.loss.item() == pytest.approx(math.log(1 + math.exp(-0.5)), rel=1e-6)
    assert stats.accuracy == 1.0
    with pytest.raises(ValueError, match="beta"):
        dpo_loss(torch.zeros(1), torch.zeros(1), torch.zeros(1), torch.zeros(1), beta=0)


def test_policy_equal_to_reference_gives_log_two():
    x = torch.randn(4)
    stats = dpo_loss(x, x + 1, x, x + 1, beta=0.1)
    assert stats.loss.item() == pytest.approx(math.log(2))


def test_sequence_logprob_sums_reply_tokens_only(chat_gpt_config):  # tests/conftest.py
    model = gpt(chat_gpt_config)
    pair = tasks.Pair("Q: hi\nBot:", " yes\n", " no\n", 1.0)
    x, y = encode_pair_batch(TOK, [pair])
    got = sequence_logprob(model, x, y)
    with torch.no_grad():
        ids = TOK.encode(pair.prompt + pair.chosen)
        logp = torch.log_softmax(model(torch.tensor([ids[:-1]])), -1)[0]
        p = len(TOK.encode(pair.prompt))
        manual = sum(logp[t, ids[t + 1]].item() for t in range(p - 1, len(ids) - 1))
    assert got[0].item() == pytest.approx(manual, rel=1e-5)


def test_dpo_training_raises_preference_accuracy(chat_gpt_config):
    pairs = [tasks.Pair(f"Q{i % 3}:", " good\n", " bad\n", 1.0) for i in range(12)]
    policy, reference = gpt(chat_gpt_config), gpt(chat_gpt_config)
    before, _ = preference_accuracy(policy, reference, TOK, pairs)
    history = train_dpo(
        policy, reference, TOK, pairs, steps=15, batch_size=6, beta=0.5, lr=3e-3, progress=False
    )
    after, margin = preference_accuracy(policy, reference, TOK, pairs, beta=0.5)
    assert before == 0.0  # identical models: every margin is exactly zero
    assert after == 1.0 and margin > 0
    assert history.loss[-1] < history.loss[0]
