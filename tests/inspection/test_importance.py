"""Permutation importance on talkturn frames, and the calibration recipe of the user guide."""

import re
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from joblib import parallel_config
from sklearn.base import BaseEstimator
from sklearn.calibration import CalibratedClassifierCV
from sklearn.frozen import FrozenEstimator
from sklearn.inspection import permutation_importance as sklearn_permutation_importance
from sklearn.metrics import log_loss
from sklearn.pipeline import make_pipeline

from skhanrock import HanRockClassifier
from skhanrock._testing import TINY
from skhanrock.datasets import make_conversations
from skhanrock.inspection import permutation_importance
from skhanrock.preprocessing import MonahTranscriber

IDS = ["conversation", "turn", "speaker"]


@pytest.fixture(scope="module")
def data():
    X, y = make_conversations(n_conversations=8, min_turns=5, max_turns=9, random_state=0)
    assert y.isna().any()  # unlabelled talkturns are there, as context
    return X, y


@pytest.fixture(scope="module")
def text_only(data):
    """The network alone reads the text (and the ids), never the feature columns."""
    X, y = data
    return HanRockClassifier(text_column="text", **TINY).fit(X, y)


@pytest.fixture(scope="module")
def pipe(data):
    X, y = data
    return make_pipeline(MonahTranscriber(), HanRockClassifier(**TINY)).fit(X, y)


class _Recorder(BaseEstimator):
    """Keeps a copy of every frame it scores, to see what was permuted."""

    def __init__(self):
        self.frames = []

    def fit(self, X, y=None):
        return self

    def score(self, X, y, sample_weight=None):
        self.frames.append(X.copy())
        return 0.0


def test_sklearn_permutation_importance_breaks_the_talkturn_frame(data, pipe):
    # The reason for skhanrock's own: sklearn permutes every column, the ids included,
    # so shuffled conversation values give repeated (conversation, turn) talkturns.
    X, y = data
    with pytest.raises(ValueError, match="duplicate"):
        sklearn_permutation_importance(pipe, X, y, n_repeats=1, random_state=0)


def test_pipeline_importances_leave_out_the_ids_and_leave_X_alone(data, pipe):
    X, y = data
    before = X.copy()
    result = permutation_importance(pipe, X, y, n_repeats=1, random_state=0)
    # A talkturn's start and end move together: alone, talkturns would end before they start.
    expected = [("start", "end") if c == "start" else c for c in X.columns
                if c not in [*IDS, "end"]]
    assert list(result.columns) == expected
    assert result.importances.shape == (len(expected), 1)
    assert result.importances_mean.shape == result.importances_std.shape == (len(expected),)
    assert np.isfinite(result.importances).all()  # the score skips the unlabelled rows
    pd.testing.assert_frame_equal(X, before)


def test_default_columns_leave_out_auxiliary_targets(data):
    X, y = data
    X = X.assign(**{"aux:smile": X["smile"]})
    recorder = _Recorder()
    result = permutation_importance(recorder, X, y, n_repeats=1, random_state=0)
    assert "aux:smile" not in result.columns
    assert not set(IDS) & set(result.columns)
    for frame in recorder.frames:
        pd.testing.assert_frame_equal(frame[[*IDS, "aux:smile"]], X[[*IDS, "aux:smile"]])


def test_a_column_the_model_does_not_read_has_importance_exactly_zero(data, text_only):
    X, y = data
    X = X.assign(unused=np.random.default_rng(0).normal(size=len(X)))
    result = permutation_importance(text_only, X, y, columns=["unused", "AU05_r", "text"],
                                    scoring="neg_log_loss", n_repeats=3, random_state=0)
    np.testing.assert_array_equal(result.importances[:2], 0.0)
    # The permutation does reach what the network reads: shuffled words change its loss.
    assert np.all(result.importances[2] != 0.0)


