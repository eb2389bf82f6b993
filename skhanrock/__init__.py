"""skhanrock: reusing preprocessing data as auxiliary supervision in conversational analysis."""

from ._pipeline import make_paper_pipeline
from ._saving import load_model, save_model
from ._stream import ConversationStream
from ._version import __version__
from .nn import HanRockClassifier, HanRockRegressor
from .preprocessing import AuxiliaryTargets, MonahTranscriber, MutualInfoLossWeights

__all__ = [
    "AuxiliaryTargets",
    "ConversationStream",
    "HanRockClassifier",
    "HanRockRegressor",
    "MonahTranscriber",
    "MutualInfoLossWeights",
    "__version__",
    "load_model",
    "make_paper_pipeline",
    "save_model",
]
