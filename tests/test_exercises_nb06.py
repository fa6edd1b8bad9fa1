import torch

from course.exercises import nb06 as check


def test_wrong_answers_fail_with_a_hint(capsys):
    def unscaled(q, k, v, mask=None):
        w = (q @ k.transpose(-2, -1)).softmax(-1)
        return w @ v, w

    def columns_not_pairs(n, d):  # uses the column index instead of the pair index
        pos = torch.arange(n, dtype=torch.float32)[:, None]
        angle = pos / 10000 ** (torch.arange(d, dtype=torch.float32) / d)
        pe = torch.sin(angle)
        pe[:, 1::2] = torch.cos(angle[:, 1::2])
        return pe

    assert not check.attention(unscaled)
    assert not check.positional_encoding(columns_not_pairs)
    assert not check.causal_mask(lambda n: torch.ones(n, n, dtype=torch.bool).triu())
    assert "Hint" in capsys.readouterr().out


def test_fill_blank_needs_the_right_side(capsys):
    import torch.nn.functional as F

    def left_only(model, left, right, candidates):  # the causal model's next-token guess
        with torch.no_grad():
            logits = model(torch.tensor([list(left)]))[0, -1]
        return max(candidates, key=lambda c: float(logits[c]))

    def only_the_blank(model, left, right, candidates):  # scores c but forgets the right side
        ids = [list(left) + [c] for c in candidates]
        with torch.no_grad():
            logp = F.log_softmax(model(torch.tensor([ids[0]]))[0, -2], dim=-1)
        return max(candidates, key=lambda c: float(logp[c]))

    assert not check.fill_blank(left_only)
    assert not check.fill_blank(only_the_blank)
    assert "right" in capsys.readouterr().out
