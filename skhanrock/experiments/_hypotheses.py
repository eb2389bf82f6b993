"""The paper's three hypotheses as named arms of one pipeline."""

from dataclasses import dataclass, field

from .. import make_paper_pipeline

__all__ = ["HYPOTHESES", "Hypothesis", "hypothesis_pipeline"]


@dataclass(frozen=True)
class Hypothesis:
    """Named arms compared against a baseline arm.

    Each arm is ``{"families": <auxiliary families>, <pipeline parameter>: value}``:
    the families decide the pipeline's steps, the other entries are fixed
    parameters that the random search does not draw.

    Parameters
    ----------
    question : str
        What the hypothesis asks, for tables and figures.
    baseline : str
        Name of the arm the others are compared with; one of ``arms``.
    arms : dict
        Arm name -> settings, as above.

    Examples
    --------
    >>> from skhanrock.experiments import HYPOTHESES, Hypothesis
    >>> HYPOTHESES["H3"].baseline, list(HYPOTHESES["H3"].arms)
    ('flat', ['flat', 'rock'])
    >>> dropout = Hypothesis("GRU dropout", "low",
    ...                      {"low": {"families": "ap", "han__gru_dropout": 0.05},
    ...                       "high": {"families": "ap", "han__gru_dropout": 0.4}})
    >>> dropout.arms["high"]["han__gru_dropout"]
    0.4
    """

    question: str
    baseline: str
    arms: dict = field(default_factory=dict)


_CAPACITIES = (1, 64, 128, 192, 256)

#: The paper's hypotheses. H1: do auxiliary targets help (none / ap / aphf)?
#: H2: how should capacity be split (P = primary units, A = 257 - P; the
#: baseline P = 256 leaves the auxiliary branch one unit)? H3: does the
#: auxiliary branch belong below the primary task (HAN-ROCK) rather than
#: beside it (flat MTL, the baseline)?
HYPOTHESES = {
    "H1": Hypothesis("auxiliary targets", "none",
                     {"none": {"families": ""}, "ap": {"families": "ap"},
                      "aphf": {"families": "aphf"}}),
    "H2": Hypothesis("capacity split", "P=256",
                     {f"P={p}": {"families": "aphf", "han__primary_units": p}
                      for p in _CAPACITIES}),
    "H3": Hypothesis("supervision hierarchy", "flat",
                     {"flat": {"families": "aphf", "han__architecture": "flat"},
                      "rock": {"families": "aphf", "han__architecture": "rock"}}),
}


def hypothesis_pipeline(families, task="classification", random_state=None):
    """The paper's pipeline for one set of auxiliary families.

    MONAH narratives, then (when ``families`` is not empty) auxiliary targets
    and mutual-information loss weights, then HAN-ROCK. Without families the
    network gets no history/future heads either: single-task learning.

    Parameters
    ----------
    families : str
        Letters of "aphf"; "" for no auxiliary target.
    task : {"classification", "regression"}
    random_state : int or None

    Returns
    -------
    Pipeline

    Examples
    --------
    >>> from skhanrock.experiments import hypothesis_pipeline
    >>> [name for name, _ in hypothesis_pipeline("ap").steps]
    ['monah', 'aux', 'weights', 'han']
    >>> [name for name, _ in hypothesis_pipeline("").steps]
    ['monah', 'han']
    """
    return make_paper_pipeline(families, task=task, random_state=random_state)
