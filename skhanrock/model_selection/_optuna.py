"""Optuna as the study engine: the paper's median stopping on any Optuna storage.

Optuna is an optional dependency (the ``optuna`` extra); it is imported when
a store or pruner is used, never when the package is.
"""

import numpy as np
import pandas as pd

from ._median_stopping import below_median, check_finite_score

__all__ = ["MedianStoppingPruner", "OptunaCurveStore", "study_curves"]

_CURVE_ID = "curve_id"


def _optuna():
    try:
        import optuna
    except ImportError as error:
        raise ImportError("Optuna is not installed; install the extra: "
                          "pip install 'skhanrock[optuna]'.") from error
    return optuna


def _curve_id(trial):
    """The id a trial's curve goes by: MedianStopping's trial id, else the trial number."""
    return str(trial.user_attrs.get(_CURVE_ID, f"#{trial.number}"))


def _live_states():
    """Trials whose curves count: running, finished or pruned (a failed one's run is gone)."""
    state = _optuna().trial.TrialState
    return (state.RUNNING, state.COMPLETE, state.PRUNED)


def study_curves(study):
    """Every curve of an Optuna study, as :class:`MedianStopping`'s stores give them.

    Running, complete and pruned trials count; failed ones (a killed worker's,
    once marked) do not. When several trials carry one curve id (a trial run
    again), the latest stands for it, as a rerun overwrites its rows in an
    :class:`~skhanrock.model_selection.SQLiteCurveStore`. Non-finite values
    are left out, as that store refuses them.

    Parameters
    ----------
    study : optuna.study.Study

    Returns
    -------
    DataFrame
        Columns ``trial, epoch, score``, sorted by trial and epoch.

    Examples
    --------
    >>> import optuna
    >>> from skhanrock.model_selection import study_curves
    >>> optuna.logging.set_verbosity(optuna.logging.WARNING)
    >>> study = optuna.create_study()
    >>> trial = study.ask()
    >>> trial.report(0.8, 1)
    >>> trial.report(0.6, 2)
    >>> study_curves(study).values.tolist()
    [['#0', 1, 0.8], ['#0', 2, 0.6]]
    """
    latest = {}
    for trial in study.get_trials(deepcopy=False, states=_live_states()):
        latest[_curve_id(trial)] = trial  # get_trials lists trials by number
    rows = [(curve, int(step), float(value)) for curve, trial in latest.items()
            for step, value in trial.intermediate_values.items() if np.isfinite(value)]
    return pd.DataFrame(rows, columns=["trial", "epoch", "score"]) \
        .sort_values(["trial", "epoch"], ignore_index=True)


