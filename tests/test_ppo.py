import math

import pytest
import torch

from course.align import tasks
from course.align.ppo import (
    PolicyWithValue,
    PPOConfig,
    clipped_policy_loss,
    gae,
    kl_to_reference,
    per_token_rewards,
    reply_logprobs,
    reply_mask,
    train_ppo,
    value_loss,
)
from course.models.gpt import GPT, GPTConfig

TOK = tasks.tokenizer()


def test_gae_by_hand():
    rewards = torch.tensor([[0.0, 0.0, 1.0]])
    values = torch.tensor([[0.5, 0.6, 0.7]])
    adv, ret = gae(rewards, values, torch.ones(1, 3), gamma=1.0, lam=0.5)
    # delta_2 = 1 - 0.7 = 0.3;  delta_1 = 0.7 - 0.6 = 0.1;  delta_0 = 0.6 - 0.5 = 0.1
    # A_2 = 0.3;  A_1 = 0.1 + 0.5 * 0.3 = 0.25;  A_0 = 0.1 + 0.5 * 0.25 = 0.225
    assert adv[0].tolist() == pytest.approx([0.225, 0.25, 0.3])
    assert ret[0].tolist() == pytest.approx([0.725, 0.85, 1.0])


def test_gae_stops_at_the_end_of_the_reply():
    rewards = torch.tensor([[0.0, 2.0, 0.0]])
    values = torch.tensor([[1.0, 1.0, 9.0]])  # the value after the end must not leak back
    adv, _ = gae(rewards, values, torch.tensor([[1.0, 1.0, 0.0]]), gamma=0.9, lam=1.0)
    # A_1 = 2 - 1 = 1;  A_0 = 0 + 0.9 * 1 - 1 + 0.9 * 1 * 1 = 0.8
    assert adv[0].tolist() == pytest.approx([0.8, 1.0, 0.0])


def test_clipped_objective_on_toy_tensors():
    mask = torch.ones(1, 1)
    up = torch.tensor([[math.log(1.5)]])  # ratio 1.5
    down = torch.tensor([[math.log(0.5)]])  # ratio 0.5
    zero = torch.zeros(1, 1)
    # positive advantage: the gain is capped at ratio 1 + eps = 1.2
    loss, frac = clipped_policy_loss(up, zero, torch.ones(1, 1), mask, clip=0.2)
    assert loss.item() == pytest.approx(-1.2) and frac == 1.0
    # negative advantage with a grown ratio: the pessimistic (unclipped) term is kept
    loss, frac = clipped_policy_loss(up, zero, -torch.ones(1, 1), mask, clip=0.2)
    assert loss.item() == pytest.approx(1.5) and frac == 0.0
    # positive advantage with a shrunk ratio: unclipped, so the policy is pushed back up
    loss, _ = clipped_policy_loss(down, zero, torch.ones(1, 1), mask, clip=0.2)
    assert loss.item() == pytest.approx(-0.5)
    # inside the trust region nothing is clipped and the gradient is A * ratio
    logp = torch.tensor([[0.1]], requires_grad=True)
    loss, _ = clipped_policy_loss(logp, zero, torch.full((1, 1), 2.0), mask, clip=0.2)
    loss.backward()
    assert logp.grad.item() == pytest.approx(-2.0 * math.exp(0.1))


def test_kl_penalty_and_reward_on_toy_tensors():
    logp = torch.tensor([[-1.0, -2.0, -0.5]])
    logp_ref = torch.tensor([[-1.5, -2.0, -1.0]])
    mask = torch.tensor([[1.0, 1.0, 0.0]])
    rewards = per_token_rewards(logp, logp_ref, mask, torch.tensor([3.0]), kl_coef=0.2)
    # -0.2 * (0.5, 0.0) on the two reply tokens, + 3 on the last one, 0 on padding
    assert rewards[0].tolist() == pytest.approx([-0.1, 3.0, 0.0])
    assert kl_to_reference(logp, logp_ref, mask).tolist() == pytest.approx([0.5])
    assert per_token_rewards(logp, logp_ref, mask, torch.tensor([3.0]), kl_coef=0.0)[
        0
    ].tolist() == pytest.approx([0.0, 3.0, 0.0])


def test_value_loss_is_clipped():
    # the new value 2.0 moved 1.0 from the old 1.0; clipped to 1.2, and the larger error wins
    loss = value_loss(
        torch.tensor([[2.0]]),
        torch.tensor([[1.0]]),
        torch.tensor([[3.0]]),
        torch.ones(1, 1),
        clip=0.2,
    )
    assert loss.item() == pytest.approx(0.5 * (3.0 - 1.2) ** 2)


def test_reply_mask_and_logprobs():
    eos = TOK.encode("\n")[0]
    replies = torch.tensor([[5, eos, 7, 8], [5, 6, 7, 8]])
    assert reply_mask(replies, eos).tolist() == [[1, 1, 0, 0], [1, 1, 1, 1]]
    logits = torch.randn(1, 5, 10)
    seq = torch.tensor([[1, 2, 3, 4, 5]])
    lp = reply_logprobs(logits, seq, prompt_len=3)
    full = torch.log_softmax(logits, -1)
    assert torch.allclose(lp, torch.stack([full[0, 2, 4], full[0, 3, 5]])[None])


