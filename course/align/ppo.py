"""PPO for language models, as in InstructGPT (Ouyang et al. 2022) with the details of Ziegler et
al. (2019).

One iteration:

1. **Rollout.** The policy (initialised from the SFT model) samples a reply to each prompt; a token
   is an *action*, the text so far is the *state*.
2. **Score.** The reward model scores each finished reply once, at its last token. Every token also
   pays a KL penalty for moving away from the frozen reference (the SFT model):

       r_t = −β · (log π(a_t|s_t) − log π_ref(a_t|s_t))   (+ RM score at the last token)

   Summed over the reply this is the reward minus β times a sample of KL(π ‖ π_ref). Without it the
   policy is free to find whatever text the reward model over-rates (reward hacking).
3. **Advantages** by generalised advantage estimation (Schulman et al. 2016) from a value head:

       δ_t = r_t + γ V(s_{t+1}) − V(s_t),      A_t = Σ_k (γλ)^k δ_{t+k}

4. **Update** a few epochs on the clipped surrogate (Schulman et al. 2017):

       L = −E min( ρ_t A_t, clip(ρ_t, 1−ε, 1+ε) A_t ),   ρ_t = π(a_t|s_t) / π_old(a_t|s_t)

   plus a (clipped) value loss. Clipping stops one batch of lucky samples from moving the policy
   far.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import torch
import torch.nn as nn

from course.align.tasks import left_pad
from course.device import eval_mode
from course.special_tokens import CHAT_EOS as EOS
from course.special_tokens import CHAT_PAD as PAD


# -------------------------------------------------------------------- the pieces, one equation each
def masked_mean(x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    return (x * mask).sum() / mask.sum().clamp(min=1)


def per_token_rewards(
    logp: torch.Tensor,
    logp_ref: torch.Tensor,
    mask: torch.Tensor,
    score: torch.Tensor,
    kl_coef: float,
) -> torch.Tensor:
    """r_t = −β (log π − log π_ref) on every reply token, plus the reward model's score on the last
    one.

    ``logp``, ``logp_ref``, ``mask``: (B, T); ``score``: (B,). Returns (B, T), zero where mask is 0.
    """
    rewards = -kl_coef * (logp - logp_ref) * mask
    last = (mask.sum(-1).long() - 1).clamp(min=0)  # index of each reply's final token
    rewards[torch.arange(len(score)), last] += score
    return rewards * mask


def gae(
    rewards: torch.Tensor,
    values: torch.Tensor,
    mask: torch.Tensor,
    gamma: float = 1.0,
    lam: float = 0.95,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Generalised advantage estimation over each reply; returns (advantages, returns), both (B, T).

    ``mask`` is 1 on the reply's tokens (a prefix of each row); after the last one the episode has
    ended, so V(s_{t+1}) = 0 there and nothing flows back from padding.
    """
    B, T = rewards.shape
    advantages = torch.zeros_like(rewards)
    running = torch.zeros(B, dtype=rewards.dtype, device=rewards.device)
    for t in reversed(range(T)):
        next_mask = mask[:, t + 1] if t + 1 < T else torch.zeros_like(running)
        next_value = (values[:, t + 1] if t + 1 < T else torch.zeros_like(running)) * next_mask
        delta = rewards[:, t] + gamma * next_value - values[:, t]
        running = delta + gamma * lam * next_mask * running
        advantages[:, t] = running * mask[:, t]
    return advantages, (advantages + values) * mask


def clipped_policy_loss(
    logp: torch.Tensor,
    logp_old: torch.Tensor,
    advantages: torch.Tensor,
    mask: torch.Tensor,
    clip: float = 0.2,
) -> tuple[torch.Tensor, float]:
    """PPO's clipped surrogate (as a loss to minimise) and the fraction of tokens where clipping
    bit."""
    ratio = torch.exp(logp - logp_old)
    unclipped = -advantages * ratio
    clipped = -advantages * torch.clamp(ratio, 1 - clip, 1 + clip)
    loss = masked_mean(torch.maximum(unclipped, clipped), mask)
    clip_fraction = float(masked_mean((clipped > unclipped).float(), mask))
    return loss, clip_fraction