class MedianStoppingPruner:
    """Optuna pruner applying the paper's median stopping rule, as :class:`MedianStopping` does.

    At step ``first_check`` and every ``every`` steps after it, a trial
    whose best intermediate value so far is worse than the median of the
    running averages of the other trials that reached the step is pruned; a
    trial whose last value is NaN or infinite is pruned at any step. The
    other trials are the study's running, complete and pruned ones (see
    :func:`study_curves`), so a worker's decision sees the curves of every
    other worker of the study, finished or not.

    Optuna's own ``MedianPruner(n_warmup_steps=5, interval_steps=2)`` is not
    the same rule: it compares with the median of the *completed* trials'
    values *at* the step, not with all trials' running averages, so the two
    stop different trials on the same curves. This pruner gives the
    decisions of :class:`MedianStopping` with a
    :class:`~skhanrock.model_selection.SQLiteCurveStore` on the same curves.

    Parameters
    ----------
    first_check : int, default=5
        First step at which the rule is applied. Steps are what the objective
        reports: optuna-integration's ``SkorchPruningCallback`` reports epoch
        ``n`` as step ``n - 1``, so ``first_check=4`` there checks from the
        fifth epoch, as the paper does.
    every : int, default=2
        Steps between two checks.

    Examples
    --------
    >>> import optuna
    >>> from skhanrock.model_selection import MedianStoppingPruner
    >>> optuna.logging.set_verbosity(optuna.logging.WARNING)
    >>> study = optuna.create_study(pruner=MedianStoppingPruner(first_check=2, every=1))
    >>> def objective(trial):
    ...     for step in range(1, 5):
    ...         trial.report(trial.number + 1.0, step)  # later trials are worse
    ...         if trial.should_prune():
    ...             raise optuna.TrialPruned()
    ...     return trial.number + 1.0
    >>> study.optimize(objective, n_trials=3)
    >>> [trial.state.name for trial in study.trials]
    ['COMPLETE', 'PRUNED', 'PRUNED']
    """

    def __init__(self, first_check=5, every=2):
        # a pruner, not an estimator: checking here names the mistake where it is made
        for name, value in (("first_check", first_check), ("every", every)):
            if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
                raise ValueError(f"MedianStoppingPruner: {name} must be a positive integer, "
                                 f"got {value!r}.")
        self.first_check = int(first_check)
        self.every = int(every)

    def prune(self, study, trial):
        """Whether ``trial`` (an ``optuna.trial.FrozenTrial``) stops now (Optuna's pruner API)."""
        step = trial.last_step
        if step is None:
            return False
        values = trial.intermediate_values
        if not np.isfinite(values[step]):
            return True
        if step < self.first_check or (step - self.first_check) % self.every:
            return False
        scores = [value for s, value in values.items() if s <= step]
        lower_is_better = study.direction == _optuna().study.StudyDirection.MINIMIZE
        return below_median(study_curves(study), _curve_id(trial), scores, step,
                            lower_is_better)

    def __repr__(self):
        return f"MedianStoppingPruner(first_check={self.first_check}, every={self.every})"


