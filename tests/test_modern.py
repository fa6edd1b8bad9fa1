"""course.models.modern: each modern block against a hand computation or a reference
implementation."""

import math

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from course.models.modern import (
    ModernConfig,
    ModernGPT,
    MoE,
    RMSNorm,
    SwiGLU,
    apply_rope,
    kv_cache_bytes,
    legacy_to_llama_names,
    load_balancing_loss,
    residual_projections,
    rope_cos_sin,
    training_loss,
)

TINY = dict(vocab_size=17, block_size=16, n_layer=2, n_head=4, n_embd=32)


pytestmark = pytest.mark.usefixtures("one_thread")  # tests/conftest.py


# ----------------------------------------------------------------------------- RMSNorm
def test_rmsnorm_matches_a_hand_computation():
    norm = RMSNorm(4, eps=0.0)
    with torch.no_grad():
        norm.weight.copy_(torch.tensor([1.0, 2.0, 0.5, -1.0]))
    x = torch.tensor([[3.0, -1.0, 1.0, 1.0]])
    rms = math.sqrt((9 + 1 + 1 + 1) / 4)  # sqrt(3)
    expected = torch.tensor([[3 / rms * 1, -1 / rms * 2, 1 / rms * 0.5, 1 / rms * -1]])
    torch.testing.assert_close(norm(x), expected)


def test_rmsnorm_is_scale_invariant_and_differs_from_layernorm_only_by_the_mean():
    torch.manual_seed(0)
    x = torch.randn(3, 8)
    norm = RMSNorm(8, eps=0.0)
    torch.testing.assert_close(norm(5 * x), norm(x))
    # with zero mean, RMSNorm and (weightless) LayerNorm agree
    centred = x - x.mean(-1, keepdim=True)
    torch.testing.assert_close(norm(centred), F.layer_norm(centred, (8,), eps=0.0))


# ----------------------------------------------------------------------------- SwiGLU
def test_swiglu_is_down_of_silu_gate_times_up_and_matches_the_gelu_mlp_parameter_count():
    torch.manual_seed(0)
    ffn = SwiGLU(8, 12)
    x = torch.randn(2, 8)
    expected = (
        F.silu(x @ ffn.gate_proj.weight.T) * (x @ ffn.up_proj.weight.T)
    ) @ ffn.down_proj.weight.T
    torch.testing.assert_close(ffn(x), expected)
    for C in (32, 96, 256):
        gelu = ModernGPT(ModernConfig(vocab_size=5, n_embd=C, n_head=4, n_layer=1, bias=False))
        swiglu = ModernGPT(
            ModernConfig(vocab_size=5, n_embd=C, n_head=4, n_layer=1, bias=False, mlp="swiglu")
        )
        ratio = swiglu.num_parameters() / gelu.num_parameters()
        assert abs(ratio - 1) < 0.02, (C, ratio)


# ----------------------------------------------------------------------------- RoPE
def test_rope_rotates_pairs_by_position_times_frequency():
    cos, sin = rope_cos_sin(3, 4, base=100.0)
    x = torch.tensor([1.0, 0.0, 1.0, 0.0]).expand(3, 4)
    out = apply_rope(x, cos, sin)
    for m in range(3):
        for i, theta in enumerate([1.0, 100.0 ** (-2 / 4)]):
            assert out[m, 2 * i].item() == pytest.approx(math.cos(m * theta), abs=1e-6)
            assert out[m, 2 * i + 1].item() == pytest.approx(math.sin(m * theta), abs=1e-6)
    torch.testing.assert_close(out.norm(dim=-1), x.norm(dim=-1))  # a rotation keeps lengths


@settings(max_examples=25, deadline=None)
@given(
    m=st.integers(0, 60),
    n=st.integers(0, 60),
    shift=st.integers(0, 60),
    seed=st.integers(0, 10_000),
)
def test_rope_scores_depend_only_on_relative_position(m, n, shift, seed):
    """<R_m q, R_n k> == <R_{m+s} q, R_{n+s} k> for every shift s."""
    g = torch.Generator().manual_seed(seed)
    q, k = (
        torch.randn(16, generator=g, dtype=torch.float64),
        torch.randn(16, generator=g, dtype=torch.float64),
    )
    cos, sin = rope_cos_sin(130, 16)
    cos, sin = cos.double(), sin.double()

    def score(a, b):
        return apply_rope(q, cos[a], sin[a]) @ apply_rope(k, cos[b], sin[b])

    assert score(m, n).item() == pytest.approx(
        score(m + shift, n + shift).item(), rel=1e-6, abs=1e-6
    )


