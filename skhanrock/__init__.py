"""skhanrock: reusing preprocessing data as auxiliary supervision in conversational analysis."""

from ._version import __version__
from .nn import HanRockClassifier, HanRockRegressor
from .preprocessing import AuxiliaryTargets, MonahTranscriber, MutualInfoLossWeights

__all__ = [
    "AuxiliaryTargets",
    "HanRockClassifier",
    "HanRockRegressor",
    "MonahTranscriber",
    "MutualInfoLossWeights",
    "__version__",
]
