"""Run a hypothesis: one random search per arm, same draws and seeds, resumable."""

import os
import time
from contextlib import ExitStack
from dataclasses import dataclass

import joblib
import numpy as np
import pandas as pd
from sklearn.model_selection import ParameterSampler
from tqdm.auto import tqdm

from .._utils.targets import check_labels, is_classification_target, regression_labels
from .._utils.validation import check_number, is_finite_number
from ..exceptions import TrainingDivergedError
from ..metrics import METRICS, paper_scorers, score
from ..model_selection import (
    MedianStopping,
    check_curve_store,
    check_search_space,
    paper_search_space,
    train_dev_test_partition,
)
from ..nn import ConversationValidSplit, TaskLosses
from ._hypotheses import HYPOTHESES, arm_params, hypothesis_pipeline
from ._mlflow import check_tracking_uri, log_trial
from ._store import ResultsFile, fingerprint
from ._tables import experiment_table, markdown_table

__all__ = ["Experiment", "run_experiment"]


@dataclass
class Experiment:
    r"""The outcome of :func:`run_experiment`.

    Parameters
    ----------
    hypothesis : str
        "H1", "H2" or "H3".
    metric : str
        The metric of the table, a name of :data:`~skhanrock.metrics.METRICS`.
    baseline : str
        The arm the others are compared with.
    trials : DataFrame
        One row per trial: arm, trial, parameters, dev and test scores, fit seconds.
    table : DataFrame
        One row per arm (the paper's layout, see
        :func:`~skhanrock.experiments.experiment_table`): the test score of the
        trial best on dev, and the bootstrap difference to the baseline with its
        interval, p-value, significance and whether it is an improvement.
    n_fitted : int
        Trials fitted by this call (the others came from the results file).

    Examples
    --------
    >>> import pandas as pd
    >>> from skhanrock.experiments import HYPOTHESES, Experiment, experiment_table
    >>> truth = {"dev": [0, 1] * 50, "test": [0, 1] * 50}
    >>> trials = [{"arm": "flat", "dev_pred": [0] * 100, "test_pred": [0] * 100},
    ...           {"arm": "rock", "dev_pred": [0, 1] * 50, "test_pred": [0, 1] * 50}]
    >>> table = experiment_table(trials, HYPOTHESES["H3"], truth, "accuracy",
    ...                          n_resamples=200, random_state=0)
    >>> result = Experiment("H3", "accuracy", "flat", pd.DataFrame(trials), table, 2)
    >>> print(result.to_markdown())
    | H3 | test accuracy | difference | low | high | p_value |
    |---|---|---|---|---|---|
    | flat | 0.500 |  |  |  |  |
    | rock | 1.000* | 0.500 | 0.410 | 0.610 | 0.000 |
    <BLANKLINE>
    \* significantly better than flat: the 95% bootstrap interval ... lies above zero. An...
    """

    hypothesis: str
    metric: str
    baseline: str
    trials: pd.DataFrame
    table: pd.DataFrame
    n_fitted: int

    def to_markdown(self):
        """The table as Markdown, ``*`` marking significant improvements, with a note saying so.

        A second note counts the trials of each arm that diverged, if any.

        Returns
        -------
        str
        """
        shown = self.table[["cell", "difference", "low", "high", "p_value"]].rename(
            columns={"cell": f"test {self.metric}"})
        better, worse = (("above", "below") if METRICS[self.metric].greater_is_better
                         else ("below", "above"))
        note = (f"\\* significantly better than {self.baseline}: the 95% bootstrap interval of "
                f"the difference lies {better} zero. An arm whose interval lies {worse} zero is "
                "significantly worse and has no star.")
        return "\n\n".join([markdown_table(shown, index_name=self.hypothesis), note,
                            *self._diverged_note()])

    def _diverged_note(self):
        """A note counting the diverged trials of each arm, when there are any."""
        if "diverged" not in self.table or not self.table["diverged"].any():
            return []
        counts = [f"{n} of {n + used} trials of {arm} diverged" for arm, n, used in
                  zip(self.table.index, self.table["diverged"], self.table["trials"],
                      strict=True) if n]
        return ["Trials whose loss became NaN or infinite are left out of the selection and "
                f"the bootstrap: {', '.join(counts)}."]


