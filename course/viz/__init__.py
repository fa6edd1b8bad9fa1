"""Plots and widgets that read models' outputs (losses, logits, attention weights)."""

from course.viz.plots import bar_probabilities, heatmap, plot_losses

__all__ = ["heatmap", "plot_losses", "bar_probabilities"]
