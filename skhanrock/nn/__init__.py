"""The networks, their estimators and the batching that makes them fast."""

from ._attention import AdditiveAttention, masked_softmax
from ._attention_output import TalkturnAttention
from ._auto_split import DevEarlyStopping
from ._averaging import WeightAveraging
from ._data import ChunkedBatchSampler, ConversationValidSplit, TalkturnBatch, TalkturnDataset
from ._encoding import TalkturnEncoding
from ._estimators import FrameValidSplit, HanRockClassifier, HanRockRegressor
from ._gru import MaskedBiGRU
from ._incremental import ConversationState
from ._loss import MultiTaskLoss
from ._module import HanModule
from ._pretrained import PretrainedWordEncoder
from ._target_kinds import ClassificationTarget, RegressionTarget
from ._task_losses import TaskLosses
from ._text import tokenize
from ._window_gru import WindowBiGRU

__all__ = [
    "AdditiveAttention",
    "ChunkedBatchSampler",
    "ClassificationTarget",
    "ConversationState",
    "ConversationValidSplit",
    "DevEarlyStopping",
    "FrameValidSplit",
    "HanModule",
    "HanRockClassifier",
    "HanRockRegressor",
    "MaskedBiGRU",
    "MultiTaskLoss",
    "PretrainedWordEncoder",
    "RegressionTarget",
    "TalkturnAttention",
    "TalkturnBatch",
    "TalkturnDataset",
    "TalkturnEncoding",
    "TaskLosses",
    "WeightAveraging",
    "WindowBiGRU",
    "masked_softmax",
    "tokenize",
]


def load(path):
    """Gone: :func:`skhanrock.load_model` loads an estimator or a pipeline."""
    # One of five ways to load a model before any release, and a name users may
    # have typed: it says what replaced it (not in __all__).
    raise TypeError("skhanrock.nn.load is gone: use skhanrock.load_model(path), which loads an "
                    "estimator or a pipeline.")
