"""Predefined train/dev/test partitions read from a column of the talkturn frame."""

import numpy as np
import pandas as pd
from sklearn.model_selection import BaseCrossValidator

from ._splits import (
    _check_key_columns,
    _check_talkturns,
    _shared_speaker_rows,
    check_split_classes,
)

__all__ = ["IEMOCAP_PARTITIONS", "SEMAINE_PARTITIONS", "PartitionSplit"]

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
                _shared_speaker_rows(X, None, self.shared_speakers, "PartitionSplit")
            return
        _check_key_columns(X, "PartitionSplit", speaker_column=self.speaker_column)
        speakers = X[self.speaker_column].to_numpy()
        allowed = _shared_speaker_rows(X, self.speaker_column, self.shared_speakers,
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
        _check_talkturns(X, y, "PartitionSplit")
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
