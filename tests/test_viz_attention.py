"""course.viz.attention: heatmaps, the layer/head explorer, and bertviz rendered with no network.

The JavaScript itself runs in a real browser in tests/test_browser.py (marker ``browser``); here we
check the Python side: the numbers drawn are the model's, and the HTML asks for nothing remote."""

from __future__ import annotations

import json
import re

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from course.viz import attention as va  # noqa: E402
from course.viz import offline_js  # noqa: E402

TOKENS = ["The", "cat", "sat", "on", "the", "mat"]


@pytest.fixture
def attentions():
    """2 layers x 3 heads over 6 tokens, causal like a GPT's, in bertviz's format."""
    generator = torch.Generator().manual_seed(0)
    mask = torch.triu(torch.ones(6, 6, dtype=torch.bool), diagonal=1)
    layers = []
    for _ in range(2):
        scores = torch.randn(1, 3, 6, 6, generator=generator).masked_fill(mask, float("-inf"))
        layers.append(torch.softmax(scores, dim=-1))
    return tuple(layers)


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


# ----------------------------------------------------------------------------- input checks
def test_as_array_stacks_layers(attentions):
    array = va.as_array(attentions)
    assert array.shape == (2, 3, 6, 6)
    np.testing.assert_allclose(array[1, 2], attentions[1][0, 2].numpy())
    np.testing.assert_allclose(array.sum(-1), 1.0, atol=1e-6)
    assert va.as_array([a[0].numpy() for a in attentions]).shape == (
        2,
        3,
        6,
        6,
    )  # (H, T, T) arrays too


def test_as_array_explains_bad_input(attentions):
    with pytest.raises(TypeError, match="one .* tensor per layer"):
        va.as_array(attentions[0])
    with pytest.raises(ValueError, match="batch of 2"):
        va.as_array((attentions[0].repeat(2, 1, 1, 1),))
    with pytest.raises(ValueError, match="return_attention=True"):
        va.as_array((None,))
    with pytest.raises(ValueError, match="disagree"):
        va.as_array((attentions[0], attentions[1][:, :, :4, :4]))


# ----------------------------------------------------------------------------- matplotlib
def test_heatmap_draws_the_weights_with_token_labels(attentions):
    weights = attentions[0][0, 1]
    ax = va.attention_heatmap(weights, TOKENS, TOKENS, title="layer 0 head 1")
    image = ax.get_images()[0]
    np.testing.assert_allclose(np.asarray(image.get_array()), weights.numpy())
    assert image.get_clim() == (0.0, 1.0)
    assert [t.get_text() for t in ax.get_xticklabels()] == TOKENS
    assert [t.get_text() for t in ax.get_yticklabels()] == TOKENS
    assert (
        "key" in ax.get_xlabel()
        and "query" in ax.get_ylabel()
        and ax.get_title() == "layer 0 head 1"
    )


def test_heatmap_rectangular_cross_attention():
    weights = torch.softmax(torch.randn(2, 4), dim=-1)
    ax = va.attention_heatmap(weights, ["Hallo", "Welt"], ["hello", "world", "!", "<eos>"])
    assert np.asarray(ax.get_images()[0].get_array()).shape == (2, 4)


def test_heatmap_errors_say_what_to_do(attentions):
    with pytest.raises(ValueError, match="pick a layer and head"):
        va.attention_heatmap(attentions[0], TOKENS, TOKENS)
    with pytest.raises(ValueError, match="5 key tokens .* 6 positions"):
        va.attention_heatmap(attentions[0][0, 0], TOKENS, TOKENS[:5])


def test_figure_picks_layer_head_and_mean(attentions):
    fig = va.attention_figure(attentions, TOKENS, layer=1, head=2)
    np.testing.assert_allclose(
        np.asarray(fig.axes[0].get_images()[0].get_array()), attentions[1][0, 2].numpy()
    )
    assert "layer 1, head 2" in fig.axes[0].get_title()
    fig = va.attention_figure(attentions, TOKENS, layer=0, head="mean")
    np.testing.assert_allclose(
        np.asarray(fig.axes[0].get_images()[0].get_array()),
        attentions[0][0].mean(0).numpy(),
        rtol=1e-6,
    )
    with pytest.raises(IndexError, match="layers 0..1"):
        va.attention_figure(attentions, TOKENS, layer=2)
    with pytest.raises(IndexError, match="heads 0..2"):
        va.attention_figure(attentions, TOKENS, head=3)


