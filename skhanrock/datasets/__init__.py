"""Built-in data and readers for conversation corpora and feature files."""

from ._synthetic import EMOTIONS, make_conversations

__all__ = ["EMOTIONS", "make_conversations"]
