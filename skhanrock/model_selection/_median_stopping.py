"""Median stopping of random-search trials, with learning curves in a shared store."""

import os
import random
import sqlite3
import time
import uuid
from pathlib import Path

import numpy as np
import pandas as pd
from skorch.callbacks import Callback

__all__ = ["MedianStopping", "SQLiteCurveStore", "check_curve_store", "below_median",
           "check_finite_score"]

_SCHEMA = """CREATE TABLE IF NOT EXISTS curves (
    study TEXT NOT NULL, trial TEXT NOT NULL, epoch INTEGER NOT NULL, score REAL NOT NULL,
    PRIMARY KEY (study, trial, epoch))"""

_COLUMNS = ["study", "trial", "epoch", "score"]

_SQLITE_URL = "sqlite:///"


def _sqlite_file(path, parameter="path"):
    """The file that a path or ``sqlite:///`` URL names; other URLs and in-memory databases fail."""
    text = os.fspath(path)
    if text.startswith(_SQLITE_URL):
        text = text[len(_SQLITE_URL):]
    elif "://" in text:
        raise ValueError(
            f"{parameter}={text!r}: only a file path or a 'sqlite:///path' URL is an SQLite "
            "store; for another database or service, pass an object with record(study, trial, "
            "epoch, score) and curves(study) methods (see MedianStopping).")
    if text in ("", ":memory:"):
        raise ValueError(f"{parameter}={os.fspath(path)!r} names no file; the curves must "
                         "live in a file that every trial's process opens.")
    return text


def check_finite_score(store, trial, epoch, score):
    """Refuse a NaN or infinite ``score`` for ``store``'s ``record``, naming trial and epoch.

    Every curve store keeps finite scores only: a non-finite one would break
    every running average the median rule compares.
    """
    if not np.isfinite(float(score)):
        raise ValueError(
            f"{store}.record: score of trial {trial!r} at epoch {epoch} is {score}; only finite "
            "scores are stored (MedianStopping stops a trial whose score is not finite instead "
            "of recording it).")


