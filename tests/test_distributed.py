"""Sweeps on a real Dask cluster (worker processes on the loopback interface)."""

import joblib
import pytest
import torch
from sklearn.model_selection import RandomizedSearchCV

from skhanrock import HanRockClassifier
from skhanrock._testing import TINY
from skhanrock.datasets import make_conversations
from skhanrock.experiments import run_experiment
from skhanrock.model_selection import MedianStopping, SpeakerGroupKFold, SQLiteCurveStore
from skhanrock.nn import ConversationValidSplit

distributed = pytest.importorskip("distributed", reason="needs the 'distributed' extra")


@pytest.fixture(scope="module")
def client():
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                       host="127.0.0.1", dashboard_address=None,
                                       worker_dashboard_address=None)
    with cluster, distributed.Client(cluster) as client:
        # One torch thread per worker: two workers of two threads on two cores spin
        # against each other.
        client.run(torch.set_num_threads, 1)
        yield client


@pytest.fixture(scope="module")
def many_speakers():
    return make_conversations(n_conversations=15, min_turns=4, max_turns=7, n_speakers=45,
                              random_state=0)


def test_search_runs_on_dask_workers_sharing_the_curve_store(client, many_speakers, tmp_path):
    X, y = many_speakers
    store = str(tmp_path / "curves.sqlite")
    net = HanRockClassifier(**{**TINY, "max_epochs": 3},
                            train_split=ConversationValidSplit(0.25, random_state=0),
                            callbacks=[MedianStopping(store, study="dask", first_check=2,
                                                      every=1)])
    search = RandomizedSearchCV(net, {"lr": [0.001, 0.01, 0.03, 0.3]}, n_iter=4,
                                cv=SpeakerGroupKFold(2), random_state=0)
    with distributed.get_task_stream(client) as tasks, \
            joblib.parallel_config(backend="dask"):
        search.fit(X, y)
    workers = {task["worker"] for task in tasks.data}
    assert len(workers) == 2  # the fits really ran in both worker processes
    curves = SQLiteCurveStore(store).curves("dask")
    assert curves["trial"].nunique() == 4 * 2 + 1  # every fit, on any worker, wrote its curve
    assert search.best_estimator_.history[-1, "epoch"] >= 1


def test_experiment_trials_run_on_dask(client, many_speakers, tmp_path):
    X, y = many_speakers
    with distributed.get_task_stream(client) as tasks, \
            joblib.parallel_config(backend="dask"):
        result = run_experiment(
            X, y, "H3", n_trials=2, max_epochs=1, n_jobs=2, n_resamples=50,
            results_file=tmp_path / "h3.jsonl", search_space={"han__lr": [0.003, 0.01]},
            fixed_params={"han__primary_units": 6, "han__aux_units": 2,
                          "han__embedding_dim": 8})
    assert result.n_fitted == 4 and (result.table["trials"] == 2).all()
    assert len({task["worker"] for task in tasks.data}) >= 1
