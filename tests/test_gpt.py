"""GPT: shapes, causality, attention weights, weight tying, parameter and FLOP counts,
checkpoints."""

import math

import pytest
import torch
import torch.nn.functional as F

from course.models.gpt import GPT, GPTConfig, attention_weights, build

TINY = dict(vocab_size=11, block_size=16, n_layer=2, n_head=2, n_embd=16)


def tiny(**overrides) -> GPT:
    torch.manual_seed(0)
    return GPT(GPTConfig(**{**TINY, **overrides})).eval()


def test_logits_shape_and_hidden_states():
    model = tiny()
    idx = torch.randint(0, 11, (3, 7))
    assert model(idx).shape == (3, 7, 11)
    h = model.hidden_states(idx)
    assert h.shape == (3, 7, 16)
    torch.testing.assert_close(model.lm_head(h), model(idx))


def test_causal_mask_leaks_nothing():
    model = tiny()
    idx = torch.randint(0, 11, (2, 10))
    changed = idx.clone()
    changed[:, 6:] = (changed[:, 6:] + 1) % 11  # change every token from position 6 on
    a, b = model(idx), model(changed)
    torch.testing.assert_close(a[:, :6], b[:, :6])  # earlier positions cannot see the change
    assert not torch.allclose(a[:, 6:], b[:, 6:])


def test_attention_rows_sum_to_one_and_match_fused_path():
    model = tiny()
    idx = torch.randint(0, 11, (2, 9))
    logits, attentions = model(idx, return_attention=True)
    assert len(attentions) == 2 and attentions[0].shape == (2, 2, 9, 9)
    for a in attentions:
        torch.testing.assert_close(a.sum(-1), torch.ones(2, 2, 9))
        assert torch.all(a.triu(diagonal=1) == 0)  # nothing above the diagonal: no future
    torch.testing.assert_close(logits, model(idx), rtol=1e-5, atol=1e-5)  # explicit == SDPA


def test_attention_weights_matches_formula():
    torch.manual_seed(1)
    q, k = torch.randn(1, 1, 4, 8), torch.randn(1, 1, 4, 8)
    scores = (q @ k.transpose(-2, -1)) / math.sqrt(8)
    scores = scores.masked_fill(torch.ones(4, 4).triu(1).bool(), float("-inf"))
    torch.testing.assert_close(attention_weights(q, k), F.softmax(scores, dim=-1))


def test_weight_tying_and_parameter_count():
    model = tiny()
    assert model.lm_head.weight.data_ptr() == model.wte.weight.data_ptr()
    C, V, L, B = 16, 11, 2, 16
    per_block = (
        (C * 3 * C + 3 * C) + (C * C + C) + (C * 4 * C + 4 * C) + (4 * C * C + C) + 2 * (2 * C)
    )
    expected = V * C + L * per_block + 2 * C  # tied embedding/head + blocks + final LayerNorm
    assert model.num_parameters() == expected
    assert model.num_parameters(non_embedding=False) == expected + B * C
    assert model.flops_per_token(context=B) == 6 * expected + 12 * L * B * C


def test_no_bias_variant():
    model = tiny(bias=False)
    assert all("bias" not in name for name, _ in model.named_parameters())


def test_too_long_input_and_bad_config_raise_clear_errors():
    with pytest.raises(ValueError, match="block_size"):
        tiny()(torch.zeros(1, 17, dtype=torch.long))
    with pytest.raises(ValueError, match="divisible"):
        GPTConfig(vocab_size=5, n_embd=10, n_head=3)


def test_kv_cache_forward_equals_full_forward():
    model = tiny()
    idx = torch.randint(0, 11, (2, 12))
    full = model(idx)
    cache = model.new_kv_cache(2)
    parts = [
        model(idx[:, :5], kv_cache=cache),
        model(idx[:, 5:9], kv_cache=cache),
    ]  # several at once
    parts += [model(idx[:, t : t + 1], kv_cache=cache) for t in range(9, 12)]  # then one at a time
    torch.testing.assert_close(torch.cat(parts, dim=1), full, rtol=1e-5, atol=1e-5)


def test_trains_with_course_fit():
    from course.train import TrainConfig, fit

    model = tiny()
    torch.manual_seed(0)
    data = torch.arange(200) % 11  # a perfectly predictable sequence

    def batch():
        i = torch.randint(0, 180, (8,))
        x = torch.stack([data[j : j + 16] for j in i])
        return x, torch.stack([data[j + 1 : j + 17] for j in i])

    history = fit(
        model,
        batch,
        config=TrainConfig(steps=60, lr=3e-3),
        device="cpu",
        progress=False,
        plot=False,
    )
    assert history.final_train_loss < 0.5 * history.train_loss[0]


def test_checkpoint_round_trip_and_refuses_other_config(tmp_path):
    from course.checkpoint import CheckpointError, load_checkpoint, load_model_from, save_checkpoint

    model = tiny()
    save_checkpoint(tmp_path / "gpt", model, model.config)
    again = load_model_from(tmp_path / "gpt", build)
    idx = torch.randint(0, 11, (1, 8))
    torch.testing.assert_close(again(idx), model(idx))
    other = tiny(n_embd=32)
    with pytest.raises(CheckpointError, match="different model config"):
        load_checkpoint(tmp_path / "gpt", other, config=other.config)


def test_pretrained_or_train_saves_loads_and_refuses_other_config(tmp_path, monkeypatch, capsys):
    from course.pretrained import checkpoint_path, pretrained_or_train

    monkeypatch.setenv("COURSE_CACHE_DIR", str(tmp_path))
    sizes = dict(block_size=16, n_layer=1, n_head=2, n_embd=16, dropout=0.0, bias=True)
    model, tok = pretrained_or_train(sizes=sizes, steps=3, device="cpu", verbose=True)
    assert "Training a quick one" in capsys.readouterr().out
    assert (checkpoint_path() / "tokenizer.json").is_file() and str(tmp_path) in str(
        checkpoint_path()
    )
    again, _ = pretrained_or_train(sizes=sizes, steps=3, device="cpu")
    assert "Loaded" in capsys.readouterr().out
    idx = torch.tensor([tok.encode("To be")])
    torch.testing.assert_close(again(idx), model(idx))
    other, _ = pretrained_or_train(sizes={**sizes, "n_embd": 32}, steps=3, device="cpu")
    assert "another config" in capsys.readouterr().out and other.config.n_embd == 32
