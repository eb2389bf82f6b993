"""Checks of command-line options, at argparse level: a one-line message and exit status 2."""

import argparse

__all__ = ["integer_at_least"]


def integer_at_least(low):
    """An argparse ``type`` that accepts integers of at least ``low``.

    argparse turns its ``ArgumentTypeError`` into ``error: argument --runs:
    ...`` and exit status 2, before any work starts.

    Examples
    --------
    >>> integer_at_least(1)("3")
    3
    >>> integer_at_least(1)("0")
    Traceback (most recent call last):
    argparse.ArgumentTypeError: must be an integer >= 1, got '0'
    """
    def integer(text):
        try:
            value = int(text)
        except ValueError:
            value = None
        if value is None or value < low:
            raise argparse.ArgumentTypeError(f"must be an integer >= {low}, got {text!r}")
        return value

    return integer
