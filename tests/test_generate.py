"""Generation: argument checks, filters, the KV cache gives identical tokens, cropping with a
notice."""

import pytest
import torch

from course.generate import filter_top_k, filter_top_p, generate, sample_next
from course.models.gpt import GPT, GPTConfig


def tiny(block_size=32) -> GPT:
    torch.manual_seed(0)
    return GPT(GPTConfig(vocab_size=13, block_size=block_size, n_layer=2, n_head=2, n_embd=16))


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(temperature=0), "temperature"),
        (dict(temperature=-1.0), "temperature"),
        (dict(top_k=0), "top_k"),
        (dict(top_p=0.0), "top_p"),
        (dict(top_p=1.5), "top_p"),
    ],
)
def test_bad_sampling_arguments_raise_clear_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        generate(tiny(), torch.zeros(1, 1, dtype=torch.long), 3, **kwargs)


def test_kv_cache_generation_equals_no_cache_token_for_token():
    model = tiny()
    prompt = torch.randint(0, 13, (3, 4))
    for kwargs in (dict(greedy=True), dict(temperature=0.9, top_k=5), dict(top_p=0.8)):
        a = generate(
            model,
            prompt,
            20,
            use_kv_cache=True,
            generator=torch.Generator().manual_seed(1),
            **kwargs,
        )
        b = generate(
            model,
            prompt,
            20,
            use_kv_cache=False,
            generator=torch.Generator().manual_seed(1),
            **kwargs,
        )
        assert a.shape == (3, 24)
        assert torch.equal(a, b)


def test_generation_past_the_context_still_matches():
    model = tiny(block_size=8)
    prompt = torch.randint(0, 13, (1, 3))
    a = generate(model, prompt, 15, greedy=True, use_kv_cache=True)
    b = generate(model, prompt, 15, greedy=True, use_kv_cache=False)
    assert torch.equal(a, b) and a.shape == (1, 18)


def test_long_prompt_is_cropped_with_a_notice(capsys):
    model = tiny(block_size=8)
    prompt = torch.randint(0, 13, (1, 20))
    out = generate(model, prompt, 2, greedy=True)
    assert "context is 8" in capsys.readouterr().out
    assert out.shape == (1, 22) and torch.equal(out[:, :20], prompt)
    expected = model(prompt[:, -8:])[:, -1].argmax(-1)
    assert out[0, 20] == expected[0]


def test_one_dimensional_prompt_and_mode_restored():
    model = tiny().train()
    out = generate(model, torch.tensor([1, 2]), 3, greedy=True)
    assert out.shape == (5,) and model.training


def test_top_k_and_top_p_filters():
    logits = torch.log(torch.tensor([[0.5, 0.2, 0.15, 0.1, 0.05]]))
    assert torch.isfinite(filter_top_k(logits, 2)).tolist() == [[True, True, False, False, False]]
    assert torch.isfinite(filter_top_k(logits, 99)).all()
    assert torch.isfinite(filter_top_p(logits, 0.7)).tolist() == [[True, True, False, False, False]]
    assert torch.isfinite(filter_top_p(logits, 0.71)).tolist() == [[True, True, True, False, False]]
    assert torch.isfinite(filter_top_p(logits, 0.01)).tolist() == [
        [True, False, False, False, False]
    ]
    shuffled = logits[:, [3, 0, 4, 1, 2]]  # order must not matter
    assert torch.isfinite(filter_top_p(shuffled, 0.7)).tolist() == [
        [False, True, False, True, False]
    ]


def test_sampling_follows_the_distribution_and_greedy_is_argmax():
    logits = torch.log(torch.tensor([[0.7, 0.2, 0.1]])).expand(20000, 3)
    draws = sample_next(logits, generator=torch.Generator().manual_seed(0)).flatten()
    freq = torch.bincount(draws, minlength=3) / 20000
    assert torch.allclose(freq, torch.tensor([0.7, 0.2, 0.1]), atol=0.02)
    assert sample_next(logits[:1], greedy=True).item() == 0
    low_t = sample_next(logits, temperature=0.05, generator=torch.Generator().manual_seed(0))
    assert (low_t == 0).float().mean() > 0.99
