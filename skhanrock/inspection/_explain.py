"""Word, talkturn and task attention of fitted estimators, as a tidy table."""

import numpy as np
import pandas as pd
from sklearn.pipeline import Pipeline
from sklearn.utils.validation import check_is_fitted

from .._utils.frame import text_as_strings
from ..nn import HanRockClassifier, HanRockRegressor, tokenize

__all__ = ["BUCKETS", "attention_buckets", "explain", "OVERALL", "check_frame", "repeated_label",
           "row_positions", "split_pipeline"]

#: Names of the attention buckets of standardised attention z, lowest first:
#: None (z < 0), Low (0 <= z < 1), Medium (1 <= z < 2), High (z >= 2).
BUCKETS = ("None", "Low", "Medium", "High")
OVERALL = "overall"
_BUCKET_EDGES = (0.0, 1.0, 2.0)


def attention_buckets(z):
    """Bucket standardised attention: None, Low, Medium or High.

    The buckets are None (z < 0), Low (0 <= z < 1), Medium (1 <= z < 2) and
    High (z >= 2), named by :data:`BUCKETS`: an item is Low once it gets at
    least the average attention of its group, and High two standard
    deviations above it.

    Parameters
    ----------
    z : array-like of float
        Standardised attention weights.

    Returns
    -------
    ndarray of object
        The bucket name of each z-score; a missing z-score (NaN) has no bucket
        (``None``, not the bucket ``"None"``).

    Raises
    ------
    TypeError
        When ``z`` is a single value (or None) rather than an array-like, or
        holds values that are not numbers.

    Examples
    --------
    >>> from skhanrock.inspection import attention_buckets
    >>> list(attention_buckets([-0.5, 0.0, 1.5, 2.0, float("nan")]))
    ['None', 'Low', 'Medium', 'High', None]
    """
    z = _as_z_scores(z)
    buckets = np.asarray(BUCKETS, dtype=object)[np.digitize(z, _BUCKET_EDGES)]
    # digitize puts NaN above every edge, which would call it High.
    buckets[np.isnan(z)] = None
    return buckets


def _as_z_scores(z):
    """``z`` as a float array, or a TypeError that says what ``attention_buckets`` takes."""
    expected = "z must be an array-like of standardised attention (floats), such as a list or Series"
    # A scalar (None included) would bucket to a single string, not an array of them.
    if np.ndim(z) == 0:
        raise TypeError(f"{expected}; got the single value {z!r}.")
    try:
        return np.asarray(z, dtype=float)
    except (TypeError, ValueError) as error:
        raise TypeError(f"{expected}; got values that are not numbers ({error}).") from error


def _standardise(values):
    """z-scores with the population standard deviation; 0 for a group without spread.

    A weight that is not a number gets no z-score and leaves the others' alone.
    """
    values = np.asarray(values, dtype=float)
    valid = ~np.isnan(values)
    z = np.full_like(values, np.nan)
    if valid.any():
        spread = values[valid].std()
        z[valid] = 0.0 if spread == 0 else (values[valid] - values[valid].mean()) / spread
    return z


def split_pipeline(estimator, X):
    """The network and the frame it reads, once the network is known to be fitted.

    The network is checked before a pipeline's earlier steps run: unfitted,
    those would fail first, with their own and less telling error.
    """
    net = estimator[-1] if isinstance(estimator, Pipeline) else estimator
    if not isinstance(net, HanRockClassifier | HanRockRegressor):
        raise TypeError(f"estimator must be a HanRockClassifier, a HanRockRegressor or a "
                        f"Pipeline ending in one, got {type(net).__name__}.")
    check_is_fitted(net)
    return net, estimator[:-1].transform(X) if isinstance(estimator, Pipeline) else X


def _mask_positions(mask, n_rows):
    if len(mask) != n_rows:
        raise ValueError(f"rows as a boolean mask needs one value per row of X ({n_rows}), "
                         f"got {len(mask)}.")
    return np.flatnonzero(mask)


def _check_integer_positions(positions, n_rows):
    if not np.issubdtype(positions.dtype, np.integer):
        raise TypeError(f"rows must be row positions (integers) or a boolean mask, got values "
                        f"of dtype {positions.dtype}; for index labels use "
                        f"X.index.get_indexer(labels).")
    if positions.min() < 0 or positions.max() >= n_rows:
        raise ValueError(f"rows must be positions between 0 and {n_rows - 1}, got "
                         f"{positions.min()} to {positions.max()}.")


