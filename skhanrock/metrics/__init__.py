"""The paper's metrics and bootstrap comparisons."""

from ._bootstrap import (
    BootstrapComparison,
    BootstrapInterval,
    best_trial,
    bootstrap_ci,
    bootstrap_compare,
    bootstrap_search_compare,
)
from ._scores import (
    METRICS,
    Metric,
    classwise_f1,
    classwise_f1_scorers,
    get_scorer,
    labelled_rows,
    paper_scorers,
    score,
)

__all__ = [
    "METRICS",
    "BootstrapComparison",
    "BootstrapInterval",
    "Metric",
    "best_trial",
    "bootstrap_ci",
    "bootstrap_compare",
    "bootstrap_search_compare",
    "classwise_f1",
    "classwise_f1_scorers",
    "get_scorer",
    "labelled_rows",
    "paper_scorers",
    "score",
]
