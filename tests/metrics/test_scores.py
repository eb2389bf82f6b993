"""skhanrock.metrics scorers: labelled rows only, sample weights and metadata routing."""

import warnings

import numpy as np
import pandas as pd
import pytest
import sklearn
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin, clone
from sklearn.dummy import DummyClassifier
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.metrics import (
    accuracy_score,
    check_scoring,
    f1_score,
    fbeta_score,
    get_scorer_names,
    log_loss,
    make_scorer,
    mean_absolute_error,
)
from sklearn.metrics import get_scorer as sklearn_get_scorer
from sklearn.model_selection import KFold, cross_validate

from skhanrock import HanRockClassifier
from skhanrock._testing import TINY
from skhanrock.metrics import (
    METRICS,
    Metric,
    classwise_f1,
    classwise_f1_scorers,
    get_scorer,
    paper_scorers,
)

from ._shared import AWKWARD, _labelled


@pytest.mark.parametrize("case", sorted(AWKWARD))
def test_classwise_f1_covers_true_and_predicted_classes_like_sklearn(case):
    y_true, y_pred = AWKWARD[case]
    true, pred = _labelled(y_true, y_pred)
    per_class = classwise_f1(y_true, y_pred)
    np.testing.assert_allclose(per_class.to_numpy(), f1_score(true, pred, average=None))
    scorers = classwise_f1_scorers(per_class.index)
    for label, value in per_class.items():
        function = scorers[f"f1_class:{label}"]._score_func
        assert function(np.asarray(y_true, dtype=object), np.asarray(y_pred)) == \
            pytest.approx(value)


def test_scorers_and_classwise_f1(predictions):
    y, good, _ = predictions
    assert set(paper_scorers("regression")) == {"mae"}
    per_class = classwise_f1(np.r_[y, [None]], np.r_[good, ["a"]])
    np.testing.assert_allclose(per_class.values, f1_score(y.tolist(), good.tolist(),
                                                          average=None))


def test_classwise_scorers_work_as_scoring(predictions):
    y, _, _ = predictions
    X = np.zeros((len(y), 1))
    scores = cross_validate(DummyClassifier(strategy="most_frequent"), X, y, cv=2,
                            scoring=paper_scorers(labels=["a", "b"]))
    assert scores["test_f1_class:b"].tolist() == [0.0, 0.0]
    assert (scores["test_f1_class:a"] > 0.5).all()
    with pytest.raises(ValueError, match="only applies to target_type='classification'"):
        paper_scorers("regression", labels=["a"])
    assert set(paper_scorers(target_type="regression")) == {"mae"}
    with pytest.raises(TypeError, match="paper_scorers got task='regression': the parameter is "
                                        "now target_type"):
        paper_scorers(task="regression")


def test_a_class_f1_of_a_label_nobody_has_warns_with_the_labels_at_hand():
    X, y = np.zeros((4, 1)), np.array(["angry", "angry", "sad", None], dtype=object)
    model = DummyClassifier(strategy="most_frequent").fit(X[:3], y[:3])
    scorer = classwise_f1_scorers(["ang"])["f1_class:ang"]
    with pytest.warns(UserWarning, match=r"'ang' is neither a true nor a predicted label.*"
                                         r"\['angry', 'sad'\]"):
        assert scorer(model, X, y) == 0.0


def test_metrics_name_their_function_and_direction():
    for name, metric in METRICS.items():
        assert isinstance(metric, Metric)
        assert metric.greater_is_better is (name != "mae")
        # tuple indexing and unpacking keep working for code written against pairs
        function, greater_is_better = metric
        assert (metric[0], metric[1]) == (function, greater_is_better) == tuple(metric)
    assert METRICS["accuracy"].function(np.array([1, 0]), np.array([1, 1])) == 0.5


class _SkipsUnlabelled(BaseEstimator):
    """A cheap stand-in for the HAN models: fits on labelled rows, predicts every row."""

    def __init__(self, estimator):
        self.estimator = estimator

    def fit(self, X, y):
        y = np.asarray(y, dtype=object)
        keep = pd.notna(pd.Series(y)).to_numpy()
        self.estimator_ = clone(self.estimator).fit(np.asarray(X)[keep], y[keep].tolist())
        if hasattr(self.estimator_, "classes_"):
            self.classes_ = self.estimator_.classes_
        return self

    def _seen(self, X):
        self.rows_seen_ = len(X)  # the scorers must predict on every row, context included
        return np.asarray(X)

    def predict(self, X):
        return self.estimator_.predict(self._seen(X))


class SkipsUnlabelledClassifier(ClassifierMixin, _SkipsUnlabelled):
    def predict_proba(self, X):
        return self.estimator_.predict_proba(self._seen(X))

    def decision_function(self, X):
        return self.estimator_.decision_function(self._seen(X))


class SkipsUnlabelledRegressor(RegressorMixin, _SkipsUnlabelled):
    pass


