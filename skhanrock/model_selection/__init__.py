"""Speaker-disjoint splits, predefined partitions and the paper's random-search space."""

from ._median_stopping import MedianStopping, SQLiteCurveStore, check_curve_store
from ._optuna import MedianStoppingPruner, OptunaCurveStore, study_curves
from ._partition import (
    IEMOCAP_PARTITIONS,
    SEMAINE_PARTITIONS,
    PartitionSplit,
    train_dev_test_partition,
)
from ._search_space import ZeroOrLogUniform, check_search_space, paper_search_space
from ._splits import SpeakerGroupKFold, check_split_classes, speaker_groups

__all__ = [
    "IEMOCAP_PARTITIONS",
    "MedianStopping",
    "MedianStoppingPruner",
    "OptunaCurveStore",
    "PartitionSplit",
    "SEMAINE_PARTITIONS",
    "SQLiteCurveStore",
    "SpeakerGroupKFold",
    "ZeroOrLogUniform",
    "check_curve_store",
    "check_search_space",
    "check_split_classes",
    "paper_search_space",
    "speaker_groups",
    "study_curves",
    "train_dev_test_partition",
]
