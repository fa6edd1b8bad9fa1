import math

import pytest
import torch

from course.align import tasks
from course.align.reward import (
    RewardModel,
    bradley_terry_loss,
    calibration,
    pair_accuracy,
    pair_batches,
    ranked_pairs,
    reward_loss,
    score,
)
from course.models.gpt import GPT, GPTConfig
from course.train import TrainConfig, fit

TOK = tasks.tokenizer()


def reward_model(block: int = 40, pooling: str = "last") -> RewardModel:
    torch.manual_seed(0)
    return RewardModel(
        GPT(GPTConfig(vocab_size=TOK.vocab_size, block_size=block, n_layer=1, n_head=2, n_embd=32)),
        pooling,
    )


def test_bradley_terry_loss_by_hand():
    chosen, rejected = torch.tensor([1.0, 0.0, 2.0]), torch.tensor([0.0, 0.0, -1.0])
    # -log sigmoid(d) = log(1 + e^-d) for d = 1, 0, 3
    expected = (math.log(1 + math.exp(-1)) + math.log(2) + math.log(1 + math.exp(-3))) / 3
    assert bradley_terry_loss(chosen, rejected).item() == pytest.approx(expected, rel=1e-6)
    # only the difference matters
    assert bradley_terry_loss(chosen + 5, rejected + 5).item() == pytest.approx(expected, rel=1e-6)


def test_noisy_bradley_terry_loss_by_hand():
    chosen, rejected = torch.tensor([1.0, -4.0]), torch.tensor([0.0, 2.0])
    eps = 0.1
    sig = lambda x: 1 / (1 + math.exp(-x))
    # P(label) = 0.9 sigma(d) + 0.1 sigma(-d) for d = 1 and d = -6 (a pair the model thinks
    # mislabelled)
    expected = (
        -(math.log(0.9 * sig(1) + 0.1 * sig(-1)) + math.log(0.9 * sig(-6) + 0.1 * sig(6))) / 2
    )
    assert bradley_terry_loss(chosen, rejected, label_noise=eps).item() == pytest.approx(
        expected, rel=1e-6
    )
    # no noise: the plain loss; a confidently "wrong" pair costs at most -log(eps) instead of
    # growing with d
    assert bradley_terry_loss(chosen, rejected, 0.0).item() == pytest.approx(
        bradley_terry_loss(chosen, rejected).item()
    )
    far = bradley_terry_loss(torch.tensor([-50.0]), torch.tensor([0.0]), label_noise=eps).item()
    assert (
        far == pytest.approx(-math.log(eps), rel=1e-4)
        and bradley_terry_loss(torch.tensor([-50.0]), torch.tensor([0.0])).item() > 49
    )
    with pytest.raises(ValueError, match="flip probability"):
        bradley_terry_loss(chosen, rejected, label_noise=0.5)


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


@pytest.mark.parametrize("pooling", ["last", "mean", "sum"])
def test_reward_model_learns_a_simple_preference_with_fit(pooling):
    pairs = [tasks.Pair("Q:", " yes" * (1 + i % 3), " no" * (1 + i % 2), 1.0) for i in range(16)]
    model = reward_model(pooling=pooling)
    fit(
        model,
        pair_batches(TOK, pairs, batch_size=8),
        loss_fn=reward_loss,
        device="cpu",
        progress=False,
        plot=False,
        config=TrainConfig(steps=40, lr=3e-3),
    )
    accuracy, diff = pair_accuracy(model, TOK, pairs)
    assert accuracy == 1.0 and diff.shape == (16,)


def test_calibration_counts_both_orders():
    predicted, observed, counts = calibration(torch.tensor([2.0, -1.0, 0.5, 3.0]), bins=2)
    assert sum(counts) == 8
    assert predicted[0] < 0.5 < predicted[1]
    assert all(0 <= o <= 1 for o in observed)


