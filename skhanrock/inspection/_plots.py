"""Figures: attention over a conversation, bootstrap forest plots, learning curves, experiments.

matplotlib is imported inside the functions that draw, so that importing the
package does not need it (it is an optional dependency).
"""

import numpy as np
import pandas as pd

from ._explain import OVERALL
from ._render import (
    BUCKET_COLOURS,
    CURRENT_COLOUR,
    MISSING,
    WORD_COLOUR,
    WORD_WEIGHT,
    as_lookup,
    check_models,
    check_titles,
    explained_rows,
    label_text,
    own_predictions,
    speaker_lookup,
)

__all__ = ["plot_attention", "plot_bootstrap", "plot_experiment", "plot_learning_curves"]


def _axes(ax, height=3.0):
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(6.0, height))
    return ax


def _significance(frame):
    """The ``significant`` column where given, else whether the interval excludes zero.

    A missing flag (NaN) would otherwise count as True; the interval decides
    instead, as it does in :func:`~skhanrock.metrics.bootstrap_compare`.
    """
    excludes_zero = (frame["low"] > 0) | (frame["high"] < 0)
    if "significant" not in frame:
        return excludes_zero
    return frame["significant"].astype("boolean").fillna(excludes_zero).astype(bool)


def _intervals(comparisons):
    """Rows of (label, difference, low, high, significant) from the accepted inputs."""
    if isinstance(comparisons, pd.DataFrame):
        missing = {"difference", "low", "high"} - set(comparisons.columns)
        if missing:
            raise ValueError(f"plot_bootstrap needs the columns difference, low and high; "
                             f"the frame lacks {sorted(missing)}.")
        frame = comparisons.dropna(subset=["difference"])
        significant = _significance(frame)
        return [(str(name), row["difference"], row["low"], row["high"], bool(sig))
                for (name, row), sig in zip(frame.iterrows(), significant, strict=True)]
    if not isinstance(comparisons, dict):
        raise TypeError("comparisons must be a dict of name -> BootstrapComparison or a "
                        f"DataFrame with difference/low/high columns, got "
                        f"{type(comparisons).__name__}.")
    return [(str(name), c.difference, c.low, c.high, c.significant)
            for name, c in comparisons.items()]


def plot_bootstrap(comparisons, ax=None, metric=None):
    """Forest plot of bootstrap differences with their intervals and the zero line.

    Parameters
    ----------
    comparisons : dict or DataFrame
        Name -> :class:`~skhanrock.metrics.BootstrapComparison`, or a frame
        with ``difference``, ``low``, ``high`` (and ``significant``) columns
        such as :attr:`Experiment.table <skhanrock.experiments.Experiment>`
        (rows without a difference, the baseline, are skipped; where
        ``significant`` is missing, an interval that excludes zero is).
    ax : matplotlib Axes, optional
    metric : str, optional
        Axis label; taken from the comparisons when they name it.

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from skhanrock.inspection import plot_bootstrap
    >>> from skhanrock.metrics import bootstrap_compare
    >>> y = [0, 1] * 100
    >>> better = bootstrap_compare(y, [0] * 200, y, random_state=0)
    >>> ax = plot_bootstrap({"challenger": better})
    >>> [t.get_text() for t in ax.get_yticklabels()]
    ['challenger *']
    """
    rows = _intervals(comparisons)
    if not rows:
        raise ValueError("plot_bootstrap got no comparison to draw.")
    ax = _axes(ax, height=1.0 + 0.45 * len(rows))
    positions = np.arange(len(rows))[::-1]
    for y, (_, difference, low, high, significant) in zip(positions, rows, strict=True):
        colour = "tab:blue" if significant else "tab:gray"
        ax.plot([low, high], [y, y], color=colour, linewidth=2)
        ax.plot([difference], [y], "o", color=colour)
    ax.axvline(0.0, color="black", linestyle="--", linewidth=1)
    ax.set_yticks(positions, [name + (" *" if sig else "") for name, *_, sig in rows])
    if metric is None and isinstance(comparisons, dict):
        metric = next(iter(comparisons.values())).metric
    ax.set_xlabel(f"difference in {metric} (95% interval)" if metric else "difference")
    return ax


def _history_keys(keys, recorded):
    """The keys to draw: the default ones recorded, or the given ones, all recorded."""
    if keys is None:
        return [k for k in ("train_loss", "valid_loss", "valid_acc") if k in recorded]
    # A string is one key, not a sequence of one-letter keys.
    keys = [keys] if isinstance(keys, str) else list(keys)
    if not keys:
        raise ValueError(f"keys names no history key; the history records {sorted(recorded)}.")
    unknown = [k for k in keys if k not in recorded]
    if unknown:
        raise ValueError(f"The history has no {unknown}; it records {sorted(recorded)}.")
    return keys


