"""Prompt tuning and prefix tuning (course.align.prompt_tuning, course.align.prefix_tuning), and the
hand-built versions of notebook 09, read from the notebook by cell id, computing the same thing."""

import ast
import json
from pathlib import Path

import pytest
import torch
import torch.nn as nn

from course.align.lora import count_parameters
from course.align.prefix_tuning import PrefixAttention, add_prefix, prefix_parameters, remove_prefix
from course.align.prompt_tuning import SoftPrompted, soft_prompt_parameters
from course.generate import generate
from course.models.gpt import GPT, GPTConfig
from course.train import TrainConfig, fit

NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "09_prompting_and_finetuning.ipynb"
pytestmark = pytest.mark.usefixtures("one_thread")  # tests/conftest.py


def gpt(seed: int = 0, **kw) -> GPT:
    torch.manual_seed(seed)
    config = dict(vocab_size=50, block_size=24, n_layer=2, n_head=2, n_embd=16)
    config.update(kw)
    return GPT(GPTConfig(**config)).eval()


def notebook_functions(*cell_ids: str) -> dict:
    """The function definitions of notebook 09's cells ``cell_ids`` (imports and defs only)."""
    cells = {c.get("id"): c for c in json.loads(NOTEBOOK.read_text(encoding="utf-8"))["cells"]}
    namespace = {"torch": torch, "nn": nn}
    for cell_id in cell_ids:
        tree = ast.parse("".join(cells[cell_id]["source"]))
        keep = [
            n for n in tree.body if isinstance(n, (ast.FunctionDef, ast.Import, ast.ImportFrom))
        ]
        exec(compile(ast.Module(body=keep, type_ignores=[]), f"nb09:{cell_id}", "exec"), namespace)
    return namespace


# ----------------------------------------------------------------------------- prompt tuning
def test_soft_prompt_is_the_tokens_embeddings_when_initialised_from_them():
    # a soft prompt started at real tokens' embeddings is those tokens: logits equal the model's on
    # [tokens ; idx], cut to the last T positions
    model = gpt()
    prompt_ids = [3, 7, 11]
    tuned = SoftPrompted(model, 3, init_ids=prompt_ids)
    idx = torch.randint(0, 50, (2, 9))
    full = model(torch.cat([torch.tensor([prompt_ids] * 2), idx], dim=1))
    assert torch.allclose(tuned(idx), full[:, 3:], atol=1e-5)
    assert tuned.config.block_size == 24 - 3


def test_soft_prompt_trains_only_its_vectors():
    model = gpt()
    before = {n: p.clone() for n, p in model.named_parameters()}
    tuned = SoftPrompted(model, 4)
    assert count_parameters(tuned)[0] == soft_prompt_parameters(4, 16) == 64
    x = torch.randint(0, 50, (4, 12))
    start = tuned.prompt.detach().clone()
    history = fit(
        tuned,
        lambda: (x, x),
        config=TrainConfig(steps=30, lr=0.05, warmup_steps=0),
        progress=False,
        plot=False,
    )
    assert history.train_loss[-1] < history.train_loss[0]
    assert not torch.equal(tuned.prompt, start)
    assert all(torch.equal(p, before[n]) for n, p in model.named_parameters())  # frozen


def test_soft_prompt_generates_and_rejects_what_does_not_fit():
    tuned = SoftPrompted(gpt(), 4)
    out = generate(tuned, torch.randint(0, 50, (2, 5)), 6, greedy=True)
    assert out.shape == (2, 11)
    with pytest.raises(ValueError, match="fit after"):
        tuned(torch.randint(0, 50, (1, 21)))
    with pytest.raises(ValueError, match="between 1 and"):
        SoftPrompted(gpt(), 24)
    with pytest.raises(ValueError, match="one id per vector"):
        SoftPrompted(gpt(), 2, init_ids=[1, 2, 3])