class OptunaCurveStore:
    """:class:`MedianStopping`'s learning curves in Optuna studies, on any Optuna storage.

    Each study of :class:`MedianStopping` (the ``study`` argument; in
    :func:`~skhanrock.experiments.run_experiment`, one per arm) is an Optuna
    study of that name, created on first use; each training is an Optuna
    trial whose intermediate values are its epochs' scores, tagged with the
    callback's trial id (user attribute ``curve_id``), and ends COMPLETE (its
    value the last score) or PRUNED. So searches run with
    ``RandomizedSearchCV`` or the experiment runner land in an Optuna
    storage that many machines share (PostgreSQL, MySQL, a journal file)
    and that Optuna's dashboard reads. The rule is applied by
    :class:`MedianStopping`, on the curves :func:`study_curves` reads: the
    same decisions as :class:`MedianStoppingPruner` and as an
    :class:`~skhanrock.model_selection.SQLiteCurveStore`.

    A training that raises (a diverged loss) leaves its trial RUNNING, its
    curve counting, as in an SQLite store. When a trial id starts again (a
    resumed experiment re-runs a killed trial), its RUNNING Optuna trial is
    marked FAIL and leaves the median; an SQLite store would overwrite the
    curve instead.

    Parameters
    ----------
    storage : str or optuna storage
        A database URL (``postgresql://user@host/db``, ``sqlite:///file``)
        or an Optuna storage object (``optuna.storages.JournalStorage``, an
        ``RDBStorage`` with options). It is pickled to each process of the
        search; a URL is opened once per process.
    direction : {"minimize", "maximize"}, default="minimize"
        The studies' direction: "minimize" for MedianStopping's default
        monitor, a loss.

    Examples
    --------
    >>> import os, tempfile
    >>> from skhanrock.model_selection import OptunaCurveStore
    >>> url = "sqlite:///" + os.path.join(tempfile.mkdtemp(), "optuna.db")
    >>> store = OptunaCurveStore(url)
    >>> store.record("demo", "trial-1", 1, 0.9)
    >>> store.finish("demo", "trial-1", stopped=False)
    >>> store.curves("demo")[["trial", "epoch", "score"]].values.tolist()
    [['trial-1', 1, 0.9]]
    """

    def __init__(self, storage, direction="minimize"):
        self.storage = storage
        self.direction = direction

    def __getstate__(self):
        # open connections and live trials belong to one process
        return {"storage": self.storage, "direction": self.direction}

    def _opened(self):
        if "_storage" not in self.__dict__:
            if self.direction not in ("minimize", "maximize"):
                raise ValueError(f"OptunaCurveStore: direction must be 'minimize' or "
                                 f"'maximize', got {self.direction!r}.")
            self._storage = _optuna().storages.get_storage(self.storage)
            self._studies, self._trials, self._last = {}, {}, {}
        return self._storage

    def _study(self, name):
        storage = self._opened()
        if name not in self._studies:
            optuna = _optuna()
            try:  # loading first: create_study logs every time it finds the study there
                self._studies[name] = optuna.load_study(study_name=name, storage=storage)
            except KeyError:
                self._studies[name] = optuna.create_study(
                    storage=storage, study_name=name, direction=self.direction,
                    load_if_exists=True)
            found = self._studies[name].direction.name.lower()
            if found != self.direction:
                del self._studies[name]
                raise ValueError(f"OptunaCurveStore: the study {name!r} in {self._shown()} "
                                 f"has direction {found!r}, not {self.direction!r}; give the "
                                 "store the study's direction, or a new study name.")
        return self._studies[name]

    def check_writable(self):
        """Open the storage, or raise an error naming it (an unreachable server, a bad URL)."""
        _optuna()  # its absence is said by _optuna, not taken for a missing database driver
        try:
            self._opened()
        except ImportError as error:
            raise ImportError(
                f"OptunaCurveStore: the storage {self._shown()} needs a database driver that "
                f"is not installed ({error.__cause__ or error}); for PostgreSQL: pip install "
                "'psycopg[binary]'.") from error
        except Exception as error:  # the storage's own errors: SQLAlchemy, OS, journal
            raise ValueError(f"OptunaCurveStore: the storage {self._shown()} cannot be "
                             f"opened: {error}") from error

    def _shown(self):
        """The storage for an error message, without a URL's password."""
        text = str(self.storage)
        if "://" in text and "@" in text:
            scheme, rest = text.split("://", 1)
            text = f"{scheme}://***@{rest.rsplit('@', 1)[1]}"
        return repr(text)

    def _trial(self, study, trial):
        """This process's Optuna trial for MedianStopping's (study, trial), started on first use."""
        key = (str(study), str(trial))
        self._opened()
        if key not in self._trials:
            optuna_study = self._study(key[0])
            state = _optuna().trial.TrialState
            for stale in optuna_study.get_trials(deepcopy=False, states=(state.RUNNING,)):
                if _curve_id(stale) == key[1]:
                    # a run of this trial that never ended (its process was killed)
                    optuna_study.tell(stale.number, state=state.FAIL)
            started = optuna_study.ask()
            started.set_user_attr(_CURVE_ID, key[1])
            self._trials[key] = started
        return self._trials[key]

    def record(self, study, trial, epoch, score):
        """Report one epoch's score as the Optuna trial's intermediate value at step ``epoch``.

        Parameters
        ----------
        study, trial : str
        epoch : int
        score : float
            Finite; a NaN or infinite score is refused, as by
            :class:`~skhanrock.model_selection.SQLiteCurveStore`.
        """
        check_finite_score("OptunaCurveStore", trial, epoch, score)
        self._trial(study, trial).report(float(score), int(epoch))
        self._last[(str(study), str(trial))] = float(score)

    def curves(self, study):
        """All curves of a study (see :func:`study_curves`).

        Parameters
        ----------
        study : str

        Returns
        -------
        DataFrame
            Columns ``trial, epoch, score``.
        """
        return study_curves(self._study(str(study)))

    def finish(self, study, trial, stopped):
        """End the Optuna trial: PRUNED when the rule ``stopped`` it, else COMPLETE.

        Parameters
        ----------
        study, trial : str
        stopped : bool
        """
        started = self._trials.pop((str(study), str(trial)), None) \
            if "_trials" in self.__dict__ else None
        if started is None:
            return  # nothing was recorded: no epoch ended
        optuna = _optuna()
        optuna_study = self._study(str(study))
        if stopped:
            optuna_study.tell(started, state=optuna.trial.TrialState.PRUNED)
            return
        optuna_study.tell(started, self._last.pop((str(study), str(trial))))

    def __repr__(self):
        return f"OptunaCurveStore({self._shown()})"