def plot_learning_curves(estimator, keys=None, ax=None):
    """Learning curves from a fitted estimator's (or pipeline's) skorch history.

    Parameters
    ----------
    estimator : fitted HanRockClassifier, HanRockRegressor or Pipeline ending in one
    keys : str or sequence of str, optional
        History key(s) to draw (a single string is one key); by default
        ``train_loss`` and, when recorded, ``valid_loss`` and ``valid_acc``.
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib.axes.Axes

    Raises
    ------
    ValueError
        When the estimator is not fitted, or ``keys`` is empty or names a key
        the history does not record.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from skhanrock import HanRockClassifier
    >>> from skhanrock.datasets import make_conversations
    >>> from skhanrock.inspection import plot_learning_curves
    >>> X, y = make_conversations(n_conversations=6, random_state=0)
    >>> clf = HanRockClassifier(primary_units=8, aux_units=2, max_epochs=3,
    ...                         random_state=0).fit(X, y)
    >>> [line.get_label() for line in plot_learning_curves(clf).get_lines()]
    ['train_loss']
    """
    net = estimator.steps[-1][1] if hasattr(estimator, "steps") else estimator
    history = getattr(net, "history_", None) or getattr(net, "history", None)
    if not getattr(net, "initialized_", False) or not history:
        raise ValueError("plot_learning_curves needs a fitted estimator with a training history.")
    keys = _history_keys(keys, set(history[-1]))
    ax = _axes(ax)
    epochs = history[:, "epoch"]
    for key in keys:
        ax.plot(epochs, history[:, key], marker="o", markersize=3, label=key)
    ax.set_xlabel("epoch")
    ax.legend()
    return ax


# What plot_experiment reads of an Experiment (a duck-typed one will do).
_EXPERIMENT_ATTRIBUTES = ("table", "baseline", "metric")


def _is_experiment(value):
    return all(hasattr(value, name) for name in _EXPERIMENT_ATTRIBUTES)


def _experiments_by_name(experiments):
    """Name -> experiment from one experiment or a dict of them, refusing anything else."""
    if not isinstance(experiments, dict):
        if not (_is_experiment(experiments) and hasattr(experiments, "hypothesis")):
            raise TypeError(f"experiments must be an Experiment (from run_experiment) or a dict "
                            f"of name -> Experiment, got {type(experiments).__name__}.")
        experiments = {experiments.hypothesis: experiments}
    if not experiments:
        raise ValueError("plot_experiment got no experiment to draw.")
    wrong = [name for name, value in experiments.items() if not _is_experiment(value)]
    if wrong:
        raise TypeError(f"experiments must map names to Experiments; the value(s) of "
                        f"{wrong[:10]} are not (an Experiment has {list(_EXPERIMENT_ATTRIBUTES)}).")
    return experiments


def plot_experiment(experiments, axes=None):
    """Experiments as figures: per arm, the difference to the baseline with its interval.

    Each experiment (one of the paper's tables' columns) gets a forest plot;
    tick labels carry the arm's dev-selected test score and ``*`` for a
    significant difference, like the paper's tables.

    Parameters
    ----------
    experiments : Experiment or dict of name -> Experiment
    axes : sequence of matplotlib Axes, optional
        One per experiment.

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    TypeError
        When ``experiments`` is neither an Experiment nor a dict of them.
    ValueError
        When there is no experiment, or ``axes`` does not hold one per
        experiment.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import pandas as pd
    >>> from types import SimpleNamespace
    >>> from skhanrock.inspection import plot_experiment
    >>> table = pd.DataFrame({"test": [0.62, 0.71], "difference": [None, 0.09],
    ...                       "low": [None, 0.02], "high": [None, 0.15],
    ...                       "significant": [False, True], "cell": ["0.620", "0.710*"]},
    ...                      index=["none", "ap"])
    >>> result = SimpleNamespace(table=table, baseline="none", metric="accuracy",
    ...                          hypothesis="H1")
    >>> figure = plot_experiment(result)
    >>> figure.axes[0].get_title()
    'H1: against none (test accuracy 0.620)'
    """
    import matplotlib.pyplot as plt

    experiments = _experiments_by_name(experiments)
    if axes is None:
        rows = max(len(e.table) for e in experiments.values())
        _, axes = plt.subplots(1, len(experiments), squeeze=False,
                               figsize=(5.0 * len(experiments), 1.2 + 0.45 * rows))
        axes = axes[0]
    if len(axes) != len(experiments):
        raise ValueError(f"axes has {len(axes)} Axes for {len(experiments)} experiments.")
    for ax, (name, experiment) in zip(axes, experiments.items(), strict=True):
        table = experiment.table
        arms = table.drop(index=experiment.baseline, errors="ignore")
        scores = arms["cell"].str.rstrip("*")
        labelled = arms.set_axis([f"{arm} ({score})" for arm, score in scores.items()])
        plot_bootstrap(labelled, ax=ax, metric=experiment.metric)
        baseline = table["cell"].get(experiment.baseline, "")
        ax.set_title(f"{name}: against {experiment.baseline} "
                     f"(test {experiment.metric} {baseline})")
    figure = axes[0].figure
    figure.tight_layout()
    return figure

