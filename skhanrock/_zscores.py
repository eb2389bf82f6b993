"""z-scores against the same speaker's earlier talkturns: the one rule of MONAH and the feature path.

A talkturn's measurement is read against the running mean and spread of
*its speaker's earlier talkturns in the same conversation*, never later ones,
so a row's value never depends on later rows and a stream that sees the
talkturns one by one computes exactly what a batch computes. Both entry
points below run :func:`earlier_z`, so their results agree to the bit.
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
    present = ~np.isnan(earlier)
    count = present.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(present, earlier, 0.0).sum(axis=0) / count
        spread = np.sqrt((np.where(present, earlier - mean, 0.0) ** 2).sum(axis=0) / count)
        z = (value - mean) / spread
    usable = (count >= min_history) & (spread > 0) & ~np.isnan(value)
    return np.where(usable, z, np.nan)


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
        for i, row in enumerate(rows):
            z[row] = earlier_z(values[rows[:i]], values[row], min_history)
    return z
