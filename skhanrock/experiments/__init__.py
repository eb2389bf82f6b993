"""The paper's experiments: H1 (auxiliary targets), H2 (capacity split), H3 (hierarchy)."""

from ._hypotheses import HYPOTHESES, Hypothesis, hypothesis_pipeline
from ._run import Experiment, run_experiment
from ._tables import experiment_table, markdown_table, paper_table

__all__ = [
    "HYPOTHESES",
    "Experiment",
    "Hypothesis",
    "experiment_table",
    "hypothesis_pipeline",
    "markdown_table",
    "paper_table",
    "run_experiment",
]