def test_grid_has_one_panel_per_layer_and_head(attentions):
    fig = va.attention_grid(attentions, TOKENS)
    assert len(fig.axes) == 6
    np.testing.assert_allclose(
        np.asarray(fig.axes[4].get_images()[0].get_array()), attentions[1][0, 1].numpy()
    )


# ----------------------------------------------------------------------------- widget
def test_explorer_redraws_for_the_picked_layer_and_head(attentions, monkeypatch):
    calls = []
    real = va.attention_figure

    def spy(att, tokens, layer=0, head=0, query_tokens=None):
        calls.append((layer, head))
        return real(att, tokens, layer, head, query_tokens)

    monkeypatch.setattr(va, "attention_figure", spy)
    box = va.attention_explorer(attentions, TOKENS)
    layer_picker, head_picker = box.children[0].children
    assert calls == [(0, 0)]
    layer_picker.value = 1
    head_picker.value = "mean"
    assert calls == [(0, 0), (1, 0), (1, "mean")]
    assert layer_picker.max == 1 and len(head_picker.options) == 4


def test_explorer_rejects_a_missing_head_before_building_widgets(attentions):
    with pytest.raises(IndexError, match="heads 0..2"):
        va.attention_explorer(attentions, TOKENS, head=7)


# ----------------------------------------------------------------------------- bertviz offline
def _params(html: str) -> dict:
    match = re.search(r"const params = (\{.*?\});\s*//", html, re.S)
    assert match, "bertviz's params are not in the HTML"
    return json.loads(match.group(1))


def test_head_view_html_needs_no_network_and_carries_the_weights(attentions):
    html = va.head_view_html(attentions, TOKENS)
    assert "cdnjs" not in html and not re.search(r"src=[\"']?https?:", html)
    assert "require.config" not in html and "requirejs(" not in html
    assert "window.courseBertvizLite.run(" in html and offline_js.SHIM_JS in html
    params = _params(html)
    np.testing.assert_allclose(
        np.array(params["attention"][0]["attn"]), va.as_array(attentions), rtol=1e-6
    )
    assert params["attention"][0]["left_text"] == TOKENS
    root = params["root_div_id"]
    assert f'id="{root}"' in html and f'id="{root}-fallback"' in html
    # hidden once drawn
    assert html.index(f'id="{root}-fallback"') < html.index("courseBertvizLite.run(")
    assert 'src="data:image/png;base64,' in html


def test_model_view_html_needs_no_network(attentions):
    html = va.model_view_html(attentions, TOKENS, fallback=False)
    assert "cdnjs" not in html and "require.config" not in html
    params = _params(html)
    assert f'id="{params["root_div_id"]}-fallback"' not in html
    assert params["display_mode"] == "light" and params["total_heads"] == 3
    np.testing.assert_allclose(
        np.array(params["attention"][0]["attn"]), va.as_array(attentions), rtol=1e-6
    )


def test_views_accept_arrays_and_check_token_count(attentions):
    as_numpy = tuple(a.numpy() for a in attentions)
    assert "courseBertvizLite" in va.head_view_html(as_numpy, TOKENS, fallback=False)
    with pytest.raises(ValueError, match="5 tokens"):
        va.head_view_html(attentions, TOKENS[:5])


def test_offline_html_refuses_output_it_does_not_recognise():
    with pytest.raises(offline_js.UnsupportedBertvizHTML):
        offline_js.offline_html("<div>no bertviz here</div>")
    with pytest.raises(offline_js.UnsupportedBertvizHTML, match="found 0"):
        offline_js.offline_html('<div id="bertviz-abc123"></div><script>d3.select("x")</script>')


def test_shim_is_defined_once_and_implements_what_bertviz_calls():
    for name in (
        "scaleOrdinal",
        "schemeCategory10",
        "hsl",
        "selectAll",
        "enter",
        "classed",
        "empty",
        "change",
    ):
        assert name in offline_js.SHIM_JS
    assert "if (window.courseBertvizLite" in offline_js.SHIM_JS
    assert "http" not in offline_js.SHIM_JS.replace("http://www.w3.org/2000/svg", "")


