"""Train/dev/test partitions: predefined in a column of the talkturn frame, or drawn."""

import numpy as np
import pandas as pd
from sklearn.model_selection import BaseCrossValidator

from .._utils.validation import check_number
from ._splits import (
    check_key_columns,
    check_split_classes,
    check_talkturns,
    shared_speaker_rows,
    speaker_groups,
)

__all__ = ["IEMOCAP_PARTITIONS", "SEMAINE_PARTITIONS", "PartitionSplit",
           "train_dev_test_partition"]

#: The partition names, in the order their fractions are given.
_PARTITIONS = ("train", "dev", "test")
# A column name no talkturn frame uses, for the partitions while they are checked.
_COLUMN = "__skhanrock_partition"

#: The paper's IEMOCAP partitions: sessions 1-3 train, 4 dev, 5 test (each
#: session has its own two actors, so no speaker crosses partitions).
IEMOCAP_PARTITIONS = {1: "train", 2: "train", 3: "train", 4: "dev", 5: "test"}

_SEMAINE_TABLE = {
    "train": ("2008.12.05.16.03.15", "2009.01.30.12.00.35", "2009.02.12.10.49.45",
              "2009.05.15.15.04.29", "2009.05.29.14.30.05", "2009.05.22.15.17.45",
              "2009.05.25.11.23.09", "2009.05.26.10.19.53", "2009.06.05.10.14.28",
              "2009.06.15.12.13.06", "2009.06.19.14.01.24", "2009.10.27.16.17.38"),
    "dev": ("2008.12.19.11.03.11", "2009.01.06.14.53.49", "2009.05.12.15.02.01",
            "2009.05.08.11.28.48"),
    "test": ("2008.12.14.14.47.07", "2009.01.06.12.41.42", "2009.01.28.15.35.20",
             "2009.06.26.14.38.17", "2009.06.26.14.09.45"),
}
#: The paper's SEMAINE partitions (its appendix, Table 5): recording id (the
#: ``recording`` column of :func:`~skhanrock.datasets.load_semaine`) -> ``"train"``
#: (12 recordings), ``"dev"`` (4) or ``"test"`` (5). A recording holds one
#: user's conversations with the operator characters (``load_semaine`` names
#: the user ``user-<recording>``), so users never cross partitions; the
#: operators do, and go in ``shared_speakers``. The paper lists
#: ``2009.06.26.14.38.17`` under both dev (404 talkturns) and test (440); one
#: entry is a misprint that the paper cannot resolve, and a recording on both
#: sides would score the model on a user it was tuned on. It is in test only:
#: the test side then keeps the five recordings the table lists, and dev
#: still has four (the paper's other dev entries).
SEMAINE_PARTITIONS = {recording: partition for partition, recordings in _SEMAINE_TABLE.items()
                      for recording in recordings}


def _as_names(value, parameter):
    names = (value,) if isinstance(value, str) else tuple(value)
    if not names:
        raise ValueError(f"{parameter} must name at least one partition.")
    return names