def test_rope_model_has_no_position_table_and_learned_one_does():
    assert ModernGPT(ModernConfig(**TINY, position="rope")).embed_positions is None
    assert ModernGPT(ModernConfig(**TINY)).embed_positions.weight.shape == (16, 32)


# ----------------------------------------------------------------------------- attention
def test_mha_path_equals_torch_multihead_attention_with_the_same_weights():
    torch.manual_seed(0)
    config = ModernConfig(**TINY, n_kv_head=4)
    attn = ModernGPT(config).layers[0].self_attn.eval()
    reference = torch.nn.MultiheadAttention(32, 4, bias=True, batch_first=True).eval()
    with torch.no_grad():
        reference.in_proj_weight.copy_(
            torch.cat([attn.q_proj.weight, attn.k_proj.weight, attn.v_proj.weight])
        )
        reference.in_proj_bias.copy_(
            torch.cat([attn.q_proj.bias, attn.k_proj.bias, attn.v_proj.bias])
        )
        reference.out_proj.weight.copy_(attn.o_proj.weight)
        reference.out_proj.bias.copy_(attn.o_proj.bias)
    x = torch.randn(2, 10, 32)
    mask = torch.triu(torch.ones(10, 10, dtype=torch.bool), diagonal=1)  # True = may not attend
    expected, _ = reference(x, x, x, attn_mask=mask, need_weights=False)
    torch.testing.assert_close(attn(x), expected, atol=1e-5, rtol=1e-4)


@pytest.mark.parametrize("n_kv_head", [1, 2])
def test_gqa_equals_mha_whose_kv_heads_are_copied_per_group(n_kv_head):
    torch.manual_seed(1)
    gqa = (
        ModernGPT(ModernConfig(**TINY, n_kv_head=n_kv_head, position="rope"))
        .layers[0]
        .self_attn.eval()
    )
    mha = ModernGPT(ModernConfig(**TINY, n_kv_head=4, position="rope")).layers[0].self_attn.eval()
    group, D = 4 // n_kv_head, 8
    with torch.no_grad():
        for name in ("q_proj", "o_proj"):
            getattr(mha, name).load_state_dict(getattr(gqa, name).state_dict())
        for name in (
            "k_proj",
            "v_proj",
        ):  # kv head j becomes query heads j*group .. j*group+group-1
            w = (
                getattr(gqa, name)
                .weight.view(n_kv_head, D, 32)
                .repeat_interleave(group, 0)
                .reshape(32, 32)
            )
            b = getattr(gqa, name).bias.view(n_kv_head, D).repeat_interleave(group, 0).reshape(32)
            getattr(mha, name).weight.copy_(w)
            getattr(mha, name).bias.copy_(b)
    x = torch.randn(2, 9, 32)
    torch.testing.assert_close(gqa(x), mha(x), atol=1e-5, rtol=1e-5)


def test_attention_is_causal():
    torch.manual_seed(0)
    model = ModernGPT(ModernConfig.llama_style(**TINY)).eval()
    idx = torch.randint(0, 17, (1, 12))
    changed = idx.clone()
    changed[0, 8:] = (changed[0, 8:] + 1) % 17
    torch.testing.assert_close(model(idx)[:, :8], model(changed)[:, :8])


def test_kv_cache_bytes_counts_the_tensors_attention_projects():
    config = ModernConfig(**TINY, n_kv_head=2)
    attn = ModernGPT(config).layers[0].self_attn
    k, v = attn.project_kv(torch.randn(3, 11, 32))
    per_layer = (k.numel() + v.numel()) * 4
    assert (
        kv_cache_bytes(config, seq_len=11, batch_size=3, bytes_per_value=4)
        == per_layer * config.n_layer
    )
    assert kv_cache_bytes(config.replace(n_kv_head=4), 11) == 2 * kv_cache_bytes(config, 11)
    assert kv_cache_bytes(config.replace(n_kv_head=1), 11) * 4 == kv_cache_bytes(
        config.replace(n_kv_head=4), 11
    )


