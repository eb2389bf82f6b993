"""Vectorised bootstrap confidence intervals and paired comparisons."""

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ._scores import METRICS, finite_floats, labelled_rows

__all__ = ["BootstrapComparison", "BootstrapInterval", "best_trial", "bootstrap_ci",
           "bootstrap_compare", "bootstrap_search_compare"]


@dataclass(frozen=True)
class BootstrapInterval:
    """A metric with its bootstrap confidence interval, as :func:`bootstrap_ci` returns it.

    Parameters
    ----------
    metric : str
        Name of the metric (a callable's ``__name__``).
    estimate : float
        The metric on all labelled rows.
    low, high : float
        Bounds of the central confidence interval of the resampled values.
    resamples : ndarray of shape (n_resamples,)
        The metric on each resample.

    Examples
    --------
    >>> from skhanrock.metrics import bootstrap_ci
    >>> interval = bootstrap_ci([0, 1] * 50, [0, 0] * 50, n_resamples=200, random_state=0)
    >>> interval.metric, interval.estimate, interval.resamples.shape
    ('accuracy', 0.5, (200,))
    >>> bool(interval.low < interval.estimate < interval.high)
    True
    """

    metric: str
    estimate: float
    low: float
    high: float
    resamples: np.ndarray


@dataclass(frozen=True)
class BootstrapComparison:
    """Paired difference ``challenger - baseline`` of a metric, with its interval.

    ``significant`` is True when the central interval excludes zero, whichever
    side of zero it lies on (for MAE a negative difference is an
    improvement); ``p_value`` is the two-sided bootstrap fraction of resampled
    differences on the other side of zero.

    Parameters
    ----------
    metric : str
        Name of the metric.
    difference : float
        ``metric(challenger) - metric(baseline)`` on all labelled rows.
    low, high : float
        Bounds of the central confidence interval of the resampled differences.
    significant : bool
        Whether the interval excludes zero.
    p_value : float
        Two-sided bootstrap p-value.
    resamples : ndarray of shape (n_resamples,)
        The difference on each resample.

    Examples
    --------
    >>> from skhanrock.metrics import bootstrap_compare
    >>> y = [0, 1] * 100
    >>> comparison = bootstrap_compare(y, [0] * 200, y, n_resamples=200, random_state=0)
    >>> comparison.difference, comparison.significant, comparison.p_value
    (0.5, True, 0.0)
    """

    metric: str
    difference: float
    low: float
    high: float
    significant: bool
    p_value: float
    resamples: np.ndarray


def _resample_weights(n_rows, n_resamples, groups, rng):
    """How often each row is drawn in each resample, as an (R, n) matrix.

    With groups, whole groups (conversations) are drawn and their rows follow.
    """
    if groups is None:
        return _draw_counts(n_rows, n_resamples, rng)
    codes, uniques = pd.factorize(pd.Series(np.asarray(groups, dtype=object)))
    return _draw_counts(len(uniques), n_resamples, rng)[:, codes]


