"""The experiment runner on an Optuna study, and each of its trials as an MLflow run."""

import numpy as np
import pandas as pd
import pytest
from scipy.stats import loguniform

from skhanrock.experiments import run_experiment
from skhanrock.model_selection import OptunaCurveStore, SQLiteCurveStore

from ._shared import SETTINGS, TINY_FIXED, _diverging

# a range of learning rates wide enough for the median rule to stop some trials
STOPPING = {**SETTINGS, "max_epochs": 7, "search_space": {"han__lr": loguniform(1e-4, 0.3)},
            "fixed_params": {**TINY_FIXED, "han__context_size": 2}}


def epochs_by_trial(curves):
    return curves.groupby("trial")["epoch"].max().to_dict()


@pytest.fixture(scope="module")
def on_sqlite(conversations_of_many_speakers, tmp_path_factory):
    X, y = conversations_of_many_speakers
    path = tmp_path_factory.mktemp("sqlite") / "curves.sqlite"
    return run_experiment(X, y, "H3", n_trials=3, median_stopping=str(path), **STOPPING), path


def test_an_experiment_on_an_optuna_study_stops_the_trials_an_sqlite_store_stops(
        conversations_of_many_speakers, on_sqlite, tmp_path):
    optuna = pytest.importorskip("optuna", reason="the optuna extra is not installed")
    X, y = conversations_of_many_speakers
    sqlite_result, path = on_sqlite
    url = f"sqlite:///{tmp_path / 'optuna.db'}"
    result = run_experiment(X, y, "H3", n_trials=3, median_stopping=OptunaCurveStore(url),
                            **STOPPING)
    names = [s.study_name for s in optuna.get_all_study_summaries(storage=url)]
    assert sorted(name.rsplit(":", 1)[1] for name in names) == ["flat", "rock"]
    stopped = 0
    for name in names:
        study = optuna.load_study(study_name=name, storage=url)
        optuna_epochs = {t.user_attrs["curve_id"]: t.last_step for t in study.trials}
        assert optuna_epochs == epochs_by_trial(SQLiteCurveStore(path).curves(name))
        assert {t.state.name for t in study.trials} <= {"COMPLETE", "PRUNED"}
        assert all((t.state.name == "PRUNED") == (t.last_step < STOPPING["max_epochs"])
                   for t in study.trials)
        stopped += sum(t.state.name == "PRUNED" for t in study.trials)
    assert stopped >= 1  # else the comparison above would be empty
    # the paper's selection and bootstrap over the finished trials, unchanged
    pd.testing.assert_frame_equal(result.table, sqlite_result.table)
    pd.testing.assert_frame_equal(result.trials.drop(columns="fit_seconds"),
                                  sqlite_result.trials.drop(columns="fit_seconds"))


def test_each_trial_is_an_mlflow_run_with_its_curves_and_scores(
        conversations_of_many_speakers, tmp_path, monkeypatch):
    mlflow = pytest.importorskip("mlflow", reason="the mlflow extra is not installed")
    # MLflow 3 keeps its file store (a local mlruns folder) behind this switch
    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")
    monkeypatch.chdir(tmp_path)
    X, y = conversations_of_many_speakers
    settings = {**_diverging((1,), "rock"), "max_epochs": 2}  # rock's trial 1 diverges
    result = run_experiment(X, y, "H3", n_trials=2, mlflow_uri="mlruns", **settings)
    client = mlflow.MlflowClient(tracking_uri=(tmp_path / "mlruns").as_uri())
    [experiment] = [e for e in client.search_experiments() if e.name.startswith("H3:")]
    runs = {run.info.run_name: run for run in client.search_runs([experiment.experiment_id])}
    assert sorted(runs) == ["flat/0", "flat/1", "rock/0", "rock/1"]
    diverged = runs.pop("rock/1")
    assert diverged.info.status == "FAILED" and diverged.data.tags["diverged"] == "true"
    assert "dev_accuracy" not in diverged.data.metrics
    for _, row in result.trials[~result.trials["diverged"]].iterrows():
        run = runs[f"{row['arm']}/{row['trial']}"]
        assert run.info.status == "FINISHED" and run.data.tags["diverged"] == "false"
        assert run.data.tags["arm"] == row["arm"] and run.data.tags["hypothesis"] == "H3"
        assert float(run.data.params["han__lr"]) == pytest.approx(row["han__lr"])
        for part in ("dev", "test"):
            assert run.data.metrics[f"{part}_accuracy"] == pytest.approx(row[f"{part} accuracy"])
        for key in ["train_loss", "train_loss_y"]:
            curve = client.get_metric_history(run.info.run_id, key)
            assert [m.step for m in curve] == [1, 2] and np.isfinite([m.value for m in curve]).all()
    # the per-task losses of a rock trial include its auxiliary targets
    rock = client.get_run(runs["rock/0"].info.run_id).data.metrics
    assert any(key.startswith("train_loss_aux_") for key in rock)
    # logging changes no result
    untracked = run_experiment(X, y, "H3", n_trials=2, **settings)
    pd.testing.assert_frame_equal(result.table, untracked.table)


def test_a_tracking_uri_that_is_not_one_is_refused_before_training(
        conversations_of_many_speakers, no_training):
    X, y = conversations_of_many_speakers
    with pytest.raises(TypeError, match="mlflow_uri must be a tracking URI or a folder"):
        run_experiment(X, y, "H3", n_trials=1, mlflow_uri=3, **SETTINGS)