# ----------------------------------------------------------------------------- mixture of experts
def test_router_sends_each_token_to_its_top_k_experts_with_weights_summing_to_one():
    torch.manual_seed(0)
    moe = MoE(ModernConfig(**TINY, n_expert=4, top_k=2))
    x = torch.randn(20, 32)
    probs, weights, index = moe.route(x)
    logits = x @ moe.router.weight.T
    expected = logits.topk(2, dim=-1).indices
    assert torch.equal(index, expected)
    torch.testing.assert_close(weights.sum(-1), torch.ones(20))
    torch.testing.assert_close(
        weights, probs.gather(1, index) / probs.gather(1, index).sum(-1, keepdim=True)
    )


def test_moe_output_is_the_weighted_sum_of_the_chosen_experts():
    torch.manual_seed(0)
    moe = MoE(ModernConfig(**TINY, n_expert=3, top_k=2))
    x = torch.randn(6, 32)
    _, weights, index = moe.route(x)
    expected = torch.stack(
        [
            sum(weights[t, s] * moe.experts[int(index[t, s])](x[t]) for s in range(2))
            for t in range(6)
        ]
    )
    torch.testing.assert_close(moe(x), expected, atol=1e-6, rtol=1e-5)
    assert moe.last_load.sum().item() == pytest.approx(1.0)


def test_load_balancing_loss_is_one_when_uniform_and_n_expert_when_collapsed():
    E, N = 4, 8
    uniform = torch.full((N, E), 1 / E)
    balanced = torch.arange(N).remainder(E).view(N, 1)
    assert load_balancing_loss(uniform, balanced, E).item() == pytest.approx(1.0)
    collapsed_probs = torch.zeros(N, E)
    collapsed_probs[:, 0] = 1
    assert load_balancing_loss(
        collapsed_probs, torch.zeros(N, 1, dtype=torch.long), E
    ).item() == pytest.approx(E)


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 10_000), skew=st.floats(0.1, 5.0))
def test_balancing_loss_with_router_dispatch_is_minimal_for_uniform_routing(seed, skew):
    """When a token's dispatch follows its own router probabilities (f = P, the smooth version of
    the loss), E * sum P_i^2 >= 1, with equality only for uniform routing (Cauchy-Schwarz)."""
    g = torch.Generator().manual_seed(seed)
    probs = F.softmax(skew * torch.randn(64, 4, generator=g), dim=-1)
    mean = probs.mean(0)
    smooth = 4 * torch.sum(mean * mean)
    assert smooth.item() >= 1.0 - 1e-6
    assert smooth.item() > 1.0 + 1e-6 or torch.allclose(mean, torch.full((4,), 0.25), atol=1e-3)


def test_balancing_loss_gradient_pushes_probability_away_from_the_overloaded_expert():
    probs = torch.tensor([[0.4, 0.3, 0.3]] * 6, requires_grad=True)
    index = torch.tensor([[0], [0], [0], [0], [1], [2]])  # expert 0 got 4 of 6 tokens
    load_balancing_loss(probs, index, 3).backward()
    grad = probs.grad[0]
    assert grad[0] > grad[1] and grad[0] > grad[2]  # descent lowers p_0 most


def test_moe_counts_active_parameters_and_training_loss_adds_the_aux_loss():
    torch.manual_seed(0)
    dense = ModernGPT(ModernConfig(**TINY))
    moe = ModernGPT(ModernConfig(**TINY, n_expert=4, top_k=2))
    per_block_router = 32 * 4
    # experts of width hidden/top_k: two active experts cost what the dense FFN costs (biases aside)
    assert (
        abs(moe.num_parameters(active=True) - dense.num_parameters() - 2 * per_block_router)
        < 0.01 * dense.num_parameters()
    )
    assert moe.num_parameters() > 1.5 * dense.num_parameters()
    x = torch.randint(0, 17, (2, 16))
    logits = moe(x)
    ce = F.cross_entropy(logits.reshape(-1, 17), x.reshape(-1))
    total = training_loss(moe, (x, x))
    assert moe.aux_loss.item() >= 0.5
    torch.testing.assert_close(total, ce + 0.01 * moe.aux_loss, atol=1e-6, rtol=1e-6)
    torch.testing.assert_close(
        training_loss(dense, (x, x)), F.cross_entropy(dense(x).reshape(-1, 17), x.reshape(-1))
    )