def _draw_counts(n_items, n_resamples, rng, block_size=2 ** 18):
    """Counts of each item in each of ``n_resamples`` draws of ``n_items`` with replacement.

    One bincount per block of resamples; ``multinomial`` with thousands of
    categories is an order of magnitude slower. Blocks of about ``block_size``
    draws keep the temporaries small enough for the allocator to reuse: drawing
    all resamples at once allocated ~200 MB of fresh pages for 1000 x 10,000,
    and page faults made that take seconds instead of a tenth of one.
    """
    counts = np.empty((n_resamples, n_items), dtype=np.float32)
    rows_per_block = max(1, block_size // max(n_items, 1))
    for start in range(0, n_resamples, rows_per_block):
        rows = min(rows_per_block, n_resamples - start)
        draws = rng.integers(0, n_items, size=(rows, n_items))
        draws += np.arange(rows)[:, None] * n_items
        counts[start:start + rows] = np.bincount(
            draws.ravel(), minlength=rows * n_items).reshape(rows, n_items)
    return counts


def _label_codes(y_true, y_pred):
    """Integer codes of the labels of both arrays, equal for equal values of any dtype.

    Comparing labels as strings would tell 1.0 (a float column with gaps) from
    the 1 a model predicts; factorising the values as objects does not.
    """
    codes, uniques = pd.factorize(np.concatenate([y_true, y_pred]), use_na_sentinel=False)
    return codes[:len(y_true)], codes[len(y_true):], len(uniques)


def _class_counts(weights, true_codes, pred_codes, n_classes):
    """Weighted true positives, predicted and true counts per class."""
    one_hot = np.eye(n_classes, dtype=np.float32)
    true, predicted = one_hot[true_codes], one_hot[pred_codes]
    return weights @ (true * predicted), weights @ predicted, weights @ true


def _all_rows(n_rows):
    """Weights of the original sample; float64, so the estimate matches scikit-learn's."""
    return np.ones((1, n_rows))


def _safe_ratio(numerator, denominator):
    return np.divide(numerator, denominator, out=np.zeros_like(numerator),
                     where=denominator > 0)


def _weighted_metric(metric, weights, y_true, y_pred):
    """The metric on every resample at once, from the resample weights.

    Classes follow scikit-learn per resample: balanced accuracy averages
    over the classes present in ``y_true``, macro F1 over the union of true
    and predicted classes.
    """
    if metric == "mae":
        truth, predicted = finite_floats(y_true, y_pred)
        errors = np.abs(truth - predicted)
        # float32 keeps the product with the float32 counts fast (a float64 one
        # copies the whole count matrix); scaled, errors beyond its range stay finite.
        scale = errors.max() if errors.max() > 0 else 1.0
        return weights @ (errors / scale).astype(np.float32) * scale / weights.sum(1)
    true_codes, pred_codes, n_classes = _label_codes(y_true, y_pred)
    if metric == "accuracy":
        return weights @ (true_codes == pred_codes).astype(np.float32) / weights.sum(1)
    hits, predicted, support = _class_counts(weights, true_codes, pred_codes, n_classes)
    if metric == "balanced_accuracy":
        present = support > 0
        return (_safe_ratio(hits, support) * present).sum(1) / present.sum(1)
    f1 = _safe_ratio(2 * hits, predicted + support)
    if metric == "macro_f1":
        present = (support + predicted) > 0
        return (f1 * present).sum(1) / present.sum(1)
    return (f1 * support).sum(1) / support.sum(1)


def _metric_on_resamples(metric, weights, y_true, y_pred):
    if isinstance(metric, str):
        if metric not in METRICS:
            raise ValueError(f"metric must be one of {sorted(METRICS)} or a callable, "
                             f"got {metric!r}.")
        return _weighted_metric(metric, weights, y_true, y_pred).astype(float)
    # An arbitrary callable: one call per resample, rows repeated by their weight.
    # Labels in their own dtype: sklearn's metrics call object arrays of numbers "unknown".
    y_true, y_pred = (pd.Series(a).infer_objects().to_numpy() for a in (y_true, y_pred))
    indices = np.arange(len(y_true))
    return np.array([metric(y_true[np.repeat(indices, w.astype(int))],
                            y_pred[np.repeat(indices, w.astype(int))]) for w in weights])


def _interval(values, confidence):
    tail = (1.0 - confidence) / 2 * 100
    return np.percentile(values, [tail, 100 - tail])


def _labelled_groups(y_true, groups, name="groups", truth_name="y_true"):
    """Cluster ids of the labelled rows, after checking there is one per row."""
    if groups is None:
        return None
    y_true = np.asarray(y_true, dtype=object).ravel()
    groups = np.asarray(groups, dtype=object).ravel()
    if len(groups) != len(y_true):
        raise ValueError(f"{name} has {len(groups)} values but {truth_name} has "
                         f"{len(y_true)}; give one cluster id per row.")
    labelled = pd.notna(pd.Series(y_true)).to_numpy()
    # factorize codes a missing id as -1, which would give the row the last cluster's draws
    missing = np.flatnonzero(labelled & pd.isna(pd.Series(groups)).to_numpy())
    if len(missing):
        raise ValueError(f"{name} is missing at row {missing[0]} ({len(missing)} labelled "
                         "row(s) lack a cluster id in all); give every labelled row one.")
    return groups[labelled]


def _check_resampling(n_resamples, confidence):
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must lie in (0, 1), got {confidence}.")
    if int(n_resamples) < 1:
        raise ValueError(f"n_resamples must be a positive integer, got {n_resamples}.")


def _prepare(y_true, predictions, groups, n_resamples, confidence):
    _check_resampling(n_resamples, confidence)
    if len(np.asarray(y_true, dtype=object).ravel()) == 0:
        raise ValueError("bootstrap needs at least one row; y_true is empty.")
    groups = _labelled_groups(y_true, groups)
    return labelled_rows(y_true, *predictions), groups


def _metric_name(metric):
    return metric if isinstance(metric, str) else getattr(metric, "__name__", "metric")


def bootstrap_ci(y_true, y_pred, metric="accuracy", n_resamples=1000, confidence=0.95,
                 groups=None, random_state=None):
    """Bootstrap confidence interval of a metric.

    The metrics of :data:`~skhanrock.metrics.METRICS` are computed for all
    resamples at once from a matrix of resample weights (1000 resamples of
    10,000 rows take a fraction of a second); any other callable
    ``metric(y_true, y_pred)`` is evaluated resample by resample. Unlabelled
    rows are skipped.

    Parameters
    ----------
    y_true, y_pred : array-like
    metric : str or callable, default="accuracy"
        "accuracy", "balanced_accuracy", "macro_f1", "weighted_f1", "mae" or a
        callable.
    n_resamples : int, default=1000
    confidence : float, default=0.95
    groups : array-like or None, default=None
        Cluster ids (e.g. conversations): whole clusters are resampled, since
        talkturns of one conversation are not independent.
    random_state : int or None

    Returns
    -------
    BootstrapInterval

    Examples
    --------
    >>> from skhanrock.metrics import bootstrap_ci
    >>> result = bootstrap_ci([0, 1, 1, 0] * 25, [0, 1, 0, 0] * 25, random_state=0)
    >>> result.estimate, bool(result.low < 0.75 < result.high)
    (0.75, True)
    """
    (y_true, y_pred), groups = _prepare(y_true, [y_pred], groups, n_resamples, confidence)
    rng = np.random.default_rng(random_state)
    weights = _resample_weights(len(y_true), int(n_resamples), groups, rng)
    values = _metric_on_resamples(metric, weights, y_true, y_pred)
    estimate = float(_metric_on_resamples(metric, _all_rows(len(y_true)), y_true, y_pred)[0])
    low, high = _interval(values, confidence)
    return BootstrapInterval(_metric_name(metric), estimate, float(low), float(high), values)


def _comparison(metric, differences, estimate, confidence):
    low, high = _interval(differences, confidence)
    p_value = min(1.0, 2 * min(np.mean(differences <= 0), np.mean(differences >= 0)))
    return BootstrapComparison(_metric_name(metric), float(estimate), float(low), float(high),
                               bool(low > 0 or high < 0), float(p_value), differences)


def bootstrap_compare(y_true, y_pred_baseline, y_pred_challenger, metric="accuracy",
                      n_resamples=1000, confidence=0.95, groups=None, random_state=None):
    """Paired bootstrap of ``metric(challenger) - metric(baseline)`` on the same rows.

    Both models are scored on the same resamples, so the interval reflects
    the difference between them, not the spread of each. For MAE a negative
    difference means the challenger is better.

    Parameters
    ----------
    y_true, y_pred_baseline, y_pred_challenger : array-like
    metric, n_resamples, confidence, groups, random_state
        As in :func:`bootstrap_ci`.

    Returns
    -------
    BootstrapComparison

    Examples
    --------
    >>> from skhanrock.metrics import bootstrap_compare
    >>> y = [0, 1] * 200
    >>> result = bootstrap_compare(y, [0, 0] * 200, y, random_state=0)
    >>> result.difference, result.significant
    (0.5, True)
    """
    (y_true, baseline, challenger), groups = _prepare(
        y_true, [y_pred_baseline, y_pred_challenger], groups, n_resamples, confidence)
    weights = _resample_weights(len(y_true), int(n_resamples), groups,
                                np.random.default_rng(random_state))
    differences = (_metric_on_resamples(metric, weights, y_true, challenger)
                   - _metric_on_resamples(metric, weights, y_true, baseline))
    ones = _all_rows(len(y_true))
    estimate = (_metric_on_resamples(metric, ones, y_true, challenger)
                - _metric_on_resamples(metric, ones, y_true, baseline))[0]
    return _comparison(metric, differences, estimate, confidence)


_FIELDS = ("dev_true", "dev_pred", "test_true", "test_pred")


def _as_rows(values):
    return np.asarray(values, dtype=object).ravel()


def _same_rows(truth, reference):
    """Equal labels row for row (1 equals 1.0; missing equals missing)."""
    return len(truth) == len(reference) and pd.Series(truth).equals(pd.Series(reference))


def _check_records(records, name, reference=None):
    """Every trial has the four fields, one prediction per row, and the reference's rows.

    Selecting on resampled dev rows and reading resampled test rows only pairs
    the trials when every trial was scored on the same rows in the same order;
    the reference is the first trial of ``records`` when None.
    """
    if not records:
        raise ValueError(f"{name} holds no trial.")
    reference = records[0] if reference is None else reference
    for i, record in enumerate(records):
        missing = [f for f in _FIELDS if f not in record]
        if missing:
            raise ValueError(f"{name}[{i}] lacks {missing}; each trial needs {list(_FIELDS)}.")
        for part in ("dev", "test"):
            truth, predicted = _as_rows(record[f"{part}_true"]), _as_rows(record[f"{part}_pred"])
            expected = _as_rows(reference[f"{part}_true"])
            try:
                # Lengths, and a missing prediction, which would win or lose the dev
                # selection by accident.
                labelled_rows(truth, predicted)
            except ValueError as error:
                raise ValueError(f"{name}[{i}] {part} ({part}_true, {part}_pred): {error}") \
                    from error
            if not _same_rows(truth, expected):
                raise ValueError(
                    f"{name}[{i}] was scored on other {part} rows than baseline_records[0] "
                    f"({len(truth)} vs {len(expected)} rows, or other labels); every trial of "
                    f"both searches needs the same {part}_true, row for row.")


#: Dev scores equal to this many decimals are a tie, won by the first trial.
TIE_DECIMALS = 12


def best_trial(dev_scores, greater_is_better=True):
    """Position of the trial best on dev; of scores tied to 12 decimals, the first.

    The one selection rule of the experiments: the result tables' test cells
    and the bootstrap of :func:`bootstrap_search_compare` both select with it,
    so they always describe the same trial. Scores are compared rounded to 12
    decimals because scikit-learn and the vectorised metrics here sum in
    other orders: one balanced accuracy of 19/30 reads
    0.6333333333333333 in one and 0.6333333333333334 in the other, and
    compared raw a tie would go to whichever trial the last bit favours. A
    NaN score (a trial that has no score) is never selected.

    Parameters
    ----------
    dev_scores : array-like of shape (n_trials,) or (n_trials, n_resamples)
        Dev score of each trial (axis 0), optionally on each resample (axis 1).
    greater_is_better : bool, default=True
        Whether the greatest score is the best, as
        ``Metric.greater_is_better`` says for each of :data:`METRICS`.

    Returns
    -------
    int or ndarray of int
        The best trial's position; one per resample for 2-d scores.

    Raises
    ------
    ValueError
        When there is no trial, or every trial's score (on some resample) is NaN.

    Examples
    --------
    >>> from skhanrock.metrics import METRICS, best_trial
    >>> int(best_trial([0.6333333333333334, 0.6333333333333333]))
    0
    >>> int(best_trial([0.41, 0.25, 0.25], METRICS["mae"].greater_is_better))
    1
    """
    scores = np.round(np.asarray(dev_scores, dtype=float), TIE_DECIMALS)
    if scores.ndim not in (1, 2) or not scores.shape[0]:
        raise ValueError(f"dev_scores must hold one score per trial (axis 0) of at least one "
                         f"trial, got shape {scores.shape}.")
    missing = np.isnan(scores)
    if missing.all(0).any():
        raise ValueError("Every trial's dev score is NaN: there is no trial to select.")
    # NaN would win argmax; as the worst score it never does. argmax and argmin
    # return the first of equal values.
    if greater_is_better:
        return np.where(missing, -np.inf, scores).argmax(0)
    return np.where(missing, np.inf, scores).argmin(0)


def _selected_test_scores(records, metric, dev_weights, test_weights, greater_is_better):
    """Test score, per resample, of the trial that is best on that resample's dev rows."""
    dev = np.stack([_metric_on_resamples(metric, dev_weights, *labelled_rows(
        r["dev_true"], r["dev_pred"])) for r in records])
    test = np.stack([_metric_on_resamples(metric, test_weights, *labelled_rows(
        r["test_true"], r["test_pred"])) for r in records])
    best = best_trial(dev, greater_is_better)
    return test[best, np.arange(test.shape[1])]


def _search_groups(groups, reference):
    """Cluster ids of the labelled dev and test rows, from ``{"dev": ..., "test": ...}``."""
    if groups is None:
        return None, None
    if not isinstance(groups, Mapping) or not set(groups) <= {"dev", "test"}:
        raise ValueError("groups must be None or a dict {'dev': ids, 'test': ids} with one "
                         f"cluster id per dev row and per test row, got {groups!r:.80}.")
    return tuple(_labelled_groups(reference[f"{part}_true"], groups.get(part),
                                  f"groups[{part!r}]", f"{part}_true")
                 for part in ("dev", "test"))


def bootstrap_search_compare(baseline_records, challenger_records, metric="accuracy",
                             n_resamples=1000, confidence=0.95, groups=None,
                             random_state=None):
    """The paper's comparison of two random searches.

    Each record is one trial with its per-row predictions on the dev and the
    test rows: ``{"dev_true", "dev_pred", "test_true", "test_pred"}`` (every
    trial of both searches must use the same dev rows and the same test rows).
    For each resample of the dev rows and of the test rows, the trial that is
    best on the resampled dev rows is selected in each search and its score
    on the resampled test rows is read; the paired differences (challenger
    minus baseline) give the interval, and the difference is significant when
    the interval excludes zero.

    Parameters
    ----------
    baseline_records, challenger_records : list of dict
        One dict per trial, with the true labels and predictions of the dev
        and the test rows (unlabelled rows are skipped).
    metric : str, default="accuracy"
        One of "accuracy", "balanced_accuracy", "macro_f1", "weighted_f1",
        "mae" (lower is better, so the best trial is the one with least MAE).
    n_resamples, confidence
        As in :func:`bootstrap_ci`.
    groups : dict or None, default=None
        ``{"dev": ids, "test": ids}``: a cluster id (e.g. the conversation)
        per dev row and per test row, in the records' row order; whole
        clusters are resampled, as in :func:`bootstrap_ci`. A missing key
        resamples that part's rows one by one.
    random_state : int or None, default=None
        As in :func:`bootstrap_ci`.

    Returns
    -------
    BootstrapComparison

    Raises
    ------
    ValueError
        When a trial lacks a field, or was scored on other dev or test rows
        than the first baseline trial.

    Examples
    --------
    >>> from skhanrock.metrics import bootstrap_search_compare
    >>> truth = [0, 1] * 100
    >>> weak = [{"dev_true": truth, "dev_pred": [0] * 200, "test_true": truth,
    ...          "test_pred": [0] * 200}]
    >>> strong = [{"dev_true": truth, "dev_pred": truth, "test_true": truth,
    ...            "test_pred": truth}]
    >>> bootstrap_search_compare(weak, strong, random_state=0).significant
    True
    >>> conversations = [i // 10 for i in range(200)]
    >>> bootstrap_search_compare(weak, strong, groups={"dev": conversations,
    ...                                                "test": conversations},
    ...                          random_state=0).difference
    0.5
    """
    _check_resampling(n_resamples, confidence)
    _check_records(baseline_records, "baseline_records")
    reference = baseline_records[0]
    _check_records(challenger_records, "challenger_records", reference)
    if metric not in METRICS:
        raise ValueError(f"metric must be one of {sorted(METRICS)}, got {metric!r}.")
    dev_groups, test_groups = _search_groups(groups, reference)
    rng = np.random.default_rng(random_state)
    n_dev = len(labelled_rows(reference["dev_true"])[0])
    n_test = len(labelled_rows(reference["test_true"])[0])
    dev_weights = _resample_weights(n_dev, int(n_resamples), dev_groups, rng)
    test_weights = _resample_weights(n_test, int(n_resamples), test_groups, rng)
    greater_is_better = METRICS[metric].greater_is_better

    def difference(dev, test):
        return (_selected_test_scores(challenger_records, metric, dev, test, greater_is_better)
                - _selected_test_scores(baseline_records, metric, dev, test, greater_is_better))

    estimate = difference(_all_rows(n_dev), _all_rows(n_test))[0]
    return _comparison(metric, difference(dev_weights, test_weights), estimate, confidence)
