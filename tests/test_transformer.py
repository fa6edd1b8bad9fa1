"""The encoder-decoder Transformer: positions, masks, decoding, and that it learns a tiny task."""

import math

import pytest
import torch

from course.models.transformer import (
    BOS_ID,
    EOS_ID,
    PAD_ID,
    Transformer,
    TransformerConfig,
    legacy_to_new_names,
    sinusoidal_positions,
    translation_loss,
)


def tiny(**kw):
    torch.manual_seed(0)
    return Transformer(
        TransformerConfig(
            src_vocab_size=12,
            tgt_vocab_size=12,
            d_model=16,
            n_heads=2,
            n_layers=2,
            d_ff=32,
            dropout=0.0,
            max_len=24,
            **kw,
        )
    ).eval()


def test_sinusoidal_positions_formula():
    pe = sinusoidal_positions(50, 8)
    assert pe.shape == (50, 8)
    pos, i = 7, 2  # dimension pair i = 2 -> columns 4 (sin) and 5 (cos)
    angle = pos / 10000 ** (2 * i / 8)
    assert pe[pos, 4].item() == pytest.approx(math.sin(angle), abs=1e-6)
    assert pe[pos, 5].item() == pytest.approx(math.cos(angle), abs=1e-6)
    # each pair on the unit circle
    torch.testing.assert_close(pe.pow(2).view(50, 4, 2).sum(-1), torch.ones(50, 4))


def test_decoder_is_causal_and_padding_is_ignored():
    model = tiny()
    src = torch.tensor([[4, 5, 6, EOS_ID, PAD_ID]])
    mask = src != PAD_ID
    tgt = torch.tensor([[BOS_ID, 7, 8, 9, 10]])
    a, _ = model(src, mask, tgt)
    changed = tgt.clone()
    changed[0, 3:] = 11
    b, _ = model(src, mask, changed)
    torch.testing.assert_close(a[:, :3], b[:, :3])
    other_pad = src.clone()
    other_pad[0, 4] = 9  # a different token at a padded (masked) position changes nothing
    c, _ = model(other_pad, mask, tgt)
    torch.testing.assert_close(a, c)


def test_attention_maps_are_distributions_in_bertviz_shape():
    model = tiny()
    src = torch.tensor([[4, 5, EOS_ID]])
    tgt = torch.tensor([[BOS_ID, 7, 8, 9]])
    maps = model.attention_maps(src, src != PAD_ID, tgt)
    assert [len(maps[k]) for k in ("encoder", "decoder", "cross")] == [2, 2, 2]
    assert maps["encoder"][0].shape == (1, 2, 3, 3)
    assert maps["decoder"][1].shape == (1, 2, 4, 4) and maps["cross"][0].shape == (1, 2, 4, 3)
    for group in maps.values():
        for w in group:
            torch.testing.assert_close(w.sum(-1), torch.ones(w.shape[:-1]))
    assert torch.all(maps["decoder"][0].triu(1) == 0)


def test_learns_to_copy_and_beam_1_equals_greedy():
    model = tiny().train()
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    gen = torch.Generator().manual_seed(0)

    class B:  # the fields of course.translation.Batch
        def __init__(self, src, tgt):
            self.src, self.src_mask = src, src != PAD_ID
            self.tgt_in, self.tgt_out = tgt[:, :-1], tgt[:, 1:]

        def to(self, device):
            return self

    def batch(n=32):
        body = torch.randint(4, 12, (n, 5), generator=gen)
        src = torch.cat([body, torch.full((n, 1), EOS_ID)], 1)
        tgt = torch.cat([torch.full((n, 1), BOS_ID), body, torch.full((n, 1), EOS_ID)], 1)
        return B(src, tgt)

    first = None
    for _ in range(250):
        loss = translation_loss(model, batch())
        first = first if first is not None else loss.item()
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert loss.item() < 0.2 * first
    model.eval()
    test = batch(8)
    ids, attention = model.greedy_decode(test.src, test.src_mask, max_len=10)
    assert attention.shape[0] == 8 and attention.shape[2] == 6
    correct = (ids[:, :6] == test.tgt_out).all(1).float().mean()
    assert correct > 0.8
    beam_ids, _ = model.beam_search(test.src[:1], test.src_mask[:1], beam_size=1, max_len=10)
    assert beam_ids[0].tolist() == ids[0, : beam_ids.size(1)].tolist()


def test_too_long_input_raises():
    with pytest.raises(ValueError, match="max_len"):
        tiny()(
            torch.ones(1, 30, dtype=torch.long),
            torch.ones(1, 30, dtype=torch.bool),
            torch.ones(1, 3, dtype=torch.long),
        )


def test_sub_layers_use_the_modern_models_names_and_old_weights_still_load():
    model = tiny()
    encoder_layer = {"input_layernorm", "self_attn", "post_attention_layernorm", "mlp"}
    decoder_layer = encoder_layer | {"cross_attn_layernorm", "cross_attn"}
    for stack, expected in [("encoder", encoder_layer), ("decoder", decoder_layer)]:
        layer = getattr(model, stack)[0]
        assert {n for n, _ in layer.named_children()} - {"dropout"} == expected
        for attention in [layer.self_attn] + ([layer.cross_attn] if stack == "decoder" else []):
            assert {n for n, _ in attention.named_children()} - {"dropout"} == {
                "q_proj",
                "k_proj",
                "v_proj",
                "o_proj",
            }
        assert {n for n, _ in layer.mlp.named_children()} - {"dropout"} == {"up_proj", "down_proj"}
    # a state dict saved before the rename (norm1/2/3, attn, w_q..w_o, ffn.net.0/3) still loads
    old_to_new = {
        "encoder.0.norm1.weight": "encoder.0.input_layernorm.weight",
        "encoder.0.norm2.bias": "encoder.0.post_attention_layernorm.bias",
        "encoder.1.attn.w_q.weight": "encoder.1.self_attn.q_proj.weight",
        "encoder.1.attn.w_o.bias": "encoder.1.self_attn.o_proj.bias",
        "encoder.0.ffn.net.0.weight": "encoder.0.mlp.up_proj.weight",
        "encoder.0.ffn.net.3.bias": "encoder.0.mlp.down_proj.bias",
        "decoder.0.norm1.weight": "decoder.0.input_layernorm.weight",
        "decoder.0.norm2.weight": "decoder.0.cross_attn_layernorm.weight",
        "decoder.1.norm3.bias": "decoder.1.post_attention_layernorm.bias",
        "decoder.1.self_attn.w_v.weight": "decoder.1.self_attn.v_proj.weight",
        "decoder.1.cross_attn.w_k.weight": "decoder.1.cross_attn.k_proj.weight",
        "decoder.1.ffn.net.3.weight": "decoder.1.mlp.down_proj.weight",
        "enc_norm.weight": "enc_norm.weight",
        "out.bias": "out.bias",
    }
    assert legacy_to_new_names(dict.fromkeys(old_to_new)) == dict.fromkeys(old_to_new.values())
    state = model.state_dict()
    new_to_old = {v: k for k, v in old_to_new.items()}
    old = {new_to_old.get(n, n): t for n, t in state.items()}
    assert set(old) != set(state)
    fresh = Transformer(model.config)
    fresh.load_state_dict(old)  # strict
    assert all(torch.equal(a, b) for a, b in zip(fresh.parameters(), model.parameters()))
