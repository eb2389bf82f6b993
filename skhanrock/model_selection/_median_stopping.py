"""Median stopping of random-search trials, with learning curves in a shared store."""

import sqlite3
import tempfile
import uuid
from pathlib import Path

import numpy as np
import pandas as pd
from skorch.callbacks import Callback

__all__ = ["MedianStopping", "SQLiteCurveStore"]

_SCHEMA = """CREATE TABLE IF NOT EXISTS curves (
    study TEXT NOT NULL, trial TEXT NOT NULL, epoch INTEGER NOT NULL, score REAL NOT NULL,
    PRIMARY KEY (study, trial, epoch))"""


class SQLiteCurveStore:
    """Learning curves of many trials in one SQLite file, safe for concurrent writers.

    Trials of a search run in several processes (``n_jobs``) or machines
    sharing a file system; each write is a short transaction in WAL mode with
    a generous busy timeout, and no connection outlives a call, so the store
    pickles as its path.

    Parameters
    ----------
    path : str or path
        A file path, or a URL ``sqlite:///path``.

    Examples
    --------
    >>> import tempfile, os
    >>> store = SQLiteCurveStore(os.path.join(tempfile.mkdtemp(), "curves.sqlite"))
    >>> store.record("study", "trial-1", 1, 0.9)
    >>> store.curves("study")[["trial", "epoch", "score"]].values.tolist()
    [['trial-1', 1, 0.9]]
    """

    def __init__(self, path):
        self.path = path

    def _file(self):
        text = str(self.path)
        return text[len("sqlite:///"):] if text.startswith("sqlite:///") else text

    def _connect(self):
        connection = sqlite3.connect(self._file(), timeout=60)
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute(_SCHEMA)
        return connection

    def check_writable(self):
        """Create the file and table, or raise an error naming the path."""
        try:
            Path(self._file()).parent.mkdir(parents=True, exist_ok=True)
            with self._connect() as connection:
                connection.execute("SELECT COUNT(*) FROM curves").fetchone()
        except (sqlite3.Error, OSError) as error:
            raise ValueError(
                f"The learning-curve store {str(self.path)!r} cannot be written: {error}.") \
                from error

    def record(self, study, trial, epoch, score):
        """Store one epoch's score of one trial."""
        with self._connect() as connection:
            connection.execute("INSERT OR REPLACE INTO curves VALUES (?, ?, ?, ?)",
                               (str(study), str(trial), int(epoch), float(score)))

    def curves(self, study):
        """All curves of a study: columns ``trial, epoch, score``."""
        with self._connect() as connection:
            rows = connection.execute(
                "SELECT trial, epoch, score FROM curves WHERE study = ? ORDER BY trial, epoch",
                (str(study),)).fetchall()
        return pd.DataFrame(rows, columns=["trial", "epoch", "score"])

    def __repr__(self):
        return f"SQLiteCurveStore({str(self.path)!r})"


def _default_store():
    return SQLiteCurveStore(Path(tempfile.gettempdir()) / "skhanrock-curves.sqlite")


class MedianStopping(Callback):
    """Stop a trial whose best score is worse than the median of the other trials.

    After every epoch the trial's monitored score goes to a shared store.
    From epoch ``first_check`` on, every ``every`` epochs, the trial's best
    score so far is compared with the running averages (mean score up to that
    epoch) of the other trials of the same study that reached that epoch; a
    trial worse than their median stops, the way skorch's ``EarlyStopping``
    stops training.

    Parameters
    ----------
    store : SQLiteCurveStore, str, path or None, default=None
        Shared store of the learning curves (a path or ``sqlite:///`` URL is
        wrapped in :class:`SQLiteCurveStore`); None uses a file in the
        temporary folder.
    study : str, default="default"
        Trials are compared within a study only.
    trial : str or None, default=None
        Id of this trial; a fresh random id at each training when None.
    monitor : str, default="valid_loss"
        History key of the dev score.
    lower_is_better : bool, default=True
    first_check : int, default=5
    every : int, default=2

    Attributes
    ----------
    trial_ : str
    stopped_epoch_ : int or None

    Examples
    --------
    >>> import os, tempfile
    >>> from skhanrock import HanRockClassifier
    >>> from skhanrock.model_selection import MedianStopping
    >>> from skhanrock.nn import ConversationValidSplit
    >>> store = os.path.join(tempfile.mkdtemp(), "curves.sqlite")
    >>> clf = HanRockClassifier(train_split=ConversationValidSplit(0.25),
    ...                         callbacks=[MedianStopping(store, study="demo")])
    """

    def __init__(self, store=None, study="default", trial=None, monitor="valid_loss",
                 lower_is_better=True, first_check=5, every=2):
        self.store = store
        self.study = study
        self.trial = trial
        self.monitor = monitor
        self.lower_is_better = lower_is_better
        self.first_check = first_check
        self.every = every

    def _resolved_store(self):
        if self.store is None:
            return _default_store()
        return self.store if isinstance(self.store, SQLiteCurveStore) \
            else SQLiteCurveStore(self.store)

    def on_train_begin(self, net, **kwargs):
        """Check the store and pick this trial's id."""
        if int(self.first_check) < 1 or int(self.every) < 1:
            raise ValueError(f"first_check and every must be positive integers, got "
                             f"{self.first_check} and {self.every}.")
        self.store_ = self._resolved_store()
        self.store_.check_writable()
        self.trial_ = str(self.trial) if self.trial is not None else uuid.uuid4().hex
        self.stopped_epoch_ = None

    def on_epoch_end(self, net, **kwargs):
        """Record the epoch's score and stop the trial if it is below the median."""
        history = net.history
        if self.monitor not in history[-1]:
            raise ValueError(
                f"MedianStopping monitors {self.monitor!r}, which the net's history does not "
                "have; give the net a train_split (e.g. ConversationValidSplit) or another "
                "monitor.")
        epoch = len(history)
        self.store_.record(self.study, self.trial_, epoch, history[-1, self.monitor])
        if epoch < self.first_check or (epoch - self.first_check) % self.every:
            return
        if self._below_median(history[:, self.monitor], epoch):
            self.stopped_epoch_ = epoch
            if net.verbose:
                print(f"MedianStopping: trial {self.trial_} stopped at epoch {epoch}.")
            raise KeyboardInterrupt

    def _below_median(self, scores, epoch):
        curves = self.store_.curves(self.study)
        others = curves[(curves["trial"] != self.trial_) & (curves["epoch"] <= epoch)]
        reached = others.groupby("trial")["epoch"].max()
        running = others[others["trial"].isin(reached[reached >= epoch].index)] \
            .groupby("trial")["score"].mean()
        if running.empty:
            return False
        median = float(np.median(running))
        best = min(scores) if self.lower_is_better else max(scores)
        return best > median if self.lower_is_better else best < median