def test_notebook_soft_prompt_matches_package():
    model = gpt()
    tuned = SoftPrompted(model, 3)
    soft_prompt_logits = notebook_functions("peft-soft-prompt")["soft_prompt_logits"]
    idx = torch.randint(0, 50, (2, 7))
    assert torch.allclose(soft_prompt_logits(model, tuned.prompt, idx), tuned(idx), atol=1e-5)


# ----------------------------------------------------------------------------- prefix tuning
def record_keys_values(model: GPT, idx: torch.Tensor) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """Each layer's keys and values (1, H, T, hd) for ``idx``, read with the key/value cache."""
    cache = model.new_kv_cache(idx.size(0))
    model(idx, kv_cache=cache)
    T = idx.size(1)
    return [(k[:, :, :T], v[:, :, :T]) for k, v in zip(cache.keys, cache.values)]


def test_a_prefix_is_earlier_tokens_keys_and_values():
    # with position embeddings zeroed, a prefix holding the keys/values of P real tokens makes the
    # model read idx exactly as if those tokens came first
    model = gpt()
    with torch.no_grad():
        model.wpe.weight.zero_()
    context, idx = torch.randint(0, 50, (1, 5)), torch.randint(0, 50, (1, 8))
    want = model(torch.cat([context, idx], dim=1))[:, 5:]
    recorded = record_keys_values(model, context)
    for layer, (k, v) in zip(add_prefix(model, 5), recorded):
        with torch.no_grad():
            layer.prefix_keys.copy_(k[0])
            layer.prefix_values.copy_(v[0])
    assert torch.allclose(model(idx), want, atol=1e-5)


def test_prefix_trains_only_the_prefix_and_is_removable():
    model = gpt()
    idx = torch.randint(0, 50, (2, 10))
    before_logits = model(idx)
    layers = add_prefix(model, 3)
    assert all(isinstance(layer, PrefixAttention) for layer in layers)
    assert count_parameters(model)[0] == prefix_parameters(2, 3, 16) == 192
    history = fit(
        model,
        lambda: (idx, idx),
        config=TrainConfig(steps=30, lr=0.05, warmup_steps=0),
        progress=False,
        plot=False,
    )
    assert history.train_loss[-1] < history.train_loss[0]
    assert not torch.allclose(model(idx), before_logits, atol=1e-4)
    assert torch.equal(remove_prefix(model)(idx), before_logits)  # the base model, untouched


def test_prefix_generation_with_and_without_the_cache_agree():
    model = gpt()
    for layer in add_prefix(model, 4):
        with torch.no_grad():
            layer.prefix_keys.normal_()
            layer.prefix_values.normal_()
    idx = torch.randint(0, 50, (3, 6))
    cached = generate(model, idx, 10, greedy=True)
    plain = generate(model, idx, 10, greedy=True, use_kv_cache=False)
    assert torch.equal(cached, plain)


def test_prefix_attention_weights_sum_to_one_over_prefix_and_tokens():
    model = gpt()
    add_prefix(model, 2)
    _, weights = model(torch.randint(0, 50, (1, 4)), return_attention=True)
    assert weights[0].shape == (1, 2, 4, 2 + 4)
    assert torch.allclose(weights[0].sum(-1), torch.ones(1, 2, 4))
    assert weights[0][0, 0, 0, 3:].abs().sum() == 0  # causal among the tokens
    with pytest.raises(ValueError, match="already has a prefix"):
        add_prefix(model, 2)


def test_notebook_prefix_attention_matches_package():
    model = gpt()
    layer = PrefixAttention(model.blocks[0].attn, 3)
    with torch.no_grad():
        layer.prefix_keys.normal_()
        layer.prefix_values.normal_()
    attention_with_prefix = notebook_functions("peft-prefix")["attention_with_prefix"]
    x = torch.randn(2, 7, 16)
    got = attention_with_prefix(layer.attn, x, layer.prefix_keys, layer.prefix_values)
    assert torch.allclose(got, layer(x)[0], atol=1e-5)
