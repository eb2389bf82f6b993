"""Figures of evaluation results: bootstrap forest plots, learning curves, experiment tables."""

import numpy as np
import pandas as pd

__all__ = ["plot_bootstrap", "plot_experiment", "plot_learning_curves"]


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
