"""Explanations of fitted models for human analysts: attention at word, talkturn and task level."""

from ._explain import BUCKETS, attention_buckets, explain
from ._render import plot_attention, render_html

__all__ = ["BUCKETS", "attention_buckets", "explain", "plot_attention", "render_html"]
