"""Train, dev and test rows of an experiment, never sharing a speaker."""

import numpy as np
import pandas as pd

from ..model_selection import PartitionSplit, speaker_groups

__all__ = ["experiment_partitions"]

PARTITIONS = ("train", "dev", "test")
_COLUMN = "__skhanrock_partition"


def _speaker_disjoint(X, fractions, random_state, shared_speakers, speaker_column):
    """Deal whole speaker/conversation components into train, dev and test."""
    components = speaker_groups(X, speaker_column=speaker_column,
                                shared_speakers=shared_speakers)
    n_components = components.max() + 1
    if n_components < 3:
        raise ValueError(
            f"X has only {n_components} speaker-disjoint group(s) (connected components of the "
            "speaker/conversation graph); train, dev and test need three. Pass partition=, or "
            "list speakers who talk in many conversations (interviewers) in shared_speakers.")
    order = np.random.default_rng(random_state).permutation(n_components)
    sizes = np.bincount(components, minlength=n_components)[order]
    # the middle of each component's rows decides its side, so sizes stay near the fractions
    middle = (np.cumsum(sizes) - sizes / 2) / sizes.sum()
    names = np.array(PARTITIONS)[np.searchsorted(np.cumsum(fractions)[:-1], middle)]
    # every side needs one component at least, whatever the sizes
    names[:3] = PARTITIONS
    by_component = np.empty(n_components, dtype=object)
    by_component[order] = names
    return pd.Series(by_component[components], index=X.index)


def _check_speaker_column(X, speaker_column):
    if speaker_column is not None and speaker_column not in X.columns:
        raise ValueError(
            f"speaker_column={speaker_column!r} is not a column of X; its columns are "
            f"{list(X.columns)}. Name the column of speaker ids, or pass speaker_column=None "
            "(--speaker-column none) to skip the check that partitions share no speaker.")


def experiment_partitions(X, y, partition=None, fractions=(0.6, 0.2, 0.2), random_state=None,
                          shared_speakers=None, speaker_column="speaker"):
    """Each row's partition ("train", "dev", "test" or missing), checked.

    Parameters
    ----------
    X : DataFrame
    y : Series
    partition : None, str or array-like
        None: the ``partition`` column of ``X`` when there is one, otherwise a
        random speaker-disjoint split with ``fractions`` of the rows; a str:
        the column of ``X`` that holds the partitions; an array: one value
        per row. Rows of other partitions are left out.
    fractions : tuple of 3 floats
    random_state : int or None
    shared_speakers : list-like or None
        Speakers allowed in several partitions (interviewers, SEMAINE's operators).
    speaker_column : str or None, default="speaker"
        Column of ``X`` with the speakers that partitions must not share; a
        name that is not a column is an error, so that a misspelt column
        cannot skip the check. None skips it explicitly (the random split then
        keeps only conversations whole).

    Returns
    -------
    Series

    Raises
    ------
    ValueError
        For a ``speaker_column`` or ``partition`` column that ``X`` lacks, or
        partitions that share a speaker (other than ``shared_speakers``).

    Examples
    --------
    >>> from skhanrock.datasets import make_conversations
    >>> from skhanrock.experiments._partitions import experiment_partitions
    >>> X, y = make_conversations(n_conversations=9, n_speakers=30, random_state=0)
    >>> sorted(experiment_partitions(X, y, random_state=0).unique())
    ['dev', 'test', 'train']
    >>> experiment_partitions(X, y, speaker_column="speaker_id")
    Traceback (most recent call last):
    ...
    ValueError: speaker_column='speaker_id' is not a column of X; its columns are [...
    """
    _check_speaker_column(X, speaker_column)
    if partition is None:
        partition = "partition" if "partition" in X.columns else None
    if partition is None:
        labels = _speaker_disjoint(X, fractions, random_state, shared_speakers, speaker_column)
    elif isinstance(partition, str):
        if partition not in X.columns:
            raise ValueError(f"partition={partition!r} is not a column of X.")
        labels = X[partition]
    else:
        labels = pd.Series(np.asarray(partition, dtype=object), index=X.index) \
            if len(partition) == len(X) else None
        if labels is None:
            raise ValueError(f"partition has {len(partition)} values but X has {len(X)} rows.")
    labels = labels.where(labels.isin(PARTITIONS))
    frame = X.assign(**{_COLUMN: labels.to_numpy()})
    for held_out in ("dev", "test"):
        next(PartitionSplit(_COLUMN, train="train", test=held_out, speaker_column=speaker_column,
                            shared_speakers=shared_speakers).split(frame, y))
    return labels
