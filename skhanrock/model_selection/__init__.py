"""Speaker-disjoint splits and the paper's random-search space."""

from ._median_stopping import MedianStopping, SQLiteCurveStore
from ._search_space import ZeroOrLogUniform, check_search_space, paper_search_space
from ._splits import SpeakerGroupKFold, speaker_groups

__all__ = [
    "MedianStopping",
    "SQLiteCurveStore",
    "SpeakerGroupKFold",
    "ZeroOrLogUniform",
    "check_search_space",
    "paper_search_space",
    "speaker_groups",
]
