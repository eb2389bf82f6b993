import os
import pickle
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.model_selection import GroupShuffleSplit, RandomizedSearchCV

from skhanrock import HanRockClassifier
from skhanrock._testing import TINY
from skhanrock.model_selection import MedianStopping, SQLiteCurveStore, check_curve_store
from skhanrock.nn import ConversationValidSplit


class FolderCurveStore:
    """Learning curves as one small CSV file per trial in a folder every machine mounts.

    Each trial writes only its own file, replacing it whole (``os.replace`` is
    atomic, on NFS too), so readers on any machine see every curve complete
    up to some epoch and no lock is needed.
    """

    def __init__(self, folder):
        self.folder = folder

    def record(self, study, trial, epoch, score):
        folder = Path(self.folder, study)
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{trial}.csv"
        lines = path.read_text() if path.exists() else ""
        temporary = folder / f".{trial}.tmp"
        temporary.write_text(lines + f"{trial},{epoch},{score!r}\n")
        os.replace(temporary, path)

    def curves(self, study):
        files = sorted(Path(self.folder, study).glob("*.csv"))
        frames = [pd.read_csv(f, names=["trial", "epoch", "score"], dtype={"trial": str})
                  for f in files]
        return (pd.concat(frames, ignore_index=True) if frames
                else pd.DataFrame(columns=["trial", "epoch", "score"]))


def trial(store, name, lr, epochs=9, study="s"):
    return HanRockClassifier(**{**TINY, "max_epochs": epochs}, lr=lr,
                             train_split=ConversationValidSplit(0.25, random_state=0),
                             callbacks=[("median", MedianStopping(store, study=study,
                                                                  trial=name))])


@pytest.mark.parametrize("kind", ["sqlite", "object"])
def test_a_clearly_bad_trial_stops_early_and_a_good_one_does_not(conversations, tmp_path,
                                                                 kind):
    X, y = conversations
    store = (str(tmp_path / "curves.sqlite") if kind == "sqlite"
             else FolderCurveStore(tmp_path / "curves"))
    first = trial(store, "good-1", lr=0.01).fit(X, y)
    assert len(first.history) == 9  # nothing to compare with yet
    bad = trial(store, "bad", lr=0.5).fit(X, y)  # an absurd learning rate diverges
    assert len(bad.history) < 9
    assert dict(bad.callbacks_)["median"].stopped_epoch_ == len(bad.history)
    good = trial(store, "good-2", lr=0.01).fit(X, y)
    assert len(good.history) == 9
    curves = (SQLiteCurveStore(store) if kind == "sqlite" else store).curves("s")
    assert set(curves["trial"]) == {"good-1", "bad", "good-2"}


def epochs_trained(estimator, X, y):
    return len(estimator.history)


def test_a_parallel_search_stops_the_bad_trial_and_not_the_good_ones(conversations, tmp_path):
    X, y = conversations
    store = f"sqlite:///{tmp_path / 'search.sqlite'}"
    callback = MedianStopping(store, study="search")
    assert pickle.loads(pickle.dumps(callback)).store == store
    net = HanRockClassifier(**{**TINY, "max_epochs": 9},
                            train_split=ConversationValidSplit(0.25, random_state=0),
                            callbacks=[callback])
    # Two identical good trials (neither can be worse than the other's running average),
    # then the bad one, which two workers start only once a good one has finished.
    search = RandomizedSearchCV(net, {"lr": [0.01, 0.01, 2.0]}, n_iter=3, n_jobs=2,
                                cv=GroupShuffleSplit(1, test_size=0.25, random_state=0),
                                scoring=epochs_trained, refit=False, random_state=0)
    search.fit(X, y, groups=X["conversation"])
    assert search.cv_results_["param_lr"].tolist() == [0.01, 0.01, 2.0]
    assert search.cv_results_["mean_test_score"].tolist()[:2] == [9, 9]
    assert search.cv_results_["mean_test_score"][2] < 9
    curves = SQLiteCurveStore(store).curves("search")
    assert curves["trial"].nunique() == 3 and np.isfinite(curves["score"]).all()


def test_old_curves_count_only_in_their_own_study(conversations, tmp_path):
    X, y = conversations
    store = SQLiteCurveStore(tmp_path / "shared.sqlite")
    for epoch in range(1, 8):  # a finished, unrelated run whose dev loss was tiny
        store.record("old-search", "stale", epoch, 1e-6)
    fresh = trial(store.path, "good", lr=0.01, epochs=7, study="new-search").fit(X, y)
    assert len(fresh.history) == 7
    # the same trial in the old run's study is held to the stale curve and stopped: the
    # reason MedianStopping has no shared default file
    mixed = trial(store.path, "good", lr=0.01, epochs=7, study="old-search").fit(X, y)
    assert len(mixed.history) == 5
    with pytest.raises(ValueError, match="MedianStopping needs store="):
        trial(None, "t", lr=0.01, epochs=1).fit(X, y)


@pytest.mark.parametrize(("store", "error", "message"), [
    ("postgresql://host/curves", ValueError, r"store='postgresql://host/curves': only a file"),
    ("http://host/curves", ValueError, r"store='http://host/curves'"),
    ("sqlite:///:memory:", ValueError, "names no file"),
    (42, TypeError, "store must be a path, a 'sqlite:///' URL or an object"),
])
def test_stores_that_cannot_be_shared_are_refused(conversations, store, error, message):
    X, y = conversations
    with pytest.raises(error, match=message):
        trial(store, "t", lr=0.01, epochs=1).fit(X, y)


