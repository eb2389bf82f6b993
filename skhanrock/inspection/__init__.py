"""Attention explanations (word, talkturn, task), permutation importance and result figures."""

from ._explain import BUCKETS, attention_buckets, explain
from ._features import explain_features
from ._importance import permutation_importance
from ._plots import plot_attention, plot_bootstrap, plot_experiment, plot_learning_curves
from ._render import render_html
from ._wording import explain_wording

__all__ = ["BUCKETS", "attention_buckets", "explain", "explain_features", "explain_wording", "permutation_importance",
           "plot_attention", "plot_bootstrap", "plot_experiment", "plot_learning_curves",
           "render_html"]