def test_same_random_state_same_importances(data, text_only):
    X, y = data
    kwargs = {"columns": ["text"], "scoring": "neg_log_loss", "n_repeats": 2}
    first = permutation_importance(text_only, X, y, random_state=0, **kwargs)
    again = permutation_importance(text_only, X, y, random_state=0, **kwargs)
    other = permutation_importance(text_only, X, y, random_state=1, **kwargs)
    np.testing.assert_array_equal(first.importances, again.importances)
    assert not np.array_equal(first.importances, other.importances)
    # Threads or processes do not change the permutations: the seed is drawn beforehand.
    with parallel_config(backend="threading"):
        threaded = permutation_importance(text_only, X, y, random_state=0, n_jobs=2, **kwargs)
    np.testing.assert_array_equal(first.importances, threaded.importances)


def test_within_conversation_keeps_each_conversations_values(data):
    X, y = data
    recorder = _Recorder()
    permutation_importance(recorder, X, y, columns=["AU06_r", "text"], n_repeats=3,
                           random_state=0)
    baseline, *permuted = recorder.frames
    pd.testing.assert_frame_equal(baseline, X)
    assert len(permuted) == 2 * 3
    for frame, column in zip(permuted, ["AU06_r"] * 3 + ["text"] * 3, strict=True):
        others = [c for c in X.columns if c != column]
        pd.testing.assert_frame_equal(frame[others], X[others])  # one column at a time
        assert frame[column].dtype == X[column].dtype
        for conversation, rows in X.groupby("conversation").groups.items():
            assert sorted(frame.loc[rows, column]) == sorted(X.loc[rows, column]), conversation
    assert all(not frame["AU06_r"].equals(X["AU06_r"]) for frame in permuted[:3])


def test_within_none_permutes_across_conversations(data):
    X, y = data
    recorder = _Recorder()
    permutation_importance(recorder, X, y, columns=["AU06_r"], n_repeats=3, within=None,
                           random_state=0)
    moved = [any(sorted(frame.loc[rows, "AU06_r"]) != sorted(X.loc[rows, "AU06_r"])
                 for rows in X.groupby("conversation").groups.values())
             for frame in recorder.frames[1:]]
    assert all(moved)
    assert all(sorted(f["AU06_r"]) == sorted(X["AU06_r"]) for f in recorder.frames)


def test_each_column_gets_the_same_permutations(data):
    # As in sklearn: a column's importance does not depend on which others are asked for.
    X, y = data
    alone, both = _Recorder(), _Recorder()
    permutation_importance(alone, X, y, columns=["AU06_r"], n_repeats=2, random_state=3)
    permutation_importance(both, X, y, columns=["AU12_r", "AU06_r"], n_repeats=2, random_state=3)
    for a, b in zip(alone.frames[1:], both.frames[3:], strict=True):
        pd.testing.assert_series_equal(a["AU06_r"], b["AU06_r"])


def test_several_scorers_give_one_bunch_each(data, text_only):
    X, y = data
    result = permutation_importance(text_only, X, y, columns=["AU05_r", "text"],
                                    scoring=["accuracy", "neg_log_loss"], n_repeats=2,
                                    random_state=0)
    assert set(result) == {"accuracy", "neg_log_loss"}
    for bunch in result.values():
        assert list(bunch.columns) == ["AU05_r", "text"]
        assert np.isfinite(bunch.importances).all()
        np.testing.assert_array_equal(bunch.importances[0], 0.0)


def test_sample_weight_reaches_the_score(data, text_only):
    X, y = data
    kwargs = {"columns": ["text"], "n_repeats": 2, "random_state": 0}
    plain = permutation_importance(text_only, X, y, **kwargs)
    ones = permutation_importance(text_only, X, y, sample_weight=np.ones(len(X)), **kwargs)
    np.testing.assert_allclose(ones.importances, plain.importances)


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"columns": ["AU05_r", "AU99_r"]}, r"AU99_r"),
    ({"columns": ["turn"]}, r"'turn'.*identif"),
    ({"columns": ["conversation"]}, r"'conversation'.*identif"),
    ({"columns": []}, r"columns"),
    ({"columns": ["smile", "smile"]}, r"more than once.*smile"),
    ({"columns": [("start", "end"), "AU99_c"]}, r"AU99_c"),
    ({"columns": [()]}, r"empty group"),
    ({"within": "speaker"}, r"within"),
    ({"n_repeats": 0}, r"n_repeats"),
    ({"speaker_column": "Speaker"}, r"speaker_column.*'Speaker'"),
    ({"conversation_column": "dialogue"}, r"dialogue"),
])
def test_bad_arguments_are_named(data, kwargs, message):
    X, y = data
    with pytest.raises(ValueError, match=message):
        permutation_importance(_Recorder(), X, y, **kwargs)


