"""The paper's pipeline, built in one place for the demo, the experiments and the docs."""

from sklearn.pipeline import Pipeline

from .nn import HanRockClassifier, HanRockRegressor
from .preprocessing import AuxiliaryTargets, MonahTranscriber, MutualInfoLossWeights

__all__ = ["make_paper_pipeline"]

_ESTIMATORS = {"classification": HanRockClassifier, "regression": HanRockRegressor}


def make_paper_pipeline(families="aphf", *, target_type="classification", assignment="softmax",
                        random_state=None, **estimator_params):
    """MONAH narratives, auxiliary targets, mutual-information loss weights, then HAN-ROCK.

    With ``families`` the estimator is told to take its loss weights and
    history/future offsets from the pipeline (``loss_weights="pipeline"``,
    ``label_offsets="pipeline"``): a step that rebuilt the frame between the
    weighting step and the estimator and lost what it handed on is then an
    error, never a silent default. Without families the network learns the
    primary task alone (no auxiliary or history/future heads). The network is
    the paper's: it reads the words through the HAN alone, without the
    estimator's lexical path (``lexical_ngrams=None``), unless
    ``estimator_params`` ask for one.

    Parameters
    ----------
    families : str, default="aphf"
        Letters of the auxiliary target families (see
        :class:`~skhanrock.AuxiliaryTargets`); "" for single-task learning.
    target_type : {"classification", "regression"}, default="classification"
        What the primary target is: :class:`~skhanrock.HanRockClassifier` or
        :class:`~skhanrock.HanRockRegressor`, and the transformers are told
        the target type instead of guessing it from ``y``.
    assignment : {"softmax", "linear", "random"}, default="softmax"
        How :class:`~skhanrock.MutualInfoLossWeights` turns information into weights.
    random_state : int or None, default=None
        Seed of the weighting step and of the estimator.
    **estimator_params
        Parameters of the estimator (``context_size``, ``max_epochs``, ...).

    Returns
    -------
    Pipeline
        Steps ``monah``, then ``aux`` and ``weights`` when ``families`` is
        not empty, then ``han``.

    Examples
    --------
    >>> from skhanrock import make_paper_pipeline
    >>> pipe = make_paper_pipeline("ap", context_size=8, max_epochs=5)
    >>> [name for name, _ in pipe.steps]
    ['monah', 'aux', 'weights', 'han']
    >>> pipe.named_steps["han"].loss_weights
    'pipeline'
    >>> print(pipe.named_steps["han"].lexical_ngrams)
    None
    >>> [name for name, _ in make_paper_pipeline("").steps]
    ['monah', 'han']
    """
    if target_type not in _ESTIMATORS:
        raise ValueError(f"target_type must be 'classification' or 'regression', got "
                         f"{target_type!r}.")
    steps = [("monah", MonahTranscriber())]
    if families:
        steps += [("aux", AuxiliaryTargets(families=families, target_type=target_type)),
                  ("weights", MutualInfoLossWeights(assignment=assignment, target_type=target_type,
                                                    random_state=random_state))]
        # "pipeline" is the estimators' documented value for "take these from the
        # columns the steps above add" (a public value, as class_weight="balanced").
        handed_on = {"loss_weights": "pipeline", "label_offsets": "pipeline"}
    else:
        handed_on = {"label_offsets": ()}
    # The paper's network reads words through the HAN alone: the lexical path is
    # the package's addition, so it is off here unless estimator_params ask for it.
    estimator = _ESTIMATORS[target_type](**{**handed_on, "random_state": random_state,
                                            "lexical_ngrams": None, **estimator_params})
    return Pipeline([*steps, ("han", estimator)])
