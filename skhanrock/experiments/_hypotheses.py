"""The paper's three hypotheses as named arms of one pipeline."""

from dataclasses import dataclass, field

from .. import make_paper_pipeline
from .._utils.validation import replaced_parameters

__all__ = ["HYPOTHESES", "Hypothesis", "hypothesis_pipeline", "arm_params"]

# The arm entry that picks the auxiliary target families (and so the pipeline's
# steps), named as make_paper_pipeline's argument and AuxiliaryTargets' parameter;
# every other entry is a pipeline parameter. It was briefly "aux_families": one
# thing, one name.
AUX_FAMILIES = "families"
_OLD_AUX_FAMILIES = "aux_families"


def _check_arm(name, settings):
    """Refuse the old ``"aux_families"`` key, naming its replacement.

    Left alone it would reach the pipeline as a parameter, whose error would
    not say that the key is now ``"families"``.
    """
    if _OLD_AUX_FAMILIES in settings:
        raise ValueError(f"Hypothesis arm {name!r}: the key {_OLD_AUX_FAMILIES!r} is now "
                         f"{AUX_FAMILIES!r} (the auxiliary target families); write "
                         f"{{{AUX_FAMILIES!r}: {settings[_OLD_AUX_FAMILIES]!r}}}.")


def arm_params(settings):
    """An arm's auxiliary families and its pipeline parameters, apart."""
    params = {key: value for key, value in settings.items() if key != AUX_FAMILIES}
    return settings.get(AUX_FAMILIES, ""), params


@dataclass(frozen=True)
class Hypothesis:
    """Named arms compared against a baseline arm.

    Each arm is ``{"families": <auxiliary target families>, <pipeline
    parameter>: value}``: the families (letters of ``"aphf"``, as
    :func:`~skhanrock.make_paper_pipeline` and
    :class:`~skhanrock.AuxiliaryTargets` take them; ``""`` or no entry for
    none) decide the pipeline's steps, the other entries are fixed parameters
    that the random search does not draw. The key ``"aux_families"`` is an
    error naming ``"families"``.

    Parameters
    ----------
    question : str
        What the hypothesis asks, for tables and figures.
    baseline : str
        Name of the arm the others are compared with; one of ``arms``.
    arms : dict
        Arm name -> settings, as above. The dicts given are not modified.

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

    def __post_init__(self):
        for name, settings in self.arms.items():
            _check_arm(name, settings)
        # frozen: a dict of its own, so later edits of the caller's dict do not reach it
        object.__setattr__(self, "arms", dict(self.arms))


_CAPACITIES = (1, 64, 128, 192, 256)

#: The paper's hypotheses. H1: do auxiliary targets help (none / ap / aphf)?
#: H2: how should capacity be split (P = primary units, A = 257 - P; the
#: baseline P = 256 leaves the auxiliary branch one unit)? H3: does the
#: auxiliary branch belong below the primary task (HAN-ROCK) rather than
#: beside it (flat MTL, the baseline)?
HYPOTHESES = {
    "H1": Hypothesis("auxiliary targets", "none",
                     {"none": {AUX_FAMILIES: ""}, "ap": {AUX_FAMILIES: "ap"},
                      "aphf": {AUX_FAMILIES: "aphf"}}),
    "H2": Hypothesis("capacity split", "P=256",
                     {f"P={p}": {AUX_FAMILIES: "aphf", "han__primary_units": p}
                      for p in _CAPACITIES}),
    "H3": Hypothesis("supervision hierarchy", "flat",
                     {"flat": {AUX_FAMILIES: "aphf", "han__architecture": "flat"},
                      "rock": {AUX_FAMILIES: "aphf", "han__architecture": "rock"}}),
}


@replaced_parameters(task="target_type")
def hypothesis_pipeline(families, target_type="classification", random_state=None):
    """The paper's pipeline for one set of auxiliary families.

    MONAH narratives, then (when ``families`` is not empty) auxiliary targets
    and mutual-information loss weights, then HAN-ROCK. Without families the
    network gets no history/future heads either: single-task learning.

    Parameters
    ----------
    families : str
        Letters of "aphf"; "" for no auxiliary target.
    target_type : {"classification", "regression"}, default="classification"
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
    return make_paper_pipeline(families, target_type=target_type, random_state=random_state)