# ----------------------------------------------------------------------------- the model
def test_every_configuration_trains_a_few_steps_and_lowers_the_loss():
    torch.manual_seed(0)
    data = torch.randint(0, 17, (4, 17))
    for changes in (
        {},
        {"norm": "rmsnorm"},
        {"mlp": "swiglu"},
        {"position": "rope"},
        {"n_kv_head": 1},
        {"n_expert": 4, "top_k": 2},
    ):
        model = ModernGPT(ModernConfig(**TINY, **changes))
        opt = torch.optim.AdamW(model.parameters(), lr=3e-3)
        first = None
        for _ in range(30):
            loss = training_loss(model, (data[:, :-1], data[:, 1:]))
            first = first if first is not None else loss.item()
            opt.zero_grad()
            loss.backward()
            opt.step()
        assert loss.item() < 0.7 * first, changes


def test_interface_shapes_and_flops():
    model = ModernGPT(ModernConfig.llama_style(**TINY))
    idx = torch.randint(0, 17, (3, 7))
    assert model(idx).shape == (3, 7, 17)
    assert model.hidden_states(idx).shape == (3, 7, 32)
    n = model.num_parameters() + 17 * 32
    assert model.flops_per_token(16) == 6 * n + 12 * 2 * 32 * 16


def test_clear_errors():
    with pytest.raises(ValueError, match="must divide n_head"):
        ModernConfig(**TINY, n_kv_head=3)
    with pytest.raises(ValueError, match="choose one of"):
        ModernConfig(**TINY, norm="batchnorm")
    with pytest.raises(ValueError, match="at least 2 experts"):
        ModernConfig(**TINY, n_expert=1)
    with pytest.raises(ValueError, match="exceeds block_size"):
        ModernGPT(ModernConfig(**TINY))(torch.zeros(1, 17, dtype=torch.long))


def test_course_generate_samples_from_a_modern_model():
    from course.generate import generate

    torch.manual_seed(0)
    model = ModernGPT(ModernConfig.llama_style(**TINY)).eval()
    out = generate(model, torch.zeros(2, 3, dtype=torch.long), 20, greedy=True)
    assert out.shape == (2, 23) and int(out.max()) < 17
    assert torch.equal(out, generate(model, torch.zeros(2, 3, dtype=torch.long), 20, greedy=True))


# ----------------------------------------------------------------------------- initialisation
def test_swiglu_and_expert_inputs_start_at_fan_in_scale_so_the_layer_is_not_switched_off():
    torch.manual_seed(0)
    moe = {"n_expert": 4, "top_k": 2}
    for changes in ({"mlp": "swiglu"}, {"mlp": "swiglu", **moe}, moe):
        model = ModernGPT(ModernConfig(**TINY, **changes))
        stds = {
            n: p.std().item()
            for n, p in model.named_parameters()
            if n.endswith(("gate_proj.weight", "up_proj.weight"))
            and (".experts." in n or changes.get("mlp") == "swiglu")
        }
        assert stds and all(abs(s - 1 / math.sqrt(32)) < 0.03 for s in stds.values()), stds
        down = [
            p.std().item()
            for n, p in model.named_parameters()
            if n.endswith("mlp.down_proj.weight")
            or (n.endswith("down_proj.weight") and "experts" in n)
        ]
        assert down and all(abs(s - 0.02 / math.sqrt(2 * 2)) < 0.003 for s in down)
    # the dense GELU layer keeps GPT-2's initialisation (the baseline of notebook 08 is GPT-2)
    dense = ModernGPT(ModernConfig(**TINY))
    assert abs(dense.layers[0].mlp.up_proj.weight.std().item() - 0.02) < 0.002


def test_residual_init_scales_exactly_o_proj_and_down_proj():
    # GPT-2's 0.02 / sqrt(2 * n_layer) for the projections that write into the residual stream,
    # and for nothing else: a name that merely ends in "proj" must not be caught.
    for changes in ({}, {"mlp": "swiglu"}, {"n_expert": 4, "top_k": 2}):
        model = ModernGPT(ModernConfig(**TINY, **changes))
        weights = {id(p) for p in residual_projections(model)}
        scaled = {n for n, p in model.named_parameters() if id(p) in weights}
        expected = {
            f"layers.{i}.{name}.weight"
            for i in range(TINY["n_layer"])
            for name in (
                ["self_attn.o_proj"]
                + (
                    [f"mlp.experts.{e}.down_proj" for e in range(4)]
                    if changes.get("n_expert")
                    else ["mlp.down_proj"]
                )
            )
        }
        assert scaled == expected
        # and the init used exactly them: the matrices at std 0.02 / sqrt(2 * 2) = 0.01 (the
        # others are at 0.02 or, SwiGLU and expert inputs, at 1 / sqrt(32))
        at_residual_scale = {
            n for n, p in model.named_parameters() if p.dim() == 2 and abs(p.std() - 0.01) < 0.003
        }
        assert at_residual_scale == expected


