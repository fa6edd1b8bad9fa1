import torch

from course.exercises import nb05 as check


def test_wrong_answers_fail_with_a_hint(capsys):
    def no_mask(query, keys, mask, W, U, b, v):
        return torch.softmax(
            (torch.tanh((query @ W.T).unsqueeze(1) + keys @ U.T + b) @ v.T).squeeze(-1), -1
        )

    def per_beam_best(scores, logp, k):  # ranks words by log p alone, forgetting the beam's score
        best, index = logp.flatten().topk(k)
        return index // logp.size(1), index % logp.size(1), best

    assert not check.additive_attention(no_mask)
    assert not check.beam_step(per_beam_best)
    assert "Hint" in capsys.readouterr().out
