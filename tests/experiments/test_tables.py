import numpy as np
import pytest

from skhanrock.experiments import (
    HYPOTHESES,
    Experiment,
    experiment_table,
    run_experiment,
)

from ._shared import SETTINGS, TIED, TIED_DEV, TIED_TEST, _diverging


def test_tables_resample_whole_conversations(h1, conversations_of_many_speakers, bootstrap_groups):
    X, y = conversations_of_many_speakers
    _, path = h1
    seen = bootstrap_groups
    again = run_experiment(X, y, "H1", n_trials=2, results_file=path, **SETTINGS)
    assert again.n_fitted == 0 and len(seen) == 2
    dev = seen[0]["dev"]
    assert set(dev) <= set(X["conversation"])
    assert len(set(dev)) < len(dev)  # clusters, not rows


def _trial(arm, predictions):
    return {"arm": arm, "dev_pred": predictions, "test_pred": predictions}


def _tied_table(order):
    trials = [{"arm": "flat", "dev_pred": TIED[name], "test_pred": TIED_TEST[name]}
              for name in order]
    trials.append({"arm": "rock", "dev_pred": TIED["a"], "test_pred": TIED_TEST["a"]})
    return experiment_table(trials, HYPOTHESES["H3"], {"dev": TIED_DEV, "test": [0, 1] * 5},
                            "balanced_accuracy", n_resamples=100, random_state=0)


def _check_the_first_tied_trial_is_selected(order):
    table = _tied_table(order)
    flat, rock = table.loc["flat"], table.loc["rock"]
    # the first of the tied trials wins, in the test cell and in the difference alike
    assert flat["test"] == (1.0 if order[0] == "a" else 0.0)
    assert rock["difference"] == pytest.approx(rock["test"] - flat["test"])


def test_tied_dev_scores_select_the_first_trial_in_table_and_bootstrap():
    _check_the_first_tied_trial_is_selected("ab")


def test_tied_dev_scores_select_the_first_trial_in_either_order():
    _check_the_first_tied_trial_is_selected("ba")


@pytest.mark.parametrize("metric", ["accuracy", "mae"])
def test_only_significant_improvements_get_a_star(metric):
    truth = np.array([0, 1] * 100)
    right, wrong = truth, 1 - truth
    half = np.where(np.arange(200) % 4 < 2, truth, 1 - truth)
    trials = [_trial("none", half), _trial("ap", right), _trial("aphf", wrong)]
    table = experiment_table(trials, HYPOTHESES["H1"], {"dev": truth, "test": truth}, metric,
                             n_resamples=200, random_state=0)
    assert table["significant"].tolist() == [False, True, True]
    assert table["improvement"].tolist() == [False, True, False]
    assert [cell.endswith("*") for cell in table["cell"]] == [False, True, False]
    result = Experiment("H1", metric, "none", None, table, 0)
    side = "above" if metric == "accuracy" else "below"
    assert f"significantly better than none: the 95% bootstrap interval of the difference " \
           f"lies {side} zero" in result.to_markdown()


def test_an_arm_whose_every_trial_diverged_is_named_at_tabulation(
        conversations_of_many_speakers, tmp_path):
    X, y = conversations_of_many_speakers
    path = tmp_path / "results.jsonl"
    message = (r"every trial of arm 'rock' diverged \(2 of 2; trial 0 at epoch 1: train_loss "
               r"is nan.*smaller han__lr range")
    with pytest.raises(ValueError, match=message):
        run_experiment(X, y, "H3", n_trials=2, results_file=path, **_diverging((0, 1), "rock"))
    assert len(path.read_text().splitlines()) == 1 + 4  # recorded, so a rerun need not fit


def test_experiment_table_leaves_diverged_trials_out():
    truth = {"dev": [0, 1] * 50, "test": [0, 1] * 50}
    diverged = {"arm": "rock", "trial": 0, "diverged": {"epoch": 3, "message": "nan"}}
    trials = [{"arm": "flat", "trial": 0, "dev_pred": [0] * 100, "test_pred": [0] * 100},
              diverged,
              {"arm": "rock", "trial": 1, "dev_pred": [0, 1] * 50, "test_pred": [0, 1] * 50}]
    table = experiment_table(trials, HYPOTHESES["H3"], truth, "accuracy", n_resamples=50,
                             random_state=0)
    assert table.loc["rock", ["trials", "diverged", "test"]].tolist() == [1, 1, 1.0]
    with pytest.raises(ValueError, match="every trial of arm 'flat' diverged"):
        experiment_table([{**diverged, "arm": "flat"}, *trials[1:]], HYPOTHESES["H3"], truth,
                         "accuracy", n_resamples=50)


def test_tables_name_which_way_each_metric_is_better():
    # MAE: lower is better, so a lower test error is the starred improvement
    truth = {"dev": [1.0, 2.0] * 50, "test": [1.0, 2.0] * 50}
    trials = [{"arm": "flat", "dev_pred": [1.5] * 100, "test_pred": [1.5] * 100},
              {"arm": "rock", "dev_pred": truth["dev"], "test_pred": truth["test"]}]
    table = experiment_table(trials, HYPOTHESES["H3"], truth, "mae", n_resamples=50,
                             random_state=0)
    assert table["cell"].tolist() == ["0.500", "0.000*"]
    result = Experiment("H3", "mae", "flat", None, table, 2)
    assert "interval of the difference lies below zero" in result.to_markdown()
