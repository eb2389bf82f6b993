import numpy as np
import pytest
from sklearn.metrics import accuracy_score, balanced_accuracy_score, f1_score

from skhanrock.metrics import (
    bootstrap_ci,
    bootstrap_compare,
    bootstrap_search_compare,
    classwise_f1,
    paper_scorers,
    score,
)


@pytest.fixture(scope="module")
def predictions():
    rng = np.random.default_rng(0)
    y = rng.choice(["a", "b", "c"], 600, p=[0.5, 0.3, 0.2]).astype(object)
    good = np.where(rng.random(600) < 0.8, y, rng.choice(["a", "b", "c"], 600))
    bad = np.where(rng.random(600) < 0.5, y, rng.choice(["a", "b", "c"], 600))
    return y, good, bad


@pytest.mark.parametrize("metric, reference", [
    ("accuracy", accuracy_score),
    ("balanced_accuracy", balanced_accuracy_score),
    ("macro_f1", lambda t, p: f1_score(t, p, average="macro")),
    ("weighted_f1", lambda t, p: f1_score(t, p, average="weighted")),
])
def test_vectorised_resamples_match_sklearn_on_each_resample(predictions, metric, reference):
    y, good, _ = predictions
    result = bootstrap_ci(y, good, metric, n_resamples=50, random_state=0)
    assert np.isclose(result.estimate, reference(y.tolist(), good.tolist()))
    looped = bootstrap_ci(y, good, lambda t, p: reference(t.tolist(), p.tolist()),
                          n_resamples=50, random_state=0)
    np.testing.assert_allclose(result.resamples, looped.resamples, atol=1e-5)
    assert result.low <= result.estimate <= result.high


def test_mae_interval_and_unlabelled_rows():
    y = np.array([1.0, 2.0, None, 4.0] * 50, dtype=object)
    predicted = np.array([1.5, 2.0, 100.0, 3.0] * 50)
    result = bootstrap_ci(y, predicted, "mae", random_state=0)
    assert np.isclose(result.estimate, 0.5)
    assert score(y, predicted, "mae") == pytest.approx(0.5)


def test_paired_comparison_detects_a_real_difference_and_not_a_null_one(predictions):
    y, good, bad = predictions
    better = bootstrap_compare(y, bad, good, "weighted_f1", random_state=0)
    assert better.difference > 0 and better.significant and better.p_value < 0.05
    same = bootstrap_compare(y, good, good, random_state=0)
    assert same.difference == 0 and not same.significant


def test_cluster_resampling_widens_the_interval_for_correlated_rows():
    rng = np.random.default_rng(1)
    conversations = np.repeat(np.arange(30), 20)
    # whole conversations are right or wrong together
    correct = np.repeat(rng.random(30) < 0.6, 20)
    y = np.ones(600, dtype=int)
    predicted = np.where(correct, 1, 0)
    rows = bootstrap_ci(y, predicted, random_state=0)
    clusters = bootstrap_ci(y, predicted, groups=conversations, random_state=0)
    assert clusters.high - clusters.low > 2 * (rows.high - rows.low)


def test_search_comparison_is_paired_and_selects_on_dev(predictions):
    y, good, bad = predictions
    def trial(dev, test):
        return {"dev_true": y, "dev_pred": dev, "test_true": y, "test_pred": test}
    baseline = [trial(bad, bad), trial(bad, bad)]
    challenger = [trial(good, good), trial(bad, bad)]
    result = bootstrap_search_compare(baseline, challenger, n_resamples=200, random_state=0)
    assert result.significant
    assert np.isclose(result.difference, accuracy_score(y.tolist(), good.tolist())
                      - accuracy_score(y.tolist(), bad.tolist()), atol=1e-6)
    null = bootstrap_search_compare(baseline, baseline, n_resamples=200, random_state=0)
    assert not null.significant and null.difference == 0


def test_bad_inputs_are_reported(predictions):
    y, good, _ = predictions
    with pytest.raises(ValueError, match="empty"):
        bootstrap_ci([], [])
    with pytest.raises(ValueError, match="prediction has"):
        bootstrap_ci(y, good[:10])
    with pytest.raises(ValueError, match="groups has"):
        bootstrap_ci(y, good, groups=[1, 2])
    with pytest.raises(ValueError, match="metric must be"):
        bootstrap_ci(y, good, "auc")
    with pytest.raises(ValueError, match="lacks"):
        bootstrap_search_compare([{"dev_true": y}], [{"dev_true": y}])
    with pytest.raises(ValueError, match="no trial"):
        bootstrap_search_compare([], [])


def test_scorers_and_classwise_f1(predictions):
    y, good, _ = predictions
    assert set(paper_scorers("regression")) == {"mae"}
    per_class = classwise_f1(np.r_[y, [None]], np.r_[good, ["a"]])
    np.testing.assert_allclose(per_class.values, f1_score(y.tolist(), good.tolist(),
                                                          average=None))
