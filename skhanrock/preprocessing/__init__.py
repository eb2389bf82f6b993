"""From raw feature frames to MONAH narratives, auxiliary targets, their selection and loss weights."""

from .._utils.targets import is_classification_target
from ._auxiliary import (
    ACTION_TARGETS,
    OPEN_PROSODY_TARGETS,
    PROSODY_TARGETS,
    TIMING_TARGETS,
    AuxiliaryTargets,
)
from ._monah import (
    DEFAULT_ACTIONS,
    MEASUREMENT_MEANINGS,
    MonahNarrator,
    MonahTranscriber,
    hundreds_in_words,
)
from ._selection import AuxiliaryTaskSelector
from ._weighting import MutualInfoLossWeights

__all__ = [
    "ACTION_TARGETS",
    "DEFAULT_ACTIONS",
    "MEASUREMENT_MEANINGS",
    "OPEN_PROSODY_TARGETS",
    "PROSODY_TARGETS",
    "TIMING_TARGETS",
    "AuxiliaryTargets",
    "AuxiliaryTaskSelector",
    "MonahNarrator",
    "MonahTranscriber",
    "MutualInfoLossWeights",
    "hundreds_in_words",
    "is_classification_target",
]