def _task(y):
    """The package's rule (floats are regression, whole numbers too), as the splitters apply it.

    scikit-learn's ``type_of_target`` would call rounded valence (1.0 ... 5.0)
    classes and train a classifier on it. ``y`` is checked against ``X`` already.
    """
    if is_classification_target(y):
        return "classification"
    regression_labels(y, "run_experiment")  # numbers, and finite, or an error naming the row
    return "regression"


def _check_metric(metric, task):
    """Raise when the metric is not one of the task's, before any trial is trained."""
    suitable = sorted(paper_scorers(task))
    if metric in suitable:
        return
    held = ("class labels (integers, strings, booleans or categories)"
            if task == "classification" else
            "floats, which are regression targets even when all are whole numbers (give class "
            "codes as integers, strings or a categorical)")
    raise ValueError(f"metric={metric!r} does not fit y: y holds {held}, so the metric must be "
                     f"one of {suitable}.")


def _check_seed(random_state):
    """An integer seed: None would draw anew at every run, so a results file could not resume."""
    if not (is_finite_number(random_state, integer=True) and 0 <= random_state < 2 ** 32):
        raise ValueError(
            f"random_state must be an integer in [0, 2**32), got {random_state!r}: it seeds the "
            "partition, the parameter draws and the models, and the experiment's fingerprint "
            "records it so that a results file resumes the same experiment. Vary it to repeat "
            "the experiment with other draws.")


def _trial_parameters(space, seed, trial):
    """The same draw for trial ``trial`` of every arm (independent of the trial count)."""
    rng = np.random.RandomState([int(seed), int(trial)])
    return next(iter(ParameterSampler(space, 1, random_state=rng)))


def _median_stopping_params(pipeline, median_stopping, arm, trial, random_state):
    """Callbacks and dev split that put a trial under the median stopping rule.

    The rule needs a dev score during training; the experiment's dev rows
    pass through steps fitted on the training rows, so the net holds out
    training conversations of its own unless a train_split is fixed.
    """
    store, study = median_stopping
    net = pipeline.named_steps["han"]
    callback = MedianStopping(store, study=f"{study}:{arm}", trial=f"{arm}/{trial}")
    params = {"han__callbacks": [*(net.callbacks or []), ("median_stopping", callback)]}
    if net.train_split is None:
        params["han__train_split"] = ConversationValidSplit(0.2, random_state=random_state)
    return params


def _conversation_params(pipeline, conversation_column):
    """Every step's conversation column set to the experiment's, which groups the bootstrap."""
    return {f"{name}__conversation_column": conversation_column
            for name, step in pipeline.steps if "conversation_column" in step.get_params()}


def _tracking_params(pipeline):
    """Each task's loss in the net's history, for the trial's MLflow run (no effect on training)."""
    net = pipeline.named_steps["han"]
    return {"han__callbacks": [*(net.callbacks or []), ("task_losses", TaskLosses())]}


def _track(tracking, pipeline, record, y, rows):
    """Log a fitted trial to MLflow with its final dev and test scores.

    ``tracking`` is (tracking URI, MLflow experiment, hypothesis, metric).
    """
    metric = tracking[3]
    scores = {} if record.get("diverged") else {
        f"{part}_{metric}": score(y[rows[part]].to_numpy(), record[f"{part}_pred"], metric)
        for part in ("dev", "test")}
    log_trial(tracking, record, getattr(pipeline.named_steps["han"], "history", None), scores)
    return record


