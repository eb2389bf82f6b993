"""AuxiliaryTaskSelector: keeps the auxiliary tasks that help, drops planted noise and conflict."""

import numpy as np
import pandas as pd
import pytest
from scipy.stats import uniform
from sklearn.model_selection import GroupKFold, RandomizedSearchCV
from sklearn.pipeline import Pipeline

from skhanrock import AuxiliaryTargets, HanRockClassifier, MonahTranscriber, MutualInfoLossWeights
from skhanrock._testing import TINY
from skhanrock._utils.frame import LABEL_OFFSETS_ATTR
from skhanrock.datasets import make_conversations
from skhanrock.preprocessing import AuxiliaryTaskSelector

PLANTED = ["aux:noise_a", "aux:noise_b", "aux:conflict"]


# The selector seeds each proxy network itself, so the proxies take no random_state; it
# fits one proxy per candidate and split, so one epoch over large batches keeps it fast.
PROXY = {**{name: value for name, value in TINY.items() if name != "random_state"},
         "max_epochs": 1, "batch_size": 64}


@pytest.fixture(scope="module")
def planted():
    X, y = make_conversations(n_conversations=40, planted_features=True, random_state=0)
    aux = AuxiliaryTargets(families="aph", label_offsets=(-1,), target_type="classification",
                           columns=["noise_a", "noise_b", "conflict"])
    return aux.fit_transform(X, y), y


def test_planted_features_leave_the_default_data_unchanged():
    X, y = make_conversations(n_conversations=6, random_state=3)
    planted_X, planted_y = make_conversations(n_conversations=6, planted_features=True,
                                              random_state=3)
    pd.testing.assert_frame_equal(planted_X[X.columns], X)
    pd.testing.assert_series_equal(planted_y, y)
    assert list(planted_X.columns[len(X.columns):]) == ["noise_a", "noise_b", "conflict"]


def test_conflict_tracks_the_emotion_within_a_conversation_but_not_across():
    X, y = make_conversations(n_conversations=40, planted_features=True, random_state=1,
                              unlabelled_fraction=0.0)
    code = pd.Categorical(y, categories=["angry", "happy", "neutral", "sad"]).codes
    shift = (X["conflict"].round() - code) % 4
    # One hidden shift per conversation (up to the noise), each used by as many conversations.
    hidden = shift.groupby(X["conversation"]).agg(lambda s: s.mode()[0])
    assert (shift == X["conversation"].map(hidden)).mean() > 0.8
    assert hidden.value_counts().tolist() == [10] * 4
    assert abs(np.corrcoef(code, X["conflict"])[0, 1]) < 0.2


def test_mutual_info_drops_noise_and_conflict_and_keeps_the_informative_tasks(planted):
    X, y = planted
    selector = AuxiliaryTaskSelector(random_state=0).fit(X, y)
    assert not set(PLANTED) & set(selector.selected_tasks_)
    informative = ["aux:AU05", "aux:AU17", "aux:AU25", "aux:happy", "aux:sad", "aux:angry", "y-1"]
    assert set(informative) <= set(selector.selected_tasks_)
    assert list(selector.scores_.index) == [c for c in X.columns if c.startswith("aux:")] + ["y-1"]
    assert selector.baseline_score_ is None and selector.path_ == []


def test_transform_drops_unselected_columns_and_rewrites_offsets_without_labels(planted):
    X, y = planted
    selector = AuxiliaryTaskSelector(k=2, random_state=0).fit(X, y)
    assert len(selector.selected_tasks_) == 2
    before = X.copy()
    out = selector.transform(X)
    pd.testing.assert_frame_equal(X, before)  # the caller's frame is untouched
    assert X.attrs[LABEL_OFFSETS_ATTR] == (-1,)
    assert [c for c in out.columns if c.startswith("aux:")] == selector.selected_columns_
    assert out.attrs[LABEL_OFFSETS_ATTR] == selector.selected_offsets_
    assert list(selector.get_feature_names_out()) == list(out.columns)
    assert set(selector.selected_tasks_) == {*selector.selected_columns_,
                                              *(f"y{o:+d}" for o in selector.selected_offsets_)}


def test_threshold_above_every_score_selects_nothing(planted):
    X, y = planted
    selector = AuxiliaryTaskSelector(threshold=10.0).fit(X, y)
    assert selector.selected_tasks_ == []
    out = selector.transform(X)
    assert not any(c.startswith("aux:") for c in out.columns)
    assert out.attrs[LABEL_OFFSETS_ATTR] == ()


