"""skhanrock: reusing preprocessing data as auxiliary supervision in conversational analysis."""

from ._version import __version__
from .nn import HanRockClassifier, HanRockRegressor

__all__ = ["HanRockClassifier", "HanRockRegressor", "__version__"]
