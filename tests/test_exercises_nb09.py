import torch

from course.exercises import nb09 as check


def test_wrong_answers_fail_with_a_hint(capsys):
    # forgets to mask
    assert not check.prompt_labels(lambda p, r: ((list(p) + list(r))[:-1], (list(p) + list(r))[1:]))
    # forgets the alpha / r scaling
    assert not check.lora_forward(lambda x, W, b, A, B, alpha, r: x @ W.T + b + x @ A.T @ B.T)
    # counts only A
    assert not check.lora_parameter_count(lambda shapes, r: sum(r * d_in for _, d_in in shapes))
    # masks the prefix causally too, as if it were ordinary tokens
    assert not check.prefix_mask(lambda T, P: torch.ones(T, P + T).tril().bool())
    assert "Hint" in capsys.readouterr().out
