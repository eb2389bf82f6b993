"""The paper's metrics, skipping unlabelled talkturns, and their scorers."""

import copy
import warnings
from collections.abc import Callable
from typing import NamedTuple

import numpy as np
import pandas as pd
from sklearn.metrics import (
    accuracy_score,
    balanced_accuracy_score,
    f1_score,
    mean_absolute_error,
)
from sklearn.metrics import get_scorer as sklearn_get_scorer
from sklearn.metrics._scorer import _Scorer
from sklearn.utils.multiclass import unique_labels

from .._utils.validation import replaced_parameters

__all__ = ["METRICS", "Metric", "classwise_f1", "classwise_f1_scorers", "get_scorer",
           "labelled_rows", "paper_scorers", "score", "finite_floats"]


def labelled_rows(y_true, *y_preds):
    """Drop the rows whose true label is missing (unlabelled talkturns).

    Parameters
    ----------
    y_true : array-like
        True labels; None or NaN marks an unlabelled row.
    *y_preds : array-like
        Predictions, one value per row of ``y_true``.

    Returns
    -------
    tuple of ndarray
        ``y_true`` and each prediction on the labelled rows, as object arrays.

    Raises
    ------
    ValueError
        When a prediction has another length than ``y_true``, misses a value
        on a labelled row, or no row is labelled.

    Examples
    --------
    >>> labelled_rows(["a", None, "b"], ["a", "b", "a"])
    (array(['a', 'b'], dtype=object), array(['a', 'a'], dtype=object))
    """
    y_true = np.asarray(y_true, dtype=object).ravel()
    keep = _labelled_mask(y_true)
    arrays = [np.asarray(p, dtype=object).ravel() for p in y_preds]
    for number, predicted in enumerate(arrays, start=1):
        _check_predicted(keep, predicted, number)
    return (y_true[keep], *(p[keep] for p in arrays))


def _labelled_mask(y_true):
    """True on the rows of 1-d ``y_true`` whose label is there; refuses all-missing."""
    keep = pd.notna(pd.Series(y_true, dtype=object)).to_numpy()
    if not keep.any():
        raise ValueError("No labelled row: every true label is missing.")
    return keep


def _check_predicted(keep, predicted, number):
    """Refuse a 1-d prediction of another length or missing on a labelled row."""
    if len(predicted) != len(keep):
        raise ValueError(f"y_true has {len(keep)} values but a prediction has "
                         f"{len(predicted)}.")
    # A missing prediction would count as a miss, or make MAE NaN, without a word.
    missing = np.flatnonzero(keep & pd.isna(pd.Series(predicted, dtype=object)).to_numpy())
    if len(missing):
        raise ValueError(f"Prediction {number} is missing (None or NaN) at row {missing[0]}, "
                         "a labelled row; every labelled row needs a prediction.")


def finite_floats(*arrays):
    """Regression values as float64 arrays, refusing infinities (MAE would be inf)."""
    values = [np.asarray(a, dtype=float) for a in arrays]
    for name, array in zip(("y_true", "y_pred"), values, strict=False):
        bad = np.flatnonzero(~np.isfinite(array))
        if len(bad):
            raise ValueError(f"{name} is {array[bad[0]]} at labelled row {bad[0]}; MAE needs "
                             "finite values.")
    return values


def _mae(y_true, y_pred, sample_weight=None):
    return mean_absolute_error(*finite_floats(y_true, y_pred), sample_weight=sample_weight)


class Metric(NamedTuple):
    """One of the paper's metrics: its function and which way is better.

    The values of :data:`METRICS`. A named tuple, so ``metric.function`` and
    ``metric.greater_is_better`` read what they are, while ``metric[0]``,
    ``metric[1]`` and ``function, greater_is_better = metric`` keep working.

    Parameters
    ----------
    function : callable
        ``function(y_true, y_pred, sample_weight=None)`` on labelled rows
        (object arrays, as :func:`labelled_rows` returns them).
    greater_is_better : bool
        Whether a greater value is better (True for accuracy and F1, False
        for MAE), as in :func:`sklearn.metrics.make_scorer`.

    Examples
    --------
    >>> from skhanrock.metrics import METRICS, Metric
    >>> METRICS["mae"].greater_is_better
    False
    >>> isinstance(METRICS["accuracy"], Metric), METRICS["accuracy"][1]
    (True, True)
    """

    function: Callable
    greater_is_better: bool


