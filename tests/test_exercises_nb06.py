import math

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
