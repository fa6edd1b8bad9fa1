import torch
from test_exercises import wrong, wrong_answers_fail

from course.exercises import nb05 as check


def no_mask(query, keys, mask, W, U, b, v):
    return torch.softmax(
        (torch.tanh((query @ W.T).unsqueeze(1) + keys @ U.T + b) @ v.T).squeeze(-1), -1
    )


def per_beam_best(scores, logp, k):
    best, index = logp.flatten().topk(k)
    return index // logp.size(1), index % logp.size(1), best


test_wrong_answers_fail_with_a_hint = wrong_answers_fail(
    wrong(check.additive_attention, no_mask, "ignores the mask (attends to padding)"),
    wrong(
        check.beam_step, per_beam_best, "ranks words by log p alone, forgetting the beam's score"
    ),
)