def test_a_group_of_columns_is_shuffled_row_by_row(data):
    X, y = data
    recorder = _Recorder()
    result = permutation_importance(recorder, X, y, columns=[["AU05_r", "AU05_c"], "AU06_r"],
                                    n_repeats=2, random_state=0)
    assert result.columns.shape == (2,)
    assert list(result.columns) == [("AU05_r", "AU05_c"), "AU06_r"]
    pairs = set(zip(X["AU05_r"], X["AU05_c"], strict=True))
    for frame in recorder.frames[1:3]:
        assert not frame["AU05_r"].equals(X["AU05_r"])
        assert set(zip(frame["AU05_r"], frame["AU05_c"], strict=True)) == pairs


def test_groups_of_the_same_size_stay_one_entry_each(data):
    X, y = data
    groups = [("AU05_r", "AU05_c"), ("AU06_r", "AU06_c")]
    result = permutation_importance(_Recorder(), X, y, columns=groups, n_repeats=1)
    assert result.columns.shape == (2,)
    assert list(result.columns) == groups


def test_a_single_column_name_is_one_column(data):
    X, y = data
    assert list(permutation_importance(_Recorder(), X, y, columns="smile").columns) == ["smile"]


def test_X_must_be_a_talkturn_frame(data):
    X, y = data
    with pytest.raises(TypeError, match="DataFrame"):
        permutation_importance(_Recorder(), X.to_numpy(), y)


def test_calibrated_classifier_cv_refuses_unlabelled_rows(data, pipe):
    # The reason for the recipe: CalibratedClassifierCV label-encodes y, missing labels included.
    X, y = data
    with pytest.raises(TypeError):
        CalibratedClassifierCV(FrozenEstimator(pipe)).fit(X, y)


def _recipe():
    """The code block of the user guide's calibration recipe, as written there."""
    guide = Path(__file__).resolve().parents[2] / "docs" / "user_guide" / "evaluation.rst"
    section = guide.read_text(encoding="utf-8").split("Calibrated probabilities\n", 1)[1]
    block = re.search(r"::\n\n((?:(?: {4}.*)?\n)+)", section).group(1)
    return textwrap.dedent(block)


def _run_recipe(clf, dev_seed):
    X_dev, y_dev = make_conversations(n_conversations=8, min_turns=5, max_turns=9,
                                      random_state=dev_seed)
    X_test, _ = make_conversations(n_conversations=3, min_turns=5, max_turns=9, random_state=9)
    names = {"clf": clf, "X_dev": X_dev, "y_dev": y_dev, "X_test": X_test}
    exec(compile(_recipe(), "evaluation.rst", "exec"), names)
    return names, X_dev, y_dev, X_test


def test_the_documented_calibration_recipe_runs_and_calibrates(pipe):
    names, X_dev, y_dev, X_test = _run_recipe(pipe, dev_seed=2)
    proba = names["calibrated_proba"]
    assert proba.shape == (len(X_test), len(pipe.classes_))
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-6)
    # Fitted on the labelled dev rows, it is at least as good there as the raw model.
    labelled = y_dev.notna().to_numpy()
    raw = pipe.predict_proba(X_dev)[labelled]
    calibrated = names["calibrate"](pipe.predict_proba(X_dev))[labelled]
    y_labelled = y_dev[labelled]
    assert log_loss(y_labelled, calibrated, labels=pipe.classes_) < log_loss(
        y_labelled, raw, labels=pipe.classes_)


def test_the_calibration_recipe_refuses_a_dev_frame_without_some_class(pipe):
    # These dev conversations have no labelled "sad" talkturn: the calibrator would miss it.
    with pytest.raises(ValueError, match="every class"):
        _run_recipe(pipe, dev_seed=1)
