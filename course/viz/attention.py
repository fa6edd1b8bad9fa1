"""Looking at attention weights: matplotlib heatmaps, a layer/head explorer, and bertviz offline.

Attentions come in bertviz's format, the one ``GPT(..., return_attention=True)`` returns: a tuple
with one tensor per layer, each ``(1, heads, queries, keys)``; row ``q`` of a head's matrix is the
softmax ``softmax(q·Kᵀ/√d)`` over the keys, so every row sums to 1.

- ``attention_heatmap(weights, query_tokens, key_tokens)``: one (queries × keys) matrix.
- ``attention_figure(attentions, tokens, layer, head)``: the figure the explorer shows (tests call
  it).
- ``attention_explorer(attentions, tokens)``: ipywidgets layer/head picker around that figure.
- ``head_view`` / ``model_view``: bertviz's interactive views, rendered with no network (see
  ``course/viz/offline_js.py``); where bertviz or JavaScript is missing, the heatmaps show instead.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np

MEAN = "mean"  # head=MEAN averages the heads of a layer


# ----------------------------------------------------------------------------- input checks
def as_array(attentions) -> np.ndarray:
    """bertviz-format attentions -> a float array (layers, heads, queries, keys).

    Accepts a tuple/list of per-layer tensors or arrays shaped (1, H, Tq, Tk) or (H, Tq, Tk)."""
    if hasattr(attentions, "detach") or isinstance(attentions, np.ndarray):
        raise TypeError(
            "attentions must be a tuple with one (1, heads, T, T) tensor per layer (bertviz's "
            "format); "
            "wrap a single layer as (weights,)"
        )
    if not isinstance(attentions, (tuple, list)) or not attentions:
        raise TypeError(
            "attentions must be a non-empty tuple of per-layer tensors, got "
            f"{type(attentions).__name__}; "
            "get them with model(idx, return_attention=True)"
        )
    layers = []
    for index, layer in enumerate(attentions):
        if layer is None:
            raise ValueError(
                f"layer {index} has no attention weights: call the model with return_attention=True"
            )
        values = np.asarray(
            layer.detach().float().cpu() if hasattr(layer, "detach") else layer, dtype=float
        )
        if values.ndim == 4:
            if values.shape[0] != 1:
                raise ValueError(
                    f"layer {index} has a batch of {values.shape[0]}; pass one sequence, e.g. "
                    "tuple(a[:1] for a in attentions)"
                )
            values = values[0]
        if values.ndim != 3:
            raise ValueError(f"layer {index} has shape {values.shape}; expected (1, heads, T, T)")
        layers.append(values)
    shapes = {v.shape for v in layers}
    if len(shapes) != 1:
        raise ValueError(f"layers disagree in shape: {sorted(shapes)}")
    return np.stack(layers)


def _check_tokens(tokens: Sequence[str], length: int, what: str) -> list[str]:
    tokens = [str(t) for t in tokens]
    if len(tokens) != length:
        raise ValueError(
            f"{len(tokens)} {what} for a matrix with {length} positions; pass one token per "
            "position"
        )
    return tokens


def _pick(array: np.ndarray, layer: int, head) -> tuple[np.ndarray, str]:
    n_layers, n_heads = array.shape[:2]
    if not 0 <= layer < n_layers:
        raise IndexError(f"layer {layer} does not exist: the model has layers 0..{n_layers - 1}")
    if head == MEAN or head is None:
        return array[layer].mean(axis=0), f"layer {layer}, mean of {n_heads} heads"
    if not 0 <= int(head) < n_heads:
        raise IndexError(f"head {head} does not exist: layer {layer} has heads 0..{n_heads - 1}")
    return array[layer, int(head)], f"layer {layer}, head {int(head)}"


# ----------------------------------------------------------------------------- matplotlib
def attention_heatmap(
    weights,
    query_tokens: Sequence[str],
    key_tokens: Sequence[str],
    ax=None,
    title: str = "Attention: each row (a query) spreads 1.0 over the keys",
    annotate: bool | None = None,
    colorbar: bool = True,
):
    """One attention matrix as a heatmap: rows are queries (the token that looks), columns are keys
    (the tokens it looks at). Returns the Axes.

    >>> attention_heatmap(attentions[0][0, 2], tokens, tokens)   # layer 0, head 2
    """
    values = np.asarray(
        weights.detach().float().cpu() if hasattr(weights, "detach") else weights, dtype=float
    )
    if values.ndim != 2:
        raise ValueError(
            f"attention_heatmap takes one (queries, keys) matrix, got shape {values.shape}; "
            "pick a layer and head first, e.g. attentions[layer][0, head]"
        )
    queries = _check_tokens(query_tokens, values.shape[0], "query tokens")
    keys = _check_tokens(key_tokens, values.shape[1], "key tokens")
    if ax is None:
        width = min(14.0, 2.5 + 0.38 * len(keys))
        height = min(12.0, 1.8 + 0.34 * len(queries))
        _, ax = plt.subplots(figsize=(max(4.0, width), max(3.0, height)))
    # Fixed 0..1 colour scale: weights are probabilities, so two heads' maps can be compared by eye.
    image = ax.imshow(
        values, cmap="Blues", vmin=0.0, vmax=1.0, aspect="auto", interpolation="nearest"
    )
    ax.set_xticks(range(len(keys)), labels=[repr(k)[1:-1] for k in keys], rotation=90, fontsize=8)
    ax.set_yticks(range(len(queries)), labels=[repr(q)[1:-1] for q in queries], fontsize=8)
    ax.set_xlabel("key: the token attended to")
    ax.set_ylabel("query: the token attending")
    if annotate is None:
        annotate = values.size <= 144
    if annotate:
        for (i, j), v in np.ndenumerate(values):
            ax.text(
                j,
                i,
                f"{v:.2f}",
                ha="center",
                va="center",
                fontsize=6,
                color="white" if v > 0.6 else "black",
            )
    if colorbar:
        ax.figure.colorbar(image, ax=ax, fraction=0.046, pad=0.04, label="attention weight")
    ax.set_title(title)
    return ax


def attention_figure(
    attentions,
    tokens: Sequence[str],
    layer: int = 0,
    head: int | str = 0,
    query_tokens: Sequence[str] | None = None,
):
    """The explorer's figure for one layer and head (``head="mean"`` averages the heads).
    A plain function, so tests and non-widget front ends get the same picture. ``tokens`` label the
    keys; ``query_tokens`` the queries when they differ (cross-attention), else the same tokens."""
    array = as_array(attentions)
    weights, where = _pick(array, layer, head)
    keys = _check_tokens(tokens, array.shape[-1], "tokens")
    queries = (
        keys
        if query_tokens is None
        else _check_tokens(query_tokens, array.shape[-2], "query tokens")
    )
    ax = attention_heatmap(
        weights, queries, keys, title=f"Attention, {where}: darker = more weight"
    )
    return ax.figure


def attention_grid(
    attentions,
    tokens: Sequence[str],
    layers: Sequence[int] | None = None,
    max_panels: int = 48,
    query_tokens: Sequence[str] | None = None,
):
    """Every head of the chosen layers, small multiples (rows = layers, columns = heads).
    What a front end without JavaScript shows in place of bertviz's views."""
    array = as_array(attentions)
    n_layers, n_heads = array.shape[:2]
    tokens = _check_tokens(tokens, array.shape[-1], "tokens")
    _check_tokens(tokens if query_tokens is None else query_tokens, array.shape[-2], "query tokens")
    layers = list(range(n_layers)) if layers is None else list(layers)
    layers = layers[: max(1, max_panels // n_heads)]
    size = 1.6 if len(tokens) > 12 else 1.3
    fig, axes = plt.subplots(
        len(layers),
        n_heads,
        figsize=(0.6 + size * n_heads, 0.5 + size * len(layers)),
        squeeze=False,
    )
    for row, layer in enumerate(layers):
        for head in range(n_heads):
            ax = axes[row][head]
            ax.imshow(array[layer, head], cmap="Blues", vmin=0.0, vmax=1.0, interpolation="nearest")
            ax.set_xticks([])
            ax.set_yticks([])
            if row == 0:
                ax.set_title(f"head {head}", fontsize=8)
            if head == 0:
                ax.set_ylabel(f"layer {layer}", fontsize=8)
    fig.suptitle(
        "Attention of every head (rows: queries, columns: keys; darker = more weight)", fontsize=9
    )
    fig.tight_layout()
    return fig


def _png(fig) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=80, bbox_inches="tight")
    plt.close(fig)
    return buffer.getvalue()


# ----------------------------------------------------------------------------- widgets
def attention_explorer(
    attentions,
    tokens: Sequence[str],
    layer: int = 0,
    head: int | str = 0,
    query_tokens: Sequence[str] | None = None,
):
    """A layer slider and a head picker (a head, or the mean of the heads) redrawing the heatmap.

    Returns the widget (display it, or leave it as a cell's last line). Without ipywidgets it shows
    the figure for ``layer``/``head`` and says so."""
    array = as_array(attentions)
    _pick(array, layer, head)  # bad layer/head: a clear error now, not inside a widget callback
    try:
        import ipywidgets as widgets
        from IPython.display import display
    except ImportError:
        print(
            "[course.viz] ipywidgets is not installed: showing one static heatmap (pip install "
            "ipywidgets)"
        )
        return attention_figure(attentions, tokens, layer, head, query_tokens)
    n_layers, n_heads = array.shape[:2]
    layer_picker = widgets.IntSlider(
        value=layer,
        min=0,
        max=n_layers - 1,
        description="layer",
        continuous_update=False,
        disabled=n_layers == 1,
    )
    head_picker = widgets.Dropdown(
        options=[(f"head {h}", h) for h in range(n_heads)] + [("mean of heads", MEAN)],
        value=head,
        description="head",
    )
    output = widgets.Output()

    def redraw(_change=None):
        with output:
            output.clear_output(wait=True)
            figure = attention_figure(
                attentions, tokens, layer_picker.value, head_picker.value, query_tokens
            )
            display(figure)
            plt.close(figure)

    layer_picker.observe(redraw, names="value")
    head_picker.observe(redraw, names="value")
    redraw()
    return widgets.VBox([widgets.HBox([layer_picker, head_picker]), output])


# ----------------------------------------------------------------------------- bertviz, offline
def _bertviz_front_end() -> str | None:
    """Why the interactive view cannot show here, or None when it can (a Jupyter kernel)."""
    try:
        import bertviz  # noqa: F401
    except ImportError:
        return "bertviz is not installed (pip install bertviz)"
    try:
        from IPython import get_ipython
    except ImportError:
        return "IPython is not installed"
    shell = get_ipython()
    if shell is None or not hasattr(shell, "kernel"):
        return "not running in a Jupyter kernel (no page to draw the interactive view on)"
    return None


def _to_torch(attentions):
    """bertviz takes torch tensors only; accept arrays too."""
    import torch

    return tuple(
        a if isinstance(a, torch.Tensor) else torch.as_tensor(np.asarray(a, dtype=np.float32))
        for a in attentions
    )


def _with_batch(attentions):
    return tuple(a if a.dim() == 4 else a.unsqueeze(0) for a in _to_torch(attentions))


class _Views:
    """The attention a view shows: self-attention (``attentions`` over ``tokens``) or an
    encoder-decoder's three kinds (encoder self-, decoder self- and cross-attention), checked and
    ready for bertviz."""

    def __init__(
        self,
        attentions=None,
        tokens=None,
        *,
        encoder_attention=None,
        decoder_attention=None,
        cross_attention=None,
        encoder_tokens=None,
        decoder_tokens=None,
    ):
        if attentions is not None:
            if tokens is None:
                raise ValueError("pass the tokens too: one string per position")
            self.kwargs = {"attention": _with_batch(attentions), "tokens": list(tokens)}
            self.panels = [("", attentions, tokens, tokens)]
        else:
            parts = [
                ("encoder", encoder_attention, encoder_tokens, encoder_tokens),
                ("decoder", decoder_attention, decoder_tokens, decoder_tokens),
                ("cross", cross_attention, decoder_tokens, encoder_tokens),
            ]
            self.panels = [p for p in parts if p[1] is not None]
            if not self.panels:
                raise ValueError(
                    "give attentions=... (self-attention) or encoder_attention/decoder_attention/"
                    "cross_attention=... (an encoder-decoder)"
                )
            self.kwargs = {f"{name}_attention": _with_batch(att) for name, att, _, _ in self.panels}
            for name, given in (
                ("encoder_tokens", encoder_tokens),
                ("decoder_tokens", decoder_tokens),
            ):
                if given is not None:
                    self.kwargs[name] = list(given)
        for name, att, queries, keys in self.panels:
            label = f"{name} attention" if name else "attention"
            if queries is None or keys is None:
                raise ValueError(f"{label} needs its tokens (encoder_tokens / decoder_tokens)")
            array = as_array(att)
            if name:
                _check_tokens(queries, array.shape[-2], f"query tokens for the {label}")
                _check_tokens(keys, array.shape[-1], f"key tokens for the {label}")
            else:  # self-attention: one list labels both axes
                _check_tokens(keys, array.shape[-1], "tokens")
        self.shape = as_array(self.panels[0][1]).shape

    def summary(self, kind: str) -> str:
        layers, heads = self.shape[:2]
        return (
            f"bertviz {kind}: {layers} layers x {heads} heads, {self.shape[-1]} tokens "
            "(needs a front end that runs JavaScript)"
        )

    def static_html(self, layers=None) -> str:
        """Matplotlib small multiples of every panel, for front ends that do not run JavaScript."""
        from course.viz.offline_js import image_tag

        images = []
        for name, att, queries, keys in self.panels:
            fig = attention_grid(att, keys, layers=layers, query_tokens=queries)
            if name:
                fig.suptitle(
                    f"{name} attention: rows are queries, columns keys; darker = more weight",
                    fontsize=9,
                )
            images.append(image_tag(_png(fig), f"{name or 'self'}-attention heatmaps"))
        return "".join(images) + (
            "<p><em>Static heatmaps: the interactive view needs JavaScript (in JupyterLab: "
            "trust the notebook and run the cell again).</em></p>"
        )


def head_view_html(
    attentions=None,
    tokens: Sequence[str] | None = None,
    layer: int | None = None,
    heads: Sequence[int] | None = None,
    fallback: bool = True,
    **encoder_decoder,
) -> str:
    """bertviz's head view as self-contained HTML that needs no network (for tests and HTML export).
    ``encoder_decoder``: ``encoder_attention``, ``decoder_attention``, ``cross_attention``,
    ``encoder_tokens``, ``decoder_tokens`` (bertviz's names) instead of
    ``attentions``/``tokens``."""
    from bertviz import head_view as bertviz_head_view

    from course.viz.offline_js import offline_html

    views = _Views(attentions, tokens, **encoder_decoder)
    raw = bertviz_head_view(
        **views.kwargs, layer=layer, heads=list(heads) if heads else None, html_action="return"
    ).data
    return offline_html(raw, views.static_html(layers=[layer or 0]) if fallback else "")


def model_view_html(
    attentions=None,
    tokens: Sequence[str] | None = None,
    fallback: bool = True,
    display_mode: str = "light",
    **encoder_decoder,
) -> str:
    """bertviz's model view (every layer x head) as self-contained HTML that needs no network."""
    from bertviz import model_view as bertviz_model_view

    from course.viz.offline_js import offline_html

    views = _Views(attentions, tokens, **encoder_decoder)
    # bertviz's own default is "dark"; "light" matches JupyterLab's default theme and the exported
    # HTML.
    raw = bertviz_model_view(**views.kwargs, display_mode=display_mode, html_action="return").data
    return offline_html(raw, views.static_html() if fallback else "")


def _show(html: str, summary: str) -> None:
    from IPython.display import display

    # text/plain is what a front end without HTML (a terminal, nbval's text diff) shows.
    display({"text/html": html, "text/plain": summary}, raw=True)


def _fallback(reason: str, views: _Views, layer: int, head) -> None:
    print(
        f"[course.viz] interactive bertviz view unavailable ({reason}); showing the matplotlib "
        "explorer instead"
    )
    name, att, queries, keys = views.panels[-1]  # for an encoder-decoder: the cross-attention
    explorer = attention_explorer(att, keys, layer=layer, head=head, query_tokens=queries)
    try:
        from IPython.display import display

        display(explorer)
    except ImportError:
        pass


def head_view(
    attentions=None,
    tokens: Sequence[str] | None = None,
    layer: int | None = None,
    heads: Sequence[int] | None = None,
    **encoder_decoder,
) -> None:
    """bertviz's head view (lines from each token to the tokens it attends to, one colour per head),
    drawn with no network. Falls back to ``attention_explorer`` where it cannot be drawn.

    >>> logits, attentions = gpt(idx, return_attention=True)
    >>> head_view(attentions, tokens)
    >>> head_view(encoder_attention=enc, decoder_attention=dec, cross_attention=cross,
    ...           encoder_tokens=source, decoder_tokens=target)"""
    views = _Views(attentions, tokens, **encoder_decoder)
    reason = _bertviz_front_end()
    if reason:
        return _fallback(reason, views, layer or 0, (heads or [0])[0])
    from course.viz.offline_js import UnsupportedBertvizHTML

    try:
        html = head_view_html(attentions, tokens, layer=layer, heads=heads, **encoder_decoder)
    except UnsupportedBertvizHTML as error:
        return _fallback(
            f"this bertviz version's output is not supported: {error}",
            views,
            layer or 0,
            (heads or [0])[0],
        )
    _show(html, views.summary("head view"))


def model_view(attentions=None, tokens: Sequence[str] | None = None, **encoder_decoder) -> None:
    """bertviz's model view (a thumbnail per layer and head; click one to enlarge), drawn with no
    network. Falls back to ``attention_explorer`` where it cannot be drawn."""
    views = _Views(attentions, tokens, **encoder_decoder)
    reason = _bertviz_front_end()
    if reason:
        return _fallback(reason, views, 0, 0)
    from course.viz.offline_js import UnsupportedBertvizHTML

    try:
        html = model_view_html(attentions, tokens, **encoder_decoder)
    except UnsupportedBertvizHTML as error:
        return _fallback(f"this bertviz version's output is not supported: {error}", views, 0, 0)
    _show(html, views.summary("model view"))
