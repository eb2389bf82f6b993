"""The paper's metrics, skipping unlabelled talkturns, and their scorers."""

import numpy as np
import pandas as pd
from sklearn.metrics import (
    accuracy_score,
    balanced_accuracy_score,
    f1_score,
    make_scorer,
    mean_absolute_error,
)

__all__ = ["METRICS", "classwise_f1", "labelled_rows", "paper_scorers", "score"]


def labelled_rows(y_true, *y_preds):
    """Drop the rows whose true label is missing (unlabelled talkturns).

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
    return (y_true[keep], *(p[keep] for p in arrays))


def _as_float(*arrays):
    return [np.asarray(a, dtype=float) for a in arrays]


#: Metric name to (function of labelled y_true, y_pred; higher is better).
METRICS = {
    "accuracy": (lambda t, p: accuracy_score(t.tolist(), p.tolist()), True),
    "balanced_accuracy": (lambda t, p: balanced_accuracy_score(t.tolist(), p.tolist()), True),
    "macro_f1": (lambda t, p: f1_score(t.tolist(), p.tolist(), average="macro"), True),
    "weighted_f1": (lambda t, p: f1_score(t.tolist(), p.tolist(), average="weighted"), True),
    "mae": (lambda t, p: mean_absolute_error(*_as_float(t, p)), False),
}


def score(y_true, y_pred, metric):
    """One of :data:`METRICS` on the labelled rows.

    Examples
    --------
    >>> score([1.0, None, 3.0], [2.0, 9.0, 3.0], "mae")
    0.5
    """
    if metric not in METRICS:
        raise ValueError(f"metric must be one of {sorted(METRICS)}, got {metric!r}.")
    return float(METRICS[metric][0](*labelled_rows(y_true, y_pred)))


def classwise_f1(y_true, y_pred):
    """F1 of each class on the labelled rows, as a Series indexed by class.

    Examples
    --------
    >>> classwise_f1(["a", "a", "b"], ["a", "b", "b"]).round(3).to_dict()
    {'a': 0.667, 'b': 0.667}
    """
    y_true, y_pred = labelled_rows(y_true, y_pred)
    classes = sorted(set(y_true.tolist()))
    values = f1_score(y_true.tolist(), y_pred.tolist(), labels=classes, average=None,
                      zero_division=0)
    return pd.Series(values, index=classes, name="f1")


def _scorer(metric):
    function, greater_is_better = METRICS[metric]

    def labelled_metric(y_true, y_pred):
        return function(*labelled_rows(y_true, y_pred))
    labelled_metric.__name__ = metric
    return make_scorer(labelled_metric, greater_is_better=greater_is_better)


def paper_scorers(task="classification"):
    """The paper's metrics as scorers for ``scoring=`` (unlabelled rows skipped).

    Parameters
    ----------
    task : {"classification", "regression"}

    Returns
    -------
    dict
        Classification: accuracy, balanced accuracy, macro and weighted F1;
        regression: MAE (negated, as scikit-learn maximises scores).

    Examples
    --------
    >>> sorted(paper_scorers("classification"))
    ['accuracy', 'balanced_accuracy', 'macro_f1', 'weighted_f1']
    """
    if task not in ("classification", "regression"):
        raise ValueError(f"task must be 'classification' or 'regression', got {task!r}.")
    names = ["mae"] if task == "regression" else [m for m in METRICS if m != "mae"]
    return {name: _scorer(name) for name in names}
