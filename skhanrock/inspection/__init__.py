"""Explanations of fitted models for human analysts: attention at word, talkturn and task level."""

from ._explain import BUCKETS, attention_buckets, explain

__all__ = ["BUCKETS", "attention_buckets", "explain"]
