"""The paper's result tables: dev-selected test scores, bootstrap differences, stars."""

import numpy as np
import pandas as pd

from ..metrics import METRICS, best_trial, bootstrap_search_compare, score

__all__ = ["experiment_table", "markdown_table", "paper_table"]


def _records(trials, truth):
    return [{"dev_true": truth["dev"], "dev_pred": t["dev_pred"],
             "test_true": truth["test"], "test_pred": t["test_pred"]} for t in trials]


def _selected_scores(trials, truth, metric):
    dev = [score(truth["dev"], t["dev_pred"], metric) for t in trials]
    best = int(best_trial(dev, METRICS[metric].greater_is_better))
    return dev[best], score(truth["test"], trials[best]["test_pred"], metric)


def _check_some_converged(converged, diverged):
    """Raise when every trial of an arm diverged: that arm has no score to report."""
    for arm, lost in diverged.items():
        if lost and not converged[arm]:
            first = lost[0]
            where = f"trial {first.get('trial')}"
            if first["diverged"].get("epoch") is not None:
                where += f" at epoch {first['diverged']['epoch']}"
            raise ValueError(
                f"every trial of arm {arm!r} diverged ({len(lost)} of {len(lost)}; {where}: "
                f"{first['diverged'].get('message')}), so it has no score to select. Search "
                "a smaller han__lr range (search_space={'han__lr': loguniform(1e-4, 1e-2)}) "
                "or fix a smaller one (--set han__lr=0.001 on the command line).")


def _improves(comparison, greater_is_better):
    """A significant difference in the better direction (the paper's stars)."""
    better = comparison.difference > 0 if greater_is_better else comparison.difference < 0
    return bool(comparison.significant and better)


def experiment_table(trials, hypothesis, truth, metric, n_resamples=1000, random_state=None,
                     groups=None):
    """One row per arm: the dev-selected test score and the bootstrap comparison to the baseline.

    Parameters
    ----------
    trials : list of dict
        Finished trials with ``arm``, ``dev_pred`` and ``test_pred``. Within
        an arm the trial best on dev is selected; of tied trials (dev scores
        equal to 12 decimals) the first in this list, as in the bootstrap.
        A trial with a true ``diverged`` entry (its training loss became NaN
        or infinite) has no predictions: it is left out of the selection and
        of the bootstrap, and counted in ``diverged``.
    hypothesis : Hypothesis
    truth : dict
        ``{"dev": y_dev, "test": y_test}``.
    metric : str
        A name of :data:`~skhanrock.metrics.METRICS`.
    n_resamples : int, default=1000
    random_state : int or None, default=None
    groups : dict or None, default=None
        ``{"dev": ids, "test": ids}``, the conversation of each dev and test
        row: the bootstrap then resamples whole conversations (see
        :func:`~skhanrock.metrics.bootstrap_search_compare`).

    Returns
    -------
    DataFrame
        Columns ``trials`` (those selected from), ``diverged`` (those left
        out), ``dev``, ``test``, ``difference``, ``low``, ``high``,
        ``p_value``, ``significant`` (the interval excludes zero, either way),
        ``improvement`` (significant, and better than the baseline) and
        ``cell`` (the test score, with ``*`` for an improvement only, as in the
        paper's tables; a significantly worse arm gets no star), indexed by arm.

    Raises
    ------
    ValueError
        When every trial of an arm diverged, naming the arm.

    Examples
    --------
    >>> from skhanrock.experiments import HYPOTHESES, experiment_table
    >>> truth = {"dev": [0, 1] * 50, "test": [0, 1] * 50}
    >>> trials = [{"arm": "flat", "dev_pred": [0] * 100, "test_pred": [0] * 100},
    ...           {"arm": "rock", "dev_pred": [0, 1] * 50, "test_pred": [0, 1] * 50}]
    >>> table = experiment_table(trials, HYPOTHESES["H3"], truth, "accuracy",
    ...                          n_resamples=200, random_state=0)
    >>> table["cell"].tolist(), table["improvement"].tolist()
    (['0.500', '1.000*'], [False, True])
    """
    by_arm = {arm: [t for t in trials if t["arm"] == arm] for arm in hypothesis.arms}
    diverged = {arm: [t for t in arm_trials if t.get("diverged")]
                for arm, arm_trials in by_arm.items()}
    by_arm = {arm: [t for t in arm_trials if not t.get("diverged")]
              for arm, arm_trials in by_arm.items()}
    _check_some_converged(by_arm, diverged)
    baseline = _records(by_arm[hypothesis.baseline], truth)
    rows = {}
    for arm, arm_trials in by_arm.items():
        if not arm_trials:
            continue
        dev, test = _selected_scores(arm_trials, truth, metric)
        row = {"trials": len(arm_trials), "diverged": len(diverged[arm]), "dev": dev,
               "test": test, "difference": np.nan, "low": np.nan, "high": np.nan,
               "p_value": np.nan, "significant": False, "improvement": False}
        if arm != hypothesis.baseline and baseline:
            comparison = bootstrap_search_compare(baseline, _records(arm_trials, truth), metric,
                                                  n_resamples=n_resamples, groups=groups,
                                                  random_state=random_state)
            row.update(difference=comparison.difference, low=comparison.low,
                       high=comparison.high, p_value=comparison.p_value,
                       significant=comparison.significant,
                       improvement=_improves(comparison,
                                                    METRICS[metric].greater_is_better))
        row["cell"] = f"{test:.3f}" + ("*" if row["improvement"] else "")
        rows[arm] = row
    table = pd.DataFrame.from_dict(rows, orient="index")
    table.index.name = "arm"
    return table


def _cell(value):
    if isinstance(value, (float, np.floating)):
        return "" if np.isnan(value) else f"{value:.3f}"
    return str(value)


def markdown_table(frame, index_name=""):
    """A DataFrame as a GitHub-flavoured Markdown table (floats to 3 decimals).

    Parameters
    ----------
    frame : DataFrame
        Its index becomes the first column; missing floats become empty cells.
    index_name : str, default=""
        Header of the index column.

    Returns
    -------
    str

    Examples
    --------
    >>> import pandas as pd
    >>> print(markdown_table(pd.DataFrame({"acc": [0.7154]}, index=["ap"]), "arm"))
    | arm | acc |
    |---|---|
    | ap | 0.715 |
    """
    header = [index_name, *map(str, frame.columns)]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for name, row in frame.iterrows():
        lines.append("| " + " | ".join([str(name), *map(_cell, row)]) + " |")
    return "\n".join(lines)


def paper_table(experiments):
    """Several experiments side by side, as the paper's Tables 1-4.

    Parameters
    ----------
    experiments : dict
        Column name (e.g. ``"IEMOCAP acc"``) -> :class:`Experiment`.

    Returns
    -------
    DataFrame
        Arms as rows, one column per experiment, cells like ``"0.715*"``
        (``*``: significantly better than that experiment's baseline).

    Examples
    --------
    >>> import pandas as pd
    >>> from types import SimpleNamespace
    >>> table = pd.DataFrame({"cell": ["0.625", "0.715*"]}, index=["none", "ap"])
    >>> paper_table({"acc": SimpleNamespace(table=table)})["acc"].tolist()
    ['0.625', '0.715*']
    """
    columns = {name: experiment.table["cell"] for name, experiment in experiments.items()}
    return pd.DataFrame(columns).fillna("")
