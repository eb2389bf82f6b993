import matplotlib
import pytest
from conftest import TINY

from skhanrock import HanRockClassifier
from skhanrock.datasets import make_conversations
from skhanrock.experiments import run_experiment
from skhanrock.inspection import plot_bootstrap, plot_experiment, plot_learning_curves
from skhanrock.metrics import bootstrap_compare
from skhanrock.nn import ConversationValidSplit

matplotlib.use("Agg")


def test_forest_plot_marks_intervals_and_the_zero_line():
    y = [0, 1] * 100
    comparisons = {"better": bootstrap_compare(y, [0] * 200, y, random_state=0),
                   "same": bootstrap_compare(y, y, y, random_state=0)}
    ax = plot_bootstrap(comparisons)
    assert [t.get_text() for t in ax.get_yticklabels()] == ["better *", "same"]
    interval = ax.get_lines()[0].get_xdata()
    assert interval[0] == comparisons["better"].low and interval[1] == comparisons["better"].high
    assert any(list(line.get_xdata()) == [0, 0] for line in ax.get_lines())
    assert "accuracy" in ax.get_xlabel()


@pytest.mark.parametrize(("comparisons", "error", "message"), [
    ({}, ValueError, "no comparison"),
    ([1, 2], TypeError, "comparisons must be"),
])
def test_forest_plot_rejects_bad_input(comparisons, error, message):
    with pytest.raises(error, match=message):
        plot_bootstrap(comparisons)


def test_learning_curves_show_the_recorded_losses(conversations):
    X, y = conversations
    clf = HanRockClassifier(**TINY, train_split=ConversationValidSplit(0.25, random_state=0))
    ax = plot_learning_curves(clf.fit(X, y))
    assert [line.get_label() for line in ax.get_lines()] == ["train_loss", "valid_loss"]
    assert list(ax.get_lines()[0].get_xdata()) == [1, 2]
    with pytest.raises(ValueError, match="no \\['f1'\\]"):
        plot_learning_curves(clf, keys=["f1"])
    with pytest.raises(ValueError, match="fitted estimator"):
        plot_learning_curves(HanRockClassifier())


def test_experiment_tables_become_forest_plots():
    X, y = make_conversations(n_conversations=12, min_turns=4, max_turns=6, n_speakers=36,
                              random_state=1)
    result = run_experiment(X, y, "H3", n_trials=1, max_epochs=1, n_resamples=50,
                            search_space={"han__lr": [0.01]},
                            fixed_params={"han__primary_units": 6, "han__aux_units": 2,
                                          "han__embedding_dim": 8})
    figure = plot_experiment({"emotion": result, "again": result})
    assert len(figure.axes) == 2
    assert figure.axes[0].get_title().startswith("emotion: against flat (test accuracy")
    labels = [t.get_text() for t in figure.axes[0].get_yticklabels()]
    assert len(labels) == 1 and labels[0].startswith(f"rock ({result.table.loc['rock', 'test']:.3f})")