def repeated_label(index, position, n):
    """``n`` copies of the label at ``position`` of ``index``, in the index's own dtype.

    Taken from the index, not broadcast from the label: pandas would spread a
    tuple (a MultiIndex label) over the rows of a table. A MultiIndex gives
    tuples.
    """
    return index.take(np.full(n, position)).to_flat_index()


def row_positions(rows, n_rows):
    """Sorted, distinct row positions from ``rows`` (positions or a boolean mask).

    A selection of no talkturn is refused, as an empty ``X`` is: an empty
    explanation could be neither rendered nor plotted.
    """
    if rows is None:
        return np.arange(n_rows)
    positions = np.atleast_1d(np.asarray(rows))
    if positions.dtype == bool:
        positions = _mask_positions(positions, n_rows)
    elif len(positions):
        # An empty list has dtype float64: it selects nothing rather than non-integers.
        _check_integer_positions(positions, n_rows)
    if not len(positions):
        raise ValueError("rows selects no talkturn: give at least one position, or a boolean "
                         "mask with at least one True; rows=None explains every talkturn.")
    return np.unique(positions)


def check_frame(X):
    """Refuse what is not a talkturn frame, or one whose index cannot name talkturns."""
    if not isinstance(X, pd.DataFrame):
        raise TypeError(f"X must be a talkturn DataFrame (one row per talkturn, as passed to "
                        f"fit), got {type(X).__name__}.")
    duplicated = X.index[X.index.duplicated()].unique()
    if len(duplicated):
        raise ValueError(f"X has duplicate index values {list(duplicated[:10])}: explanations "
                         f"name talkturns by their index label, so each must be unique "
                         f"(for example X.reset_index(drop=True)).")


class _Collector:
    """Accumulates the tidy rows of one explanation."""

    def __init__(self):
        self.records = []

    def add(self, row, level, task, attention, context=np.nan, talkturn=None, tokens=None):
        """Add one group of weights; ``context`` and ``talkturn`` may be per item."""
        attention = np.asarray(attention, dtype=float)
        z = _standardise(attention)
        positions = np.arange(len(attention))
        if not isinstance(talkturn, list):
            talkturn = [talkturn] * len(attention)
        self.records.append(pd.DataFrame({
            "row": [row] * len(attention), "level": level, "task": task,
            "context": context, "talkturn": talkturn,
            "position": positions if level == "word" else np.nan,
            "token": tokens if tokens is not None else [None] * len(attention),
            "attention": attention, "z": z, "bucket": attention_buckets(z),
        }))

    def frame(self):
        return pd.concat(self.records, ignore_index=True)


def _explain_sample(collector, item, words, index):
    """Add the word, talkturn and task attention of one :class:`~skhanrock.nn.TalkturnAttention`."""
    row = index[item.row]
    talkturns = [index[position] for position in item.context]
    n_context = len(item.context)
    is_rock = item.task is not None
    task_alpha = item.task if is_rock else np.ones(1)
    if is_rock:
        collector.add(row, "task", OVERALL, task_alpha, tokens=item.task_names)
    overall = sum(w * a for w, a in zip(task_alpha, item.talkturn, strict=False))
    offsets = np.arange(n_context) - (n_context - 1)
    for name, alpha in ([*zip(item.task_names, item.talkturn, strict=False)] if is_rock
                        else []):
        collector.add(row, "talkturn", name, alpha, offsets, talkturns)
    collector.add(row, "talkturn", OVERALL, overall, offsets, talkturns)

    # Every auxiliary task reads the one auxiliary word encoder, so that branch
    # weighs their summed task attention, 1 - alpha_y.
    branch_weights = [task_alpha[0], 1.0 - task_alpha[0]][:len(item.word)]
    branch_names = ["y", "aux"]
    for offset, (position, talkturn) in enumerate(zip(item.context, talkturns, strict=True)):
        branches = [branch[offset] for branch in item.word]
        tokens = words[position][:len(branches[0])]
        context = offset - (n_context - 1)
        if is_rock:
            for name, alpha in zip(branch_names, branches, strict=False):
                collector.add(row, "word", name, alpha, context, talkturn, tokens)
        mixed = sum(w * a for w, a in zip(branch_weights, branches, strict=True))
        collector.add(row, "word", OVERALL, mixed, context, talkturn, tokens)