def _fit_trial(X, y, partitions, arm, settings, trial, params, task, random_state, threads,
               median_stopping=None, conversation_column="conversation", tracking=None):
    if threads is not None:
        # parallel trials share the cores; without this each would use them all
        import torch

        torch.set_num_threads(threads)
    families, arm_fixed = arm_params(settings)
    pipeline = hypothesis_pipeline(families, task, random_state + trial)
    chosen = {**params, **arm_fixed}
    pipeline.set_params(**{k: v for k, v in chosen.items()
                           if k.split("__")[0] in pipeline.named_steps})
    pipeline.set_params(**_conversation_params(pipeline, conversation_column))
    if tracking is not None:
        pipeline.set_params(**_tracking_params(pipeline))
    if median_stopping is not None:
        pipeline.set_params(**_median_stopping_params(pipeline, median_stopping, arm, trial,
                                                      random_state + trial))
    rows = {name: (partitions == name).to_numpy() for name in ("train", "dev", "test")}
    record = {"arm": arm, "trial": int(trial), "params": chosen}
    result = _fitted_trial(pipeline, X, y, rows, record, task)
    if tracking is not None:
        _track(tracking, pipeline, result, y, rows)
    return result


def _fitted_trial(pipeline, X, y, rows, record, task):
    """The trial's record after fitting: dev and test predictions, or how it diverged."""
    start = time.perf_counter()
    try:
        pipeline.fit(X[rows["train"]], y[rows["train"]])
    except TrainingDivergedError as error:
        # A result of the trial, not a failure of the experiment: recorded, so a
        # rerun does not fit it again, and left out of selection by the tables.
        return {**record, "fit_seconds": time.perf_counter() - start,
                "diverged": _divergence(str(error), error.epoch, error.loss_name,
                                        error.value)}
    seconds = time.perf_counter() - start
    predictions = {f"{part}_pred": pipeline.predict(X[rows[part]]) for part in ("dev", "test")}
    for name, values in predictions.items():
        if task == "regression" and not np.isfinite(np.asarray(values, dtype=float)).all():
            # the net's loss stayed finite, yet its predictions did not: diverged as well
            return {**record, "fit_seconds": seconds, "diverged": _divergence(
                f"its {name} holds non-finite values", None, None, None)}
    return {**record, "fit_seconds": seconds, **predictions}


def _divergence(message, epoch, loss_name, value):
    """The JSON record of a diverged trial (the value as text: JSON has no NaN)."""
    return {"epoch": None if epoch is None else int(epoch), "loss_name": loss_name,
            "value": None if value is None else str(value), "message": message}


def _check_frame(X, conversation_column):
    """A talkturn frame with rows and the conversation column, or an error saying which."""
    if not isinstance(X, pd.DataFrame):
        raise TypeError(f"run_experiment: X must be a talkturn DataFrame, got "
                        f"{type(X).__name__}.")
    if len(X) == 0:
        raise ValueError("run_experiment: X has no rows; there is nothing to split.")
    if not isinstance(conversation_column, str) or conversation_column not in X.columns:
        raise ValueError(
            f"run_experiment: conversation_column={conversation_column!r} is not a column of "
            f"X; its columns are {list(X.columns)}. Name the column of conversation ids: the "
            "network reads conversations through it, and the bootstrap resamples them whole.")


def _check_conversation_params(conversation_column, space, fixed):
    """Refuse a step's own conversation column: the bootstrap groups by the experiment's."""
    keys = [key for key in space if key.endswith("__conversation_column")]
    keys += [key for key, value in fixed.items()
             if key.endswith("__conversation_column") and value != conversation_column]
    if keys:
        raise ValueError(
            f"{sorted(keys)} set a step's conversation column; pass "
            "run_experiment(conversation_column=...) instead, which sets it for every step, "
            "the random partition and the bootstrap's conversation groups alike.")