#: Metric name to :class:`Metric` (the function of labelled ``y_true``,
#: ``y_pred`` and an optional ``sample_weight``, and ``greater_is_better``).
METRICS = {
    "accuracy": Metric(lambda t, p, sample_weight=None: accuracy_score(
        t.tolist(), p.tolist(), sample_weight=sample_weight), True),
    "balanced_accuracy": Metric(lambda t, p, sample_weight=None: balanced_accuracy_score(
        t.tolist(), p.tolist(), sample_weight=sample_weight), True),
    "macro_f1": Metric(lambda t, p, sample_weight=None: f1_score(
        t.tolist(), p.tolist(), average="macro", sample_weight=sample_weight), True),
    "weighted_f1": Metric(lambda t, p, sample_weight=None: f1_score(
        t.tolist(), p.tolist(), average="weighted", sample_weight=sample_weight), True),
    "mae": Metric(_mae, False),
}


def score(y_true, y_pred, metric):
    """One of :data:`METRICS` on the labelled rows.

    Parameters
    ----------
    y_true : array-like
        True labels or values; missing ones mark unlabelled rows, which are skipped.
    y_pred : array-like
        Predictions, one per row.
    metric : str
        A name of :data:`METRICS`.

    Returns
    -------
    float

    Examples
    --------
    >>> score([1.0, None, 3.0], [2.0, 9.0, 3.0], "mae")
    0.5
    >>> score(["a", "a", "b"], ["a", "c", "b"], "macro_f1")  # over classes a, b and c
    0.5555555555555555
    """
    if metric not in METRICS:
        raise ValueError(f"metric must be one of {sorted(METRICS)}, got {metric!r}.")
    return float(METRICS[metric].function(*labelled_rows(y_true, y_pred)))


def classwise_f1(y_true, y_pred):
    """F1 of each class on the labelled rows, as a Series indexed by class.

    The classes are those of ``y_true`` and ``y_pred`` together, as in
    scikit-learn's ``f1_score(average=None)``: a class that is only ever
    predicted has F1 zero.

    Parameters
    ----------
    y_true : array-like
        True labels; missing ones mark unlabelled rows, which are skipped.
    y_pred : array-like
        Predicted labels, one per row.

    Returns
    -------
    Series
        F1 per class, named "f1".

    Examples
    --------
    >>> classwise_f1(["a", "a", "b"], ["a", "b", "b"]).round(3).to_dict()
    {'a': 0.667, 'b': 0.667}
    """
    y_true, y_pred = labelled_rows(y_true, y_pred)
    classes = unique_labels(y_true.tolist(), y_pred.tolist())
    values = f1_score(y_true.tolist(), y_pred.tolist(), labels=classes, average=None,
                      zero_division=0)
    return pd.Series(values, index=classes, name="f1")


def _as_labels(values):
    """Labelled values in their own dtype.

    A 1-d object array of numbers is an "unknown" target to scikit-learn's
    metrics, so numbers get a numeric dtype back; strings stay as they are.
    """
    values = np.asarray(values)
    if values.ndim == 1 and values.dtype == object:
        return pd.Series(values, dtype=object).infer_objects().to_numpy()
    return values


def _one_per_row(values, keep, name):
    """``values`` as an array, after checking it has one entry (row) per row of y."""
    values = np.asarray(values)
    if values.ndim == 0 or len(values) != len(keep):
        length = "a scalar" if values.ndim == 0 else f"{len(values)} rows"
        raise ValueError(f"y has {len(keep)} rows but {name} has {length}; the scorer needs "
                         "one per row of X.")
    return values