def explain(estimator, X, rows=None):
    """Attention of a fitted HAN or HAN-ROCK on talkturns of ``X``, as a tidy DataFrame.

    For each explained talkturn the table holds, one row per item:

    - ``level="task"``: task-level attention over the primary and auxiliary
      tasks (HAN-ROCK only; ``token`` is the task name);
    - ``level="talkturn"``: attention over the talkturns of its context window,
      per task and ``task="overall"``, the task-attention-weighted average of
      the per-task ones (flat MTL has one talkturn attention, listed as
      ``"overall"``);
    - ``level="word"``: attention over the words of each context talkturn, for
      the primary branch (``task="y"``), the auxiliary branch shared by all
      auxiliary tasks (``task="aux"``) and ``task="overall"``, their average
      weighted by the primary task's attention and by the summed attention of
      the auxiliary tasks.

    Every group of attention weights (the words of one talkturn for one task,
    the talkturns of one window for one task, the tasks of one sample) is
    standardised to z-scores, ``(attention - mean) / std`` with the population
    standard deviation of the group (z = 0 for a group without spread, such as a
    one-word talkturn), and bucketed by :func:`attention_buckets`: None (z < 0),
    Low (0 <= z < 1), Medium (1 <= z < 2), High (z >= 2). A weight that is not
    a number gets no z-score and no bucket.

    Parameters
    ----------
    estimator : HanRockClassifier, HanRockRegressor or Pipeline ending in one
        A fitted estimator; a pipeline's earlier steps transform ``X`` first,
        so the words are those the network read (e.g. the MONAH narrative).
    X : DataFrame
        Talkturn frame (no labels needed), with a unique index: its labels
        name the talkturns in the result.
    rows : array-like of int or bool, default=None
        Positions (not index labels) of the talkturns to explain, or a boolean
        mask over the rows of ``X``; all talkturns when None. Each talkturn is
        read in its context window within ``X``, as ``predict`` reads it.

    Returns
    -------
    DataFrame
        Columns ``row, level, task, context, talkturn, position, token,
        attention, z, bucket, prediction``: ``row`` and ``talkturn`` are index
        labels of ``X``; ``context`` is 0 for the explained talkturn and -k for
        the k-th one before it; ``position`` is a word's place in its talkturn;
        ``prediction`` is the estimator's prediction for ``row``, from the same
        forward pass as the attention.

    Raises
    ------
    TypeError
        When ``X`` is not a DataFrame, ``estimator`` is not a HAN-ROCK
        estimator (or a pipeline ending in one), or ``rows`` is neither integer
        positions nor a boolean mask.
    ValueError
        When ``X`` has duplicate index labels, or ``rows`` is out of range or
        selects no talkturn.
    sklearn.exceptions.NotFittedError
        When ``estimator`` (a pipeline's final step) is not fitted.

    Examples
    --------
    >>> from skhanrock import HanRockClassifier
    >>> from skhanrock.datasets import make_conversations
    >>> from skhanrock.inspection import explain
    >>> X, y = make_conversations(n_conversations=4, random_state=0)
    >>> clf = HanRockClassifier(primary_units=4, context_size=3, max_epochs=1,
    ...                         random_state=0).fit(X, y)
    >>> table = explain(clf, X, rows=[5])
    >>> sorted(table["level"].unique())
    ['talkturn', 'task', 'word']
    >>> table["prediction"].iloc[0] == clf.predict(X)[5]
    True
    """
    check_frame(X)
    net, frame = split_pipeline(estimator, X)
    positions = row_positions(rows, len(frame))
    words = [tokenize(text) or ["<empty>"] for text in text_as_strings(frame, net.text_column_)]
    collector, predictions = _Collector(), {}
    for item in net.predict_attention(frame, rows=positions):
        predictions[frame.index[item.row]] = item.prediction
        _explain_sample(collector, item, words, frame.index)
    table = collector.frame()
    table["prediction"] = [predictions[row] for row in table["row"]]
    return table
