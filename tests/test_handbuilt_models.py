"""The models the learner writes in notebooks 06-08 compute what the package's versions compute.

The notebooks' class and function definitions are read from the notebook files themselves (by cell
id), so a change to either side that makes them disagree fails here, not in a learner's hands.
"""

import ast
import json
import math
from pathlib import Path

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"


def definitions(notebook: str, *cell_ids: str) -> dict:
    """Execute only the imports, classes and functions of the given cells; return the namespace."""
    cells = {
        c.get("id"): c
        for c in json.loads((NOTEBOOKS / notebook).read_text(encoding="utf-8"))["cells"]
    }
    namespace = {"math": math, "torch": torch, "nn": nn, "F": F}
    for cell_id in cell_ids:
        source = cells[cell_id]["source"]
        source = source if isinstance(source, str) else "".join(source)
        tree = ast.parse(source)
        keep = [
            node
            for node in tree.body
            if isinstance(node, (ast.ClassDef, ast.FunctionDef, ast.Import, ast.ImportFrom))
        ]
        exec(
            compile(ast.Module(body=keep, type_ignores=[]), f"{notebook}:{cell_id}", "exec"),
            namespace,
        )
    return namespace


pytestmark = pytest.mark.usefixtures("one_thread")  # tests/conftest.py


# ----------------------------------------------------------------------------- notebook 07: the GPT
@pytest.mark.parametrize("bias", [True, False])
def test_notebook_07_gpt_equals_the_package_gpt(bias):
    from course.models.gpt import GPT, GPTConfig

    ns = definitions("07_gpt_from_scratch.ipynb", "9c620b95", "b7c1a002")
    config = GPTConfig(vocab_size=23, block_size=16, n_layer=2, n_head=4, n_embd=32, bias=bias)
    torch.manual_seed(0)
    handmade = ns["GPT"](config)
    package = GPT(config)
    package.load_state_dict(handmade.state_dict())  # strict: the same parameter names and shapes
    idx = torch.randint(0, 23, (3, 16))
    with torch.no_grad():
        torch.testing.assert_close(package.eval()(idx), handmade(idx), rtol=1e-5, atol=1e-5)
        torch.testing.assert_close(package(idx[:, :5]), handmade(idx[:, :5]), rtol=1e-5, atol=1e-5)
    # the same initialisation: std 0.02, residual projections 0.02 / sqrt(2 n_layer), zero biases
    stds = {n: p.std().item() for n, p in handmade.named_parameters() if p.dim() == 2}
    assert abs(stds["blocks.0.attn.c_proj.weight"] - 0.02 / 2) < 0.004
    assert abs(stds["blocks.1.mlp.c_fc.weight"] - 0.02) < 0.002
    assert handmade.lm_head.weight is handmade.wte.weight


# ------------------------------------------------------------------------ notebook 06: the block
def test_notebook_06_encoder_layer_equals_the_package_encoder_layer():
    from course.models.attention import causal_mask, padding_mask
    from course.models.transformer import EncoderLayer

    ns = definitions("06_transformer.ipynb", "761e987c")
    torch.manual_seed(0)
    ours = ns["EncoderLayer"](d_model=24, n_heads=3, d_ff=40)
    package = EncoderLayer(24, 3, 40, dropout=0.1).eval()
    package.load_state_dict(ours.state_dict())
    x = torch.randn(2, 6, 24)
    tokens = torch.tensor([[4, 5, 6, 7, 0, 0], [4, 5, 6, 7, 8, 9]])
    with torch.no_grad():
        for mask in (None, padding_mask(tokens), causal_mask(6)):
            torch.testing.assert_close(ours(x, mask), package(x, mask)[0], rtol=1e-5, atol=1e-5)


# ----------------------------------------------------------------------- notebook 08: the blocks
def test_notebook_08_plain_blocks_equal_the_package_blocks():
    from course.models.modern import (
        ModernConfig,
        ModernGPT,
        MoE,
        RMSNorm,
        SwiGLU,
        apply_rope,
        rope_cos_sin,
    )

    ns = definitions(
        "08_modern_llm_architecture.ipynb",
        "da89e714",
        "eb524e0f",
        "24acc663",
        "5633d7cb",
        "3f0f32d0",
    )
    torch.manual_seed(0)
    x = torch.randn(3, 24) * 2 + 1
    norm = RMSNorm(24)
    with torch.no_grad():
        norm.weight.copy_(torch.linspace(0.5, 2.0, 24))
    torch.testing.assert_close(ns["rms_norm_plain"](x, norm.weight), norm(x), rtol=1e-5, atol=1e-6)

    ffn = SwiGLU(24, 40)
    torch.testing.assert_close(
        ns["swiglu_plain"](x, ffn.gate_proj.weight, ffn.up_proj.weight, ffn.down_proj.weight),
        ffn(x),
        rtol=1e-5,
        atol=1e-6,
    )

    cos, sin = rope_cos_sin(20, 24)
    v = torch.randn(24)
    ours = torch.stack([ns["rope_plain"](v, m) for m in range(20)])
    torch.testing.assert_close(ours, apply_rope(v.expand(20, 24), cos, sin), rtol=1e-5, atol=1e-5)

    for n_kv_head in (1, 2, 4):
        attn = (
            ModernGPT(
                ModernConfig(vocab_size=9, n_embd=32, n_head=4, n_kv_head=n_kv_head, bias=False)
            )
            .layers[0]
            .self_attn
        )
        h = torch.randn(2, 7, 32)
        plain = (
            ns["grouped_attention_plain"](
                h, attn.q_proj.weight, attn.k_proj.weight, attn.v_proj.weight, 4, n_kv_head
            )
            @ attn.o_proj.weight.T
        )
        torch.testing.assert_close(plain, attn(h), rtol=1e-5, atol=1e-5)

    moe = MoE(ModernConfig(vocab_size=9, n_embd=32, n_head=4, n_expert=4, top_k=2))
    tokens = torch.randn(10, 32)
    probs, weights, chosen = ns["route_plain"](tokens, moe.router.weight, k=2)
    package_probs, package_weights, package_chosen = moe.route(tokens)
    assert torch.equal(chosen, package_chosen)
    torch.testing.assert_close(weights, package_weights)
    torch.testing.assert_close(probs, package_probs)