# _Scorer is private, but it is the class that sklearn's searches, cross_validate and
# multi-metric response caching treat as a scorer (they call its ``_score``); subclassing it
# keeps the cache, ``set_score_request`` and metadata routing as for sklearn's own scorers.
class _LabelledScorer(_Scorer):
    """A scikit-learn scorer that scores the labelled rows only.

    The response (``predict``, ``predict_proba`` or ``decision_function``) is
    computed on every row of ``X``, because a conversation model reads the
    unlabelled talkturns as context of the labelled ones; then ``y``, the
    response and ``sample_weight`` are restricted to the labelled rows.
    """

    def _score(self, method_caller, estimator, X, y_true, **kwargs):
        y_true = np.asarray(y_true, dtype=object)
        if y_true.ndim != 1:
            raise ValueError(f"y must hold one label per row (1-d), got shape {y_true.shape}.")
        keep = _labelled_mask(y_true)

        def labelled_response(estimator, response_method, *args, **kw):
            # method_caller may cache the full response for the other scorers of a dict.
            response = _one_per_row(method_caller(estimator, response_method, *args, **kw),
                                    keep, f"the output of {response_method}")
            if response.ndim == 1:
                _check_predicted(keep, response, 1)
            return _as_labels(response[keep])

        if kwargs.get("sample_weight") is not None:
            kwargs["sample_weight"] = _one_per_row(kwargs["sample_weight"], keep,
                                                   "sample_weight")[keep].astype(float)
        return super()._score(labelled_response, estimator, X, _as_labels(y_true[keep]),
                              **kwargs)

    def __repr__(self):
        return f"labelled_rows_only({super().__repr__()})"


def _labelled_copy(scorer):
    """``scorer`` (a make_scorer one) scoring labelled rows only, with its score requests."""
    labelled = _LabelledScorer(scorer._score_func, scorer._sign, dict(scorer._kwargs),
                               scorer._response_method)
    if hasattr(scorer, "_metadata_request"):  # set by set_score_request
        labelled._metadata_request = copy.deepcopy(scorer._metadata_request)
    return labelled


def get_scorer(scoring):
    """A scikit-learn scorer, by name, that scores the labelled rows only.

    scikit-learn's own ``scoring="f1_weighted"`` (or ``"accuracy"``,
    ``"neg_mean_absolute_error"``, ...) compares the missing labels of
    unlabelled talkturns with predictions and fails, so ``cross_validate``
    and the searches report NaN. The scorer returned here predicts on every
    row of ``X`` (unlabelled talkturns are context of the labelled ones),
    then scores the labelled rows only; ``sample_weight`` is restricted to
    the same rows. On fully labelled data it gives sklearn's score.

    Parameters
    ----------
    scoring : str or callable
        A name of :func:`sklearn.metrics.get_scorer_names` (predict,
        ``predict_proba``/``decision_function`` and regression scorers alike),
        or a scorer made by :func:`sklearn.metrics.make_scorer`, which gets
        the same treatment; any other callable ``scorer(estimator, X, y)`` is
        returned as is. For several metrics, give ``scoring=`` a dict:
        ``{name: get_scorer(name) for name in names}``.

    Returns
    -------
    callable
        A scorer for ``scoring=``, with ``set_score_request`` for metadata
        routing like scikit-learn's own.

    Raises
    ------
    ValueError
        For an unknown name (scikit-learn's error).
    TypeError
        When ``scoring`` is neither a name nor a callable.

    Examples
    --------
    >>> from sklearn.dummy import DummyClassifier
    >>> X, y = [[0]] * 4, ["a", "a", "b", None]  # the last talkturn is unlabelled
    >>> clf = DummyClassifier(strategy="prior").fit(X[:3], y[:3])
    >>> round(get_scorer("accuracy")(clf, X, y), 3)
    0.667
    >>> round(get_scorer("neg_log_loss")(clf, X, y), 3)
    -0.637
    """
    if isinstance(scoring, str):
        return _labelled_copy(sklearn_get_scorer(scoring))
    if type(scoring) is _Scorer:  # a make_scorer scorer, not a subclass with its own _score
        return _labelled_copy(scoring)
    if callable(scoring):
        return scoring
    raise TypeError(
        f"scoring must be a scorer name (sklearn.metrics.get_scorer_names()) or a callable "
        f"scorer, got {scoring!r}. For several metrics use a dict {{name: get_scorer(name)}}; "
        "scoring=None already uses the estimator's score, which skips unlabelled rows.")