def test_views_outside_a_kernel_fall_back_to_matplotlib(attentions, capsys, monkeypatch):
    shown = []
    monkeypatch.setattr(va, "attention_explorer", lambda *a, **k: shown.append(k) or "explorer")
    assert va.head_view(attentions, TOKENS, layer=1) is None
    out = capsys.readouterr().out
    assert "[course.viz] interactive bertviz view unavailable" in out and "Jupyter kernel" in out
    assert shown == [{"layer": 1, "head": 0, "query_tokens": TOKENS}]
    va.model_view(attentions, TOKENS)
    assert len(shown) == 2


def test_views_in_a_kernel_display_html_with_a_text_summary(attentions, monkeypatch):
    shown = []
    monkeypatch.setattr(va, "_bertviz_front_end", lambda: None)
    monkeypatch.setattr("IPython.display.display", lambda obj, raw=False: shown.append(obj))
    va.head_view(attentions, TOKENS)
    va.model_view(attentions, TOKENS)
    assert [sorted(s) for s in shown] == [["text/html", "text/plain"]] * 2
    assert "2 layers x 3 heads, 6 tokens" in shown[0]["text/plain"]
    assert "courseBertvizLite" in shown[1]["text/html"]


# --------------------------------------------------------------------------- encoder-decoder models
SOURCE = ["ich", "sehe", "dich", "<eos>"]
TARGET = ["<bos>", "I", "see", "you", "<eos>"]


@pytest.fixture
def encoder_decoder():
    g = torch.Generator().manual_seed(1)

    def layer(q, k):
        return torch.softmax(torch.randn(1, 2, q, k, generator=g), dim=-1)

    return dict(
        encoder_attention=(layer(4, 4),),
        decoder_attention=(layer(5, 5),),
        cross_attention=(layer(5, 4),),
        encoder_tokens=SOURCE,
        decoder_tokens=TARGET,
    )


def test_encoder_decoder_views_carry_all_three_attentions(encoder_decoder):
    html = va.head_view_html(**encoder_decoder)
    params = _params(html)
    names = [a["name"] for a in params["attention"]]
    assert names == ["Encoder", "Decoder", "Cross"]
    cross = params["attention"][2]
    assert cross["left_text"] == TARGET and cross["right_text"] == SOURCE
    np.testing.assert_allclose(
        np.array(cross["attn"])[0, 1],
        encoder_decoder["cross_attention"][0][0, 1].numpy(),
        rtol=1e-6,
    )
    assert html.count('src="data:image/png;base64,') == 3  # a static grid per kind of attention
    assert "courseBertvizLite.run(" in va.model_view_html(**encoder_decoder, fallback=False)


def test_encoder_decoder_needs_matching_tokens(encoder_decoder):
    with pytest.raises(ValueError, match="5 key tokens for the cross attention"):
        va.head_view_html(
            **dict(encoder_decoder, encoder_attention=None, encoder_tokens=SOURCE + ["extra"])
        )
    with pytest.raises(ValueError, match="give attentions"):
        va.head_view_html()


def test_cross_attention_figure_labels_queries_and_keys(encoder_decoder):
    fig = va.attention_figure(
        encoder_decoder["cross_attention"], SOURCE, head=1, query_tokens=TARGET
    )
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == TARGET
    assert [t.get_text() for t in ax.get_xticklabels()] == SOURCE
    with pytest.raises(ValueError, match="query tokens"):
        va.attention_figure(encoder_decoder["cross_attention"], SOURCE)  # 5 queries, 4 key labels


def test_encoder_decoder_fallback_explores_the_cross_attention(
    encoder_decoder, monkeypatch, capsys
):
    shown = []
    monkeypatch.setattr(
        va, "attention_explorer", lambda att, keys, **k: shown.append((att, keys, k))
    )
    va.head_view(**encoder_decoder)
    ((att, keys, options),) = shown
    assert (
        att is encoder_decoder["cross_attention"]
        and keys == SOURCE
        and options["query_tokens"] == TARGET
    )
    assert "matplotlib explorer" in capsys.readouterr().out
