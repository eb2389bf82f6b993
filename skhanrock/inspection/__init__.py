"""Attention explanations for human analysts (word, talkturn, task) and result figures."""

from ._explain import BUCKETS, attention_buckets, explain
from ._plots import plot_bootstrap, plot_experiment, plot_learning_curves
from ._render import plot_attention, render_html

__all__ = ["BUCKETS", "attention_buckets", "explain", "plot_attention", "plot_bootstrap",
           "plot_experiment", "plot_learning_curves", "render_html"]
