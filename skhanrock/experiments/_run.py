"""Run a hypothesis: one random search per arm, same draws and seeds, resumable."""

import os
import time
from dataclasses import dataclass

import joblib
import numpy as np
import pandas as pd
from sklearn.model_selection import ParameterSampler
from sklearn.utils.multiclass import type_of_target
from tqdm.auto import tqdm

from ..metrics import METRICS, score
from ..model_selection import check_search_space, paper_search_space
from ._hypotheses import HYPOTHESES, hypothesis_pipeline
from ._partitions import experiment_partitions
from ._store import ResultsFile, fingerprint
from ._tables import experiment_table, markdown_table

__all__ = ["Experiment", "run_experiment"]


@dataclass
class Experiment:
    """The outcome of :func:`run_experiment`.

    Attributes
    ----------
    hypothesis : str
    metric : str
    baseline : str
        The arm the others are compared with.
    trials : DataFrame
        One row per trial: arm, trial, parameters, dev and test scores, fit seconds.
    table : DataFrame
        One row per arm (the paper's layout): the test score of the trial best on
        dev, and the bootstrap difference to the baseline with its interval,
        p-value and significance.
    n_fitted : int
        Trials fitted by this call (the others came from the results file).
    """

    hypothesis: str
    metric: str
    baseline: str
    trials: pd.DataFrame
    table: pd.DataFrame
    n_fitted: int

    def to_markdown(self):
        """The table as Markdown, ``*`` marking significant differences."""
        shown = self.table[["cell", "difference", "low", "high", "p_value"]].rename(
            columns={"cell": f"test {self.metric}"})
        return markdown_table(shown, index_name=self.hypothesis)


def _task(y):
    labelled = y.dropna()
    if labelled.empty:
        raise ValueError("y has no labelled row.")
    kind = type_of_target(labelled.infer_objects().to_numpy())
    return "regression" if kind.startswith("continuous") else "classification"


def _trial_parameters(space, seed, trial):
    """The same draw for trial ``trial`` of every arm (independent of the trial count)."""
    rng = np.random.RandomState([int(seed), int(trial)])
    return next(iter(ParameterSampler(space, 1, random_state=rng)))


def _fit_trial(X, y, partitions, arm, settings, trial, params, task, random_state, threads):
    if threads is not None:
        # parallel trials share the cores; without this each would use them all
        import torch

        torch.set_num_threads(threads)
    pipeline = hypothesis_pipeline(settings["families"], task, random_state + trial)
    chosen = {**params, **{k: v for k, v in settings.items() if k != "families"}}
    pipeline.set_params(**{k: v for k, v in chosen.items()
                           if k.split("__")[0] in pipeline.named_steps})
    rows = {name: (partitions == name).to_numpy() for name in ("train", "dev", "test")}
    start = time.perf_counter()
    pipeline.fit(X[rows["train"]], y[rows["train"]])
    seconds = time.perf_counter() - start
    return {"arm": arm, "trial": int(trial), "params": chosen, "fit_seconds": seconds,
            "dev_pred": pipeline.predict(X[rows["dev"]]),
            "test_pred": pipeline.predict(X[rows["test"]])}


def _check_arguments(X, y, hypothesis, metric, n_trials, space, fixed):
    if hypothesis not in HYPOTHESES:
        raise ValueError(f"hypothesis must be one of {sorted(HYPOTHESES)}, got {hypothesis!r}.")
    if not isinstance(X, pd.DataFrame):
        raise TypeError(f"X must be a talkturn DataFrame, got {type(X).__name__}.")
    if len(y) != len(X):
        raise ValueError(f"y has {len(y)} values but X has {len(X)} rows.")
    if metric is not None and metric not in METRICS:
        raise ValueError(f"metric must be one of {sorted(METRICS)}, got {metric!r}.")
    if int(n_trials) < 1:
        raise ValueError(f"n_trials must be a positive integer, got {n_trials!r}.")
    check_search_space(hypothesis_pipeline("aphf"), {**space, **fixed})