class PartitionSplit(BaseCrossValidator):
    """One split between predefined partitions, such as a corpus's train and dev sessions.

    Each row's partition is read from a column of the talkturn frame,
    optionally through a mapping (IEMOCAP's ``session`` column with
    :data:`IEMOCAP_PARTITIONS`, SEMAINE's ``recording`` column with
    :data:`SEMAINE_PARTITIONS`). The split trains on the ``train`` partitions
    and tests on the ``test`` ones; rows of other partitions are left out.
    Because the paper's partitions never share a speaker, a split whose two
    sides share one is an error rather than a silently optimistic score.

    Parameters
    ----------
    column : str, default="partition"
        Column of ``X`` with the partition (or the key ``mapping`` maps).
    train : str or sequence of str, default="train"
        Partition(s) to train on.
    test : str or sequence of str, default="dev"
        Partition(s) to test on.
    mapping : dict or None, default=None
        Column value -> partition name; values it lacks belong to no partition.
    speaker_column : str or None, default="speaker"
        Column checked for speakers on both sides. A named column that ``X``
        lacks is an error naming it (a misspelt name must not skip the check);
        None skips the check on purpose.
    shared_speakers : list-like or None, default=None
        Speakers allowed on both sides, such as SEMAINE's operators, who talk
        with every user (``X.loc[X["role"] == "operator", "speaker"].unique()``
        on :func:`~skhanrock.datasets.load_semaine`'s frame); everyone else
        must stay on one side. A listed speaker without a row gives a warning.

    Examples
    --------
    >>> import pandas as pd
    >>> from skhanrock.model_selection import IEMOCAP_PARTITIONS, PartitionSplit
    >>> X = pd.DataFrame({"session": [1, 2, 4, 5],
    ...                   "speaker": ["Ses01_F", "Ses02_M", "Ses04_F", "Ses05_M"]})
    >>> split = PartitionSplit("session", mapping=IEMOCAP_PARTITIONS)
    >>> [(train.tolist(), test.tolist()) for train, test in split.split(X)]
    [([0, 1], [2])]
    >>> split.partition(X).tolist()
    ['train', 'train', 'dev', 'test']
    """

    def __init__(self, column="partition", train="train", test="dev", mapping=None,
                 speaker_column="speaker", shared_speakers=None):
        self.column = column
        self.train = train
        self.test = test
        self.mapping = mapping
        self.speaker_column = speaker_column
        self.shared_speakers = shared_speakers

    def partition(self, X):
        """Partition name of each row (missing where the mapping has no entry).

        Parameters
        ----------
        X : DataFrame

        Returns
        -------
        Series
        """
        if not isinstance(X, pd.DataFrame):
            raise TypeError(f"PartitionSplit needs a talkturn DataFrame, got {type(X).__name__}.")
        if self.column not in X.columns:
            raise ValueError(f"PartitionSplit: X has no partition column {self.column!r}; "
                             f"its columns are {list(X.columns)}.")
        values = X[self.column]
        return values.map(self.mapping) if self.mapping is not None else values

    def _rows_of(self, partition, names, parameter):
        rows = np.flatnonzero(partition.isin(names).to_numpy())
        if not len(rows):
            found = sorted(partition.dropna().astype(str).unique())
            raise ValueError(f"PartitionSplit: no row of X is in {parameter}={list(names)}; "
                             f"column {self.column!r} gives the partitions {found}.")
        return rows

    def _check_speakers(self, X, train, test):
        if self.speaker_column is None:
            if self.shared_speakers is not None:
                shared_speaker_rows(X, None, self.shared_speakers, "PartitionSplit")
            return
        check_key_columns(X, "PartitionSplit", speaker_column=self.speaker_column)
        speakers = X[self.speaker_column].to_numpy()
        allowed = shared_speaker_rows(X, self.speaker_column, self.shared_speakers,
                                       "PartitionSplit")
        train, test = (rows[~allowed[rows]] for rows in (train, test))
        shared = sorted(set(speakers[train]) & set(speakers[test]), key=str)
        if shared:
            raise ValueError(
                f"PartitionSplit(train={self.train!r}, test={self.test!r}) would put speaker(s) "
                f"{shared[:10]} on both sides; partitions must be speaker-disjoint (speakers "
                "such as interviewers, who may be on both sides, go in shared_speakers).")

    def split(self, X, y=None, groups=None):
        """Yield the one (train, test) pair of row positions.

        Parameters
        ----------
        X : DataFrame
            Talkturn frame with the partition column.
        y : array-like or None
            Labels, one per row of ``X``; a class that occurs in ``y`` but not
            in the training rows is an error.
        groups : ignored
        """
        check_talkturns(X, y, "PartitionSplit")
        partition = self.partition(X)
        train = self._rows_of(partition, _as_names(self.train, "train"), "train")
        test = self._rows_of(partition, _as_names(self.test, "test"), "test")
        overlap = set(_as_names(self.train, "train")) & set(_as_names(self.test, "test"))
        if overlap:
            raise ValueError(f"PartitionSplit: partition(s) {sorted(overlap)} are both train "
                             "and test.")
        self._check_speakers(X, train, test)
        check_split_classes(y, train, f"PartitionSplit(train={self.train!r})")
        yield train, test

    def get_n_splits(self, X=None, y=None, groups=None):
        """Always 1.

        Parameters
        ----------
        X, y, groups : ignored
        """
        return 1


def _check_fractions(fractions):
    """Three positive fractions of the rows that add up to one."""
    fractions = tuple(fractions) if np.iterable(fractions) else (fractions,)
    if len(fractions) != 3:
        raise ValueError(f"fractions must give the train, dev and test fractions (three "
                         f"numbers), got {fractions!r}.")
    for name, value in zip(_PARTITIONS, fractions, strict=True):
        check_number(f"fractions ({name})", value, low=0, high=1, low_open=True)
    if not np.isclose(sum(fractions), 1.0):
        raise ValueError(f"fractions must add up to 1, got {fractions!r} (sum "
                         f"{sum(fractions):g}).")
    return np.asarray(fractions, dtype=float)


