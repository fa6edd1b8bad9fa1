"""Attention by hand: eq. 1 of the paper, masks, rows summing to one, agreement with the fused
kernel."""

import math

import pytest
import torch
import torch.nn.functional as F

from course.models.attention import (
    MultiHeadAttention,
    causal_attention,
    causal_mask,
    padding_mask,
    scaled_dot_product_attention,
)


def test_one_query_by_hand_equals_matrix_form():
    torch.manual_seed(0)
    q, k, v = torch.randn(3, 4), torch.randn(5, 4), torch.randn(5, 2)
    out, w = scaled_dot_product_attention(q, k, v)
    # the notebook's first construction: one query, a loop over keys
    scores = torch.tensor([float(q[1] @ k[j]) / math.sqrt(4) for j in range(5)])
    weights = scores.exp() / scores.exp().sum()
    torch.testing.assert_close(w[1], weights)
    torch.testing.assert_close(out[1], (weights[:, None] * v).sum(0))


def test_rows_sum_to_one_and_causal_mask_hides_the_future():
    torch.manual_seed(0)
    q = k = v = torch.randn(2, 3, 6, 8)
    out, w = scaled_dot_product_attention(q, k, v, causal_mask(6))
    torch.testing.assert_close(w.sum(-1), torch.ones(2, 3, 6))
    assert torch.all(w.triu(diagonal=1) == 0)
    # changing a later value leaves earlier outputs unchanged
    v2 = v.clone()
    v2[..., 4:, :] += 1.0
    out2, _ = scaled_dot_product_attention(q, k, v2, causal_mask(6))
    torch.testing.assert_close(out[..., :4, :], out2[..., :4, :])


def test_padding_mask_gives_padding_zero_weight():
    tokens = torch.tensor([[5, 6, 7, 0, 0], [5, 6, 7, 8, 9]])
    mask = padding_mask(tokens)
    assert mask.shape == (2, 1, 1, 5)
    torch.manual_seed(0)
    x = torch.randn(2, 1, 5, 4)
    _, w = scaled_dot_product_attention(x, x, x, mask)
    assert torch.all(w[0, ..., 3:] == 0) and torch.all(w[1] > 0)
    torch.testing.assert_close(w.sum(-1), torch.ones(2, 1, 5))


def test_fully_masked_row_is_a_clear_error():
    x = torch.randn(1, 2, 4)
    with pytest.raises(ValueError, match="every key masked"):
        scaled_dot_product_attention(x, x, x, torch.zeros(2, 2, dtype=torch.bool))


def test_hand_attention_equals_torch_kernel():
    torch.manual_seed(0)
    q, k, v = torch.randn(2, 4, 7, 8), torch.randn(2, 4, 9, 8), torch.randn(2, 4, 9, 8)
    mask = torch.rand(7, 9) > 0.3
    mask[:, 0] = True
    out, _ = scaled_dot_product_attention(q, k, v, mask)
    torch.testing.assert_close(
        out, F.scaled_dot_product_attention(q, k, v, attn_mask=mask), rtol=1e-5, atol=1e-5
    )


def test_multi_head_weights_path_equals_fused_path_and_matches_torch():
    torch.manual_seed(0)
    mha = MultiHeadAttention(16, 4).eval()
    x, mem = torch.randn(2, 5, 16), torch.randn(2, 7, 16)
    a, w = mha(x, mem, mem, need_weights=True)
    b, none = mha(x, mem, mem)
    torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-5)
    assert none is None and w.shape == (2, 4, 5, 7)
    # against nn.MultiheadAttention with the same weights
    ref = torch.nn.MultiheadAttention(16, 4, batch_first=True).eval()
    with torch.no_grad():
        ref.in_proj_weight.copy_(
            torch.cat([mha.q_proj.weight, mha.k_proj.weight, mha.v_proj.weight])
        )
        ref.in_proj_bias.copy_(torch.cat([mha.q_proj.bias, mha.k_proj.bias, mha.v_proj.bias]))
        ref.out_proj.weight.copy_(mha.o_proj.weight)
        ref.out_proj.bias.copy_(mha.o_proj.bias)
    expected, ref_w = ref(x, mem, mem, average_attn_weights=False)
    torch.testing.assert_close(a, expected, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(w, ref_w, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
def test_causal_attention_matches_the_fused_kernel_forward_and_backward(dtype):
    # bf16 on the CPU takes the explicit path (faster there); both must equal torch's fused kernel
    torch.manual_seed(0)
    leaves = [torch.randn(2, 3, 7, 8) for _ in range(3)]
    ours = [t.to(dtype).requires_grad_() for t in leaves]
    ref = [t.to(dtype).requires_grad_() for t in leaves]
    out = causal_attention(*ours)
    expected = F.scaled_dot_product_attention(*ref, is_causal=True)
    grad = torch.randn_like(out)
    out.backward(grad)
    expected.backward(grad)
    tol = dict(atol=2e-2, rtol=2e-2) if dtype == torch.bfloat16 else dict(atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(out, expected, **tol)
    for a, b in zip(ours, ref):
        torch.testing.assert_close(a.grad, b.grad, **tol)
    # and the future is invisible: changing the last position leaves the earlier outputs alone
    q, k, v = (t.detach().clone() for t in ours)
    k[..., -1, :] += 5.0
    v[..., -1, :] -= 5.0
    torch.testing.assert_close(
        causal_attention(q, k, v)[..., :-1, :], out.detach()[..., :-1, :], **tol
    )