LLAMA_NAMES = {
    "embed_tokens.weight",
    "norm.weight",
    *(
        f"layers.{i}.{name}.weight"
        for i in range(2)
        for name in (
            "input_layernorm",
            "self_attn.q_proj",
            "self_attn.k_proj",
            "self_attn.v_proj",
            "self_attn.o_proj",
            "post_attention_layernorm",
            "mlp.gate_proj",
            "mlp.up_proj",
            "mlp.down_proj",
        )
    ),
}


def test_parameter_names_are_exactly_llamas():
    # LlamaForCausalLM's state_dict names ("model." prefix aside); lm_head is tied to embed_tokens
    model = ModernGPT(ModernConfig.llama_style(**TINY))
    assert set(model.state_dict()) == LLAMA_NAMES | {"lm_head.weight"}
    assert {n for n, _ in model.named_parameters()} == LLAMA_NAMES  # tied: listed once
    # the GPT-2-style switches keep the same names, plus biases and learned positions
    gelu = ModernGPT(ModernConfig(**TINY))
    names = {n.removesuffix(".bias").removesuffix(".weight") for n in gelu.state_dict()}
    no_gate = {n.removesuffix(".weight") for n in LLAMA_NAMES if "gate_proj" not in n}
    assert names == no_gate | {"embed_positions", "lm_head"}
    moe = ModernGPT(ModernConfig.llama_style(**TINY, n_expert=2, top_k=1))
    assert {n for n, _ in moe.named_parameters() if ".mlp." in n} == {
        f"layers.{i}.mlp.{name}.weight"
        for i in range(2)
        for name in ["router"]
        + [f"experts.{e}.{p}" for e in range(2) for p in ("gate_proj", "up_proj", "down_proj")]
    }


# ----------------------------------------------------------------------------- KV cache
KV_CONFIGS = [
    {},
    {"position": "rope"},
    {"n_kv_head": 2, "position": "rope"},
    {"n_kv_head": 1},
    {
        "norm": "rmsnorm",
        "mlp": "swiglu",
        "position": "rope",
        "n_kv_head": 2,
        "bias": False,
        "n_expert": 4,
        "top_k": 2,
    },
]


@pytest.mark.parametrize("changes", KV_CONFIGS)
def test_kv_cache_logits_equal_the_uncached_forward_token_by_token(changes):
    torch.manual_seed(0)
    model = ModernGPT(ModernConfig(**TINY, **changes)).eval()
    idx = torch.randint(0, 17, (2, 16))
    with torch.no_grad():
        full = model(idx)  # (2, 16, V) in one pass
        cache = model.new_kv_cache(2)
        pieces = [model(idx[:, :5], kv_cache=cache)]  # a prompt of 5, then one at a time,
        pieces += [model(idx[:, t : t + 1], kv_cache=cache) for t in range(5, 13)]
        pieces.append(model(idx[:, 13:], kv_cache=cache))  # then several (a shifted causal mask)
    torch.testing.assert_close(torch.cat(pieces, dim=1), full, atol=1e-5, rtol=1e-5)
    assert cache.length == 16


def test_gqa_cache_stores_only_the_kv_heads():
    model = ModernGPT(ModernConfig(**TINY, n_kv_head=1, position="rope"))
    cache = model.new_kv_cache(3)
    assert cache.keys[0].shape == (3, 1, 16, 8) and len(cache.keys) == 2
    stored = sum(t.numel() * t.element_size() for t in cache.keys + cache.values)
    assert stored == kv_cache_bytes(model.config, 16, 3, 4)


@pytest.mark.parametrize("prompt_len", [1, 7, 16])
@pytest.mark.parametrize("changes", [{}, {"position": "rope", "n_kv_head": 2}])
def test_generate_with_the_cache_gives_the_uncached_tokens(prompt_len, changes):
    from course.generate import generate

    torch.manual_seed(0)
    model = ModernGPT(ModernConfig(**TINY, **changes)).eval()
    prompt = torch.randint(0, 17, (2, prompt_len))
    for kwargs in (dict(greedy=True), dict(temperature=1.0, top_k=5)):
        runs = [
            generate(
                model,
                prompt,
                12,
                use_kv_cache=c,
                generator=torch.Generator().manual_seed(1),
                **kwargs,
            )
            for c in (True, False)
        ]
        assert torch.equal(*runs), (prompt_len, kwargs)
    calls = []
    hook = model.register_forward_pre_hook(
        lambda m, args, kwargs: calls.append(kwargs.get("kv_cache")), with_kwargs=True
    )
    generate(model, prompt, 3)
    hook.remove()
    assert calls[0] is not None  # the cache is really used (it was silently skipped before)