_FONT_SIZE = 9
_LINE_INCHES = 0.22  # one line of words; boxes and gaps are measured in lines
_BOX_PADDING = 0.35
_BOX_GAP = 0.3
_MARGIN = 0.01
_TITLE_INCHES = 0.5
_EDGE_INCHES = 0.05


class _Panel:
    """One model's explanation of one talkturn, drawn on one Axes."""

    def __init__(self, ax, sample, speakers):
        self.ax, self.speakers = ax, speakers
        self.talkturns = sample[sample["level"] == "talkturn"].sort_values("context")
        self.words = sample[sample["level"] == "word"]
        self.lines = 0.0

    def _texts(self, talkturn):
        """Unplaced Text artists of one talkturn: its speaker, then its words."""
        who = self.speakers.get(talkturn["talkturn"], "")
        # parse_math=False: a "$" in user text is a dollar, not mathtext.
        texts = [self.ax.text(0, 0, f"{who} ({int(talkturn['context'])})".strip(),
                              fontsize=_FONT_SIZE - 2, color="#555555", style="italic",
                              va="center", parse_math=False)]
        own = self.words[self.words["talkturn"] == talkturn["talkturn"]]
        for token, bucket in zip(own["token"], own["bucket"], strict=True):
            texts.append(self.ax.text(0, 0, str(token), fontsize=_FONT_SIZE, va="center",
                                      fontweight=WORD_WEIGHT.get(bucket, "normal"),
                                      color=WORD_COLOUR.get(bucket, "#222222"),
                                      parse_math=False))
        return texts

    def _wrap(self, texts):
        """Line and x of each text, from its measured width, so no two words overlap."""
        to_data = self.ax.transData.inverted()
        origin = to_data.transform((0, 0))[0]
        space = to_data.transform((_FONT_SIZE * self.ax.figure.dpi / 72 * 0.35, 0))[0] - origin
        line, x, placed = 0, _MARGIN, []
        for text in texts:
            width = to_data.transform((text.get_window_extent().width, 0))[0] - origin
            if x > _MARGIN and x + width > 1 - _MARGIN:
                line, x = line + 1, _MARGIN
            placed.append((line, x))
            x += width + space
        return placed

    def draw(self):
        """Draw every talkturn box with its words; the number of lines used."""
        from matplotlib.patches import FancyBboxPatch

        for _, talkturn in self.talkturns.iterrows():
            texts = self._texts(talkturn)
            placed = self._wrap(texts)
            height = placed[-1][0] + 1 + 2 * _BOX_PADDING
            top = -self.lines
            for text, (line, x) in zip(texts, placed, strict=True):
                text.set_position((x, top - _BOX_PADDING - 0.5 - line))
            current = talkturn["context"] == 0
            self.ax.add_patch(FancyBboxPatch(
                (0, top - height), 1, height, boxstyle="round,pad=0,rounding_size=0.1",
                facecolor=BUCKET_COLOURS.get(talkturn["bucket"], "white"),
                edgecolor=CURRENT_COLOUR if current else "#999999",
                linewidth=2 if current else 1, zorder=0))
            self.lines += height + _BOX_GAP
        return self.lines


def _title(title, row, prediction, label):
    parts = [f"talkturn {row}"]
    if prediction is not MISSING:
        parts.append(f"predicted: {prediction}")
    if label is not MISSING:
        parts.append(f"true: {label_text(label)}")
    return f"{title}\n" + " \u00b7 ".join(parts)


