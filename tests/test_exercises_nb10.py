import torch
from test_exercises import wrong, wrong_answers_fail

from course.exercises import nb10 as check


def no_lambda(r, v, g, lam):
    out, running = torch.zeros_like(r), 0.0
    for t in reversed(range(len(r))):
        running = r[t] + g * running
        out[t] = running - v[t]
    return out


test_wrong_answers_fail_with_a_hint = wrong_answers_fail(
    wrong(
        check.bt_loss,
        lambda w, l: -torch.log(1 / (1 + torch.exp(-(w - l)))).mean() * 0 + (l - w).mean(),
        "an unstable formula that overflows for large margins",
    ),
    wrong(
        check.dpo,
        lambda pw, pl, rw, rl, b: -torch.nn.functional.logsigmoid(b * (pw - pl)).mean(),
        "forgets the reference model",
    ),
    wrong(check.advantages, no_lambda, "plain discounted returns minus values (lambda ignored)"),
)
