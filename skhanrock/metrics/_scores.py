"""The paper's metrics, skipping unlabelled talkturns, and their scorers."""

import warnings

import numpy as np
import pandas as pd
from sklearn.metrics import (
    accuracy_score,
    balanced_accuracy_score,
    f1_score,
    make_scorer,
    mean_absolute_error,
)
from sklearn.utils.multiclass import unique_labels

__all__ = ["METRICS", "classwise_f1", "classwise_f1_scorers", "labelled_rows", "paper_scorers",
           "score"]


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
    keep = pd.notna(pd.Series(y_true)).to_numpy()
    arrays = [np.asarray(p, dtype=object).ravel() for p in y_preds]
    for predicted in arrays:
        if len(predicted) != len(y_true):
            raise ValueError(f"y_true has {len(y_true)} values but a prediction has "
                             f"{len(predicted)}.")
    if not keep.any():
        raise ValueError("No labelled row: every true label is missing.")
    for number, predicted in enumerate(arrays, start=1):
        # A missing prediction would count as a miss, or make MAE NaN, without a word.
        missing = np.flatnonzero(keep & pd.isna(pd.Series(predicted)).to_numpy())
        if len(missing):
            raise ValueError(f"Prediction {number} is missing (None or NaN) at row {missing[0]}, "
                             "a labelled row; every labelled row needs a prediction.")
    return (y_true[keep], *(p[keep] for p in arrays))


def finite_floats(*arrays):
    """Regression values as float64 arrays, refusing infinities (MAE would be inf)."""
    values = [np.asarray(a, dtype=float) for a in arrays]
    for name, array in zip(("y_true", "y_pred"), values, strict=False):
        bad = np.flatnonzero(~np.isfinite(array))
        if len(bad):
            raise ValueError(f"{name} is {array[bad[0]]} at labelled row {bad[0]}; MAE needs "
                             "finite values.")
    return values


#: Metric name to (function of labelled y_true, y_pred; higher is better).
METRICS = {
    "accuracy": (lambda t, p: accuracy_score(t.tolist(), p.tolist()), True),
    "balanced_accuracy": (lambda t, p: balanced_accuracy_score(t.tolist(), p.tolist()), True),
    "macro_f1": (lambda t, p: f1_score(t.tolist(), p.tolist(), average="macro"), True),
    "weighted_f1": (lambda t, p: f1_score(t.tolist(), p.tolist(), average="weighted"), True),
    "mae": (lambda t, p: mean_absolute_error(*finite_floats(t, p)), False),
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
    return float(METRICS[metric][0](*labelled_rows(y_true, y_pred)))


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


def _labelled_scorer(function, name, greater_is_better):
    def labelled_metric(y_true, y_pred):
        return function(*labelled_rows(y_true, y_pred))
    labelled_metric.__name__ = name
    return make_scorer(labelled_metric, greater_is_better=greater_is_better)


def _class_f1(label):
    """F1 of one class (zero when the class is neither true nor predicted)."""
    def f1_of_class(y_true, y_pred):
        seen = unique_labels(y_true.tolist(), y_pred.tolist())
        if label not in seen:
            # Most often a misspelt class ("ang" for "angry"), which would read as a bad model.
            warnings.warn(f"f1_class:{label}: {label!r} is neither a true nor a predicted label "
                          f"here, so its F1 is 0; the labels here are {seen.tolist()}.",
                          UserWarning, stacklevel=2)
        return float(f1_score(y_true.tolist(), y_pred.tolist(), labels=[label], average=None,
                              zero_division=0)[0])
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


def paper_scorers(task="classification", labels=None):
    """The paper's metrics as scorers for ``scoring=`` (unlabelled rows skipped).

    Parameters
    ----------
    task : {"classification", "regression"}
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
    if task not in ("classification", "regression"):
        raise ValueError(f"task must be 'classification' or 'regression', got {task!r}.")
    if labels is not None and task == "regression":
        raise ValueError("labels (class-wise F1) only applies to task='classification'.")
    names = ["mae"] if task == "regression" else [m for m in METRICS if m != "mae"]
    scorers = {name: _labelled_scorer(METRICS[name][0], name, METRICS[name][1])
               for name in names}
    return scorers if labels is None else {**scorers, **classwise_f1_scorers(labels)}