def _figure_axes(axes, n_panels):
    import matplotlib.pyplot as plt

    if axes is None:
        # Horizontal margins are set before the words are measured against them.
        _, axes = plt.subplots(1, n_panels, squeeze=False, figsize=(5.0 * n_panels, 4.0),
                               gridspec_kw={"left": 0.02, "right": 0.98, "wspace": 0.06})
        return list(axes[0])
    axes = list(np.atleast_1d(axes))
    if len(axes) != n_panels:
        raise ValueError(f"axes needs one Axes per model ({n_panels}), got {len(axes)}.")
    return axes


def _fit_height(figure, lines):
    """Size a figure made here to its lines of text, with room for the titles."""
    text = lines * _LINE_INCHES
    total = text + _TITLE_INCHES + 2 * _EDGE_INCHES
    figure.set_figheight(total)
    figure.subplots_adjust(bottom=_EDGE_INCHES / total, top=(_EDGE_INCHES + text) / total)


def plot_attention(explanation, row=None, *, compare=None, predictions=None, labels=None,
                   speakers=None, titles=("Model", "Compared model"), axes=None):
    """Draw one explained talkturn and its context as a matplotlib figure.

    The figure counterpart of :func:`render_html`: talkturns are boxes shaded by
    their overall talkturn attention bucket, the current one outlined in red;
    words get heavier and darker with their overall word attention bucket and
    wrap by their measured width, so long words never overlap. Each panel's
    title names the talkturn with the predicted and true label; ``compare``
    adds a second model's panel beside the first.

    Parameters
    ----------
    explanation : DataFrame
        From :func:`~skhanrock.inspection.explain`.
    row : label, optional
        Which explained talkturn (the first one when None).
    compare : DataFrame, optional
        A second model's explanation of the same talkturn, drawn beside the
        first with its own prediction.
    predictions : Series, dict or sequence, optional
        Predicted label per explained row of ``explanation``; by default its
        ``prediction`` column.
    labels : Series, dict or sequence, optional
        True label per explained row (e.g. ``y``).
    speakers : Series or dict, optional
        Speaker of each talkturn, by row label (e.g. ``X["speaker"]``).
    titles : tuple of str, default=("Model", "Compared model")
        Titles of the two panels; a single string titles the one panel of a
        figure without ``compare``.
    axes : sequence of matplotlib Axes, optional
        One per panel (two with ``compare``); by default a new figure sized to
        the text.

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    TypeError
        When ``explanation`` or ``compare`` is not a DataFrame, or
        ``speakers`` is neither a Series nor a mapping.
    ValueError
        When ``explanation`` or ``compare`` is empty, lacks a column of
        :func:`~skhanrock.inspection.explain`'s table or a row's overall
        talkturn attention; when ``row`` is not explained by both; or when
        ``titles`` or ``axes`` has fewer entries than models.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import pandas as pd
    >>> from skhanrock.inspection import plot_attention
    >>> explanation = pd.DataFrame({
    ...     "row": [0, 0], "level": ["talkturn", "word"], "task": "overall",
    ...     "context": [0, 0], "talkturn": [0, 0], "position": [None, 0],
    ...     "token": [None, "hi"], "attention": [1.0, 1.0], "z": [0.0, 0.0],
    ...     "bucket": ["Low", "Low"], "prediction": "happy"})
    >>> figure = plot_attention(explanation, labels=["sad"])
    >>> len(figure.axes[0].patches)
    1
    >>> figure.axes[0].get_title(loc="left").splitlines()
    ['Model', 'talkturn 0 · predicted: happy · true: sad']
    """
    models = check_models(explanation, compare)
    titles = check_titles(titles, len(models))
    row = explanation["row"].iloc[0] if row is None else row
    speakers = speaker_lookup(speakers)
    created = axes is None
    axes = _figure_axes(axes, len(models))
    labels = as_lookup(labels, explained_rows(explanation), "labels")
    lines = []
    for ax, model, title, given in zip(axes, models, titles, [predictions, None], strict=False):
        sample = model[(model["row"] == row) & (model["task"] == OVERALL)]
        if sample.empty:
            raise ValueError(f"row {row!r} is not explained in the {title!r} explanation.")
        rows = explained_rows(model)
        prediction = own_predictions(model, given, rows).get(row, MISSING)
        label = labels.get(row, MISSING)
        ax.set_xlim(0, 1)
        lines.append(_Panel(ax, sample, speakers).draw())
        ax.set_title(_title(title, row, prediction, label), fontsize=_FONT_SIZE + 1, loc="left",
                     parse_math=False)
        ax.axis("off")
    for ax in axes:
        ax.set_ylim(-max(lines), 0)
    if created:
        _fit_height(axes[0].figure, max(lines))
    return axes[0].figure
