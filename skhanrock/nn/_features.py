"""The feature path: numeric talkturn measurements as network inputs.

Each column a user names in ``feature_columns`` (loudness, pitch, speech
rate, ...) is standardised per speaker against that speaker's earlier
talkturns of the same conversation (the rule of MONAH's cues, in
``skhanrock._utils.zscores``). Nothing is fitted, so nothing is learnt from the
rows being predicted, and a stream that sees the talkturns one by one gives
the network exactly the inputs a batch gives it.

A value the rule cannot standardise (missing, or the speaker has fewer than
:data:`MIN_HISTORY` earlier values, or they do not vary) enters as 0 with a
missing indicator of 1, so the network can tell "average" from "unknown".
"""

import numpy as np
import pandas as pd

from .._utils.frame import check_numeric_columns
from .._utils.zscores import earlier_speaker_z, earlier_z

__all__ = ["CLIP", "MIN_HISTORY", "SpeakerFeatureHistory", "check_feature_columns",
           "feature_input_names", "feature_inputs", "feature_values"]

#: Earlier values of the speaker needed for a z-score (MonahTranscriber's default).
MIN_HISTORY = 2
#: z-scores are clipped to [-CLIP, CLIP]: against two or three earlier values a
#: spread close to 0 gives z-scores in the hundreds, which would swamp the layer.
CLIP = 5.0


def check_feature_columns(value, name="feature_columns"):
    """``value`` as a list of distinct column names, or None.

    Examples
    --------
    >>> check_feature_columns(("pitch", "loudness"))
    ['pitch', 'loudness']
    """
    if value is None:
        return None
    if isinstance(value, str) or not isinstance(value, list | tuple) or not value:
        raise ValueError(f"{name} must be None or a non-empty list of numeric column names, "
                         f"got {value!r}.")
    repeated = sorted({c for c in value if list(value).count(c) > 1}, key=str)
    if repeated:
        raise ValueError(f"{name} names the column(s) {repeated} more than once.")
    return list(value)


def feature_input_names(columns):
    """Names of the 2 * n_columns inputs: the z-scores, then the missing indicators.

    Examples
    --------
    >>> feature_input_names(["pitch"])
    ['pitch', 'pitch (missing)']
    """
    return [*map(str, columns), *(f"{c} (missing)" for c in columns)]


def _as_inputs(z):
    """(n, F) z-scores with NaN to (n, 2F) float32 inputs: clipped values, then indicators."""
    missing = np.isnan(z)
    values = np.where(missing, 0.0, np.clip(z, -CLIP, CLIP))
    return np.concatenate([values, missing.astype(np.float64)], axis=-1).astype(np.float32)


def feature_values(frame, columns, speaker_column):
    """The raw values of the feature columns, checked: an error names an absent or bad column.

    Returns
    -------
    ndarray of float64, shape (n_rows, len(columns))
        NaN where a value is missing.

    Examples
    --------
    >>> import pandas as pd
    >>> feature_values(pd.DataFrame({"speaker": ["a"], "pitch": ["high"]}), ["pitch"],
    ...                "speaker")
    Traceback (most recent call last):
    ...
    ValueError: X['pitch'] must be numeric; row 0 holds 'high'.
    """
    absent = [c for c in [speaker_column, *columns] if c not in frame.columns]
    if absent:
        raise ValueError(f"X has no column(s) {absent}, which feature_columns={columns!r} "
                         f"reads (with the speaker column speaker_column={speaker_column!r}).")
    return check_numeric_columns(frame, columns)


def feature_inputs(frame, columns, conversation_column, speaker_column):
    """The network inputs of the talkturns of ``frame``, sorted by conversation and turn.

    Parameters
    ----------
    frame : DataFrame
        Talkturns sorted by conversation and turn.
    columns : list of str
        The feature columns (numeric; NaN is a missing value).
    conversation_column, speaker_column : str

    Returns
    -------
    ndarray of float32, shape (n_rows, 2 * len(columns))
        Per row, the standardised values then the missing indicators.

    Raises
    ------
    ValueError
        Naming an absent column, or a column and row whose value is not a
        number.

    Examples
    --------
    >>> import pandas as pd
    >>> frame = pd.DataFrame({"conversation": ["c"] * 4, "speaker": ["a"] * 4,
    ...                       "pitch": [100.0, 120.0, None, 140.0]})
    >>> feature_inputs(frame, ["pitch"], "conversation", "speaker").tolist()
    [[0.0, 1.0], [0.0, 1.0], [0.0, 1.0], [3.0, 0.0]]
    """
    values = feature_values(frame, columns, speaker_column)
    z = earlier_speaker_z(values, frame[conversation_column].to_numpy(),
                          frame[speaker_column].to_numpy(), MIN_HISTORY)
    return _as_inputs(z)


class SpeakerFeatureHistory:
    """The feature values of one conversation so far, per speaker, for streaming.

    :meth:`inputs` gives the next talkturn exactly the inputs that
    :func:`feature_inputs` gives it in a batch of the conversation so far.

    Parameters
    ----------
    columns : list of str
        The feature columns.

    Examples
    --------
    >>> history = SpeakerFeatureHistory(["pitch"])
    >>> for value in (100.0, 120.0):
    ...     _ = history.add("a", {"pitch": value})
    >>> history.add("a", {"pitch": 140.0}).tolist()
    [3.0, 0.0]
    """

    def __init__(self, columns):
        self.columns = list(columns)
        self._values = {}  # speaker -> list of (n_features,) raw values

    def values(self, record):
        """The talkturn's raw feature values, NaN where missing; a clear error for a non-number."""
        values = np.full(len(self.columns), np.nan)
        for j, column in enumerate(self.columns):
            value = record[column]
            if np.ndim(value) == 0 and pd.isna(value):
                continue
            if (isinstance(value, str | bytes) or np.ndim(value) != 0 or not np.isreal(value)
                    or np.isinf(value)):
                raise ValueError(f"the talkturn's feature column {column!r} must be a finite "
                                 f"number or missing (None/NaN), got {value!r}.")
            values[j] = float(value)
        return values

    def add(self, speaker, record):
        """Standardise the talkturn's values against the speaker's earlier ones, then keep them.

        Parameters
        ----------
        speaker : object
            The talkturn's speaker; None or NaN has no history and keeps none.
        record : mapping
            The talkturn, with every feature column.

        Returns
        -------
        ndarray of float32, shape (2 * n_features,)
        """
        return self.add_values(speaker, self.values(record))

    def add_values(self, speaker, values):
        """:meth:`add` for values :meth:`values` has already read and checked."""
        if pd.isna(speaker):
            return _as_inputs(np.full((1, len(values)), np.nan))[0]
        earlier = self._values.setdefault(speaker, [])
        z = earlier_z(np.reshape(earlier, (-1, len(values))), values, MIN_HISTORY)
        earlier.append(values)
        return _as_inputs(z[None])[0]
