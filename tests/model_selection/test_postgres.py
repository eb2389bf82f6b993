"""Several worker processes on one PostgreSQL-backed Optuna study (.ci/run starts the server).

The objective trains nothing: it reports made-up curves, so that the test is about
the shared study (every trial once, pruning across workers, a killed worker) and
runs in seconds.
"""

import multiprocessing
import os
import signal
import time
import uuid

import pytest

from skhanrock.model_selection import MedianStoppingPruner, study_curves

optuna = pytest.importorskip("optuna", reason="the optuna extra is not installed")
psycopg = pytest.importorskip("psycopg", reason="psycopg (the optuna extra) is not installed")
optuna.logging.set_verbosity(optuna.logging.WARNING)
URL = os.environ.get("SKHANROCK_TEST_POSTGRES_URL")
STEPS, FIRST_CHECK = 6, 3


@pytest.fixture(scope="module")
def url():
    if not URL:
        pytest.skip("SKHANROCK_TEST_POSTGRES_URL is not set: no PostgreSQL server to test "
                    "with (.ci/run starts one with .ci/postgres).")
    try:
        psycopg.connect(URL, connect_timeout=5).close()
    except psycopg.Error as error:
        pytest.skip(f"the PostgreSQL server of SKHANROCK_TEST_POSTGRES_URL is unreachable: "
                    f"{error}")
    return URL


def storage(url):
    # heartbeats let a live worker mark a killed worker's trial failed and retry it
    return optuna.storages.RDBStorage(
        url, heartbeat_interval=1, grace_period=2,
        heartbeat_stale_trial_callback=optuna.storages.RetryFailedTrialCallback(max_retry=1))


def objective(role, hang_at=None):
    def run(trial):
        trial.set_user_attr("worker", role)
        level = trial.suggest_float("level", 0.1, 0.2) if role.startswith("good") else 1.0
        for step in range(1, STEPS + 1):
            trial.report(level / step, step)
            if step == hang_at:
                time.sleep(600)  # the parent kills this worker here
            # which workers' curves the pruner reads at this step
            with_curves = _curve_numbers(trial.study) - {trial.number}
            workers = {study_trial.user_attrs.get("worker")
                       for study_trial in trial.study.get_trials(deepcopy=False)
                       if study_trial.number in with_curves}
            trial.set_user_attr(f"seen_{step}", sorted(w for w in workers if w))
            if trial.should_prune():
                raise optuna.TrialPruned()
            time.sleep(0.02)
        return level / STEPS
    return run


def _curve_numbers(study):
    return {int(name[1:]) for name in study_curves(study)["trial"]}


def work(url, name, role, n_trials, after_complete=0, hang_at=None):
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.load_study(study_name=name, storage=storage(url),
                              pruner=MedianStoppingPruner(first_check=FIRST_CHECK, every=1))
    state = optuna.trial.TrialState
    while len(study.get_trials(deepcopy=False, states=(state.COMPLETE,))) < after_complete:
        time.sleep(0.05)
    study.optimize(objective(role, hang_at), n_trials=n_trials)


def start(url, name, role, n_trials, **kwargs):
    # spawn, not fork: a fresh interpreter inherits no lock or thread of the test session
    process = multiprocessing.get_context("spawn").Process(
        target=work, args=(url, name, role, n_trials), kwargs=kwargs)
    process.start()
    return process


def trials_of(url, name):
    study_storage = optuna.storages.RDBStorage(url)
    try:
        return optuna.load_study(study_name=name, storage=study_storage).get_trials()
    finally:
        study_storage.engine.dispose()


@pytest.fixture(scope="module")
def shared_study(url):
    name = f"workers-{uuid.uuid4().hex}"
    optuna.create_study(study_name=name, storage=url)
    # two workers with good curves; a third whose curves are all equally bad starts once
    # two good trials are complete, so that their curves are there at its first check
    workers = [start(url, name, "good-1", 4), start(url, name, "good-2", 4),
               start(url, name, "bad", 3, after_complete=2)]
    for process in workers:
        process.join(120)
    assert [process.exitcode for process in workers] == [0, 0, 0]
    return name, trials_of(url, name)


def test_every_trial_of_every_worker_is_recorded_once(shared_study):
    _, trials = shared_study
    assert sorted(t.number for t in trials) == list(range(11))
    roles = [t.user_attrs["worker"] for t in trials]
    assert {role: roles.count(role) for role in set(roles)} == {"good-1": 4, "good-2": 4,
                                                                "bad": 3}
    for trial in trials:
        last = trial.last_step
        assert sorted(trial.intermediate_values) == list(range(1, last + 1))


def test_pruning_decisions_see_the_other_workers_curves(shared_study):
    _, trials = shared_study
    bad = [t for t in trials if t.user_attrs["worker"] == "bad"]
    # alone, the bad worker's identical curves would never be worse than their own median
    assert [t.state.name for t in bad] == ["PRUNED"] * 3
    assert all(t.last_step == FIRST_CHECK for t in bad)
    assert all({"good-1", "good-2"} <= set(t.user_attrs[f"seen_{FIRST_CHECK}"]) for t in bad)
    assert all(t.state.name == "COMPLETE" for t in trials if t.user_attrs["worker"] != "bad")


def test_a_killed_workers_trial_is_marked_failed_and_the_study_resumes(url):
    name = f"killed-{uuid.uuid4().hex}"
    optuna.create_study(study_name=name, storage=url)
    doomed = start(url, name, "good-doomed", 1, hang_at=2)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        trials = trials_of(url, name)
        if trials and trials[0].last_step == 2:
            break
        time.sleep(0.2)
    assert trials[0].state.name == "RUNNING"
    os.kill(doomed.pid, signal.SIGKILL)
    doomed.join(10)
    time.sleep(3)  # past the grace period without a heartbeat
    survivor = start(url, name, "good-survivor", 2)
    survivor.join(120)
    assert survivor.exitcode == 0
    killed, *rest = trials_of(url, name)
    assert killed.state.name == "FAIL"
    # the survivor's two trials: the killed one again (same parameters), then a new one
    assert [t.state.name for t in rest] == ["COMPLETE"] * 2
    retried = [t for t in rest
               if t.system_attrs.get("failed_trial") == 0]  # what RetryFailedTrialCallback sets
    assert len(retried) == 1 and retried[0].params == killed.params
