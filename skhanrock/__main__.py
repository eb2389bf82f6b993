"""Command line: ``python -m skhanrock demo|experiment|stream`` (also installed as ``skhanrock``)."""

import sys

from ._commands import main

__all__ = ["main"]

if __name__ == "__main__":
    sys.exit(main())