def _check_arguments(X, y, hypothesis, metric, counts, random_state, conversation_column):
    """Everything that can be wrong with the arguments, before anything is trained."""
    if hypothesis not in HYPOTHESES:
        raise ValueError(f"hypothesis must be one of {sorted(HYPOTHESES)}, got {hypothesis!r}.")
    _check_frame(X, conversation_column)
    check_labels(y, X, "run_experiment")
    if metric is not None and metric not in METRICS:
        raise ValueError(f"metric must be one of {sorted(METRICS)}, got {metric!r}.")
    for name, value in counts.items():
        # a float would be truncated, and max_epochs=-1 "fits" without training
        check_number(name, value, low=1, integer=True)
    _check_seed(random_state)


def run_experiment(X, y, hypothesis="H1", *, n_trials=30, max_epochs=30, metric=None,
                   partition=None, search_space=None, fixed_params=None, n_jobs=1,
                   results_file=None, n_resamples=1000, random_state=0, progress=False,
                   median_stopping=None, shared_speakers=None, speaker_column="speaker",
                   conversation_column="conversation", mlflow_uri=None):
    """Run one of the paper's hypotheses on a talkturn frame.

    Every arm of the hypothesis (see :data:`HYPOTHESES`) gets a random search
    of ``n_trials`` trials over the same parameter draws and seeds, so arms
    differ only in what the hypothesis varies. Each trial is fitted on the
    training rows and predicts the dev and test rows; the paper's bootstrap
    (:func:`~skhanrock.metrics.bootstrap_search_compare`: select on resampled
    dev, read resampled test) compares each arm with the baseline. With a
    ``results_file``, each finished trial is appended as it ends and a rerun
    skips the trials already there, so an interrupted experiment resumes
    (and ``n_trials`` can grow). A trial whose training loss becomes NaN or
    infinite (:class:`~skhanrock.exceptions.TrainingDivergedError`), or whose
    regression predictions do, is recorded as diverged: it is left out of the
    selection on dev and of the bootstrap, and counted in the table's
    ``diverged`` column and in the notes of :meth:`Experiment.to_markdown`.

    Parameters
    ----------
    X : DataFrame
        Talkturn frame with the feature columns the MONAH transcriber and the
        auxiliary families need (OpenFace, Vokaturi, timings).
    y : Series
        Primary labels, one per row; missing values are unlabelled rows. The
        target type follows :func:`~skhanrock.preprocessing.is_classification_target`:
        floats are regression targets, whole numbers such as rounded valence
        (1.0 ... 5.0) too; integers, strings, booleans and categoricals are
        classes.
    hypothesis : {"H1", "H2", "H3"}, default="H1"
    n_trials : int, default=30
        Trials per arm.
    max_epochs : int, default=30
        Positive; ``fixed_params["han__max_epochs"]`` overrides it.
    metric : str or None, default=None
        A name of :data:`~skhanrock.metrics.METRICS` that fits the target type
        ("mae" for regression, the others for classes); None picks
        "accuracy" for class labels and "mae" for floats.
    partition : None, str or array-like, default=None
        Train/dev/test rows: None uses a ``partition`` column of ``X`` when
        there is one, otherwise a random speaker-disjoint 60/20/20 split; a
        column name; or one value per row. Values other than "train", "dev"
        and "test" leave the row out. Partitions must not share a speaker
        other than those in ``shared_speakers``.
    search_space : dict or None, default=None
        ``param_distributions`` over the pipeline's parameters (steps
        ``monah``, ``aux``, ``weights``, ``han``); None is
        :func:`~skhanrock.model_selection.paper_search_space`. Parameters an
        arm fixes are not drawn.
    fixed_params : dict or None, default=None
        Pipeline parameters set in every trial (e.g. ``{"han__device": "cuda"}``).
    n_jobs : int, default=1
        Trials fitted in parallel (joblib; inside
        ``joblib.parallel_config(backend="dask")`` they run on a Dask cluster).
    results_file : path or None, default=None
        JSON-lines file of the finished trials. While trials are fitted, the
        run holds a lock file beside it (``<name>.lock``); a second run on the
        same file is refused, naming the pid and host that hold it. When every
        trial is already there, the file is only read (it may be read-only).
    n_resamples : int, default=1000
    random_state : int, default=0
        Seeds the partition, the parameter draws and the models. None is
        refused: the seed is part of the experiment's fingerprint, so that a
        results file resumes the same draws.
    progress : bool, default=False
        Show a progress bar over trials.
    median_stopping : str, path-like, store object or None, default=None
        None trains every trial for ``max_epochs``. A store, as
        :class:`~skhanrock.model_selection.MedianStopping` takes it (a path,
        a ``sqlite:///`` URL or a store object that every worker reaches),
        puts each trial under the paper's median stopping rule, compared with
        the other trials of its arm in this experiment only (the study is named
        by the experiment's fingerprint, so other experiments' curves in the
        same store never count, and a resumed experiment finds its own). The
        rule needs a dev score while training: the net holds out 20% of the
        training conversations unless ``fixed_params`` sets
        ``han__train_split``. It is off by default because that held-out
        score is not the experiment's dev partition, because with budgets of
        tens of epochs it saves little, and because it makes a trial's length
        depend on which trials finished before it, so results vary with
        ``n_jobs``. For an Optuna study in place of an SQLite file (a
        PostgreSQL server that many machines share), pass an
        :class:`~skhanrock.model_selection.OptunaCurveStore`.
    shared_speakers : list-like or None, default=None
        Speakers allowed in several partitions because they talk in many
        conversations: an interviewer, a therapist, SEMAINE's operators.
        Everyone else stays in one partition.
    speaker_column : str or None, default="speaker"
        The column of speaker ids that partitions must not share; a name that
        is not a column of ``X`` is an error (a misspelt column must not skip
        the check). None skips the speaker check: partitions then only keep
        conversations whole.
    conversation_column : str, default="conversation"
        The column of conversation ids. It is set as the conversation column
        of every step of the pipeline, the random partition keeps its
        conversations whole, and the bootstrap resamples them whole. A name
        that is not a column of ``X`` is an error; so is a step's
        ``*__conversation_column`` in ``search_space`` or ``fixed_params``
        that differs from it.
    mlflow_uri : str, path-like or None, default=None
        An MLflow tracking URI (``sqlite:///mlflow.db``, a server's
        ``http://`` address) or a local folder (an ``mlruns`` file store,
        which MLflow 3 opens only with ``MLFLOW_ALLOW_FILE_STORE=true``).
        Each trial fitted by this call is logged as a run of the MLflow
        experiment ``"<hypothesis>:<fingerprint>"``, named ``"<arm>/<trial>"``:
        its parameters, the net's per-epoch history (the loss, each task's
        loss from :class:`~skhanrock.nn.TaskLosses`, the dev loss and
        metrics when the net has a ``train_split``), the final dev and test
        scores of ``metric``, and tags ``arm``, ``trial``, ``hypothesis``
        and ``diverged`` (a diverged trial's run is FAILED). Trials read from
        ``results_file`` are not logged again. Logging leaves the results
        and the fingerprint unchanged. Needs the ``mlflow`` extra.

    Returns
    -------
    Experiment

    Raises
    ------
    ValueError
        Before any trial is trained: for a ``y`` of another length than ``X``
        or without a labelled row, a ``conversation_column`` that ``X`` lacks,
        a metric that does not fit the target type, a count that is not a positive
        integer, a seed that is not an integer, an unknown search-space key,
        a ``speaker_column`` that ``X`` lacks, partitions that share a
        speaker, or a results file that another run is writing or that holds
        a corrupt line or two different results for one trial. After the
        trials: when every trial of an arm diverged.

    Examples
    --------
    >>> from scipy.stats import loguniform
    >>> from skhanrock.datasets import make_conversations
    >>> from skhanrock.experiments import run_experiment
    >>> X, y = make_conversations(n_conversations=12, min_turns=4, max_turns=6,
    ...                           n_speakers=40, random_state=0)
    >>> result = run_experiment(
    ...     X, y, "H3", n_trials=1, max_epochs=1, n_resamples=50,
    ...     search_space={"han__lr": loguniform(1e-3, 1e-2)},
    ...     fixed_params={"han__primary_units": 4, "han__aux_units": 2,
    ...                   "han__embedding_dim": 8})
    >>> result.table.index.tolist()
    ['flat', 'rock']
    """
    counts = {"n_trials": n_trials, "max_epochs": max_epochs, "n_resamples": n_resamples}
    if "han__max_epochs" in (fixed_params or {}):
        counts["fixed_params['han__max_epochs']"] = fixed_params["han__max_epochs"]
    _check_arguments(X, y, hypothesis, metric, counts, random_state, conversation_column)
    mlflow_uri = check_tracking_uri(mlflow_uri)
    task, metric, y = _task_metric_and_labels(X, y, metric)
    space, fixed = _search(hypothesis, search_space, fixed_params, max_epochs,
                           conversation_column)
    partitions = train_dev_test_partition(X, y, partition, random_state=random_state,
                                          shared_speakers=shared_speakers,
                                          speaker_column=speaker_column,
                                          conversation_column=conversation_column)
    settings = _settings(hypothesis, space, fixed, metric, random_state, conversation_column,
                         median_stopping)
    experiment_id = fingerprint(X, y, partitions, settings)
    plan = _Plan(
        X, y, partitions, hypothesis, task, metric, space, fixed, random_state,
        conversation_column,
        median=None if median_stopping is None else (median_stopping,
                                                     f"{hypothesis}:{experiment_id}"),
        tracking=None if mlflow_uri is None else (mlflow_uri, f"{hypothesis}:{experiment_id}",
                                                  hypothesis, metric))
    store = ResultsFile(results_file, experiment_id) if results_file is not None else None
    finished, n_fitted = _run_trials(plan, store, n_trials, n_jobs, progress)
    return _experiment(plan, finished, n_trials, n_resamples, n_fitted)


