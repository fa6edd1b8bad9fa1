import torch

from course.exercises import nb10 as check


def test_wrong_answers_fail_with_a_hint(capsys):
    # an unstable formula that overflows for large margins
    assert not check.bt_loss(
        lambda w, l: -torch.log(1 / (1 + torch.exp(-(w - l)))).mean() * 0 + (l - w).mean()
    )
    # forgets the reference model
    assert not check.dpo(
        lambda pw, pl, rw, rl, b: -torch.nn.functional.logsigmoid(b * (pw - pl)).mean()
    )

    # plain discounted returns minus values (lambda ignored)
    def no_lambda(r, v, g, lam):
        out, running = torch.zeros_like(r), 0.0
        for t in reversed(range(len(r))):
            running = r[t] + g * running
            out[t] = running - v[t]
        return out

    assert not check.advantages(no_lambda)
    assert "Hint" in capsys.readouterr().out
