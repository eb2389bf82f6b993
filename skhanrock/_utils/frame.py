"""Validation and ordering of talkturn frames.

A *talkturn frame* is a pandas DataFrame with one row per talkturn (see the user
guide). Every public entry point of the package validates its frame here, so the
error messages are the same everywhere.
"""

import copy
import numbers

import numpy as np
import pandas as pd
from pandas.api.types import (
    is_bool_dtype,
    is_complex_dtype,
    is_integer_dtype,
    is_numeric_dtype,
    is_unsigned_integer_dtype,
)

__all__ = [
    "as_text",
    "AUX_PREFIX",
    "LABEL_OFFSETS_ATTR",
    "LOSS_WEIGHTS_ATTR",
    "check_dataframe",
    "check_fitted_columns",
    "check_flat_columns",
    "check_talkturn_frame",
    "canonical_codes",
    "carry_attrs",
    "check_numeric_columns",
    "columns_with",
    "conversation_sort_order",
    "as_float32",
    "pipeline_attr",
    "python_value",
    "refuse_rows",
    "talkturn_frame_tags",
    "text_as_strings",
    "turn_in_range",
]

def python_value(value):
    """A numpy scalar as the Python value it holds; anything else as it is.

    Messages then read naturally (``12``, not ``np.int64(12)``), and ids and
    turns compare and serialise as plain Python values.
    """
    return value.item() if isinstance(value, np.generic) else value


#: Prefix of the auxiliary target columns written by ``AuxiliaryTargets``.
AUX_PREFIX = "aux:"
#: ``DataFrame.attrs`` key under which ``MutualInfoLossWeights`` hands the fitted
#: loss weights (a ``{task name: weight}`` dict) to the estimator of a pipeline.
LOSS_WEIGHTS_ATTR = "skhanrock.loss_weights"
#: ``DataFrame.attrs`` key under which ``AuxiliaryTargets`` hands the requested
#: history/future label offsets (a tuple of non-zero ints) to the estimator.
LABEL_OFFSETS_ATTR = "skhanrock.label_offsets"


def check_talkturn_frame(X, *, conversation_column="conversation", turn_column="turn",
                         required=(), name="X"):
    """Check that ``X`` is a non-empty talkturn frame and return a shallow copy.

    Checks that ``X`` is a DataFrame with at least one row, that the
    conversation and turn columns and every column in ``required`` exist, that
    turns are integers without missing values and that no (conversation, turn)
    pair repeats. The caller's frame is never modified.
    """
    check_dataframe(X, name, " with one row per talkturn (conversation, turn and text columns)")
    check_flat_columns(X, name)
    if len(X) == 0:
        raise ValueError(f"{name} is empty: at least one talkturn row is needed.")
    columns = [conversation_column, turn_column, *required]
    missing = [c for c in dict.fromkeys(columns) if c not in X.columns]
    if missing:
        raise ValueError(
            f"{name} is missing the column(s) {missing}; the talkturn frame has "
            f"columns {list(X.columns)}."
        )
    if X[conversation_column].isna().any():
        row = X.index[X[conversation_column].isna().to_numpy()][0]
        raise ValueError(f"{name}[{conversation_column!r}] is missing at row {row!r}.")
    _check_integer_column(X, turn_column, name)
    duplicated = X.duplicated([conversation_column, turn_column], keep=False).to_numpy()
    if duplicated.any():
        rows = list(X.index[duplicated][:4])
        raise ValueError(
            f"{name} has duplicate ({conversation_column!r}, {turn_column!r}) pairs, "
            f"e.g. at rows {rows}; each talkturn must appear once."
        )
    return X.copy(deep=False)


def check_dataframe(X, name="X", what=""):
    """Raise a TypeError unless ``X`` is a DataFrame.

    ``what`` completes "<name> must be a pandas DataFrame". Sparse matrices are
    named as such, as scikit-learn's estimators (and its common checks) expect.
    """
    if not isinstance(X, pd.DataFrame):
        kind = "sparse input is not supported" if hasattr(X, "tocsr") else \
            f"got {type(X).__name__}"
        raise TypeError(f"{name} must be a pandas DataFrame{what}; {kind}.")


def check_flat_columns(X, name="X"):
    """Refuse a frame whose columns are a MultiIndex, naming what is expected.

    With MultiIndex columns ``"text" in X.columns`` holds for a first-level
    label while ``X["text"]`` is a frame, so every later step would fail far
    from the cause (or read the wrong thing).
    """
    if isinstance(X.columns, pd.MultiIndex):
        raise ValueError(
            f"{name} has MultiIndex columns ({X.columns.nlevels} levels, e.g. "
            f"{X.columns[0]!r}); expected one level of column names such as "
            "'conversation', 'turn' and 'text'. Flatten them first, e.g. "
            "X.columns = ['_'.join(map(str, c)) for c in X.columns], or select one level.")