def _speaker_disjoint(X, fractions, random_state, shared_speakers, speaker_column,
                      conversation_column):
    """Deal whole speaker/conversation components into train, dev and test."""
    components = speaker_groups(X, speaker_column=speaker_column,
                                conversation_column=conversation_column,
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
    names = np.array(_PARTITIONS)[np.searchsorted(np.cumsum(fractions)[:-1], middle)]
    # every side needs one component at least, whatever the sizes
    names[:3] = _PARTITIONS
    by_component = np.empty(n_components, dtype=object)
    by_component[order] = names
    return pd.Series(by_component[components], index=X.index)


def _check_speaker_column(X, speaker_column):
    if speaker_column is not None and speaker_column not in X.columns:
        raise ValueError(
            f"speaker_column={speaker_column!r} is not a column of X; its columns are "
            f"{list(X.columns)}. Name the column of speaker ids, or pass speaker_column=None "
            "to skip the check that partitions share no speaker.")


def _given_partition(X, partition):
    """Partition of each row from a column name or one value per row."""
    if isinstance(partition, str):
        if partition not in X.columns:
            raise ValueError(f"partition={partition!r} is not a column of X; its columns are "
                             f"{list(X.columns)}.")
        return X[partition]
    if len(partition) != len(X):
        raise ValueError(f"partition has {len(partition)} values but X has {len(X)} rows.")
    return pd.Series(np.asarray(partition, dtype=object), index=X.index)


def train_dev_test_partition(X, y=None, partition=None, *, fractions=(0.6, 0.2, 0.2),
                             random_state=None, shared_speakers=None, speaker_column="speaker",
                             conversation_column="conversation"):
    """Each row's partition ("train", "dev", "test" or missing), never sharing a speaker.

    Either the partitions a corpus defines, checked, or a random split that
    deals whole speaker/conversation groups (:func:`speaker_groups`) into
    train, dev and test. Either way the three partitions share no speaker
    (other than ``shared_speakers``), and every class of ``y`` has a labelled
    training row; the result feeds :class:`PartitionSplit` or
    :func:`~skhanrock.experiments.run_experiment`.

    Parameters
    ----------
    X : DataFrame
        Talkturn frame.
    y : array-like or None, default=None
        Labels, one per row of ``X``; a class with no labelled training row
        is an error.
    partition : None, str or array-like, default=None
        None: the ``partition`` column of ``X`` when there is one, otherwise a
        random speaker-disjoint split with ``fractions`` of the rows; a str:
        the column of ``X`` that holds the partitions; an array: one value
        per row. Rows of other partitions are left out (missing).
    fractions : tuple of 3 floats, default=(0.6, 0.2, 0.2)
        Train, dev and test fractions of the rows for a random split: each in
        (0, 1], adding up to 1. Whole groups are dealt, so the sizes are near
        them, and each partition gets one group at least.
    random_state : int, Generator or None, default=None
        Seeds the random split.
    shared_speakers : list-like or None, default=None
        Speakers allowed in several partitions (interviewers, SEMAINE's operators).
    speaker_column : str or None, default="speaker"
        Column of ``X`` with the speakers that partitions must not share; a
        name that is not a column is an error, so that a misspelt column
        cannot skip the check. None skips it explicitly (the random split then
        keeps only conversations whole).
    conversation_column : str or None, default="conversation"
        Column of ``X`` with the conversation ids that a random split keeps
        whole; None groups the rows by speaker only.

    Returns
    -------
    Series
        Indexed like ``X``.

    Raises
    ------
    ValueError
        For a ``speaker_column`` or ``partition`` column that ``X`` lacks,
        partitions that share a speaker (other than ``shared_speakers``), or
        a class of ``y`` with no labelled training row; for a random split
        also for a ``conversation_column`` that ``X`` lacks, ``fractions``
        that are not three positive numbers adding up to 1, or fewer than
        three speaker-disjoint groups.

    Examples
    --------
    >>> from skhanrock.datasets import make_conversations
    >>> from skhanrock.model_selection import train_dev_test_partition
    >>> X, y = make_conversations(n_conversations=9, n_speakers=30, random_state=0)
    >>> sorted(train_dev_test_partition(X, y, random_state=0).unique())
    ['dev', 'test', 'train']
    >>> train_dev_test_partition(X, y, speaker_column="speaker_id")
    Traceback (most recent call last):
    ...
    ValueError: speaker_column='speaker_id' is not a column of X; its columns are [...
    """
    check_talkturns(X, y, "train_dev_test_partition")
    _check_speaker_column(X, speaker_column)
    if partition is None and "partition" in X.columns:
        partition = "partition"
    if partition is None:
        labels = _speaker_disjoint(X, _check_fractions(fractions), random_state, shared_speakers,
                                   speaker_column, conversation_column)
    else:
        labels = _given_partition(X, partition)
    labels = labels.where(labels.isin(_PARTITIONS))
    frame = X.assign(**{_COLUMN: labels.to_numpy()})
    for held_out in ("dev", "test"):
        next(PartitionSplit(_COLUMN, train="train", test=held_out, speaker_column=speaker_column,
                            shared_speakers=shared_speakers).split(frame, y))
    return labels
