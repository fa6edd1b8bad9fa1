import torch
from test_exercises import wrong, wrong_answers_fail

from course.exercises import nb09 as check

test_wrong_answers_fail_with_a_hint = wrong_answers_fail(
    wrong(
        check.prompt_labels,
        lambda p, r: ((list(p) + list(r))[:-1], (list(p) + list(r))[1:]),
        "forgets to mask the prompt",
    ),
    wrong(
        check.lora_forward,
        lambda x, W, b, A, B, alpha, r: x @ W.T + b + x @ A.T @ B.T,
        "forgets the alpha / r scaling",
    ),
    wrong(
        check.lora_parameter_count,
        lambda shapes, r: sum(r * d_in for _, d_in in shapes),
        "counts only A",
    ),
    wrong(
        check.prefix_mask,
        lambda T, P: torch.ones(T, P + T).tril().bool(),
        "masks the prefix causally too, as if it were ordinary tokens",
    ),
)