@pytest.mark.parametrize(("store", "error", "message"), [
    ("postgresql://host/curves", ValueError, r"median_stopping='postgresql://host/curves'"),
    ("", ValueError, r"median_stopping='' names no file"),
    (None, ValueError, "MedianStopping needs median_stopping="),
    (42, TypeError, "median_stopping must be a path"),
])
def test_a_store_is_checked_before_training_under_the_callers_name(store, error, message):
    with pytest.raises(error, match=message):
        check_curve_store(store, "median_stopping")


def test_check_curve_store_gives_the_store_that_median_stopping_uses(tmp_path):
    path = tmp_path / "curves.sqlite"
    assert isinstance(check_curve_store(path), SQLiteCurveStore)
    assert check_curve_store(f"sqlite:///{path}").path == f"sqlite:///{path}"
    own = FolderCurveStore(tmp_path / "curves")
    assert check_curve_store(own) is own


def test_a_store_object_reads_the_study_it_was_given_to_write(conversations, tmp_path):
    X, y = conversations
    store = FolderCurveStore(tmp_path / "curves")
    # study=7 was written as "7" but read as 7, which the store cannot open
    net = trial(store, "t", lr=0.01, epochs=5, study=7).fit(X, y)
    assert len(net.history) == 5
    assert set(store.curves("7")["epoch"]) == {1, 2, 3, 4, 5}


def test_unwritable_store_is_reported(conversations, tmp_path):
    X, y = conversations
    blocker = tmp_path / "file"
    blocker.write_text("")
    net = trial(str(blocker / "curves.sqlite"), "t", lr=0.01, epochs=1)
    with pytest.raises(ValueError, match="cannot be written"):
        net.fit(X, y)


def test_missing_monitor_is_reported(conversations, tmp_path):
    X, y = conversations
    net = HanRockClassifier(**TINY, callbacks=[MedianStopping(str(tmp_path / "c.sqlite"))])
    with pytest.raises(ValueError, match="valid_loss"):
        net.fit(X, y)


@pytest.mark.parametrize("score", [float("nan"), float("inf"), -float("inf")])
def test_the_sqlite_store_refuses_a_score_that_is_not_finite(tmp_path, score):
    store = SQLiteCurveStore(tmp_path / "curves.sqlite")
    with pytest.raises(ValueError, match=rf"score of trial 't' at epoch 3 is {score}; only "
                                         "finite scores are stored"):
        store.record("s", "t", 3, score)
    assert store.curves("s").empty


def _net_after_epochs(scores):
    """A stand-in for a net whose history holds these valid_loss values."""
    from types import SimpleNamespace

    from skorch.history import History

    history = History()
    for value in scores:
        history.new_epoch()
        history.record("valid_loss", value)
    return SimpleNamespace(history=history, verbose=0)


@pytest.mark.parametrize("kind", ["sqlite", "object"])
@pytest.mark.parametrize("loss", [float("nan"), float("inf")])
def test_a_diverged_trial_stops_at_once_and_leaves_no_score(tmp_path, kind, loss):
    store = (SQLiteCurveStore(tmp_path / "curves.sqlite") if kind == "sqlite"
             else FolderCurveStore(tmp_path / "curves"))
    callback = MedianStopping(store, study="s", trial="diverged")
    callback.on_train_begin(None)
    callback.on_epoch_end(_net_after_epochs([0.7]))
    assert callback.stopped_epoch_ is None
    # long before first_check, and with no other trial to compare with: it stops anyway
    with pytest.raises(KeyboardInterrupt):
        callback.on_epoch_end(_net_after_epochs([0.7, loss]))
    assert callback.stopped_epoch_ == 2
    curves = store.curves("s")
    assert curves["epoch"].tolist() == [1] and np.isfinite(curves["score"]).all()


def _open_and_record(path_and_trial):
    path, trial = path_and_trial
    store = SQLiteCurveStore(path)
    store.check_writable()
    store.record("study", trial, 1, 0.5)


def test_processes_opening_a_fresh_store_together_all_get_in(tmp_path):
    # They race to switch the new file to WAL; SQLite answers "locked" at once
    # there (3 of 40 rounds of 8 processes failed before the store retried).
    import multiprocessing

    with multiprocessing.get_context("fork").Pool(6) as pool:
        for round_ in range(20):
            path = tmp_path / f"round{round_}.sqlite"
            pool.map(_open_and_record, [(path, f"trial-{i}") for i in range(6)])
            assert len(SQLiteCurveStore(path).curves("study")) == 6


@pytest.mark.parametrize("method", ["check_writable", "record", "curves"])
def test_a_foreign_curves_table_is_named_with_the_expected_columns(tmp_path, method):
    import sqlite3

    path = tmp_path / "other.sqlite"
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE curves (name TEXT, value REAL)")
    store = SQLiteCurveStore(path)
    call = {"check_writable": lambda: store.check_writable(),
            "record": lambda: store.record("s", "t", 1, 0.5),
            "curves": lambda: store.curves("s")}[method]
    message = (rf"'{path}' has a table 'curves' with the columns \['name', 'value'\], not "
               r"\['study', 'trial', 'epoch', 'score'\]")
    with pytest.raises(ValueError, match=message):
        call()
