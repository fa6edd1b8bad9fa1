"""Plots and widgets that read models' outputs (losses, logits, attention weights)."""
from course.viz.plots import heatmap, plot_losses, bar_probabilities

__all__ = ["heatmap", "plot_losses", "bar_probabilities"]