def test_policy_value_heads_and_a_short_run(chat_gpt_config):  # tests/conftest.py
    torch.manual_seed(0)
    policy, reference = PolicyWithValue(GPT(chat_gpt_config)), GPT(chat_gpt_config)
    reference.load_state_dict(policy.model.state_dict())
    idx = torch.randint(0, TOK.vocab_size, (2, 8))
    logits, values = policy(idx)
    assert torch.allclose(logits, reference(idx)) and values.shape == (2, 8)

    def reward_fn(prompts, replies):  # likes the letter e
        return torch.tensor([r.count("e") / 4 for r in replies])

    history = train_ppo(
        policy,
        reference,
        reward_fn,
        TOK,
        ["a:", "bb:"],
        PPOConfig(iterations=3, batch_size=8, max_new_tokens=6, minibatch_size=4, lr=1e-3),
        judge=lambda p, r: float(len(r)),
        progress=False,
    )
    assert len(history.reward) == len(history.kl) == len(history.true_reward) == 3
    # the first rollout comes from the reference itself
    assert history.kl[0] == pytest.approx(0.0, abs=1e-5)
    assert all(math.isfinite(k) for k in history.kl) and history.sequences > 0


def test_sample_replies_kl_to_itself_is_zero_and_too_long_prompts_are_refused():
    from course.align.ppo import sample_replies

    torch.manual_seed(0)
    model = GPT(GPTConfig(vocab_size=TOK.vocab_size, block_size=24, n_layer=1, n_head=2, n_embd=16))
    replies, kl = sample_replies(
        model, TOK, ["a:", "bcd:"], 8, reference=model, generator=torch.Generator().manual_seed(0)
    )
    assert len(replies) == 2 and all("\n" not in r for r in replies)
    assert kl == pytest.approx(0.0, abs=1e-5)
    with pytest.raises(ValueError, match="context"):
        sample_replies(model, TOK, ["x" * 20], 8)


class _FixedLogits(torch.nn.Module):
    """A 'language model' whose next-token logits are the same at every position."""

    def __init__(self, logits):
        super().__init__()
        self.logits = torch.nn.Parameter(logits)
        self.config = GPTConfig(
            vocab_size=len(logits), block_size=16, n_layer=1, n_head=1, n_embd=4
        )

    def forward(self, idx):
        return self.logits.expand(*idx.shape, -1)


def test_rollout_log_probs_are_those_of_the_tempered_distribution_it_sampled_from():
    # sampled at T = 2, a token's frequency matches exp(reply_logprobs(..., T)), not the untempered
    from course.align.ppo import rollout

    logits = torch.full((TOK.vocab_size,), -10.0)
    logits[TOK.encode("a")[0]], logits[TOK.encode("b")[0]] = 2.0, 0.0
    model = _FixedLogits(logits)
    roll = rollout(
        model, TOK, ["x:"] * 4000, 1, temperature=2.0, generator=torch.Generator().manual_seed(0)
    )
    is_a = roll.seq[:, -1] == TOK.encode("a")[0]
    tempered = reply_logprobs(model(roll.seq), roll.seq, roll.prompt_len, temperature=2.0)[:, 0]
    untempered = reply_logprobs(model(roll.seq), roll.seq, roll.prompt_len)[:, 0]
    frequency = is_a.float().mean().item()  # sigmoid(1) = 0.731 at T = 2; sigmoid(2) = 0.881 at T 1
    assert tempered[is_a][0].exp().item() == pytest.approx(frequency, abs=0.03)
    assert abs(untempered[is_a][0].exp().item() - frequency) > 0.1
    assert roll.replies[0] in ("a", "b") and roll.mask.shape == (4000, 1)


def test_train_ppo_and_sample_replies_score_with_the_sampling_temperature(
    monkeypatch, chat_gpt_config
):
    # every log-probability PPO and sample_replies compute comes from logits / temperature
    import course.align.ppo as ppo

    seen = []
    real = ppo.reply_logprobs

    def spy(logits, seq, prompt_len, temperature=1.0):
        seen.append(temperature)
        return real(logits, seq, prompt_len, temperature)

    monkeypatch.setattr(ppo, "reply_logprobs", spy)
    torch.manual_seed(0)
    policy, reference = PolicyWithValue(GPT(chat_gpt_config)), GPT(chat_gpt_config)
    reference.load_state_dict(policy.model.state_dict())
    history = train_ppo(
        policy,
        reference,
        lambda p, r: torch.zeros(len(r)),
        TOK,
        ["a:"],
        PPOConfig(iterations=1, batch_size=4, max_new_tokens=4, minibatch_size=4, temperature=0.7),
        progress=False,
    )
    assert seen and set(seen) == {0.7}
    assert history.kl[0] == pytest.approx(0.0, abs=1e-5)
    seen.clear()
    _, kl = ppo.sample_replies(
        reference, TOK, ["a:", "b:"], 4, reference=reference, temperature=0.7
    )
    assert set(seen) == {0.7} and kl == pytest.approx(0.0, abs=1e-5)
