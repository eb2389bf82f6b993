"""The paper's pipeline, built in one place for the demo, the experiments and the docs."""

from sklearn.pipeline import Pipeline

from .nn import HanRockClassifier, HanRockRegressor
from .preprocessing import AuxiliaryTargets, MonahTranscriber, MutualInfoLossWeights

__all__ = ["make_paper_pipeline"]

_ESTIMATORS = {"classification": HanRockClassifier, "regression": HanRockRegressor}


def make_paper_pipeline(families="aphf", *, target_type="classification", assignment="softmax",
                        conversation_column="conversation", turn_column="turn",
                        speaker_column="speaker", text_column="text", random_state=None,
                        **estimator_params):
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
    conversation_column, turn_column, speaker_column, text_column : str
        Column roles of the talkturn frame (defaults ``"conversation"``,
        ``"turn"``, ``"speaker"``, ``"text"``), given once and passed to every
        step that reads them. ``text_column`` is the transcript that
        :class:`~skhanrock.MonahTranscriber` narrates and the timing family
        counts words in; the estimator reads the narratives
        (``text_column="auto"``).
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
    >>> renamed = make_paper_pipeline("ap", conversation_column="dialogue")
    >>> sorted({p: v for p, v in renamed.get_params().items()
    ...         if p.endswith("__conversation_column")}.items())
    [('aux__conversation_column', 'dialogue'), ('han__conversation_column', 'dialogue'), \
('monah__conversation_column', 'dialogue'), ('weights__conversation_column', 'dialogue')]
    """
    if target_type not in _ESTIMATORS:
        raise ValueError(f"target_type must be 'classification' or 'regression', got "
                         f"{target_type!r}.")
    # Every step that reads a column role gets it from here: one place to rename a column.
    frame = {"conversation_column": conversation_column, "turn_column": turn_column}
    steps = [("monah", MonahTranscriber(**frame, speaker_column=speaker_column,
                                        text_column=text_column))]
    if families:
        steps += [("aux", AuxiliaryTargets(families=families, target_type=target_type,
                                           text_column=text_column, **frame)),
                  ("weights", MutualInfoLossWeights(assignment=assignment, target_type=target_type,
                                                    random_state=random_state, **frame))]
        # "pipeline" is the estimators' documented value for "take these from the
        # columns the steps above add" (a public value, as class_weight="balanced").
        handed_on = {"loss_weights": "pipeline", "label_offsets": "pipeline"}
    else:
        handed_on = {"label_offsets": ()}
    # The paper's network reads words through the HAN alone: the lexical path is
    # the package's addition, so it is off here unless estimator_params ask for it.
    estimator = _ESTIMATORS[target_type](**{**handed_on, "random_state": random_state,
                                            "lexical_ngrams": None, **estimator_params},
                                         **frame, speaker_column=speaker_column)
    return Pipeline([*steps, ("han", estimator)])
