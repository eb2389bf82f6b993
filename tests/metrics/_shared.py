"""Helpers and settings shared by this folder's test modules."""

import numpy as np
import pandas as pd
from sklearn.metrics import (
    accuracy_score,
    balanced_accuracy_score,
    f1_score,
)

SKLEARN = {
    "accuracy": accuracy_score,
    "balanced_accuracy": balanced_accuracy_score,
    "macro_f1": lambda t, p: f1_score(t, p, average="macro"),
    "weighted_f1": lambda t, p: f1_score(t, p, average="weighted"),
}


# (y_true, y_pred) pairs where the bootstrap once disagreed with scikit-learn
AWKWARD = {
    # macro F1 averages over the union of true and predicted classes
    "predicted-only class": (["a", "a", "b"], ["a", "c", "b"]),
    # a label column with gaps is float; the model predicts ints
    "float labels with gaps": (pd.Series([0, 1, np.nan, 1]), [0, 1, 1, 1]),
    "class never predicted": ([0, 1, 2, 2, 1], [0, 1, 1, 1, 1]),
    "strings and gaps": (np.array(["x", None, "y", "x"], dtype=object), ["x", "x", "y", "y"]),
}


def _labelled(y_true, *y_preds):
    keep = pd.notna(pd.Series(np.asarray(y_true, dtype=object))).to_numpy()
    return [np.asarray(a, dtype=object)[keep].tolist() for a in (y_true, *y_preds)]

