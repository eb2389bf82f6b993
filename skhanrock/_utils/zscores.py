"""z-scores against the same speaker's earlier talkturns: the one rule of MONAH and the feature path.

A talkturn's measurement is read against the running mean and spread of
*its speaker's earlier talkturns in the same conversation*, never later ones,
so a row's value never depends on later rows and a stream that sees the
talkturns one by one computes exactly what a batch computes. Both entry
points below run :func:`_running_z`, whose sums run row after row (a
cumulative sum, never numpy's pairwise ``sum``), so a row's bits do not depend
on how many rows follow it: the stream's one-talkturn answer and the batch's
vectorised one agree to the bit.
"""

import numpy as np
import pandas as pd

__all__ = ["earlier_speaker_z", "earlier_z"]


def earlier_z(earlier, value, min_history):
    """z-score of ``value`` against the rows of ``earlier``, feature by feature.

    Parameters
    ----------
    earlier : array-like of shape (n_earlier, n_features)
        The speaker's earlier values, oldest first; NaN is a missing value
        and counts for nothing.
    value : array-like of shape (n_features,)
        The values to standardise.
    min_history : int
        Earlier non-missing values needed for a z-score.

    Returns
    -------
    ndarray of shape (n_features,)
        ``(value - mean) / std`` (population spread, ``ddof=0``); NaN where
        ``value`` is missing, fewer than ``min_history`` earlier values are
        present, or their spread is 0.

    Examples
    --------
    >>> earlier_z([[1.0, 5.0], [3.0, 5.0]], [4.0, 6.0], min_history=2).tolist()
    [2.0, nan]
    """
    value = np.asarray(value, dtype=np.float64)
    earlier = np.asarray(earlier, dtype=np.float64).reshape(-1, len(value))
    return _running_z(np.vstack([earlier, value]), min_history)[-1]


def _running_z(values, min_history):
    """z-score of each row of ``values`` (one speaker's rows, in order) against the rows before it.

    Row ``i``'s sums are cumulative sums over rows ``0..i-1`` in that order,
    so they are the same bits whatever comes after row ``i``. The spread
    needs each row's own mean: rows are taken ``_BLOCK`` at a time against
    their earlier rows, so memory stays ``_BLOCK`` times the rows however
    long one speaker talks.
    """
    present = ~np.isnan(values)
    # Row i sums rows 0..i-1: the inclusive cumulative sums, shifted by one row.
    count = _shifted_cumsum(present.astype(np.int64))
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = _shifted_cumsum(np.where(present, values, 0.0)) / count
        squares = np.zeros(values.shape)
        for first in range(1, len(values), _BLOCK):
            rows = np.arange(first, min(first + _BLOCK, len(values)))
            earlier = (np.arange(rows[-1])[None, :] < rows[:, None])[:, :, None] \
                & present[None, :rows[-1]]
            deviations = np.where(earlier, (values[None, :rows[-1]] - mean[rows, None]) ** 2, 0.0)
            squares[rows] = np.cumsum(deviations, axis=1)[np.arange(len(rows)), rows - 1]
        spread = np.sqrt(squares / count)
        z = (values - mean) / spread
    usable = (count >= min_history) & (spread > 0) & present
    return np.where(usable, z, np.nan)


#: Rows whose spreads :func:`_running_z` computes together.
_BLOCK = 256


def _shifted_cumsum(values):
    """Per row, the sum of the rows before it (0 for the first), added in row order."""
    return np.vstack([np.zeros((1, values.shape[1]), dtype=values.dtype),
                      np.cumsum(values, axis=0)[:-1]])


def earlier_speaker_z(values, conversations, speakers, min_history):
    """z-score of every row against its speaker's earlier rows in its conversation.

    Parameters
    ----------
    values : array-like of shape (n_rows, n_features)
        Rows sorted by conversation and turn.
    conversations, speakers : array-like of shape (n_rows,)
        Conversation and speaker of each row; a row without a speaker has no
        z-score (and is nobody's history).
    min_history : int
        As in :func:`earlier_z`.

    Returns
    -------
    ndarray of shape (n_rows, n_features)

    Examples
    --------
    >>> earlier_speaker_z([[1.0], [9.0], [3.0], [9.0], [5.0]], ["c"] * 5,
    ...                   ["a", "b", "a", "b", "a"], min_history=2)[:, 0].tolist()
    [nan, nan, nan, nan, 3.0]
    """
    values = np.asarray(values, dtype=np.float64)
    z = np.full(values.shape, np.nan)
    keys = pd.DataFrame({"conversation": np.asarray(conversations, dtype=object),
                         "speaker": np.asarray(speakers, dtype=object)})
    groups = keys.groupby(["conversation", "speaker"], sort=False, dropna=True).ngroup()
    groups = groups.to_numpy()
    for group in np.unique(groups[groups >= 0]):
        rows = np.flatnonzero(groups == group)
        z[rows] = _running_z(values[rows], min_history)
    return z
