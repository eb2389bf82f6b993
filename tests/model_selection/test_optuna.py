import pickle
from types import SimpleNamespace

import numpy as np
import pytest
from skorch.history import History

from skhanrock import HanRockClassifier
from skhanrock._testing import TINY
from skhanrock.model_selection import (
    MedianStopping,
    MedianStoppingPruner,
    OptunaCurveStore,
    SQLiteCurveStore,
)
from skhanrock.nn import ConversationValidSplit

optuna = pytest.importorskip("optuna", reason="the optuna extra is not installed")
optuna.logging.set_verbosity(optuna.logging.WARNING)


def recorded_curves(seed=3, n_trials=12):
    """Learning curves of a search: trials start one or two rounds apart and run 6-12 epochs."""
    rng = np.random.default_rng(seed)
    curves = {}
    for k in range(n_trials):
        level, rate = rng.uniform(0.3, 1.0), rng.uniform(0.02, 0.2)
        length = int(rng.integers(6, 13))
        noise = rng.normal(0, 0.03, length)
        curves[f"t{k}"] = (k // 2, level * np.exp(-rate * np.arange(length)) + noise)
    return curves


def replay(curves, start, step, end):
    """Play the curves round by round (one epoch of each running trial), as parallel workers
    would; ``step(name, handle, scores)`` says whether the trial stops. Returns the epoch at
    which each trial stopped (None: ran to its end)."""
    stopped, handles = {}, {}
    last_round = max(first + len(scores) for first, scores in curves.values())
    for round_ in range(last_round):
        for name, (first, scores) in curves.items():
            epoch = round_ - first + 1
            if name in stopped or not 1 <= epoch <= len(scores):
                continue
            if epoch == 1:
                handles[name] = start(name)
            if step(name, handles[name], list(scores[:epoch])):
                stopped[name] = epoch
            elif epoch == len(scores):
                stopped[name] = None
            if name in stopped:
                end(name, handles[name], stopped[name] is not None)
    return stopped


def net_after(scores):
    history = History()
    for value in scores:
        history.new_epoch()
        history.record("valid_loss", value)
    return SimpleNamespace(history=history, verbose=0)


def median_stopping_decisions(curves, store):
    def start(name):
        callback = MedianStopping(store, study="s", trial=name)
        callback.on_train_begin(None)
        return callback

    def step(name, callback, scores):
        try:
            callback.on_epoch_end(net_after(scores))
        except KeyboardInterrupt:
            return True
        return False

    def end(name, callback, stopped):
        callback.on_train_end(None)

    return replay(curves, start, step, end)


def pruner_decisions(curves, pruner):
    study = optuna.create_study(pruner=pruner)

    def step(name, trial, scores):
        trial.report(scores[-1], len(scores))
        return trial.should_prune()

    def end(name, trial, stopped):
        if stopped:
            study.tell(trial, state=optuna.trial.TrialState.PRUNED)
        else:
            study.tell(trial, trial.study.trials[trial.number].intermediate_values[
                max(trial.study.trials[trial.number].intermediate_values)])

    return replay(curves, lambda name: study.ask(), step, end)


@pytest.fixture(scope="module")
def sqlite_decisions(tmp_path_factory):
    store = SQLiteCurveStore(tmp_path_factory.mktemp("store") / "curves.sqlite")
    return median_stopping_decisions(recorded_curves(), store)


def test_the_recorded_curves_have_stopped_and_finished_trials(sqlite_decisions):
    # the comparisons below mean something only if the rule stops some trials and not others
    outcomes = list(sqlite_decisions.values())
    assert sum(e is not None for e in outcomes) >= 3 and outcomes.count(None) >= 3
    # checks happen at epochs 5, 7, 9, 11 only
    assert {e for e in outcomes if e is not None} <= {5, 7, 9, 11}


def test_the_optuna_pruner_stops_the_trials_the_sqlite_store_stops(sqlite_decisions):
    assert pruner_decisions(recorded_curves(), MedianStoppingPruner()) == sqlite_decisions


def journal(path):
    from optuna.storages import JournalStorage
    from optuna.storages.journal import JournalFileBackend

    return JournalStorage(JournalFileBackend(str(path)))


@pytest.mark.parametrize("kind", ["rdb", "journal"])
def test_median_stopping_on_an_optuna_storage_stops_the_same_trials(sqlite_decisions, tmp_path,
                                                                    kind):
    storage = (f"sqlite:///{tmp_path / 'optuna.db'}" if kind == "rdb"
               else journal(tmp_path / "optuna.log"))
    # pickled, as the processes of a search receive it
    store = pickle.loads(pickle.dumps(OptunaCurveStore(storage)))
    assert median_stopping_decisions(recorded_curves(), store) == sqlite_decisions
    study = optuna.load_study(study_name="s", storage=store.storage)
    states = {t.user_attrs["curve_id"]: t.state.name for t in study.trials}
    assert states == {name: "PRUNED" if epoch else "COMPLETE"
                      for name, epoch in sqlite_decisions.items()}
    assert all(len(t.intermediate_values) == (sqlite_decisions[t.user_attrs["curve_id"]]
                                              or len(recorded_curves()[t.user_attrs["curve_id"]][1]))
               for t in study.trials)


def test_optunas_own_median_pruner_is_another_rule(sqlite_decisions):
    # completed trials' values at the step, not every trial's running average: the reason
    # the package ships MedianStoppingPruner (documented in the pruner and the user guide)
    stock = optuna.pruners.MedianPruner(n_warmup_steps=5, interval_steps=2)
    assert pruner_decisions(recorded_curves(), stock) != sqlite_decisions


def test_a_rerun_trial_id_fails_its_unfinished_run_and_leaves_the_median(tmp_path):
    url = f"sqlite:///{tmp_path / 'optuna.db'}"
    killed = OptunaCurveStore(url)
    killed.record("s", "a", 1, 0.5)  # its process dies here: no finish
    rerun = pickle.loads(pickle.dumps(OptunaCurveStore(url)))
    rerun.record("s", "a", 1, 0.4)
    rerun.finish("s", "a", stopped=False)
    states = [t.state.name for t in optuna.load_study(study_name="s", storage=url).trials]
    assert states == ["FAIL", "COMPLETE"]
    assert rerun.curves("s")[["trial", "epoch", "score"]].values.tolist() == [["a", 1, 0.4]]


def test_an_unreachable_storage_is_named_without_its_password():
    store = OptunaCurveStore("postgresql://user:secret@127.0.0.1:1/none")
    with pytest.raises(ValueError, match=r"postgresql://\*\*\*@127.0.0.1:1/none.*cannot be"):
        store.check_writable()


@pytest.mark.parametrize("value", [0, -1, 2.5, True])
def test_the_pruner_refuses_a_check_schedule_that_is_not_positive_integers(value):
    with pytest.raises(ValueError, match="first_check must be a positive integer"):
        MedianStoppingPruner(first_check=value)


def test_optuna_integrations_skorch_callback_prunes_a_han_rock_trial(conversations):
    integration = pytest.importorskip("optuna_integration",
                                      reason="optuna-integration is not installed")
    X, y = conversations
    # SkorchPruningCallback reports epoch n as step n - 1
    study = optuna.create_study(pruner=MedianStoppingPruner(first_check=2, every=1))

    def objective(trial):
        lr = [0.01, 0.5][trial.number]  # the second is absurd
        net = HanRockClassifier(**{**TINY, "max_epochs": 5}, lr=lr,
                                train_split=ConversationValidSplit(0.25, random_state=0),
                                callbacks=[integration.SkorchPruningCallback(trial,
                                                                             "valid_loss")])
        net.fit(X, y)
        return net.history[-1, "valid_loss"]

    study.optimize(objective, n_trials=2)
    assert [t.state.name for t in study.trials] == ["COMPLETE", "PRUNED"]
    assert len(study.trials[0].intermediate_values) == 5
    assert max(study.trials[1].intermediate_values) == 2  # pruned at the first check


def test_a_study_of_the_other_direction_is_refused_with_its_name(tmp_path):
    url = f"sqlite:///{tmp_path / 'optuna.db'}"
    optuna.create_study(study_name="s", storage=url, direction="maximize")
    with pytest.raises(ValueError, match=r"the study 's' in .* has direction 'maximize', not "
                                         r"'minimize'"):
        OptunaCurveStore(url).record("s", "a", 1, 0.5)
