"""From raw feature frames to MONAH narratives, auxiliary targets and loss weights."""

from .._targets import is_classification_target
from ._auxiliary import ACTION_TARGETS, PROSODY_TARGETS, AuxiliaryTargets
from ._monah import DEFAULT_ACTIONS, MonahTranscriber, hundreds_in_words
from ._weighting import MutualInfoLossWeights

__all__ = [
    "ACTION_TARGETS",
    "DEFAULT_ACTIONS",
    "PROSODY_TARGETS",
    "AuxiliaryTargets",
    "MonahTranscriber",
    "MutualInfoLossWeights",
    "hundreds_in_words",
    "is_classification_target",
]
