import torch
import torch.nn.functional as F
from test_exercises import wrong, wrong_answers_fail

from course.exercises import nb06 as check


def unscaled(q, k, v, mask=None):
    w = (q @ k.transpose(-2, -1)).softmax(-1)
    return w @ v, w


def columns_not_pairs(n, d):
    pos = torch.arange(n, dtype=torch.float32)[:, None]
    angle = pos / 10000 ** (torch.arange(d, dtype=torch.float32) / d)
    pe = torch.sin(angle)
    pe[:, 1::2] = torch.cos(angle[:, 1::2])
    return pe


def left_only(model, left, right, candidates):
    with torch.no_grad():
        logits = model(torch.tensor([list(left)]))[0, -1]
    return max(candidates, key=lambda c: float(logits[c]))


def only_the_blank(model, left, right, candidates):
    ids = [list(left) + [c] for c in candidates]
    with torch.no_grad():
        logp = F.log_softmax(model(torch.tensor([ids[0]]))[0, -2], dim=-1)
    return max(candidates, key=lambda c: float(logp[c]))


test_wrong_answers_fail_with_a_hint = wrong_answers_fail(
    wrong(check.attention, unscaled, "forgets to divide by sqrt(d)"),
    wrong(
        check.positional_encoding,
        columns_not_pairs,
        "uses the column index instead of the pair index",
    ),
    wrong(
        check.causal_mask,
        lambda n: torch.ones(n, n, dtype=torch.bool).triu(),
        "lets each position see the future",
    ),
    wrong(check.fill_blank, left_only, "the causal model's next-token guess", says="right"),
    wrong(check.fill_blank, only_the_blank, "scores c but forgets the right side", says="right"),
)
