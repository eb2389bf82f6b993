"""skhanrock: reusing preprocessing data as auxiliary supervision in conversational analysis."""

from ._pipeline import make_paper_pipeline
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
    "make_paper_pipeline",
]
