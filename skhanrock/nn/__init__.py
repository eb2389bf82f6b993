"""The networks, their estimators and the batching that makes them fast."""

from ._attention import AdditiveAttention, masked_softmax
from ._data import ChunkedBatchSampler, ConversationValidSplit, TalkturnBatch, TalkturnDataset
from ._estimators import FrameValidSplit, HanRockClassifier, HanRockRegressor
from ._gru import MaskedBiGRU
from ._loss import MultiTaskLoss
from ._module import HanModule
from ._window_gru import WindowBiGRU

__all__ = [
    "AdditiveAttention",
    "ChunkedBatchSampler",
    "ConversationValidSplit",
    "FrameValidSplit",
    "HanModule",
    "HanRockClassifier",
    "HanRockRegressor",
    "MaskedBiGRU",
    "MultiTaskLoss",
    "TalkturnBatch",
    "TalkturnDataset",
    "WindowBiGRU",
    "masked_softmax",
]
