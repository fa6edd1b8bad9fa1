"""Matplotlib figures used across the lessons: loss curves, heatmaps, probability bars."""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np


def plot_losses(histories: dict, ax=None, title: str = "loss", val_only: bool = False):
    """One or more training runs on one set of axes. ``histories`` maps a label to a ``History``
    (or anything with step/train_loss/eval_step/val_loss lists)."""
    if not isinstance(histories, dict):
        histories = {"": histories}
    if ax is None:
        _, ax = plt.subplots(figsize=(6.4, 3.6))
    for index, (label, h) in enumerate(histories.items()):
        color = f"C{index}"
        if not val_only and h.train_loss:
            ax.plot(h.step, h.train_loss, color=color, alpha=0.35, label=f"{label} train".strip())
        if h.val_loss:
            ax.plot(
                h.eval_step,
                h.val_loss,
                "o-",
                color=color,
                markersize=3,
                label=f"{label} validation".strip(),
            )
    ax.set_xlabel("step")
    ax.set_ylabel("loss (nats/token)")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend()
    return ax


def heatmap(
    matrix,
    x_labels: Sequence[str] | None = None,
    y_labels: Sequence[str] | None = None,
    ax=None,
    title: str = "",
    cmap: str = "viridis",
    colorbar: bool = True,
    annotate: bool = False,
    vmin: float | None = None,
    vmax: float | None = None,
):
    """A labelled heatmap (attention weights, confusion matrices, bigram counts)."""
    values = np.asarray(
        matrix.detach().float().cpu() if hasattr(matrix, "detach") else matrix, dtype=float
    )
    if values.ndim != 2:
        raise ValueError(f"heatmap needs a 2-D matrix, got shape {values.shape}")
    if ax is None:
        width = min(12, 1.5 + 0.35 * values.shape[1])
        height = min(10, 1.0 + 0.35 * values.shape[0])
        _, ax = plt.subplots(figsize=(max(3.5, width), max(2.5, height)))
    image = ax.imshow(values, cmap=cmap, aspect="auto", vmin=vmin, vmax=vmax)
    if x_labels is not None:
        ax.set_xticks(range(len(x_labels)), labels=list(x_labels), rotation=90)
    if y_labels is not None:
        ax.set_yticks(range(len(y_labels)), labels=list(y_labels))
    if annotate:
        for (i, j), v in np.ndenumerate(values):
            ax.text(
                j,
                i,
                f"{v:.2g}",
                ha="center",
                va="center",
                fontsize=7,
                color="white" if v < (values.max() + values.min()) / 2 else "black",
            )
    if colorbar:
        ax.figure.colorbar(image, ax=ax, fraction=0.046, pad=0.04)
    ax.set_title(title)
    return ax


def bar_probabilities(
    labels: Sequence[str], probabilities: Sequence[float], ax=None, title: str = ""
):
    """Horizontal bars, most likely on top: next-token distributions and classifier outputs."""
    if ax is None:
        _, ax = plt.subplots(figsize=(5.5, 0.3 * len(labels) + 1))
    order = np.argsort(probabilities)
    ax.barh(
        [repr(labels[i])[1:-1] or " " for i in order], [probabilities[i] for i in order], color="C0"
    )
    ax.set_xlabel("probability")
    ax.set_xlim(0, 1)
    ax.set_title(title)
    return ax
