import numpy as np
import torch
import torch.nn.functional as F
from test_exercises import wrong, wrong_answers_fail

from course.exercises import nb13 as check
from course.two_files import run


def test_the_package_passes_the_same_checks():
    assert check.dequantise_int8(lambda q, s: run.dequantise(q, s, {"kind": "int8"}))
    # run.py's INT4 path with unit scales is the unpacking alone
    assert check.unpack_int4(
        lambda p: run.dequantise(
            p, np.ones((p.shape[0], 1), np.float16), {"kind": "int4", "group": 2 * p.shape[1]}
        ).astype(np.int8)
    )
    # PyTorch's attention kernel, one query position per head
    assert check.attention_step(
        lambda q, k, v: F.scaled_dot_product_attention(
            *(torch.from_numpy(np.ascontiguousarray(a)) for a in (q[:, None], k, v))
        )[:, 0].numpy()
    )


def unscaled_attention_step(q, k, v):
    weights = F.softmax(torch.from_numpy(np.einsum("hd,htd->ht", q, k)), -1).numpy()
    return np.einsum("ht,htd->hd", weights, v)


test_wrong_answers_fail_with_a_hint = wrong_answers_fail(
    wrong(
        check.dequantise_int8,
        lambda q, s: q.astype(np.float32) * s.mean(),
        "one scale for all rows",
    ),
    wrong(
        check.dequantise_int8,
        lambda q, s: q * s[:, None].astype(np.float16),
        "float16, not float32",
    ),
    wrong(
        check.unpack_int4,
        lambda p: np.stack([p & 15, p >> 4], -1).reshape(p.shape[0], -1),
        "no -8",
    ),
    wrong(
        check.unpack_int4,
        lambda p: np.stack([(p >> 4), (p & 15)], -1).reshape(p.shape[0], -1).astype(np.int8) - 8,
        "high nibble first",
    ),
    wrong(check.attention_step, unscaled_attention_step, "no sqrt(D)"),
    # a function returning None gets a hint, not an error
    wrong(check.dequantise_int8, lambda q, s: None, "returns None"),
    wrong(check.unpack_int4, lambda p: None, "returns None"),
    wrong(check.attention_step, lambda q, k, v: None, "returns None"),
)
