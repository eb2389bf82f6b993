import warnings

import numpy as np
import pytest
from sklearn.metrics import (
    accuracy_score,
    mean_absolute_error,
)

from skhanrock.metrics import (
    METRICS,
    best_trial,
    bootstrap_ci,
    bootstrap_compare,
    bootstrap_search_compare,
    score,
)

from ._shared import AWKWARD, SKLEARN, _labelled


@pytest.mark.parametrize("metric", sorted(SKLEARN))
def test_vectorised_resamples_match_sklearn_on_each_resample(predictions, metric):
    y, good, _ = predictions
    # a class that is only ever predicted, and rarely: resamples differ in their classes
    good = np.where(np.arange(len(good)) % 97 == 0, "d", good)
    reference = SKLEARN[metric]
    result = bootstrap_ci(y, good, metric, n_resamples=50, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # balanced accuracy: 'd' is not in y
        assert np.isclose(result.estimate, reference(y.tolist(), good.tolist()))
        looped = bootstrap_ci(y, good, lambda t, p: reference(t.tolist(), p.tolist()),
                              n_resamples=50, random_state=0)
    np.testing.assert_allclose(result.resamples, looped.resamples, atol=1e-5)
    assert result.low <= result.estimate <= result.high


@pytest.mark.parametrize("case", sorted(AWKWARD))
@pytest.mark.parametrize("metric", sorted(SKLEARN))
def test_every_point_estimate_equals_sklearn_on_the_same_rows(case, metric):
    y_true, y_pred = AWKWARD[case]
    constant = [_labelled(y_true)[0][0]] * len(y_pred)
    true, pred, constant_pred = _labelled(y_true, y_pred, constant)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # balanced accuracy, predicted-only class
        expected = SKLEARN[metric](true, pred)
        gain = expected - SKLEARN[metric](true, constant_pred)
        assert score(y_true, y_pred, metric) == pytest.approx(expected)
    assert bootstrap_ci(y_true, y_pred, metric, n_resamples=5).estimate == \
        pytest.approx(expected)
    assert bootstrap_compare(y_true, constant, y_pred, metric,
                             n_resamples=5).difference == pytest.approx(gain)
    trial = {"dev_true": y_true, "dev_pred": y_pred, "test_true": y_true, "test_pred": y_pred}
    baseline = {**trial, "dev_pred": constant, "test_pred": constant}
    assert bootstrap_search_compare([baseline], [trial], metric,
                                    n_resamples=5).difference == pytest.approx(gain)


@pytest.mark.parametrize("labels", [[0, 1, 1, 0, 2], [0.0, 1.0, 1.0, 0.0, 2.0],
                                    ["a", "b", "b", "a", "c"]])
def test_sklearns_own_metric_as_a_callable_agrees_with_the_named_one(labels):
    y_true = labels * 20
    y_pred = [labels[i] for i in (0, 1, 0, 0, 2)] * 20
    named = bootstrap_ci(y_true, y_pred, "accuracy", n_resamples=50, random_state=0)
    given = bootstrap_ci(y_true, y_pred, accuracy_score, n_resamples=50, random_state=0)
    assert given.estimate == named.estimate == 0.6
    np.testing.assert_allclose(given.resamples, named.resamples)
    compared = bootstrap_compare(y_true, y_pred, y_true, accuracy_score, n_resamples=20)
    assert compared.difference == pytest.approx(0.4)


def test_missing_or_infinite_predictions_are_named_not_scored():
    truth = [1.0, 2.0, 3.0, 4.0] * 5
    with pytest.raises(ValueError, match="Prediction 1 is missing .* at row 0"):
        bootstrap_compare(truth[:3], [np.nan, 1, 2], [1, 2, 3], "mae")
    with pytest.raises(ValueError, match="Prediction 2 is missing .* at row 1"):
        bootstrap_compare(["a", "b"], ["a", "b"], ["a", None], "accuracy")
    with pytest.raises(ValueError, match="y_pred is inf at labelled row 0"):
        bootstrap_ci(truth[:3], [np.inf, 1, 2], "mae")
    # beyond float32's range, but finite: still a finite MAE
    assert np.isfinite(bootstrap_ci([1e39, 2, 3], [0, 1, 2], "mae", n_resamples=10).high)
    # a trial without a dev prediction would win the MAE selection by accident
    good = {"dev_true": truth, "dev_pred": truth, "test_true": truth, "test_pred": truth}
    broken = {**good, "dev_pred": [np.nan] + [0.0] * 19}
    with pytest.raises(ValueError, match=r"baseline_records\[1\] dev .*Prediction 1 is missing .* row 0"):
        bootstrap_search_compare([good, broken], [good], "mae", n_resamples=10)


def test_mae_estimate_equals_sklearn():
    y_true, y_pred = [1.0, np.nan, 2.5, 4.0], [1.5, 7.0, 2.0, 3.0]
    expected = mean_absolute_error([1.0, 2.5, 4.0], [1.5, 2.0, 3.0])
    assert bootstrap_ci(y_true, y_pred, "mae", n_resamples=5).estimate == pytest.approx(expected)
    assert score(y_true, y_pred, "mae") == pytest.approx(expected)
    assert set(METRICS) == {*SKLEARN, "mae"}


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


def test_search_comparison_can_resample_whole_conversations():
    rng = np.random.default_rng(2)
    conversations = np.repeat(np.arange(30), 20)
    y = np.ones(600, dtype=int)
    # whole conversations are right or wrong together
    strong = np.where(np.repeat(rng.random(30) < 0.7, 20), 1, 0)
    weak = np.where(np.repeat(rng.random(30) < 0.4, 20), 1, 0)
    baseline = [{"dev_true": y, "dev_pred": weak, "test_true": y, "test_pred": weak}]
    challenger = [{"dev_true": y, "dev_pred": strong, "test_true": y, "test_pred": strong}]
    rows = bootstrap_search_compare(baseline, challenger, n_resamples=300, random_state=0)
    clusters = bootstrap_search_compare(
        baseline, challenger, n_resamples=300, random_state=0,
        groups={"dev": conversations, "test": conversations})
    assert clusters.difference == rows.difference
    assert clusters.high - clusters.low > 2 * (rows.high - rows.low)


@pytest.mark.parametrize(("change", "groups", "message"), [
    (lambda y: {"dev_true": y[:10], "dev_pred": y[:10]}, None,
     r"challenger_records\[1\] was scored on other dev rows .*\(10 vs 600 rows"),
    (lambda y: {"test_true": np.roll(y, 1)}, None,
     r"challenger_records\[1\] was scored on other test rows"),
    (lambda y: {"dev_pred": y[:10]}, None, r"challenger_records\[1\] dev .*a prediction has 10"),
    (lambda y: {}, {"dev": [1, 2]}, r"groups\['dev'\] has 2 values but dev_true has 600"),
    (lambda y: {}, [1, 2], "groups must be None or a dict"),
])
def test_search_comparison_names_the_trial_scored_on_other_rows(predictions, change, groups,
                                                                message):
    y, good, _ = predictions
    trial = {"dev_true": y, "dev_pred": good, "test_true": y, "test_pred": good}
    with pytest.raises(ValueError, match=message):
        bootstrap_search_compare([trial], [trial, {**trial, **change(y)}], groups=groups,
                                 n_resamples=10)


def test_a_missing_cluster_id_is_named_not_merged_into_another_cluster():
    y, predicted = [0, 1] * 50, [0] * 100
    conversations = [i // 10 for i in range(100)]
    gap = [None, *conversations[1:]]
    # factorize codes a missing id as -1: the row used to follow the last conversation's draws
    with pytest.raises(ValueError, match=r"groups is missing at row 0 \(1 labelled"):
        bootstrap_ci(y, predicted, groups=gap, n_resamples=10)
    trial = {"dev_true": y, "dev_pred": predicted, "test_true": y, "test_pred": predicted}
    with pytest.raises(ValueError, match=r"groups\['test'\] is missing at row 0"):
        bootstrap_search_compare([trial], [trial], n_resamples=10,
                                 groups={"dev": conversations, "test": gap})
    # an unlabelled row is skipped, so it needs no cluster id
    unlabelled_first = [None, *y[1:]]
    assert bootstrap_ci(unlabelled_first, predicted, groups=gap, n_resamples=10,
                        random_state=0).resamples.shape == (10,)


def test_best_trial_breaks_ties_to_the_first_and_follows_the_direction():
    assert int(best_trial([0.6333333333333334, 0.6333333333333333, 0.1])) == 0
    assert int(best_trial([0.5, 0.2, 0.2], greater_is_better=False)) == 1
    per_resample = best_trial(np.array([[0.1, 0.9], [0.8, 0.9]]))
    assert per_resample.tolist() == [1, 0]


@pytest.mark.parametrize("greater_is_better", [True, False])
def test_best_trial_never_selects_a_nan_score(greater_is_better):
    assert int(best_trial([np.nan, 0.4, 0.3], greater_is_better)) == (1 if greater_is_better else 2)


@pytest.mark.parametrize(("scores", "message"), [
    ([], "one score per trial"),
    ([np.nan, np.nan], "Every trial's dev score is NaN"),
    ([[0.1, np.nan], [0.2, np.nan]], "Every trial's dev score is NaN"),
])
def test_best_trial_refuses_nothing_to_select(scores, message):
    with pytest.raises(ValueError, match=message):
        best_trial(scores)