@dataclass
class _Plan:
    """What every trial of one experiment shares, checked: data, partition, search, seeds."""

    X: pd.DataFrame
    y: pd.Series
    partitions: pd.Series
    hypothesis: str
    task: str
    metric: str
    space: dict        # drawn per trial: neither an arm nor fixed_params sets these
    fixed: dict
    random_state: int
    conversation_column: str
    median: tuple = None    # (store, study) of the median stopping rule, or None
    tracking: tuple = None  # what _track logs to MLflow, or None

    @property
    def definition(self):
        return HYPOTHESES[self.hypothesis]


def _task_metric_and_labels(X, y, metric):
    """The task of ``y``, the metric (checked to fit it) and ``y`` as a Series on X's index."""
    # the task from y as given: rebuilding it below loses a categorical's dtype
    task = _task(y)
    metric = metric or ("accuracy" if task == "classification" else "mae")
    _check_metric(metric, task)
    y = pd.Series(np.asarray(y, dtype=object) if not isinstance(y, pd.Series) else y.to_numpy(),
                  index=X.index).infer_objects()
    return task, metric, y


def _search(hypothesis, search_space, fixed_params, max_epochs, conversation_column):
    """The parameters drawn per trial (those no arm or fixed_params sets) and the fixed ones."""
    space = paper_search_space() if search_space is None else dict(search_space)
    fixed = {"han__max_epochs": int(max_epochs), **(fixed_params or {})}
    check_search_space(hypothesis_pipeline("aphf"), {**space, **fixed})
    _check_conversation_params(conversation_column, space, fixed)
    varied = {key for arm in HYPOTHESES[hypothesis].arms.values() for key in arm_params(arm)[1]}
    return {k: v for k, v in space.items() if k not in varied and k not in fixed}, fixed