class SQLiteCurveStore:
    """Learning curves of many trials in one SQLite file, safe for concurrent writers on one host.

    Trials of a search run in several processes (``n_jobs``, or Dask workers
    on this machine); each write is a short transaction in WAL mode with a
    generous busy timeout, and no connection outlives a call, so the store
    pickles as its path. WAL needs memory shared by all writers, so every
    writer must run on the host that holds the file: for workers on several
    machines, pass :class:`MedianStopping` a store object of your own (see
    its ``store`` parameter).

    Parameters
    ----------
    path : str or path
        A file path, or a URL ``sqlite:///path`` (``sqlite:////abs/path`` for an
        absolute path, as in SQLAlchemy). Other URL schemes are refused.

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
        return _sqlite_file(self.path)

    def _connect(self, timeout=60.0):
        connection = sqlite3.connect(self._file(), timeout=timeout)
        deadline = time.monotonic() + timeout
        while True:
            try:
                connection.execute("PRAGMA journal_mode=WAL")
                connection.execute(_SCHEMA)
                break
            except sqlite3.OperationalError as error:
                # Processes opening a fresh file together race to switch it to WAL;
                # SQLite answers "locked" at once there, without its busy timeout.
                if "locked" not in str(error) or time.monotonic() > deadline:
                    connection.close()
                    raise
                time.sleep(0.01 + 0.04 * random.random())
        try:
            self._check_table(connection)
        except ValueError:
            connection.close()
            raise
        return connection

    def _check_table(self, connection):
        """Refuse a ``curves`` table of another program (CREATE ... IF NOT EXISTS kept it)."""
        columns = [row[1] for row in connection.execute("PRAGMA table_info(curves)")]
        if sorted(columns) != sorted(_COLUMNS):
            raise ValueError(
                f"The learning-curve store {str(self.path)!r} has a table 'curves' with the "
                f"columns {columns}, not {_COLUMNS}: the file belongs to something else. Give "
                "MedianStopping a file of its own (a fresh path).")

    def check_writable(self):
        """Create the file and table, or raise an error naming the path.

        A ``curves`` table with other columns (a file of another program) is
        an error naming the file and the expected columns.
        """
        file = self._file()
        try:
            Path(file).parent.mkdir(parents=True, exist_ok=True)
            self._connect().close()
        except (sqlite3.Error, OSError) as error:
            raise ValueError(
                f"The learning-curve store {str(self.path)!r} cannot be written: {error}.") \
                from error

    def record(self, study, trial, epoch, score):
        """Store one epoch's score of one trial.

        Parameters
        ----------
        study, trial : str
        epoch : int
            1-based epoch.
        score : float
            Finite; a NaN or infinite score is refused (NaN would break the
            table's NOT NULL constraint, infinity every running average).

        Raises
        ------
        ValueError
            When ``score`` is not a finite number.
        """
        check_finite_score("SQLiteCurveStore", trial, epoch, score)
        with self._connect() as connection:
            connection.execute("INSERT OR REPLACE INTO curves (study, trial, epoch, score) "
                               "VALUES (?, ?, ?, ?)",
                               (str(study), str(trial), int(epoch), float(score)))

    def curves(self, study):
        """All curves of a study.

        Parameters
        ----------
        study : str

        Returns
        -------
        DataFrame
            Columns ``trial, epoch, score``, sorted by trial and epoch.
        """
        with self._connect() as connection:
            rows = connection.execute(
                "SELECT trial, epoch, score FROM curves WHERE study = ? ORDER BY trial, epoch",
                (str(study),)).fetchall()
        return pd.DataFrame(rows, columns=["trial", "epoch", "score"])

    def __repr__(self):
        return f"SQLiteCurveStore({str(self.path)!r})"


def check_curve_store(store, input_name="store"):
    """The learning-curve store that a path, URL or store object stands for, checked.

    What :class:`MedianStopping` does with its ``store``, for a caller that
    wants a bad store refused before anything is trained (as
    :func:`~skhanrock.experiments.run_experiment` does with its
    ``median_stopping``).

    Parameters
    ----------
    store : str, path-like or store object
        A file path or a ``sqlite:///path`` URL (an SQLite file), or an object
        with ``record(study, trial, epoch, score)`` and ``curves(study)``
        methods; see :class:`MedianStopping`.
    input_name : str, default="store"
        The parameter that gave ``store``, named in the errors.

    Returns
    -------
    object
        ``store`` itself when it is a store object, else an
        :class:`SQLiteCurveStore` for the file.

    Raises
    ------
    ValueError
        For None, another URL scheme or a path that names no file.
    TypeError
        For anything else that is not a store object.

    Examples
    --------
    >>> from skhanrock.model_selection import check_curve_store
    >>> check_curve_store("sqlite:///curves.sqlite")
    SQLiteCurveStore('sqlite:///curves.sqlite')
    >>> check_curve_store("postgresql://db", "median_stopping")
    Traceback (most recent call last):
    ...
    ValueError: median_stopping='postgresql://db': only a file path or a 'sqlite:///path' URL...
    """
    if store is None:
        raise ValueError(
            f"MedianStopping needs {input_name}=: a file path or 'sqlite:///' URL (an SQLite "
            "file), or a store object. There is no default file, because a trial is compared "
            "with every curve of its study in the store: a file shared by unrelated runs would "
            "let their old curves set the median. Give each search a fresh file (or a new "
            "study).")
    if isinstance(store, str | os.PathLike):
        _sqlite_file(store, input_name)
        return SQLiteCurveStore(store)
    if callable(getattr(store, "record", None)) and callable(getattr(store, "curves", None)):
        return store
    raise TypeError(f"{input_name} must be a path, a 'sqlite:///' URL or an object with "
                    "record(study, trial, epoch, score) and curves(study) methods, got "
                    f"{type(store).__name__}.")


class MedianStopping(Callback):
    """Stop a trial whose best score is worse than the median of the other trials.

    After every epoch the trial's monitored score goes to a shared store.
    From epoch ``first_check`` on, every ``every`` epochs, the trial's best
    score so far is compared with the running averages (mean score up to that
    epoch) of the other trials of the same study that reached that epoch; a
    trial worse than their median stops, the way skorch's ``EarlyStopping``
    stops training. A trial whose score is NaN or infinite has diverged: it
    stops at once, at any epoch, and that score is not written to the store
    (it is worse than any median, and would spoil the other trials' medians).

    Parameters
    ----------
    store : str, path-like or store object
        Where every trial of the search writes and reads the learning curves:

        - a file path or a ``sqlite:///path`` URL: an embedded SQLite file
          (:class:`SQLiteCurveStore`), safe for concurrent writers on one host;
        - any object with two methods, ``record(study, trial, epoch, score)``
          (given str, str, int and float) and ``curves(study)`` returning a
          DataFrame with columns ``trial`` (str), ``epoch`` and ``score`` for
          every curve of the study, from any process (and, optionally,
          ``check_writable()``, called before training, and
          ``finish(study, trial, stopped)``, called when a training ends
          without an error). It is pickled to each process of the
          search, so it must name shared storage rather than hold the curves.
          This is the way to share curves between machines, or through a
          database the package does not know;
          :class:`~skhanrock.model_selection.OptunaCurveStore` is one, for
          any Optuna storage (PostgreSQL, MySQL, a journal file).

        Other URL schemes (``postgresql://``, ``http://``) are refused. There
        is no default: a trial is compared with every curve of its study in
        the store, so a file shared by unrelated runs would let their old
        curves set the median. Give each search a fresh file, or a new study.
    study : str, default="default"
        Trials are compared within a study only.
    trial : str or None, default=None
        Id of this trial; a fresh random id at each training when None.
    monitor : str, default="valid_loss"
        History key of the dev score.
    lower_is_better : bool, default=True
        Whether a lower monitored score is better (True for a loss).
    first_check : int, default=5
        First epoch at which the rule is applied.
    every : int, default=2
        Epochs between two checks.

    Attributes
    ----------
    store_ : object
        The store in use (a path becomes a :class:`SQLiteCurveStore`).
    trial_ : str
        Id of the trial of the last training.
    stopped_epoch_ : int or None
        Epoch at which the rule (or a non-finite score) stopped the trial,
        None if it ran to the end.

    Examples
    --------
    >>> import os, tempfile
    >>> from skhanrock import HanRockClassifier
    >>> from skhanrock.model_selection import MedianStopping
    >>> from skhanrock.nn import ConversationValidSplit
    >>> store = os.path.join(tempfile.mkdtemp(), "curves.sqlite")  # a fresh file per search
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

    def on_train_begin(self, net, **kwargs):
        """Check the store and pick this trial's id."""
        if int(self.first_check) < 1 or int(self.every) < 1:
            raise ValueError(f"first_check and every must be positive integers, got "
                             f"{self.first_check} and {self.every}.")
        self.store_ = check_curve_store(self.store)
        check = getattr(self.store_, "check_writable", None)
        if callable(check):
            check()
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
        score = float(history[-1, self.monitor])
        if not np.isfinite(score):
            self._stop(net, epoch, f"its {self.monitor} is {score} (diverged)")
        self.store_.record(str(self.study), self.trial_, epoch, score)
        if epoch < self.first_check or (epoch - self.first_check) % self.every:
            return
        if self._below_median(history[:, self.monitor], epoch):
            self._stop(net, epoch, "it is worse than the median of the other trials")

    def _stop(self, net, epoch, reason):
        """End the training the way skorch's EarlyStopping does."""
        self.stopped_epoch_ = epoch
        if net.verbose:
            print(f"MedianStopping: trial {self.trial_} stopped at epoch {epoch}: {reason}.")
        raise KeyboardInterrupt

    def on_train_end(self, net, **kwargs):
        """Tell a store that keeps trial states (``finish(study, trial, stopped)``) the outcome."""
        finish = getattr(getattr(self, "store_", None), "finish", None)
        if callable(finish):
            finish(str(self.study), self.trial_, self.stopped_epoch_ is not None)

    def _below_median(self, scores, epoch):
        return below_median(self.store_.curves(str(self.study)), self.trial_, scores, epoch,
                            self.lower_is_better)


def below_median(curves, trial, scores, epoch, lower_is_better=True):
    """The paper's median stopping rule: is this trial's best score worse than the median?

    The one place the rule lives: :class:`MedianStopping` applies it to the
    curves of its store, :class:`~skhanrock.model_selection.MedianStoppingPruner`
    to those of an Optuna study. The other trials are those that reached
    ``epoch``; each counts with its running average (its mean score over epochs
    up to ``epoch``), as in Google Vizier's median stopping rule.

    Parameters
    ----------
    curves : DataFrame
        Columns ``trial, epoch, score``: every curve of the study (this
        trial's rows are ignored).
    trial : str
        Id of this trial.
    scores : sequence of float
        This trial's scores up to ``epoch``.
    epoch : int
    lower_is_better : bool, default=True

    Returns
    -------
    bool
        False when no other trial reached ``epoch``.

    Examples
    --------
    >>> import pandas as pd
    >>> curves = pd.DataFrame({"trial": ["a", "a", "b", "b"], "epoch": [1, 2, 1, 2],
    ...                        "score": [0.5, 0.3, 0.9, 0.8]})
    >>> below_median(curves, "c", [0.7, 0.65], 2), below_median(curves, "c", [0.7, 0.6], 2)
    (True, False)
    """
    others = curves[(curves["trial"] != trial) & (curves["epoch"] <= epoch)]
    reached = others.groupby("trial")["epoch"].max()
    running = others[others["trial"].isin(reached[reached >= epoch].index)] \
        .groupby("trial")["score"].mean()
    if running.empty:
        return False
    median = float(np.median(running))
    best = min(scores) if lower_is_better else max(scores)
    return best > median if lower_is_better else best < median