def _labelled_scorer(function, name, greater_is_better):
    # Skips unlabelled rows itself too, so that the bare function is the paper's metric.
    def labelled_metric(y_true, y_pred, sample_weight=None):
        if sample_weight is not None:
            keep = _labelled_mask(np.asarray(y_true, dtype=object).ravel())
            sample_weight = _one_per_row(sample_weight, keep,
                                         "sample_weight")[keep].astype(float)
        return function(*labelled_rows(y_true, y_pred), sample_weight=sample_weight)
    labelled_metric.__name__ = name
    return _LabelledScorer(labelled_metric, 1 if greater_is_better else -1, {}, "predict")


def _class_f1(label):
    """F1 of one class (zero when the class is neither true nor predicted)."""
    def f1_of_class(y_true, y_pred, sample_weight=None):
        seen = unique_labels(y_true.tolist(), y_pred.tolist())
        if label not in seen:
            # Most often a misspelt class ("ang" for "angry"), which would read as a bad model.
            warnings.warn(f"f1_class:{label}: {label!r} is neither a true nor a predicted label "
                          f"here, so its F1 is 0; the labels here are {seen.tolist()}.",
                          UserWarning, stacklevel=2)
        return float(f1_score(y_true.tolist(), y_pred.tolist(), labels=[label], average=None,
                              zero_division=0, sample_weight=sample_weight)[0])
    return f1_of_class


def classwise_f1_scorers(labels):
    """One scorer per class, for ``scoring=``: the F1 of that class on the labelled rows.

    scikit-learn's ``scoring=`` takes a dict of scorers, so a search or
    ``cross_validate`` reports each class's F1 under ``"f1_class:<label>"``
    (``cv_results_["mean_test_f1_class:ang"]``).

    Parameters
    ----------
    labels : array-like
        The classes to score, e.g. ``np.unique(y.dropna())``.

    Returns
    -------
    dict
        ``"f1_class:<label>"`` -> scorer.

    Examples
    --------
    >>> from sklearn.dummy import DummyClassifier
    >>> X, y = [[0]] * 4, ["ang", "ang", "ang", "sad"]
    >>> scorers = classwise_f1_scorers(["ang", "sad"])
    >>> clf = DummyClassifier().fit(X, y)
    >>> {name: round(s(clf, X, y), 3) for name, s in scorers.items()}
    {'f1_class:ang': 0.857, 'f1_class:sad': 0.0}
    """
    labels = list(np.asarray(labels, dtype=object).ravel())
    if not labels:
        raise ValueError("labels must name at least one class.")
    return {f"f1_class:{label}": _labelled_scorer(_class_f1(label), f"f1_class:{label}", True)
            for label in labels}


@replaced_parameters(task="target_type")
def paper_scorers(target_type="classification", labels=None):
    """The paper's metrics as scorers for ``scoring=`` (unlabelled rows skipped).

    Parameters
    ----------
    target_type : {"classification", "regression"}, default="classification"
        The kind of ``y`` scored.
    labels : array-like or None, default=None
        Classification only: also score the F1 of each of these classes
        (:func:`classwise_f1_scorers`).

    Returns
    -------
    dict
        Classification: accuracy, balanced accuracy, macro and weighted F1
        (and ``"f1_class:<label>"`` per class of ``labels``); regression: MAE
        (negated, as scikit-learn maximises scores).

    Examples
    --------
    >>> sorted(paper_scorers("classification"))
    ['accuracy', 'balanced_accuracy', 'macro_f1', 'weighted_f1']
    >>> sorted(paper_scorers("classification", labels=["ang", "sad"]))[:2]
    ['accuracy', 'balanced_accuracy']
    >>> sorted(paper_scorers("classification", labels=["ang", "sad"]))[2:4]
    ['f1_class:ang', 'f1_class:sad']
    """
    if target_type not in ("classification", "regression"):
        raise ValueError(f"target_type must be 'classification' or 'regression', got "
                         f"{target_type!r}.")
    if labels is not None and target_type == "regression":
        raise ValueError("labels (class-wise F1) only applies to "
                         "target_type='classification'.")
    names = ["mae"] if target_type == "regression" else [m for m in METRICS if m != "mae"]
    scorers = {name: _labelled_scorer(METRICS[name].function, name,
                                      METRICS[name].greater_is_better) for name in names}
    return scorers if labels is None else {**scorers, **classwise_f1_scorers(labels)}