def run_experiment(X, y, hypothesis="H1", *, n_trials=30, max_epochs=30, metric=None,
                   partition=None, search_space=None, fixed_params=None, n_jobs=1,
                   results_file=None, n_resamples=1000, random_state=0, progress=False):
    """Run one of the paper's hypotheses on a talkturn frame.

    Every arm of the hypothesis (see :data:`HYPOTHESES`) gets a random search
    of ``n_trials`` trials over the same parameter draws and seeds, so arms
    differ only in what the hypothesis varies. Each trial is fitted on the
    training rows and predicts the dev and test rows; the paper's bootstrap
    (:func:`~skhanrock.metrics.bootstrap_search_compare`: select on resampled
    dev, read resampled test) compares each arm with the baseline. With a
    ``results_file``, each finished trial is appended as it ends and a rerun
    skips the trials already there, so an interrupted experiment resumes
    (and ``n_trials`` can grow).

    Parameters
    ----------
    X : DataFrame
        Talkturn frame with the feature columns the MONAH transcriber and the
        auxiliary families need (OpenFace, Vokaturi, timings).
    y : Series
        Primary labels (class labels or floats); missing values are unlabelled rows.
    hypothesis : {"H1", "H2", "H3"}, default="H1"
    n_trials : int, default=30
        Trials per arm.
    max_epochs : int, default=30
    metric : str or None, default=None
        A name of :data:`~skhanrock.metrics.METRICS`; None picks "accuracy"
        for class labels and "mae" for floats.
    partition : None, str or array-like, default=None
        Train/dev/test rows: None uses a ``partition`` column of ``X`` when
        there is one, otherwise a random speaker-disjoint 60/20/20 split; a
        column name; or one value per row. Values other than "train", "dev"
        and "test" leave the row out. Partitions must not share a speaker.
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
    n_resamples : int, default=1000
    random_state : int, default=0
        Seeds the partition, the parameter draws and the models.
    progress : bool, default=False
        Show a progress bar over trials.

    Returns
    -------
    Experiment

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
    y = pd.Series(np.asarray(y, dtype=object) if not isinstance(y, pd.Series) else y.to_numpy(),
                  index=X.index if isinstance(X, pd.DataFrame) else None)
    definition = HYPOTHESES.get(hypothesis)
    space = paper_search_space() if search_space is None else dict(search_space)
    fixed = {"han__max_epochs": int(max_epochs), **(fixed_params or {})}
    _check_arguments(X, y, hypothesis, metric, n_trials, space, fixed)
    task = _task(y)
    y = y.infer_objects()
    metric = metric or ("accuracy" if task == "classification" else "mae")
    partitions = experiment_partitions(X, y, partition, random_state=random_state)
    varied = {key for arm in definition.arms.values() for key in arm if key != "families"}
    space = {k: v for k, v in space.items() if k not in varied and k not in fixed}
    settings = {"hypothesis": hypothesis, "space": space, "fixed": fixed, "metric": metric,
                "random_state": random_state}
    store = (ResultsFile(results_file, fingerprint(X, y, partitions, settings))
             if results_file is not None else None)
    finished = store.load() if store is not None else []
    done = {(t["arm"], t["trial"]) for t in finished}
    pending = [(arm, trial) for trial in range(int(n_trials)) for arm in definition.arms
               if (arm, trial) not in done]
    n_workers = joblib.effective_n_jobs(n_jobs)
    threads = (max(1, (os.cpu_count() or 1) // min(n_workers, len(pending)))
               if n_workers > 1 and len(pending) > 1 else None)
    jobs = (joblib.delayed(_fit_trial)(
        X, y, partitions, arm, definition.arms[arm], trial,
        {**_trial_parameters(space, random_state, trial), **fixed}, task, random_state, threads)
        for arm, trial in pending)
    results = joblib.Parallel(n_jobs=n_jobs, return_as="generator_unordered")(jobs)
    for trial in tqdm(results, total=len(pending), disable=not progress,
                      desc=f"{hypothesis} trials"):
        if store is not None:
            store.append(trial)
        finished.append(trial)
    finished = [t for t in finished if t["trial"] < int(n_trials)]
    truth = {name: y[(partitions == name).to_numpy()].to_numpy() for name in ("dev", "test")}
    trials = _trials_frame(finished, truth, metric)
    table = experiment_table(finished, definition, truth, metric, n_resamples, random_state)
    return Experiment(hypothesis, metric, definition.baseline, trials, table, len(pending))


def _trials_frame(finished, truth, metric):
    rows = [{"arm": t["arm"], "trial": t["trial"], **t["params"],
             f"dev {metric}": score(truth["dev"], t["dev_pred"], metric),
             f"test {metric}": score(truth["test"], t["test_pred"], metric),
             "fit_seconds": t["fit_seconds"]} for t in finished]
    return pd.DataFrame(rows).sort_values(["arm", "trial"], ignore_index=True)
