"""The paper's result tables: dev-selected test scores, bootstrap differences, stars."""

import numpy as np
import pandas as pd

from ..metrics import METRICS, bootstrap_search_compare, score

__all__ = ["experiment_table", "markdown_table", "paper_table"]


def _records(trials, truth):
    return [{"dev_true": truth["dev"], "dev_pred": t["dev_pred"],
             "test_true": truth["test"], "test_pred": t["test_pred"]} for t in trials]


def _selected_scores(trials, truth, metric):
    dev = [score(truth["dev"], t["dev_pred"], metric) for t in trials]
    best = int(np.argmax(dev) if METRICS[metric][1] else np.argmin(dev))
    return dev[best], score(truth["test"], trials[best]["test_pred"], metric)


def experiment_table(trials, hypothesis, truth, metric, n_resamples=1000, random_state=None):
    """One row per arm: the dev-selected test score and the bootstrap comparison to the baseline.

    Parameters
    ----------
    trials : list of dict
        Finished trials with ``arm``, ``dev_pred`` and ``test_pred``.
    hypothesis : Hypothesis
    truth : dict
        ``{"dev": y_dev, "test": y_test}``.
    metric : str
    n_resamples : int
    random_state : int or None

    Returns
    -------
    DataFrame
        Columns ``trials``, ``dev``, ``test``, ``difference``, ``low``, ``high``,
        ``p_value``, ``significant`` and ``cell`` (the test score with ``*`` when
        the difference to the baseline is significant), indexed by arm.
    """
    by_arm = {arm: [t for t in trials if t["arm"] == arm] for arm in hypothesis.arms}
    baseline = _records(by_arm[hypothesis.baseline], truth)
    rows = {}
    for arm, arm_trials in by_arm.items():
        if not arm_trials:
            continue
        dev, test = _selected_scores(arm_trials, truth, metric)
        row = {"trials": len(arm_trials), "dev": dev, "test": test, "difference": np.nan,
               "low": np.nan, "high": np.nan, "p_value": np.nan, "significant": False}
        if arm != hypothesis.baseline and baseline:
            comparison = bootstrap_search_compare(baseline, _records(arm_trials, truth), metric,
                                                  n_resamples=n_resamples,
                                                  random_state=random_state)
            row.update(difference=comparison.difference, low=comparison.low,
                       high=comparison.high, p_value=comparison.p_value,
                       significant=comparison.significant)
        row["cell"] = f"{test:.3f}" + ("*" if row["significant"] else "")
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
        Arms as rows, one column per experiment, cells like ``"0.715*"``.

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