def _settings(hypothesis, space, fixed, metric, random_state, conversation_column,
              median_stopping):
    """What the experiment's fingerprint records besides the data and the partition."""
    settings = {"hypothesis": hypothesis, "space": space, "fixed": fixed, "metric": metric,
                "random_state": random_state}
    if conversation_column != "conversation":
        # only when not the default, so results files of earlier runs still resume
        settings["conversation_column"] = conversation_column
    if median_stopping is not None:
        check_curve_store(median_stopping, "median_stopping")
        settings["median_stopping"] = True
    return settings


def _run_trials(plan, store, n_trials, n_jobs, progress):
    """Every trial's record (read from ``store`` or fitted now), and how many were fitted."""
    arms = list(plan.definition.arms)
    finished = store.read() if store is not None else []
    pending = _pending(finished, arms, n_trials)
    with ExitStack() as writing:
        if store is not None and pending:
            # one writer at a time; a finished experiment is only read, so a read-only
            # results file can be tabulated again
            writing.enter_context(store.writing())
            finished = store.read()  # another run may have added trials meanwhile
            pending = _pending(finished, arms, n_trials)
            store.prepare()
        for trial in tqdm(_fitted_trials(plan, pending, n_jobs), total=len(pending),
                          disable=not progress, desc=f"{plan.hypothesis} trials"):
            if store is not None:
                store.append(trial)
            finished.append(trial)
    return finished, len(pending)


