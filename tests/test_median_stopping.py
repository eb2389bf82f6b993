import pickle

import numpy as np
import pytest
from conftest import TINY
from sklearn.model_selection import GroupKFold, RandomizedSearchCV

from skhanrock import HanRockClassifier
from skhanrock.model_selection import MedianStopping, SQLiteCurveStore
from skhanrock.nn import ConversationValidSplit


def trial(store, name, lr, epochs=9):
    return HanRockClassifier(**{**TINY, "max_epochs": epochs}, lr=lr,
                             train_split=ConversationValidSplit(0.25, random_state=0),
                             callbacks=[("median", MedianStopping(store, study="s", trial=name))])


def test_a_clearly_bad_trial_stops_early_and_a_good_one_does_not(conversations, tmp_path):
    X, y = conversations
    store = str(tmp_path / "curves.sqlite")
    first = trial(store, "good-1", lr=0.01).fit(X, y)
    assert len(first.history) == 9  # nothing to compare with yet
    bad = trial(store, "bad", lr=0.5).fit(X, y)  # an absurd learning rate diverges
    assert len(bad.history) < 9
    assert dict(bad.callbacks_)["median"].stopped_epoch_ == len(bad.history)
    good = trial(store, "good-2", lr=0.01).fit(X, y)
    assert len(good.history) == 9
    curves = SQLiteCurveStore(store).curves("s")
    assert set(curves["trial"]) == {"good-1", "bad", "good-2"}


def test_runs_inside_a_parallel_search_and_pickles(conversations, tmp_path):
    X, y = conversations
    store = f"sqlite:///{tmp_path / 'search.sqlite'}"
    callback = MedianStopping(store, study="search", first_check=2, every=1)
    assert pickle.loads(pickle.dumps(callback)).store == store
    net = HanRockClassifier(**{**TINY, "max_epochs": 3},
                            train_split=ConversationValidSplit(0.25, random_state=0),
                            callbacks=[callback])
    search = RandomizedSearchCV(net, {"lr": [0.001, 0.01, 0.3]}, n_iter=3,
                                cv=GroupKFold(2), n_jobs=2, random_state=0)
    search.fit(X, y, groups=X["conversation"])
    curves = SQLiteCurveStore(store).curves("search")
    assert curves["trial"].nunique() >= 6  # 3 candidates x 2 folds + the refit
    assert np.isfinite(curves["score"]).all()


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