def _data(kind, n=90, seed=0):
    rng = np.random.default_rng(seed)
    X = pd.DataFrame({"x1": rng.normal(size=n), "x2": rng.normal(size=n)})
    if kind == "regression":
        y = pd.Series(np.exp(X["x1"] + 0.5 * rng.normal(size=n)))  # positive: deviances apply
        y[rng.random(n) < 0.2] = np.nan
        return X, y
    classes = ["a", "b", "c"] if kind == "multiclass" else ["a", "b"]
    codes = np.digitize(X["x1"] + 0.7 * rng.normal(size=n),
                        np.quantile(X["x1"], np.linspace(0, 1, len(classes) + 1)[1:-1]))
    y = pd.Series(np.asarray(classes, dtype=object)[codes], dtype=object)
    y[rng.random(n) < 0.2] = None
    return X, y


MODELS = {
    "multiclass": SkipsUnlabelledClassifier(LogisticRegression()),
    "binary": SkipsUnlabelledClassifier(LogisticRegression()),
    "regression": SkipsUnlabelledRegressor(LinearRegression()),
}


@pytest.fixture(scope="module")
def fitted():
    return {kind: (clone(model).fit(*_data(kind)), *_data(kind)) for kind, model in MODELS.items()}


def _outcome(scorer, model, X, y):
    """The score, or the type of the error (sklearn refuses some names on some data)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return scorer(model, X, y)
    except (ValueError, TypeError, AttributeError) as error:
        return type(error)


@pytest.mark.parametrize("name", get_scorer_names())
@pytest.mark.parametrize("kind", sorted(MODELS))
def test_every_sklearn_name_scores_the_labelled_rows_like_sklearn(fitted, kind, name):
    model, X, y = fitted[kind]
    keep = y.notna().to_numpy()
    ours = _outcome(get_scorer(name), model, X, y)
    assert model.rows_seen_ == len(X) or isinstance(ours, type)
    expected = _outcome(sklearn_get_scorer(name), model, X[keep], y[keep])
    if isinstance(expected, type):
        assert ours is expected
    else:
        assert ours == pytest.approx(expected, nan_ok=True)


def test_the_common_names_score_labelled_rows_where_sklearns_fail(fitted):
    model, X, y = fitted["multiclass"]
    keep = y.notna().to_numpy()
    predicted, proba = model.predict(X)[keep], model.predict_proba(X)[keep]
    assert get_scorer("f1_weighted")(model, X, y) == pytest.approx(
        f1_score(y[keep].tolist(), predicted, average="weighted"))
    assert get_scorer("neg_log_loss")(model, X, y) == pytest.approx(
        -log_loss(y[keep].tolist(), proba, labels=model.classes_))
    assert 0.5 < get_scorer("roc_auc_ovr")(model, X, y) <= 1
    assert 0.5 < get_scorer("roc_auc")(*fitted["binary"]) <= 1  # decision_function
    model, X, y = fitted["regression"]
    keep = y.notna().to_numpy()
    assert get_scorer("neg_mean_absolute_error")(model, X, y) == pytest.approx(
        -mean_absolute_error(y[keep], model.predict(X)[keep]))
    for name in ("f1_weighted", "neg_mean_absolute_error"):
        with pytest.raises((ValueError, TypeError)):
            sklearn_get_scorer(name)(*fitted["regression" if "error" in name else "multiclass"])


def test_a_bare_sklearn_name_gives_nan_in_cross_validate_and_get_scorer_does_not():
    X, y = _data("multiclass")
    model, cv = MODELS["multiclass"], KFold(3)
    with pytest.warns(UserWarning, match="Scoring failed"):
        bare = cross_validate(model, X, y, cv=cv, scoring="f1_weighted")["test_score"]
    assert np.isnan(bare).all()
    scores = cross_validate(model, X, y, cv=cv,
                            scoring={n: get_scorer(n) for n in ("f1_weighted", "accuracy",
                                                                 "neg_log_loss")})
    for (train, test), value in zip(cv.split(X), scores["test_f1_weighted"], strict=True):
        fold = clone(model).fit(X.iloc[train], y.iloc[train])
        keep = y.iloc[test].notna().to_numpy()
        assert value == pytest.approx(f1_score(y.iloc[test][keep].tolist(),
                                               fold.predict(X.iloc[test])[keep],
                                               average="weighted"))
    assert np.isfinite(scores["test_neg_log_loss"]).all()


def test_make_scorer_scorers_are_wrapped_and_other_callables_pass_through(fitted):
    model, X, y = fitted["multiclass"]
    keep = y.notna().to_numpy()
    f2 = get_scorer(make_scorer(fbeta_score, beta=2, average="macro"))
    assert f2(model, X, y) == pytest.approx(
        fbeta_score(y[keep].tolist(), model.predict(X)[keep], beta=2, average="macro"))
    def custom(estimator, X, y):
        return 0.0
    assert get_scorer(custom) is custom
    assert "labelled" in repr(get_scorer("accuracy"))


def test_unknown_names_and_other_types_are_refused():
    with pytest.raises(ValueError, match="'f1_wieghted' is not a valid scoring value"):
        get_scorer("f1_wieghted")
    for scoring in (None, ["accuracy"], {"a": "accuracy"}):
        with pytest.raises(TypeError, match="a scorer name .* or a callable scorer"):
            get_scorer(scoring)


def test_a_prediction_or_weight_per_row_is_required():
    X, y = _data("multiclass")
    model = clone(MODELS["multiclass"]).fit(X, y)
    with pytest.raises(ValueError, match="y has 90 rows but sample_weight has 3 rows"):
        get_scorer("accuracy")(model, X, y, sample_weight=[1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="y has 89 rows but the output of predict has 90"):
        get_scorer("accuracy")(model, X, y[:-1])
    with pytest.raises(ValueError, match="No labelled row"):
        get_scorer("accuracy")(model, X, pd.Series([None] * len(X), dtype=object))


def _weighted_scorers():
    """Each kind of the package's scorer, with the sklearn metric it must equal."""
    return {
        "get_scorer": (get_scorer("f1_macro"),
                       lambda t, p, w: f1_score(t, p, average="macro", sample_weight=w)),
        "paper_scorers": (paper_scorers()["accuracy"],
                          lambda t, p, w: accuracy_score(t, p, sample_weight=w)),
        "classwise_f1_scorers": (classwise_f1_scorers(["b"])["f1_class:b"],
                                 lambda t, p, w: f1_score(t, p, labels=["b"], average=None,
                                                          sample_weight=w)[0]),
    }