def test_ranked_pairs_compares_every_two_of_k_replies():
    prompts = ["User: Write a line about love.\nBot:", "User: Write a line about war.\nBot:"]
    replies = [
        [" I love thee, good friend", " war"],
        [" a bad and hateful day", " the sweet war of peace"],
        [" the table", " kill the war, die"],
    ]
    pairs = ranked_pairs(prompts, replies, noise=0.0, min_gap=0.0)
    assert len(pairs) == 2 * 3  # C(3, 2) comparisons per prompt
    for p in pairs:
        assert tasks.annotator_score(p.prompt, p.chosen) > tasks.annotator_score(
            p.prompt, p.rejected
        )
    # the same comparisons as annotate_pairs on the listed (a, b) combinations, noise included
    a = [replies[j][i] for i in range(2) for j, k in [(0, 1), (0, 2), (1, 2)]]
    b = [replies[k][i] for i in range(2) for j, k in [(0, 1), (0, 2), (1, 2)]]
    assert ranked_pairs(prompts, replies, noise=0.3, min_gap=0.1, seed=4) == tasks.annotate_pairs(
        [q for q in prompts for _ in range(3)], a, b, noise=0.3, min_gap=0.1, seed=4
    )
    with pytest.raises(ValueError, match="K >= 2"):
        ranked_pairs(prompts, [replies[0]])


def test_pair_batches_mask_only_the_reply_tokens():
    pairs = [tasks.Pair("Q:", " yes", " no", 1.0), tasks.Pair("Longer Q:", " a", " bb", 1.0)]
    ids, mask, chosen, rejected = pair_batches(TOK, pairs, batch_size=2)()
    assert ids.shape == mask.shape == (4, 13) and chosen.shape == rejected.shape == (2,)
    for row, m in zip(ids.tolist(), mask.tolist()):
        text = TOK.decode(row)
        reply = TOK.decode([t for t, keep in zip(row, m) if keep])
        assert reply in {" yes\n", " no\n", " a\n", " bb\n"} and text.endswith(reply)
        assert text[: len(text) - len(reply)].lstrip("\n") in {
            "Q:",
            "Longer Q:",
        }  # prompt and padding are 0
    picked = {
        (TOK.decode(ids[c].tolist()).strip(), TOK.decode(ids[r].tolist()).strip())
        for c, r in zip(chosen, rejected)
    }
    assert picked == {("Q: yes", "Q: no"), ("Longer Q: a", "Longer Q: bb")}


def test_pair_batches_by_prompt_score_each_reply_once():
    prompt = "Q:"
    replies = [" w", " x", " y", " z"]
    pairs = [
        tasks.Pair(prompt, replies[j], replies[k], 1.0) for j in range(4) for k in range(j + 1, 4)
    ]
    pairs.append(tasks.Pair("Other:", " a", " b", 1.0))
    ids, mask, chosen, rejected = pair_batches(TOK, pairs, batch_size=1, seed=0, by_prompt=True)()
    if len(ids) == 2:  # drew the other prompt; take the next batch
        ids, mask, chosen, rejected = pair_batches(
            TOK, pairs, batch_size=1, seed=1, by_prompt=True
        )()
    assert len(ids) == 4 and len(chosen) == 6  # K = 4 forward passes for C(4, 2) = 6 pairs
    rows = [TOK.decode(r.tolist()).strip() for r in ids]
    assert {(rows[c], rows[r]) for c, r in zip(chosen, rejected)} == {
        ("Q:" + p.chosen, "Q:" + p.rejected) for p in pairs[:6]
    }
    model = reward_model()
    rewards = model(ids, mask)
    assert reward_loss(model, (ids, mask, chosen, rejected)).item() == pytest.approx(
        bradley_terry_loss(rewards[chosen], rewards[rejected]).item()
    )
    assert reward_loss(
        model, (ids, mask, chosen, rejected), label_noise=0.2
    ).item() == pytest.approx(
        bradley_terry_loss(rewards[chosen], rewards[rejected], label_noise=0.2).item()
    )


def test_pooled_reward_reads_only_the_reply_tokens():
    for pooling in ["mean", "sum"]:
        model = reward_model(pooling=pooling)
        with torch.no_grad():
            model.head.weight.normal_()
        hidden = model.backbone.hidden_states
        idx = torch.randint(0, TOK.vocab_size, (2, 10))
        mask = torch.zeros(2, 10)
        mask[:, 6:] = 1
        h = hidden(idx)
        pooled = h[:, 6:].mean(1) if pooling == "mean" else h[:, 6:].sum(1)
        assert torch.allclose(model(idx, mask), model.head(pooled).squeeze(-1), atol=1e-5)
        with pytest.raises(ValueError, match="reply_mask"):
            model(idx)