def check_fitted_columns(X, fitted_columns, owner):
    """Refuse a frame at ``transform`` whose columns are not those seen in ``fit``.

    ``set_output(transform="pandas")`` relabels the output with
    ``get_feature_names_out``, which lists the fitted columns: a frame with
    other columns, or the same in another order, would come out mislabelled.
    """
    if not isinstance(X, pd.DataFrame):
        raise TypeError(f"{owner}: X must be a pandas DataFrame, got {type(X).__name__}.")
    columns, fitted = list(X.columns), list(fitted_columns)
    if columns == fitted:
        return
    missing = [c for c in fitted if c not in columns]
    unseen = [c for c in columns if c not in fitted]
    detail = "; ".join(part for part in (
        f"missing {missing}" if missing else "", f"not seen in fit {unseen}" if unseen else "")
        if part) or "the same columns in another order"
    raise ValueError(f"{owner}: the columns of X differ from those seen in fit ({detail}). "
                     "Pass the columns of fit, in their order: X[feature_names_in_].")


def carry_attrs(output, X, **added):
    """Give ``output`` a deep copy of ``X.attrs`` plus ``added`` entries.

    Deep, so that the output's attrs never hold the caller's mutable values
    (whether ``DataFrame.copy`` copies attrs deeply depends on the pandas version).
    """
    output.attrs = {**copy.deepcopy(X.attrs), **added}
    return output


_ATTR_WRITERS = {LOSS_WEIGHTS_ATTR: "MutualInfoLossWeights",
                 LABEL_OFFSETS_ATTR: "AuxiliaryTargets"}


def pipeline_attr(X, key, parameter, *, required=False, default=None):
    """What an earlier pipeline step handed on in ``X.attrs[key]``: the one reader of it.

    ``required`` (the estimator was told ``parameter="pipeline"``) makes a
    missing entry an error: a step that rebuilt the frame between the writer
    and the estimator would otherwise replace the fitted value by a default
    without a word.
    """
    attrs = getattr(X, "attrs", {})
    if key in attrs:
        return attrs[key]
    if required:
        raise ValueError(
            f"{parameter}='pipeline' takes the value {_ATTR_WRITERS[key]} leaves in "
            f"X.attrs[{key!r}], but X has none: no {_ATTR_WRITERS[key]} step ran before the "
            "estimator, or a step between them rebuilt the frame without its attrs (keep "
            "them with out.attrs = X.attrs, or move that step before the writer).")
    return default


def as_float32(values, columns, index):
    """``values`` (rows x columns) in float32, refusing values beyond its range (inf loss)."""
    with np.errstate(over="ignore"):  # the overflow is reported below, by row and column
        converted = values.astype(np.float32)
    overflow = np.argwhere(np.isinf(converted) & np.isfinite(values))
    if len(overflow):
        row, column = overflow[0]
        raise ValueError(
            f"{columns[column]} at row {index[row]!r} is {values[row, column]:.3g}, beyond "
            f"float32's range (±{np.finfo(np.float32).max:.3g}) the network computes in; "
            "rescale it.")
    return converted


def columns_with(columns, added):
    """Column names after assigning ``added`` columns to a frame with ``columns``."""
    present = set(columns)
    return np.asarray([*columns, *(c for c in added if c not in present)], dtype=object)


#: Floats are exact integers only below this magnitude: above it a float turn may
#: already be a rounded value, and two turns may have become one.
_EXACT_FLOAT = 2 ** 53


def refuse_rows(X, column, name, bad, why):
    """Raise a ValueError naming the first row where the mask ``bad`` holds, and its value.

    ``why`` completes the sentence "<name>[<column>] at row <row> holds <value>, ...".
    """
    if bad.any():
        position = np.flatnonzero(bad)[0]
        row, value = (python_value(v) for v in (X.index[position], X[column].iloc[position]))
        raise ValueError(f"{name}[{column!r}] at row {row!r} holds {value!r}, {why}")


def turn_in_range(turn):
    """Whether the finite number ``turn`` is a turn batch prediction sorts exactly.

    The rule of :func:`_check_integer_column`, for one value: an integer that
    int64 holds, or a float below 2**53 in magnitude.
    """
    if isinstance(turn, numbers.Integral):
        return bool(np.iinfo(np.int64).min <= turn <= np.iinfo(np.int64).max)
    return bool(abs(turn) < _EXACT_FLOAT)