@pytest.mark.parametrize("kind", sorted(_weighted_scorers()))
def test_sample_weight_is_restricted_to_the_labelled_rows(kind):
    X, y = _data("multiclass")
    model = clone(MODELS["multiclass"]).fit(X, y)
    scorer, metric = _weighted_scorers()[kind]
    weights = np.random.default_rng(1).integers(1, 5, len(y)).astype(float)
    keep = y.notna().to_numpy()
    truth, predicted = y[keep].tolist(), model.predict(X)[keep]
    weighted = scorer(model, X, y, sample_weight=weights)
    assert weighted == pytest.approx(metric(truth, predicted, weights[keep]))
    assert weighted != pytest.approx(metric(truth, predicted, None))


@pytest.mark.parametrize("kind", sorted(_weighted_scorers()))
def test_metadata_routing_sends_sample_weight_to_the_scorers_that_ask(kind):
    X, y = _data("multiclass")
    weights = np.random.default_rng(2).integers(1, 5, len(y)).astype(float)
    model, cv = MODELS["multiclass"], KFold(3)
    with sklearn.config_context(enable_metadata_routing=True):
        scorer, metric = _weighted_scorers()[kind]
        # The scorer declares sample_weight: passing it unrequested is an error, not ignored.
        with pytest.raises(Exception, match="sample_weight"):
            cross_validate(model, X, y, cv=cv, scoring=scorer, params={"sample_weight": weights})
        scorer.set_score_request(sample_weight=True)
        scores = cross_validate(model, X, y, cv=cv, scoring={"s": scorer},
                                params={"sample_weight": weights})["test_s"]
    for (train, test), value in zip(cv.split(X), scores, strict=True):
        fold = clone(model).fit(X.iloc[train], y.iloc[train])
        keep = y.iloc[test].notna().to_numpy()
        assert value == pytest.approx(metric(y.iloc[test][keep].tolist(),
                                             fold.predict(X.iloc[test])[keep],
                                             weights[test][keep]))


@pytest.fixture(scope="module")
def han(conversations):
    X, y = conversations
    return HanRockClassifier(**TINY).fit(X, y), X, y


def test_han_model_scored_on_labelled_rows_with_unlabelled_ones_as_context(han):
    model, X, y = han
    keep = y.notna().to_numpy()
    assert not keep.all()
    predicted = model.predict(X)[keep]  # predicted with the unlabelled talkturns around
    assert get_scorer("f1_weighted")(model, X, y) == pytest.approx(
        f1_score(y[keep].tolist(), predicted.tolist(), average="weighted"))
    assert get_scorer("neg_log_loss")(model, X, y) == pytest.approx(
        -log_loss(y[keep].tolist(), model.predict_proba(X)[keep], labels=model.classes_))
    with pytest.raises(TypeError):  # sklearn's own scorer meets the None labels
        sklearn_get_scorer("f1_weighted")(model, X, y)
    # scoring=None is the estimator's score, which skips the unlabelled rows itself
    assert check_scoring(model)(model, X, y) == pytest.approx(
        accuracy_score(y[keep].tolist(), predicted.tolist()))
