"""Each trial of an experiment as an MLflow run: parameters, per-epoch curves, final scores.

MLflow is an optional dependency (the ``mlflow`` extra), imported only when a
tracking URI is given.
"""

import os
import time
from pathlib import Path

from skorch.callbacks.logging import filter_log_keys

from .._utils.validation import is_finite_number

# MLflow's limits on one log_batch call
_PARAMS_PER_BATCH, _METRICS_PER_BATCH, _PARAM_LENGTH = 100, 1000, 6000


def check_tracking_uri(mlflow_uri):
    """The tracking URI that every worker can use, or an error naming ``mlflow_uri``.

    A plain folder becomes an absolute ``file://`` URI, so that workers with
    another working directory log to the same folder.
    """
    if mlflow_uri is None:
        return None
    if not isinstance(mlflow_uri, str | os.PathLike) or not os.fspath(mlflow_uri):
        raise TypeError(f"mlflow_uri must be a tracking URI or a folder, got {mlflow_uri!r}.")
    try:
        import mlflow  # noqa: F401
    except ImportError as error:
        raise ImportError(f"mlflow_uri={os.fspath(mlflow_uri)!r} needs MLflow: pip install "
                          "'skhanrock[mlflow]'.") from error
    text = os.fspath(mlflow_uri)
    return text if "://" in text or text.startswith("databricks") else \
        Path(text).resolve().as_uri()


def _experiment_id(client, name):
    """The MLflow experiment called ``name``, created by the first worker that needs it."""
    from mlflow.exceptions import MlflowException

    found = client.get_experiment_by_name(name)
    if found is not None:
        return found.experiment_id
    try:
        return client.create_experiment(name)
    except MlflowException:  # another worker created it meanwhile
        return client.get_experiment_by_name(name).experiment_id


def _curves(history, timestamp):
    """The history's numeric per-epoch values (losses, each task's, dev metrics) as metrics."""
    from mlflow.entities import Metric

    metrics = []
    for epoch, row in enumerate(history, start=1):
        for key in filter_log_keys(row, keys_ignored={"batches"}):
            value = row[key]
            if not isinstance(value, bool) and is_finite_number(value):
                metrics.append(Metric(key, float(value), timestamp, epoch))
    return metrics


def log_trial(tracking, record, history, scores):
    """Log one fitted trial as a finished (or, when it diverged, failed) MLflow run.

    Parameters
    ----------
    tracking : tuple
        ``(uri, experiment name, hypothesis, metric)``.
    record : dict
        The trial's record: ``arm``, ``trial``, ``params`` and, for a
        diverged trial, ``diverged``.
    history : skorch History or None
        The net's history (None when the fit stopped before a net existed).
    scores : dict
        Final scores, e.g. ``{"dev_accuracy": 0.6, "test_accuracy": 0.5}``.
    """
    from mlflow import MlflowClient
    from mlflow.entities import Metric, Param

    uri, experiment, hypothesis = tracking[:3]
    client = MlflowClient(tracking_uri=uri)
    arm, trial = record["arm"], int(record["trial"])
    diverged = bool(record.get("diverged"))
    run = client.create_run(
        _experiment_id(client, experiment), run_name=f"{arm}/{trial}",
        tags={"hypothesis": hypothesis, "arm": arm, "trial": str(trial),
              "diverged": str(diverged).lower()})
    run_id = run.info.run_id
    timestamp = int(time.time() * 1000)
    params = [Param(key, str(value)[:_PARAM_LENGTH]) for key, value in record["params"].items()]
    metrics = [*(_curves(history, timestamp) if history is not None else []),
               *(Metric(key, float(value), timestamp, 0) for key, value in scores.items()
                 if is_finite_number(value))]
    for start in range(0, len(params), _PARAMS_PER_BATCH):
        client.log_batch(run_id, params=params[start:start + _PARAMS_PER_BATCH])
    for start in range(0, len(metrics), _METRICS_PER_BATCH):
        client.log_batch(run_id, metrics=metrics[start:start + _METRICS_PER_BATCH])
    client.set_terminated(run_id, status="FAILED" if diverged else "FINISHED")
