"""Attach a per-talkturn table of measurements (Praat, openSMILE, your own) to the talkturns."""

import warnings

import pandas as pd

from .._utils.frame import check_dataframe

__all__ = ["attach_measurements"]


def _keys_text(keys, limit=5):
    """``('c1', 3), ('c2', 0) and 4 more``: at most ``limit`` keys."""
    keys = list(keys)
    shown = ", ".join(repr(tuple(k)) for k in keys[:limit])
    return shown + (f" and {len(keys) - limit} more" if len(keys) > limit else "")


def _check_keys(frame, on, name):
    absent = [c for c in on if c not in frame.columns]
    if absent:
        raise ValueError(f"attach_measurements: {name} has no key column(s) {absent} "
                         f"(on={list(on)}).")


def _measured_columns(talkturns, measurements, on, columns):
    available = [c for c in measurements.columns if c not in on]
    if columns is None:
        columns = available
    unknown = [c for c in columns if c not in available]
    if unknown:
        raise ValueError(f"attach_measurements: columns names {unknown}, which measurements "
                         f"does not hold besides its keys; it holds {available}.")
    clash = [c for c in columns if c in talkturns.columns]
    if clash:
        raise ValueError(
            f"attach_measurements: talkturns already has the column(s) {clash}; attaching "
            "them would replace its values. Drop them from one side or choose columns=.")
    return list(columns)


def attach_measurements(talkturns, measurements, *, on=("conversation", "turn"), columns=None):
    """Attach a table with one row per talkturn to the talkturn frame, by key.

    The measurements of whatever tool you use (Praat scripts,
    :func:`~skhanrock.datasets.extract_prosody`, openSMILE functionals, a
    CSV) join the talkturns on their key, keeping the talkturns' rows, order
    and index. Talkturns without a row get NaN (a missing value, which
    ``feature_columns``, :class:`~skhanrock.MonahTranscriber` and
    :class:`~skhanrock.AuxiliaryTargets` all handle) and are counted and
    named in a warning, as are rows of the table that match no talkturn.

    Parameters
    ----------
    talkturns : DataFrame
        The talkturn frame; it is not modified.
    measurements : DataFrame
        One row per talkturn: the key columns and the measurements.
    on : sequence of str, default=("conversation", "turn")
        The key columns, in both frames.
    columns : list of str or None, default=None
        The measurement columns to attach; None attaches every non-key column.

    Returns
    -------
    DataFrame
        A copy of ``talkturns`` with the measurement columns added.

    Raises
    ------
    ValueError
        When a key column is absent, a key occurs in more than one row of
        ``measurements`` (naming the keys), a measurement column is already a
        column of ``talkturns``, or the keys' types cannot be compared.

    Warns
    -----
    UserWarning
        When talkturns have no row (their number and first keys), or rows
        match no talkturn (their number and first keys).

    Examples
    --------
    >>> import pandas as pd
    >>> talkturns = pd.DataFrame({"conversation": ["c", "c"], "turn": [0, 1],
    ...                           "speaker": ["a", "b"], "text": ["Hi.", "Hello."]})
    >>> praat = pd.DataFrame({"conversation": ["c", "c"], "turn": [1, 0],
    ...                       "avg_pitch": [210.0, 120.0]})
    >>> attach_measurements(talkturns, praat)["avg_pitch"].tolist()
    [120.0, 210.0]
    """
    check_dataframe(talkturns, "talkturns")
    check_dataframe(measurements, "measurements")
    on = [on] if isinstance(on, str) else list(on)
    _check_keys(talkturns, on, "talkturns")
    _check_keys(measurements, on, "measurements")
    columns = _measured_columns(talkturns, measurements, on, columns)
    repeated = measurements[on][measurements.duplicated(on, keep=False)].drop_duplicates()
    if len(repeated):
        raise ValueError(
            f"attach_measurements: measurements has more than one row for {len(repeated)} "
            f"key(s) {_keys_text(repeated.itertuples(index=False))} (on={on}); keep one "
            "row per talkturn.")
    wanted = pd.MultiIndex.from_frame(talkturns[on])
    table = measurements.set_index(on)[columns]
    try:
        matched = wanted.isin(table.index)
        attached = table.reindex(wanted)
    except TypeError as error:
        raise ValueError(f"attach_measurements: the key columns {on} of talkturns and "
                         f"measurements cannot be compared ({error}); give them the same "
                         "types.") from None
    _warn_unmatched(talkturns, measurements, on, matched, table.index.isin(wanted))
    output = talkturns.copy()
    for column in columns:
        output[column] = attached[column].to_numpy()
    return output


def _warn_unmatched(talkturns, measurements, on, matched, used):
    if not matched.all():
        missing = talkturns.loc[~matched, on]
        warnings.warn(
            f"attach_measurements: {len(missing)} of {len(talkturns)} talkturns have no row in "
            f"measurements, so their measurements are missing (NaN): "
            f"{_keys_text(missing.itertuples(index=False))}.", UserWarning, stacklevel=3)
    if not used.all():
        unused = measurements.loc[~used, on]
        warnings.warn(
            f"attach_measurements: {len(unused)} of {len(measurements)} rows of measurements "
            f"match no talkturn and are dropped: {_keys_text(unused.itertuples(index=False))}.",
            UserWarning, stacklevel=3)