def _fitted_trials(plan, pending, n_jobs):
    """The record of each pending trial, as the workers finish them (in any order)."""
    n_workers = joblib.effective_n_jobs(n_jobs)
    threads = (max(1, (os.cpu_count() or 1) // min(n_workers, len(pending)))
               if n_workers > 1 and len(pending) > 1 else None)
    jobs = (joblib.delayed(_fit_trial)(
        plan.X, plan.y, plan.partitions, arm, plan.definition.arms[arm], trial,
        {**_trial_parameters(plan.space, plan.random_state, trial), **plan.fixed}, plan.task,
        plan.random_state, threads, plan.median, plan.conversation_column, plan.tracking)
        for arm, trial in pending)
    return joblib.Parallel(n_jobs=n_jobs, return_as="generator_unordered")(jobs)


def _experiment(plan, finished, n_trials, n_resamples, n_fitted):
    """The trials' frame and the bootstrap table of the first ``n_trials`` trials of each arm."""
    # in trial order, whatever order the workers finished in: among tied dev scores the
    # first trial wins, and that must not depend on n_jobs or on a resume
    finished = sorted((t for t in finished if t["trial"] < int(n_trials)),
                      key=lambda t: (t["arm"], t["trial"]))
    rows = {name: (plan.partitions == name).to_numpy() for name in ("dev", "test")}
    truth = {name: plan.y[held_out].to_numpy() for name, held_out in rows.items()}
    trials = _trials_frame(finished, truth, plan.metric)
    table = experiment_table(finished, plan.definition, truth, plan.metric, n_resamples,
                             plan.random_state,
                             groups=_conversations(plan.X, rows, plan.conversation_column))
    return Experiment(plan.hypothesis, plan.metric, plan.definition.baseline, trials, table,
                      n_fitted)


def _pending(finished, arms, n_trials):
    """(arm, trial) pairs not in the results yet, in trial order."""
    done = {(t["arm"], t["trial"]) for t in finished}
    return [(arm, trial) for trial in range(int(n_trials)) for arm in arms
            if (arm, trial) not in done]


def _conversations(X, rows, conversation_column):
    """Conversation of each dev and test row, so the bootstrap resamples whole conversations."""
    conversations = X[conversation_column].to_numpy()
    return {name: conversations[held_out] for name, held_out in rows.items()}


def _trials_frame(finished, truth, metric):
    def scored(trial, part):
        if trial.get("diverged"):
            return np.nan
        return score(truth[part], trial[f"{part}_pred"], metric)

    rows = [{"arm": t["arm"], "trial": t["trial"], **t["params"],
             f"dev {metric}": scored(t, "dev"), f"test {metric}": scored(t, "test"),
             "fit_seconds": t["fit_seconds"], "diverged": bool(t.get("diverged"))}
            for t in finished]
    return pd.DataFrame(rows).sort_values(["arm", "trial"], ignore_index=True)
