import subprocess
from itertools import combinations

import matplotlib
import numpy as np
import pandas as pd
import pytest

from skhanrock import HanRockClassifier
from skhanrock._testing import TINY
from skhanrock.datasets import make_conversations
from skhanrock.experiments import HYPOTHESES, Experiment, experiment_table, run_experiment
from skhanrock.inspection import (
    plot_attention,
    plot_bootstrap,
    plot_experiment,
    plot_learning_curves,
)
from skhanrock.inspection._render import CURRENT_COLOUR
from skhanrock.metrics import bootstrap_compare
from skhanrock.nn import ConversationValidSplit

from ._shared import LONG_WORD, TITLES

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


def test_a_missing_significance_flag_is_read_from_the_interval():
    table = pd.DataFrame({"difference": [0.1, 0.1, 0.0], "low": [0.05, 0.05, -0.1],
                          "high": [0.2, 0.2, 0.1], "significant": [False, np.nan, np.nan]},
                         index=["flagged not", "interval above zero", "interval across zero"])
    labels = [t.get_text() for t in plot_bootstrap(table).get_yticklabels()]
    assert labels == ["flagged not", "interval above zero *", "interval across zero"]


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
    # a single string is one key, not a sequence of one-letter keys
    single = plot_learning_curves(clf, keys="valid_loss")
    assert [line.get_label() for line in single.get_lines()] == ["valid_loss"]
    with pytest.raises(ValueError, match="keys names no history key"):
        plot_learning_curves(clf, keys=[])
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


def _recorded_experiment(hypothesis, accuracy_of_arm):
    """An experiment of recorded trials: each arm's predictions right at a given rate."""
    rng = np.random.default_rng(0)
    truth = {part: rng.choice(["angry", "sad"], size=300) for part in ("dev", "test")}

    def predictions(y, accuracy):
        wrong = rng.random(len(y)) > accuracy
        return np.where(wrong, np.where(y == "angry", "sad", "angry"), y)

    trials = [{"arm": arm, "trial": trial, "dev_pred": predictions(truth["dev"], accuracy),
               "test_pred": predictions(truth["test"], accuracy)}
              for arm, accuracy in accuracy_of_arm.items() for trial in range(2)]
    definition = HYPOTHESES[hypothesis]
    table = experiment_table(trials, definition, truth, "accuracy", n_resamples=200,
                             random_state=0)
    return Experiment(hypothesis, "accuracy", definition.baseline,
                      pd.DataFrame(trials)[["arm", "trial"]], table, 0)


def test_h1_and_h2_tables_become_forest_plots_with_their_arms():
    h1 = _recorded_experiment("H1", {"none": 0.6, "ap": 0.75, "aphf": 0.62})
    h2 = _recorded_experiment("H2", {"P=1": 0.5, "P=64": 0.7, "P=128": 0.72, "P=192": 0.7,
                                     "P=256": 0.6})
    figure = plot_experiment({"H1": h1, "H2": h2})
    assert len(figure.axes) == 2
    for ax, experiment in zip(figure.axes, (h1, h2), strict=True):
        table = experiment.table
        baseline = table.loc[experiment.baseline, "test"]
        assert ax.get_title() == (f"{experiment.hypothesis}: against {experiment.baseline} "
                                  f"(test accuracy {baseline:.3f})")
        arms = table.drop(index=experiment.baseline)
        expected = [f"{arm} ({row['test']:.3f})" + (" *" if row["significant"] else "")
                    for arm, row in arms.iterrows()]
        assert [t.get_text() for t in ax.get_yticklabels()] == expected
        intervals = [list(line.get_xdata()) for line in ax.get_lines()[:-1:2]]
        np.testing.assert_allclose(intervals, arms[["low", "high"]].to_numpy())
    h1_labels = [t.get_text() for t in figure.axes[0].get_yticklabels()]
    assert h1_labels[0].endswith("*") and not h1_labels[1].endswith("*")
    assert [t.get_text().split()[0] for t in figure.axes[1].get_yticklabels()] == [
        "P=1", "P=64", "P=128", "P=192"]


@pytest.mark.parametrize(("experiments", "error", "message"), [
    ([], TypeError, "experiments must be an Experiment .* got list"),
    ({}, ValueError, "no experiment to draw"),
    ({"H1": pd.DataFrame()}, TypeError, "the value\\(s\\) of \\['H1'\\] are not"),
])
def test_experiment_plot_rejects_bad_input(experiments, error, message):
    with pytest.raises(error, match=message):
        plot_experiment(experiments)


def test_every_matplotlib_figure_lives_in_the_plots_module():
    # the HTML renderer draws no figure; the attention figure sits beside the others
    import skhanrock.inspection._plots as plots
    import skhanrock.inspection._render as render
    from skhanrock.inspection import plot_attention

    assert plot_attention is plots.plot_attention
    # _render lists the helpers _plots shares with it (colours, labels), never a figure
    assert "render_html" in render.__all__
    assert not any(name.startswith("plot_") for name in render.__all__)
    assert not any(hasattr(render, name) for name in ("plot_attention", "_Panel", "_fit_height"))


def test_importing_the_inspection_tools_does_not_import_matplotlib():
    import sys

    code = ("import sys, skhanrock.inspection; "
            "print('matplotlib' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True)
    assert result.stdout.strip() == "False"


matplotlib.use("Agg")


def test_figure_has_a_box_per_context_talkturn_and_both_models(page_parts):
    X, rows, (rock, flat) = page_parts["X"], page_parts["rows"], page_parts["models"]
    row = X.index[rows[1]]
    figure = plot_attention(page_parts["rock"], row=row, compare=page_parts["flat"],
                            labels=page_parts["y"], speakers=X["speaker"], titles=TITLES)
    assert len(figure.axes) == 2
    n_context = ((page_parts["rock"]["level"] == "talkturn")
                 & (page_parts["rock"]["task"] == "overall")
                 & (page_parts["rock"]["row"] == row)).sum()
    for ax, model, title in zip(figure.axes, (rock, flat), TITLES, strict=True):
        assert len(ax.patches) == n_context
        heading, labels = ax.get_title(loc="left").splitlines()
        assert heading == title
        assert f"predicted: {model.predict(X)[rows[1]]}" in labels
        assert f"true: {page_parts['y'].iloc[rows[1]]}" in labels or "unlabelled" in labels
    assert any(patch.get_edgecolor()[:3] == matplotlib.colors.to_rgb(CURRENT_COLOUR)
               for patch in figure.axes[0].patches)


def test_long_words_wrap_without_overlapping(page_parts):
    broken_mathtext = "cost $\\frac{$"  # would raise at draw time if read as mathtext
    figure = plot_attention(page_parts["rock"], row=page_parts["X"].index[3],
                            speakers={page_parts["X"].index[3]: broken_mathtext},
                            titles=(broken_mathtext,))
    ax = figure.axes[0]
    figure.canvas.draw()
    assert ax.get_title(loc="left").startswith(broken_mathtext)
    assert any(text.get_text() == LONG_WORD for text in ax.texts)
    boxes = [text.get_window_extent() for text in ax.texts]
    overlapping = [(a.get_text(), b.get_text()) for (a, box_a), (b, box_b)
                   in combinations(zip(ax.texts, boxes, strict=True), 2)
                   if box_a.overlaps(box_b)]
    assert not overlapping
    axes_box = ax.get_window_extent()
    assert all(axes_box.x0 <= box.x0 and box.x1 <= axes_box.x1 for box in boxes)