def _check_integer_column(X, column, name):
    """Refuse turns that are missing, fractional, or that int64 cannot hold exactly.

    Turns are sorted as int64 (:func:`conversation_sort_order`): a uint64 of
    2**63 or more would wrap to a negative number, a float beyond 2**53 may
    already be rounded and an infinite or huge float overflows, each sorting
    the talkturns wrongly without a word.
    """
    values = X[column]
    if values.isna().any():
        row = X.index[values.isna().to_numpy()][0]
        raise ValueError(f"{name}[{column!r}] is missing at row {row!r}; turns must be integers.")
    if is_integer_dtype(values) and not is_bool_dtype(values):
        if is_unsigned_integer_dtype(values):
            refuse_rows(X, column, name,
                         values.to_numpy(dtype=np.uint64) > np.iinfo(np.int64).max,
                         "beyond the 64-bit signed integers (up to 2**63 - 1) that turns are "
                         "sorted as.")
        return
    if is_numeric_dtype(values) and not is_bool_dtype(values):
        as_float = values.to_numpy(dtype=float)
        refuse_rows(X, column, name, ~(np.abs(as_float) < _EXACT_FLOAT),
                     "too large for a float turn to be an exact integer (float turns must be "
                     "below 2**53 in magnitude); store the turns as integers.")
        fractional = as_float != np.round(as_float)
        if not fractional.any():
            return
        row = X.index[fractional][0]
        raise ValueError(
            f"{name}[{column!r}] must hold integers; row {row!r} has {values.loc[row]!r}."
        )
    raise TypeError(
        f"{name}[{column!r}] must be an integer column (the order of the talkturn in "
        f"its conversation), got dtype {values.dtype}."
    )


def check_numeric_columns(X, columns, *, name="X", allow_nan=True):
    """Return ``X[columns]`` as a float array, with errors that name the column.

    Non-numeric values and infinities are errors; missing values are kept as
    NaN unless ``allow_nan`` is False.
    """
    values = np.empty((len(X), len(columns)), dtype=np.float64)
    for j, column in enumerate(columns):
        series = X[column]
        if is_bool_dtype(series):
            series = series.astype(float)
        if is_complex_dtype(series):
            # numpy would drop the imaginary part with no more than a ComplexWarning.
            raise ValueError(f"{name}[{column!r}] must hold real numbers, got complex dtype "
                             f"{series.dtype}.")
        if not is_numeric_dtype(series):
            converted = pd.to_numeric(series, errors="coerce")
            bad = converted.isna().to_numpy() & series.notna().to_numpy()
            if bad.any():
                row = X.index[bad][0]
                raise ValueError(
                    f"{name}[{column!r}] must be numeric; row {row!r} holds "
                    f"{series.loc[row]!r}."
                )
            series = converted
        column_values = series.to_numpy(dtype=np.float64, na_value=np.nan)
        infinite = np.isinf(column_values)
        if infinite.any():
            row = X.index[infinite][0]
            raise ValueError(f"{name}[{column!r}] is infinite at row {row!r}.")
        if not allow_nan and np.isnan(column_values).any():
            row = X.index[np.isnan(column_values)][0]
            raise ValueError(f"{name}[{column!r}] is missing at row {row!r}.")
        values[:, j] = column_values
    return values


def text_as_strings(X, column, *, name="X"):
    """Return ``X[column]`` as a list of strings; missing text becomes ``""``."""
    return [as_text(value, column, row, name=name)
            for row, value in zip(X.index, X[column].to_numpy(dtype=object), strict=True)]


def as_text(value, column, row, *, name="X"):
    """One cell of a text column as a string: missing text is ``""``, anything else not a str an error.

    The per-value rule of :func:`text_as_strings`, for callers that read one
    talkturn (the incremental predictor) and need not build a frame for it.
    """
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
        return ""
    if isinstance(value, str):
        return value
    raise TypeError(f"{name}[{column!r}] must hold text; row {row!r} holds "
                    f"{type(value).__name__} {value!r}.")


def conversation_sort_order(X, conversation_column="conversation", turn_column="turn"):
    """Permutation that sorts rows by conversation id, then turn (stable).

    Sorting by id rather than by first appearance makes everything downstream
    (batch order, validation draws) independent of the order the rows came in,
    so the same data and ``random_state`` give the same model.
    """
    turns = X[turn_column].to_numpy(dtype=np.int64)
    return np.lexsort((turns, canonical_codes(X[conversation_column])))


def canonical_codes(values):
    """Integer codes of ``values`` in sorted order of the distinct values.

    Ids of mixed types (``1`` and ``"a"``) do not compare; they are ordered by
    type name, then text, which is arbitrary but the same on every call.
    """
    try:
        codes = pd.factorize(values, sort=True)[0]
    except TypeError:
        codes, uniques = pd.factorize(pd.Series(values, dtype=object), sort=False)
        keys = sorted(range(len(uniques)),
                      key=lambda i: (type(uniques[i]).__name__, str(uniques[i])))
        codes = np.argsort(keys)[codes] if len(uniques) else codes
    if (codes < 0).any():
        # factorize codes a missing id -1, which would sort among the real ones
        raise ValueError(f"Conversation ids may not be missing; row {np.flatnonzero(codes < 0)[0]} "
                         "has none.")
    return codes


def talkturn_frame_tags(tags):
    """Tag an estimator as taking a talkturn frame: a DataFrame with text and gaps."""
    tags.input_tags.string = True
    tags.input_tags.allow_nan = True
    return tags