def test_proxy_drops_noise_and_conflict_deterministically(planted):
    X, y = planted
    params = {"method": "proxy", "grouping": "family", "proxy_params": PROXY,
              "random_state": 0}
    first = AuxiliaryTaskSelector(**params).fit(X, y)
    second = AuxiliaryTaskSelector(**params).fit(X, y)
    pd.testing.assert_series_equal(first.scores_, second.scores_)
    assert first.selected_tasks_ == second.selected_tasks_
    assert not set(PLANTED) & set(first.selected_tasks_)
    # A family shares one score: that of the family alone against no auxiliary task.
    assert first.scores_["aux:AU05"] == first.scores_["aux:AU25"]
    assert isinstance(first.baseline_score_, float)
    family = {"a": ["aux:AU05", "aux:AU17", "aux:AU20", "aux:AU25"],
              "p": ["aux:happy", "aux:sad", "aux:angry", "aux:fear"], "h": ["y-1"]}
    added = [name for name, _ in first.path_]
    assert sorted(first.selected_tasks_) == sorted(t for name in added for t in family[name])


def test_proxy_greedy_stops_after_k_candidates(planted):
    X, y = planted
    selector = AuxiliaryTaskSelector(method="proxy", k=1, min_gain=-1.0,
                                     proxy_params=PROXY, random_state=0).fit(X, y)
    assert len(selector.path_) == 1  # with any gain accepted, only k bounds the search


def test_no_auxiliary_task_selects_nothing():
    X, y = make_conversations(n_conversations=3, random_state=0)
    selector = AuxiliaryTaskSelector(method="proxy").fit(X, y)
    assert selector.selected_tasks_ == [] and selector.scores_.empty
    pd.testing.assert_frame_equal(selector.transform(X), X)


@pytest.mark.parametrize(("params", "message"), [
    ({"method": "gradient"}, "method must be one of"),
    ({"grouping": "speaker"}, "grouping must be one of"),
    ({"k": 0}, "k"),
    ({"holdout_fraction": 1.0}, "holdout_fraction"),
    ({"proxy_params": "small"}, "proxy_params must be a dict"),
])
def test_bad_parameters_are_named(planted, params, message):
    X, y = planted
    with pytest.raises(ValueError, match=message):
        AuxiliaryTaskSelector(**params).fit(X, y)


def test_searchable_inside_a_pipeline_with_randomized_search():
    X, y = make_conversations(n_conversations=8, planted_features=True, random_state=0)
    pipe = Pipeline([
        ("monah", MonahTranscriber()),
        ("aux", AuxiliaryTargets(families="ah", label_offsets=(-1,), columns=["noise_a"],
                                 target_type="classification")),
        ("select", AuxiliaryTaskSelector(random_state=0)),
        ("weights", MutualInfoLossWeights(target_type="classification", random_state=0)),
        ("han", HanRockClassifier(loss_weights="pipeline", label_offsets="pipeline",
                                  **TINY)),
    ])
    search = RandomizedSearchCV(
        pipe, {"select__method": ["mutual_info", "proxy"], "select__threshold": uniform(0, 0.3),
               "select__k": [None, 1, 2], "select__proxy_params": [PROXY]},
        n_iter=2, cv=GroupKFold(n_splits=2), random_state=0, error_score="raise")
    search.fit(X, y, groups=X["conversation"])
    fitted = search.best_estimator_
    kept = fitted.named_steps["select"].selected_columns_
    assert list(fitted.named_steps["han"].aux_columns_) == kept
    assert len(fitted.predict(X)) == len(X)


def test_timing_targets_form_one_family():
    from skhanrock.preprocessing import TIMING_TARGETS
    from skhanrock.preprocessing._selection import _task_family

    assert {_task_family(f"aux:{name}") for name in TIMING_TARGETS} == {"t"}
    assert _task_family("aux:AU05") == "a" and _task_family("y-1") == "h"


def test_the_proxy_networks_read_the_words_through_the_han_alone():
    # The transfer the proxy measures is through the HAN's shared layers, which the
    # estimators' default lexical path bypasses; proxy_params can still ask for it.
    selector = AuxiliaryTaskSelector(method="proxy")
    selector.target_type_ = "classification"
    assert selector._proxy_network(0).lexical_ngrams is None
    selector.set_params(proxy_params={"lexical_ngrams": (1, 2)})
    assert selector._proxy_network(0).lexical_ngrams == (1, 2)
