"""The primary target: which kind it is, and whether it fits the talkturn frame.

The one owner of two rules every subpackage applies:

- :func:`check_labels`: ``y`` is given, has one value per row of ``X`` and at
  least one labelled row (missing values mark unlabelled talkturns);
- :func:`is_classification_target` / :func:`resolve_target_type`: classes or numbers.
  The transformers of a pipeline cannot see its estimator, so they infer the
  target type from ``y`` by this documented rule, and the splitters and experiments
  follow it too.
"""

import warnings

import numpy as np
import pandas as pd
from pandas.api.types import infer_dtype

__all__ = ["TARGET_TYPES", "check_labels", "is_classification_target", "regression_labels",
           "resolve_target_type"]

#: Values of the ``target_type`` parameter of the preprocessing transformers.
TARGET_TYPES = ("auto", "classification", "regression")
# Kinds of pandas' ``infer_dtype`` that hold measurements rather than classes.
_CONTINUOUS_KINDS = frozenset({"floating", "mixed-integer-float", "decimal"})


def _label_values(labels):
    """The labels as a 1-D sequence that keeps the dtype the caller gave them."""
    if isinstance(labels, pd.DataFrame):
        return labels.to_numpy(dtype=object).ravel()
    if isinstance(labels, (pd.Series, pd.Index, pd.Categorical)):
        return labels
    if isinstance(labels, np.ndarray):
        return labels.ravel()
    # A list's own element types decide; converting it to a numeric array first
    # would turn ``[1, 2, None]`` into floats.
    return np.asarray(labels, dtype=object).ravel()


def check_labels(y, X, owner, *, required=True, need_labelled=True):
    """``y`` as a Series indexed like ``X``, or an error that says what is wrong.

    Parameters
    ----------
    y : array-like, Series or None
        Primary labels, one per row of ``X``; None or NaN marks an unlabelled row.
    X : DataFrame or sized
        The talkturn frame (its index names the rows in later errors).
    owner : str
        Who asks, named in the messages.
    required : bool, default=True
        Whether ``y=None`` is an error (else None is returned).
    need_labelled : bool, default=True
        Whether a ``y`` with no labelled row is an error.

    Returns
    -------
    Series or None
        The labels as objects (their own types kept), indexed like ``X``.

    Examples
    --------
    >>> import pandas as pd
    >>> X = pd.DataFrame({"text": ["a", "b"]}, index=[10, 11])
    >>> check_labels(["sad", None], X, "fit").to_dict()
    {10: 'sad', 11: None}
    """
    if y is None:
        if required:
            # scikit-learn's wording, which its common checks look for.
            raise ValueError(f"{owner} requires y to be passed, but the target y is None: "
                             "give the primary labels, one per row of X.")
        return None
    values = y.to_numpy(dtype=object) if isinstance(y, pd.Series | pd.Index) else \
        np.asarray(_label_values(y), dtype=object).ravel()
    if len(values) != len(X):
        raise ValueError(f"{owner}: y has {len(values)} values but X has {len(X)} "
                         "rows; give one label per row (None or NaN for an unlabelled row).")
    index = X.index if isinstance(X, pd.DataFrame) else pd.RangeIndex(len(values))
    labels = pd.Series(values, index=index, dtype=object)
    if need_labelled and not labels.notna().any():
        raise ValueError(f"{owner}: y has no labelled row: every value is missing. At least "
                         "one talkturn needs a label.")
    return labels


def is_classification_target(labels):
    """Whether labels are classes rather than numbers to regress on.

    The rule looks at the type of the labelled values (missing values ignored),
    not at how many distinct values there are:

    - floats (``float64``, ``Float64``, Python floats, floats mixed with
      integers) are regression targets, even when every value is a whole number
      (rounded valence ``1.0 ... 5.0``);
    - everything else is classes: strings, booleans, categoricals, integers
      (including pandas' nullable ``Int64`` and lists of ints with ``None`` for
      unlabelled rows).

    Class codes stored as floats because ``NaN`` marks unlabelled rows read as
    regression targets: give them as strings, ``Int64`` or a categorical, or
    pass ``target_type="classification"`` to the transformer.

    Parameters
    ----------
    labels : array-like or pandas Series
        Primary labels; missing values (None, NaN) mark unlabelled rows.

    Returns
    -------
    bool
        True for classes, False for regression targets.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> is_classification_target(["sad", "happy", None]), is_classification_target([1, 2, None])
    (True, True)
    >>> is_classification_target([1.5, 2.0]), is_classification_target(np.array([1.0, 5.0, np.nan]))
    (False, False)
    >>> is_classification_target(pd.Series([0, 2, None], dtype="Int64"))
    True
    """
    return infer_dtype(_label_values(labels), skipna=True) not in _CONTINUOUS_KINDS


def resolve_target_type(target_type, labels, owner, *, warn=True):
    """``"classification"`` or ``"regression"`` for ``labels`` under ``target_type``.

    ``"auto"`` applies :func:`is_classification_target` and, with
    ``warn``, warns when the answer is a guess: floats that are all whole
    numbers may be class codes. ``owner`` names the estimator in messages.
    """
    if target_type not in TARGET_TYPES:
        raise ValueError(f"{owner}: target_type must be one of {TARGET_TYPES}, got {target_type!r}.")
    if target_type != "auto":
        return target_type
    if is_classification_target(labels):
        return "classification"
    if not warn:
        return "regression"
    numbers = regression_labels(labels, owner)
    if len(numbers) and np.all(numbers == np.round(numbers)):
        warnings.warn(
            f"{owner}(target_type='auto'): y holds floats that are all whole numbers "
            f"({len(np.unique(numbers))} distinct values); they are taken as regression "
            "targets. Pass "
            "target_type='classification' if they are class codes (or give y as integers, "
            "strings or a categorical), or target_type='regression' to silence this warning.",
            UserWarning, stacklevel=3)
    return "regression"


def regression_labels(labels, owner):
    """Labelled values of a regression target as floats, with errors that name the row."""
    values = pd.Series(np.asarray(_label_values(labels), dtype=object))
    numbers = pd.to_numeric(values, errors="coerce")
    bad = numbers.isna() & values.notna()
    if bad.any():
        position = int(np.flatnonzero(bad.to_numpy())[0])
        raise ValueError(
            f"{owner}: y must be numeric for a regression target; the value at position "
            f"{position} is {values.iloc[position]!r}.")
    numbers = numbers.dropna().to_numpy(dtype=float)
    if np.isinf(numbers).any():
        raise ValueError(f"{owner}: y holds an infinite value; regression targets must be "
                         "finite.")
    return numbers