def test_kv_cache_refuses_tokens_past_its_end_with_a_clear_error():
    model = ModernGPT(ModernConfig(**TINY, position="rope")).eval()
    cache = model.new_kv_cache(1, max_len=4)
    with torch.no_grad():
        model(torch.zeros(1, 4, dtype=torch.long), kv_cache=cache)
        with pytest.raises(ValueError, match="KV cache holds 4 positions"):
            model(torch.zeros(1, 1, dtype=torch.long), kv_cache=cache)
        full = model.new_kv_cache(1)
        model(torch.zeros(1, 16, dtype=torch.long), kv_cache=full)
        with pytest.raises(ValueError, match="exceeds block_size=16"):
            model(torch.zeros(1, 1, dtype=torch.long), kv_cache=full)


def test_weights_saved_under_the_old_names_still_load():
    # the names ModernGPT's parameters had before they took LLaMA's (one layer, with and without
    # experts): a checkpoint saved then loads into today's model
    attention = ("norm1", "attn.q_proj", "attn.k_proj", "attn.v_proj", "attn.proj", "norm2")
    old_dense = ["tok_emb.weight", "pos_emb.weight", "norm_f.weight", "norm_f.bias"] + [
        f"blocks.0.{m}.{p}" for m in (*attention, "ffn.fc", "ffn.proj") for p in ("weight", "bias")
    ]
    experts = [f"ffn.experts.{e}.{x}" for e in range(2) for x in ("gate", "up", "proj")]
    old_moe = ["tok_emb.weight", "norm_f.weight", "blocks.0.ffn.router.weight"] + [
        f"blocks.0.{m}.weight" for m in (*attention, *experts)
    ]
    some = {
        "tok_emb.weight": "embed_tokens.weight",
        "pos_emb.weight": "embed_positions.weight",
        "norm_f.bias": "norm.bias",
        "blocks.0.norm1.weight": "layers.0.input_layernorm.weight",
        "blocks.0.attn.k_proj.bias": "layers.0.self_attn.k_proj.bias",
        "blocks.0.attn.proj.weight": "layers.0.self_attn.o_proj.weight",
        "blocks.0.norm2.bias": "layers.0.post_attention_layernorm.bias",
        "blocks.0.ffn.fc.weight": "layers.0.mlp.up_proj.weight",
        "blocks.0.ffn.proj.bias": "layers.0.mlp.down_proj.bias",
        "blocks.0.ffn.router.weight": "layers.0.mlp.router.weight",
        "blocks.0.ffn.experts.1.gate.weight": "layers.0.mlp.experts.1.gate_proj.weight",
        "blocks.0.ffn.experts.1.up.weight": "layers.0.mlp.experts.1.up_proj.weight",
        "blocks.0.ffn.experts.0.proj.weight": "layers.0.mlp.experts.0.down_proj.weight",
    }
    assert legacy_to_llama_names(dict.fromkeys(some)) == dict.fromkeys(some.values())
    sizes = dict(vocab_size=17, block_size=16, n_layer=1, n_head=4, n_embd=32)
    for config, old_names in [
        (ModernConfig.gpt2_style(**sizes), old_dense),
        (ModernConfig.llama_style(**sizes, n_expert=2, top_k=1), old_moe),
    ]:
        saved = ModernGPT(config)
        state = saved.state_dict()
        new_names = list(legacy_to_llama_names(dict.fromkeys(old_names)))
        assert set(new_names) == {n for n, _ in saved.named_parameters()}
        old_checkpoint = {old: state[new] for old, new in zip(old_names, new_names)}
        fresh = ModernGPT(config)
        # the tied lm_head is stored once, as the embedding (as safetensors saves it)
        missing, unexpected = fresh.load_state_dict(old_checkpoint, strict=False)
        assert missing == ["lm_head.weight"] and unexpected == []
        assert all(torch.equal(a, b) for a, b in zip(fresh.parameters(), saved.parameters()))
        fresh.load_state_dict(state)  # today's names pass through unchanged