def value_loss(
    values: torch.Tensor,
    values_old: torch.Tensor,
    returns: torch.Tensor,
    mask: torch.Tensor,
    clip: float = 0.2,
) -> torch.Tensor:
    """½ max((V − R)², (V_clipped − R)²): the value may move at most ``clip`` from its old estimate
    per epoch."""
    clipped = values_old + torch.clamp(values - values_old, -clip, clip)
    return 0.5 * masked_mean(torch.maximum((values - returns) ** 2, (clipped - returns) ** 2), mask)


def kl_to_reference(logp: torch.Tensor, logp_ref: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Per-reply KL estimate Σ_t (log π − log π_ref) over sampled tokens, shape (B,) (its mean is
    KL(π‖π_ref))."""
    return ((logp - logp_ref) * mask).sum(-1)


# ------------------------------------------------------------------------- policy with a value head
class PolicyWithValue(nn.Module):
    """A GPT policy and a scalar value head on its final hidden states (one trunk, two heads, as in
    TRL)."""

    def __init__(self, model: nn.Module):
        super().__init__()
        self.model = model
        self.config = model.config
        self.value_head = nn.Linear(model.config.n_embd, 1)
        nn.init.zeros_(self.value_head.weight)
        nn.init.zeros_(self.value_head.bias)

    def forward(self, idx: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """logits (B, T, V) and values (B, T)."""
        hidden = self.model.hidden_states(idx)  # (B, T, C)
        head = getattr(self.model, "lm_head", None)
        logits = head(hidden) if isinstance(head, nn.Module) else self.model(idx)
        return logits.float(), self.value_head(hidden).squeeze(-1).float()


def reply_logprobs(
    logits: torch.Tensor, seq: torch.Tensor, prompt_len: int, temperature: float = 1.0
) -> torch.Tensor:
    """log π(a_t | s_t) of the reply tokens ``seq[:, prompt_len:]``: (B, L, V) → (B, L - P).

    ``temperature``: the one the replies were sampled at. Sampling at T draws from
    softmax(logits / T), so that is the distribution whose log-probabilities PPO's ratio and KL
    penalty must use.
    """
    # position i predicts token i + 1
    logp = torch.log_softmax(logits[:, prompt_len - 1 : -1] / temperature, dim=-1)
    return logp.gather(-1, seq[:, prompt_len:].unsqueeze(-1)).squeeze(-1)


def reply_mask(replies: torch.Tensor, eos_id: int) -> torch.Tensor:
    """1 on every reply token up to and including the first EOS, 0 after it; (B, R) → (B, R)
    float."""
    is_eos = (replies == eos_id).long()
    before = torch.cumsum(is_eos, dim=1) - is_eos  # EOS tokens strictly before position t
    return (before == 0).float()


@dataclass
class Rollout:
    """Replies sampled from a model: token ids and text, for PPO and for evaluation alike."""

    seq: torch.Tensor  # (B, P + R): left-padded prompts, then R sampled tokens
    prompt_len: int  # P
    mask: torch.Tensor  # (B, R): 1 on each reply's tokens up to and including its EOS
    replies: list[str]  # the replies as text, cut at EOS


@torch.no_grad()
def rollout(
    model: nn.Module,
    tokenizer,
    prompts: Sequence[str],
    max_new_tokens: int,
    *,
    temperature: float = 1.0,
    generator: torch.Generator | None = None,
) -> Rollout:
    """Sample one reply per prompt at ``temperature`` (prompts left-padded with ``PAD``).

    ``train_ppo`` and ``sample_replies`` both sample through this function; whoever scores the
    replies' log-probabilities afterwards passes the same ``temperature`` to :func:`reply_logprobs`.
    """
    from course.generate import generate

    device = next(model.parameters()).device
    pad_id, eos_id = tokenizer.encode(PAD)[0], tokenizer.encode(EOS)[0]
    encoded = [tokenizer.encode(p) for p in prompts]
    P = max(len(e) for e in encoded)
    if P + max_new_tokens > model.config.block_size:
        raise ValueError(
            f"prompts of {P} tokens plus {max_new_tokens} new ones exceed the context "
            f"{model.config.block_size}; shorten the prompts or lower max_new_tokens"
        )
    idx = left_pad(encoded, pad_id).to(device)  # (B, P)
    # (B, P + R)
    seq = generate(model, idx, max_new_tokens, temperature=temperature, generator=generator)
    replies = [tokenizer.decode(row).split(EOS)[0] for row in seq[:, P:].tolist()]
    return Rollout(seq, P, reply_mask(seq[:, P:], eos_id), replies)


# ----------------------------------------------------------------------------- the loop
@dataclass
class PPOConfig:
    iterations: int = 100
    batch_size: int = 32  # prompts per rollout
    max_new_tokens: int = 32
    ppo_epochs: int = 2
    minibatch_size: int = 16
    lr: float = 5e-5
    clip: float = 0.2
    value_clip: float = 0.2
    vf_coef: float = 0.1
    kl_coef: float = 0.1  # β of the per-token KL penalty
    use_kl: bool = True  # False: the reward-hacking run
    gamma: float = 1.0
    lam: float = 0.95
    temperature: float = 1.0
    grad_clip: float = 1.0
    seed: int = 0


@dataclass
class PPOHistory:
    reward: list[float] = field(default_factory=list)  # mean reward-model score of the rollouts
    # mean score from ``judge`` (the annotator), if given
    true_reward: list[float] = field(default_factory=list)
    kl: list[float] = field(default_factory=list)  # mean KL(π‖π_ref) per reply, nats
    entropy: list[float] = field(default_factory=list)  # mean per-token entropy of the policy, nats
    length: list[float] = field(default_factory=list)  # mean reply length in tokens
    clip_fraction: list[float] = field(default_factory=list)
    seconds: float = 0.0
    sequences: int = 0  # forward passes over a (prompt + reply) sequence, a rough compute measure
    # (prompt, reply) of the last rollout
    samples: list[tuple[str, str]] = field(default_factory=list)


def train_ppo(
    policy: PolicyWithValue,
    reference: nn.Module,
    reward_fn: Callable[[list[str], list[str]], torch.Tensor],
    tokenizer,
    prompts: Sequence[str],
    config: PPOConfig | None = None,
    *,
    judge: Callable[[str, str], float] | None = None,
    progress: bool = True,
) -> PPOHistory:
    """Optimise ``policy`` with PPO against ``reward_fn(prompts, replies) -> (B,) scores``.

    ``reference`` is the frozen SFT model for the KL penalty. ``judge(prompt, reply)``, if given, is
    logged alongside (the annotator's own score, which the reward model only approximates).
    """
    from tqdm.auto import tqdm

    config = config or PPOConfig()
    check_trainable(policy, prompts)
    device = next(policy.parameters()).device
    reference.eval()  # frozen: only ever run under torch.no_grad(), never handed to the optimiser
    optimizer = torch.optim.AdamW(policy.parameters(), lr=config.lr, weight_decay=0.0)
    rng = random.Random(config.seed)  # which prompts, and the order of the minibatches
    generator = torch.Generator(device=device).manual_seed(config.seed)  # the sampled tokens
    history, began = PPOHistory(), time.perf_counter()
    desc = "PPO" + ("" if config.use_kl else " (no KL)")
    bar = tqdm(range(config.iterations), desc=desc, disable=not progress)
    for _ in bar:
        # 1-3. rollout, rewards and advantages, all without gradients
        batch_prompts = [rng.choice(list(prompts)) for _ in range(config.batch_size)]
        exp = collect_experience(
            policy, reference, reward_fn, tokenizer, batch_prompts, config, generator
        )
        history.sequences += 4 * len(exp.seq)  # generation, policy, reference, reward model
        # 4. a few epochs of clipped updates over shuffled minibatches of this one rollout
        policy.train()
        clip_fractions = []
        for _ in range(config.ppo_epochs):
            seed = rng.randrange(2**31)
            order = torch.randperm(len(exp.seq), generator=torch.Generator().manual_seed(seed))
            for start in range(0, len(exp.seq), config.minibatch_size):
                mb = order[start : start + config.minibatch_size].to(device)
                loss, clip_fraction = ppo_loss(policy, exp, mb, config)
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                torch.nn.utils.clip_grad_norm_(policy.parameters(), config.grad_clip)
                optimizer.step()
                clip_fractions.append(clip_fraction)
                history.sequences += 2 * len(mb)  # forward and backward
        log_iteration(history, exp, clip_fractions, judge)
        bar.set_postfix(reward=f"{history.reward[-1]:.2f}", kl=f"{history.kl[-1]:.2f}")
    history.seconds = time.perf_counter() - began
    return history


# ------------------------------------------------------------- the loop's helpers, one step each
def check_trainable(policy: PolicyWithValue, prompts: Sequence[str]) -> None:
    """Refuse, with what to do, a run that could not learn: no prompts, or frozen weights."""
    if not prompts:
        raise ValueError("PPO needs prompts to answer")
    if not all(p.requires_grad for p in policy.model.parameters()):
        raise ValueError(
            "some of the policy's weights are frozen (requires_grad=False); PPO fine-tunes the "
            "whole policy, so copy the SFT model before freezing anything"
        )


@dataclass
class Experience:
    """One scored rollout: what the PPO epochs learn from. Every tensor is (B, R) unless noted."""

    prompts: list[str]
    replies: list[str]
    seq: torch.Tensor  # (B, P + R): prompts and sampled replies
    prompt_len: int  # P
    mask: torch.Tensor  # 1 on each reply's tokens up to and including its EOS
    logp_old: torch.Tensor  # log π_old(a_t|s_t) of the sampled tokens
    values: torch.Tensor  # V(s_t) of the value head when sampling
    advantages: torch.Tensor  # whitened A_t
    returns: torch.Tensor  # A_t + V(s_t), the value head's target
    score: torch.Tensor  # (B,) reward-model score of each reply
    kl: torch.Tensor  # (B,) Σ_t (log π − log π_ref) of each reply
    entropy: torch.Tensor  # () mean per-token entropy of the policy


@torch.no_grad()
def collect_experience(
    policy: PolicyWithValue,
    reference: nn.Module,
    reward_fn: Callable[[list[str], list[str]], torch.Tensor],
    tokenizer,
    prompts: list[str],
    config: PPOConfig,
    generator: torch.Generator,
) -> Experience:
    """Steps 1-3: sample a reply to each prompt, score it, and turn the scores into advantages.

    Sampling, the ratio's old log-probabilities, the KL penalty and the entropy all use the same
    tempered distribution softmax(logits / T).
    """
    T = config.temperature
    policy.eval()
    roll = rollout(
        policy.model, tokenizer, prompts, config.max_new_tokens, temperature=T, generator=generator
    )
    seq, P, mask = roll.seq, roll.prompt_len, roll.mask  # (B, P + R), P, (B, R)
    logits, values = policy(seq)
    logp_old = reply_logprobs(logits, seq, P, T)  # (B, R)
    values = values[:, P - 1 : -1]  # V(s_t): the state before each reply token
    logp_ref = reply_logprobs(reference(seq).float(), seq, P, T)  # reference at the same T
    device = next(policy.parameters()).device
    score = reward_fn(prompts, roll.replies).to(device).float()  # (B,)
    kl_coef = config.kl_coef if config.use_kl else 0.0
    rewards = per_token_rewards(logp_old, logp_ref, mask, score, kl_coef)
    advantages, returns = gae(rewards, values, mask, config.gamma, config.lam)
    probs = torch.softmax(logits[:, P - 1 : -1] / T, -1)
    entropy = masked_mean(-(probs * torch.log(probs.clamp_min(1e-12))).sum(-1), mask)
    return Experience(
        prompts,
        roll.replies,
        seq,
        P,
        mask,
        logp_old,
        values,
        whiten(advantages, mask),
        returns,
        score,
        kl_to_reference(logp_old, logp_ref, mask),
        entropy,
    )


def whiten(advantages: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """(A − mean) / std over the reply tokens, as in most PPO code: one scale for every batch."""
    mean = masked_mean(advantages, mask)
    std = torch.sqrt(masked_mean((advantages - masked_mean(advantages, mask)) ** 2, mask))
    return (advantages - mean) / (std + 1e-8) * mask


def ppo_loss(
    policy: PolicyWithValue, exp: Experience, mb: torch.Tensor, config: PPOConfig
) -> tuple[torch.Tensor, float]:
    """Step 4 on the minibatch ``mb`` (row indices into the rollout): the clipped policy loss plus
    ``vf_coef`` times the clipped value loss, and the fraction of tokens where clipping bit."""
    P, seq = exp.prompt_len, exp.seq[mb]
    logits, values = policy(seq)
    logp = reply_logprobs(logits, seq, P, config.temperature)
    policy_loss, clip_fraction = clipped_policy_loss(
        logp, exp.logp_old[mb], exp.advantages[mb], exp.mask[mb], config.clip
    )
    vf = value_loss(
        values[:, P - 1 : -1], exp.values[mb], exp.returns[mb], exp.mask[mb], config.value_clip
    )
    return policy_loss + config.vf_coef * vf, clip_fraction


def log_iteration(
    history: PPOHistory,
    exp: Experience,
    clip_fractions: list[float],
    judge: Callable[[str, str], float] | None,
) -> None:
    """Append one iteration's figures to ``history``."""
    history.reward.append(float(exp.score.mean()))
    if judge is not None:
        pairs = zip(exp.prompts, exp.replies)
        history.true_reward.append(sum(judge(p, r) for p, r in pairs) / len(exp.replies))
    history.kl.append(float(exp.kl.mean()))
    history.entropy.append(float(exp.entropy))
    history.length.append(float(exp.mask.sum(-1).mean()))
    history.clip_fraction.append(sum(clip_fractions) / max(1, len(clip_fractions)))
    history.samples = list(zip(exp.prompts, exp.replies))


@torch.no_grad()
def sample_replies(
    model: nn.Module,
    tokenizer,
    prompts: Sequence[str],
    max_new_tokens: int = 32,
    *,
    reference: nn.Module | None = None,
    temperature: float = 1.0,
    batch_size: int = 64,
    generator: torch.Generator | None = None,
) -> tuple[list[str], float | None]:
    """Sampled replies (cut at EOS) and, with a ``reference``, the mean KL(model ‖ reference) per
    reply in nats.

    The KL is the Monte-Carlo estimate E_y~π[Σ_t log π(y_t) − log π_ref(y_t)] over the sampled
    replies, both models' distributions taken at the sampling ``temperature`` (as in ``train_ppo``).
    """
    with eval_mode(model):
        replies, kls = [], []
        for start in range(0, len(prompts), batch_size):
            roll = rollout(
                model,
                tokenizer,
                prompts[start : start + batch_size],
                max_new_tokens,
                temperature=temperature,
                generator=generator,
            )
            replies += roll.replies
            if reference is not None:
                logp = reply_logprobs(
                    model(roll.seq).float(), roll.seq, roll.prompt_len, temperature
                )
                logp_ref = reply_logprobs(
                    reference(roll.seq).float(), roll.seq, roll.prompt_len, temperature
                )
                kls.append(kl_to_reference(logp, logp_ref, roll.mask).cpu())
    return replies, (float(torch.cat(kls).mean()) if kls else None)
