import torch
from test_exercises import wrong, wrong_answers_fail

from course.exercises import nb08 as check
from course.exercises.solutions import nb08 as solution
from course.models.modern import RMSNorm, apply_rope, rope_cos_sin


def test_solutions_agree_with_the_package():
    x = torch.randn(3, 8)
    norm = RMSNorm(8, eps=1e-5)
    torch.testing.assert_close(solution.rms_norm(x, norm.weight.detach(), 1e-5), norm(x))
    cos, sin = rope_cos_sin(8, 8)
    v = torch.randn(8)
    torch.testing.assert_close(solution.rotate_pairs(v, 6, 10000.0), apply_rope(v, cos[6], sin[6]))


def one_frequency(x, m, base):
    c, s = torch.cos(torch.tensor(float(m))), torch.sin(torch.tensor(float(m)))
    out = x.clone()
    out[0::2], out[1::2] = x[0::2] * c - x[1::2] * s, x[0::2] * s + x[1::2] * c
    return out


test_wrong_answers_fail_with_a_hint = wrong_answers_fail(
    wrong(
        check.rms_norm,
        lambda x, w, eps: torch.nn.functional.layer_norm(x, x.shape[-1:], eps=eps) * w,
        "LayerNorm instead of RMSNorm (subtracts the mean)",
    ),
    wrong(
        check.rotate_pairs,
        one_frequency,
        "rotates every pair by the same angle (forgets the frequencies)",
    ),
    wrong(
        check.kv_cache_bytes, lambda L, H, D, T, B, b: L * H * D * T * B * b, "counts only K, not V"
    ),
)
