"""Checks for the exercises of notebook 10 (RLHF)."""

from __future__ import annotations

import math

import torch

from course.exercises import exercise


def _close(got, want, tol=1e-4) -> bool:
    try:
        return abs(float(got) - float(want)) < tol
    except (TypeError, ValueError, RuntimeError):
        return False


def bt_loss(fn) -> bool:
    """``fn(r_chosen, r_rejected)`` = mean −log σ(r_w − r_l)."""
    with exercise("bt_loss") as ex:
        got = ex.call(fn, torch.tensor([0.0]), torch.tensor([0.0]))
        ex.expect(
            _close(got, math.log(2)),
            "equal rewards mean a coin flip: the loss should be log 2 = 0.693",
        )
        got = ex.call(fn, torch.tensor([1.0, 3.0]), torch.tensor([0.0, 0.0]))
        want = (math.log(1 + math.exp(-1)) + math.log(1 + math.exp(-3))) / 2
        ex.expect(
            not _close(got, -want),
            "mind the sign: a loss to minimise is −log σ(r_w − r_l), a positive number",
        )
        ex.expect(_close(got, want), "average −log σ(r_chosen − r_rejected) over the pairs")
        big = ex.call(fn, torch.tensor([200.0]), torch.tensor([0.0]))
        ex.expect(
            _close(big, 0.0),
            "for a huge margin the loss must be ~0 (use F.logsigmoid to stay finite)",
        )
    return ex.passed


def dpo(fn) -> bool:
    """``fn(policy_w, policy_l, ref_w, ref_l, beta)`` = −log σ(β[(π_w − ref_w) − (π_l − ref_l)]),
    averaged."""
    with exercise("dpo") as ex:
        t = torch.tensor
        got = ex.call(fn, t([-5.0]), t([-7.0]), t([-5.0]), t([-7.0]), 0.1)
        ex.expect(
            _close(got, math.log(2)), "a policy equal to the reference has margin 0 and loss log 2"
        )
        got = ex.call(fn, t([-1.0]), t([-2.0]), t([-1.5]), t([-1.5]), 0.5)
        want = math.log(1 + math.exp(-0.5))
        no_ref = math.log(1 + math.exp(-0.5 * 1.0))
        ex.expect(
            _close(got, want),
            "implicit reward = β (log π − log π_ref); loss = −log σ(reward_w − reward_l)",
        )
        got = ex.call(fn, t([-1.0, -3.0]), t([-2.0, -1.0]), t([-1.0, -1.0]), t([-1.0, -1.0]), 1.0)
        want = (math.log(1 + math.exp(-(0.0 - (-1.0)))) + math.log(1 + math.exp(-(-2.0 - 0.0)))) / 2
        ex.expect(
            _close(got, want),
            "subtract the reference's log-probabilities from the policy's before the difference"
            if not _close(got, no_ref)
            else "average over the batch",
        )
    return ex.passed


def advantages(fn) -> bool:
    """``fn(rewards, values, gamma, lam)`` for one episode: GAE with V = 0 after the last step."""
    with exercise("advantages") as ex:
        got = ex.call(fn, torch.tensor([0.0, 0.0, 1.0]), torch.tensor([0.5, 0.6, 0.7]), 1.0, 0.5)
        ex.expect(got is not None, "return the advantages (a tensor or a list), one per step")
        got = torch.as_tensor(got, dtype=torch.float32).flatten()
        ex.expect(got.shape == (3,), "return one advantage per step")
        ex.expect(
            abs(float(got[2]) - 0.3) < 1e-4,
            "the last step: δ = r − V = 1 − 0.7 (nothing after the episode)",
        )
        ex.expect(
            torch.allclose(got, torch.tensor([0.225, 0.25, 0.3]), atol=1e-4),
            "work backwards: A_t = δ_t + γλ A_{t+1}, with δ_t = r_t + γ V_{t+1} − V_t",
        )
        got = torch.as_tensor(
            ex.call(fn, torch.tensor([1.0, 1.0]), torch.tensor([0.0, 0.0]), 0.5, 1.0)
        ).flatten()
        ex.expect(
            torch.allclose(got.float(), torch.tensor([1.5, 1.0]), atol=1e-4),
            "γ discounts future rewards: A_0 = 1 + 0.5 × 1",
        )
    return ex.passed
