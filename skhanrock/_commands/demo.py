"""The main job: the whole pipeline on built-in data, with and without auxiliary targets."""

import tempfile
import time

import numpy as np
import pandas as pd
from scipy import stats
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from skorch.callbacks import ProgressBar

from .._pipeline import make_paper_pipeline
from .._utils.validation import check_number
from ..datasets import (
    PAPER_REGIME,
    align_frames,
    make_conversations,
    make_feature_files,
    read_openface,
    read_vokaturi,
)
from ..metrics import bootstrap_compare, score
from ..preprocessing import MonahTranscriber

__all__ = ["run_demo"]

_ARMS = [("HAN-ROCK, no auxiliary targets", ""), ("HAN-ROCK, ap auxiliary targets", "ap"),
         ("HAN-ROCK, aphf auxiliary targets", "aphf")]
_METRICS = {"accuracy": "accuracy", "balanced_accuracy": "balanced accuracy",
            "macro_f1": "macro F1", "weighted_f1": "weighted F1"}
_COMPARED = ("accuracy", "weighted_f1")
#: Each arm's families, the short name the comparisons print.
_FAMILIES = dict(_ARMS)

_TALKTURN_COLUMNS = ["conversation", "turn", "speaker", "speaker_label", "text", "start", "end"]


def _talkturns_from_files(X, directory, random_state):
    """Rebuild the talkturn frame from OpenFace and Vokaturi files, as a user would."""
    paths = make_feature_files(X, directory, random_state=random_state)
    frames = read_openface(paths["openface"])
    tones = read_vokaturi(paths["vokaturi"])
    talkturns = X[_TALKTURN_COLUMNS].merge(tones, on=["conversation", "turn"], how="left")
    return align_frames(talkturns, frames, video_column="conversation")


def _previous_turns_text(X, n_previous=3):
    """Text of each talkturn preceded by the three before it in its conversation."""
    ordered = X.sort_values(["conversation", "turn"])
    pieces = [ordered["text"]]
    for k in range(1, n_previous + 1):
        pieces.append(ordered.groupby("conversation")["text"].shift(k).fillna(""))
    joined = pieces[0].str.cat(pieces[1:], sep=" | ")
    return joined.loc[X.index]


def _tfidf_baseline(X_train, y_train, X_test):
    labelled = y_train.notna().to_numpy()
    vectorizer = TfidfVectorizer(ngram_range=(1, 2), min_df=1, sublinear_tf=True)
    train_text = _previous_turns_text(X_train)
    model = LogisticRegression(max_iter=2000, C=4.0)
    model.fit(vectorizer.fit_transform(train_text[labelled]), y_train[labelled])
    return model.predict(vectorizer.transform(_previous_turns_text(X_test)))


def _han_pipeline(families, max_epochs, random_state, progress):
    return make_paper_pipeline(
        families, assignment="softmax", random_state=random_state, architecture="rock",
        context_size=8, max_epochs=max_epochs, lr=2 ** -8,
        callbacks=[ProgressBar()] if progress else None)


def _scores(y_true, y_pred, seconds):
    return {shown: score(y_true, y_pred, metric) for metric, shown in _METRICS.items()} \
        | {"fit seconds": seconds}


def _run_data(n_train, n_test, random_state):
    """One run's talkturns, read back from feature files, split by conversation."""
    X_generated, y = make_conversations(n_conversations=n_train + n_test,
                                        random_state=random_state, **PAPER_REGIME)
    with tempfile.TemporaryDirectory() as directory:
        X = _talkturns_from_files(X_generated, directory, random_state)
    conversations = X["conversation"].unique()
    train = np.random.default_rng(random_state).choice(conversations, n_train, replace=False)
    is_train = X["conversation"].isin(train).to_numpy()
    return X[is_train], X[~is_train], y[is_train], y[~is_train]


def _run_differences(y_test, predictions, groups, random_state):
    """Paired, conversation-level bootstrap of each arm's gain over "none" in one run."""
    baseline = predictions[_ARMS[0][0]]
    return {(name, metric): bootstrap_compare(y_test, baseline, predictions[name],
                                              metric=metric, groups=groups,
                                              random_state=random_state)
            for name, _ in _ARMS[1:] for metric in _COMPARED}


def _difference_line(name, metric, difference, low, high, significant):
    """One family's difference from none: the mean, its interval (none if NaN), * if significant."""
    interval = "" if np.isnan(low) else f" [{low:+.3f}, {high:+.3f}]"
    star = " *" if significant else ""
    return f"  {_FAMILIES[name]:<5} {metric:<12} {difference:+.3f}{interval}{star}"


def _print_run_differences(differences, print):
    for (name, metric), result in differences.items():
        print(_difference_line(name, metric, result.difference, result.low, result.high,
                               result.significant))


def _fit_run(run, data, max_epochs, random_state, progress, print):
    """Fit the baseline and every arm on one run's data; scores and differences."""
    X_train, X_test, y_train, y_test = data
    scores = {}
    start = time.perf_counter()
    predicted = _tfidf_baseline(X_train, y_train, X_test)
    scores["TF-IDF + logistic regression"] = _scores(y_test, predicted,
                                                     time.perf_counter() - start)
    predictions = {}
    for name, families in _ARMS:
        print(f"Run {run}: fitting {name} ...")
        pipeline = _han_pipeline(families, max_epochs, random_state, progress)
        start = time.perf_counter()
        pipeline.fit(X_train, y_train)
        predictions[name] = pipeline.predict(X_test)
        scores[name] = _scores(y_test, predictions[name], time.perf_counter() - start)
        if run == 1 and families == "aphf":
            weights = pipeline.named_steps["weights"].loss_weights_
            print("Fitted loss weights (aphf, run 1):\n" + weights.round(3).to_string())
    differences = _run_differences(y_test, predictions, X_test["conversation"], random_state)
    print(f"Run {run} (seed {random_state}): difference from no auxiliary targets on its "
          "held-out conversations (paired bootstrap over conversations, 95% interval; "
          "* = significant):")
    _print_run_differences(differences, print)
    return pd.DataFrame(scores).T, differences


def _across_runs(per_run, confidence=0.95):
    """Mean gain of each arm over the runs, with a t interval over the runs.

    Each run draws new conversations and a new initialisation, so the spread
    of the per-run gains is the training-to-training variation a
    conversation-level bootstrap within one run cannot see.
    """
    rows = {}
    for key in per_run[0]:
        gains = np.array([run[key].difference for run in per_run])
        mean = float(gains.mean())
        if len(gains) > 1:
            half = float(stats.t.ppf(0.5 + confidence / 2, len(gains) - 1)
                         * gains.std(ddof=1) / np.sqrt(len(gains)))
        else:
            half = np.nan
        rows[key] = {"difference": mean, "low": mean - half, "high": mean + half,
                     "significant": bool(len(gains) > 1 and abs(mean) > half),
                     "runs_better": int((gains > 0).sum()),
                     "runs_significantly_better": sum(
                         run[key].significant and run[key].difference > 0 for run in per_run),
                     "runs_significantly_worse": sum(
                         run[key].significant and run[key].difference < 0 for run in per_run)}
    return rows


def _print_summary(mean, tables, across, print):
    runs = len(tables)
    print(f"\nPrimary task (4 emotions, noisy labels) on held-out conversations, mean over "
          f"{runs} run{'s' * (runs > 1)}:")
    print(mean.to_string(float_format=lambda v: f"{v:.3f}"))
    if runs > 1:
        spread = pd.DataFrame({f"run {k}": t["accuracy"] for k, t in enumerate(tables, 1)})
        print("\nAccuracy of each run:")
        print(spread.to_string(float_format=lambda v: f"{v:.3f}"))
    print(f"\nDifference from no auxiliary targets across the {runs} runs (mean of the runs' "
          "differences, 95% t interval over runs; * = significant; then how many runs were "
          "better, and significantly better / worse by their own bootstrap):")
    for (name, metric), row in across.items():
        line = _difference_line(name, metric, row["difference"], row["low"], row["high"],
                                row["significant"])
        print(f"{line}  better in {row['runs_better']}/{runs}, significantly "
              f"{row['runs_significantly_better']} / {row['runs_significantly_worse']}")
    print("\n" + _conclusion(across, runs))


def _conclusion(across, runs):
    """One sentence that says what the interval over runs does and does not show."""
    if runs < 2:
        return ("Conclusion: one run cannot tell a family's effect from the luck of its "
                "training; use --runs 3 or more.")
    better = [f"{_FAMILIES[name]} ({metric})" for (name, metric), row in across.items()
              if row["significant"] and row["difference"] > 0]
    worse = [f"{_FAMILIES[name]} ({metric})" for (name, metric), row in across.items()
             if row["significant"] and row["difference"] < 0]
    parts = [f"better across the {runs} runs: " + ", ".join(better)] if better else []
    parts += [f"worse across the {runs} runs: " + ", ".join(worse)] if worse else []
    if not parts:
        return (f"Conclusion: no auxiliary family's difference from none is distinguishable "
                f"from the variation between these {runs} training runs.")
    return ("Conclusion: " + "; ".join(parts) + f" (a t interval over {runs} runs; more runs "
            "with --runs and --seed test whether it holds).")


#: Largest seed numpy's legacy generators (and so the data generator) take.
_MAX_SEED = 2 ** 32 - 1


def _check_arguments(n_train, n_test, n_runs, max_epochs, random_state):
    """Refuse counts below one and seeds the runs cannot use, naming the parameter."""
    for name, value in (("n_train", n_train), ("n_test", n_test), ("n_runs", n_runs),
                        ("max_epochs", max_epochs)):
        check_number(f"run_demo: {name}", value, low=1, integer=True)
    # Run k uses seed random_state + k - 1: the last one must be a seed too.
    check_number("run_demo: random_state", random_state, low=0, high=_MAX_SEED - n_runs + 1,
                 integer=True)


def run_demo(n_train=75, n_test=125, n_runs=3, max_epochs=10, random_state=0, progress=True,
             print=print):
    """Fit the models on built-in data in the paper's regime and print their test scores.

    Each run generates conversations in the paper's regime
    (:data:`skhanrock.datasets.PAPER_REGIME`: noisy labels, half of them missing, weak words)
    with its own seed (``random_state``, ``random_state + 1``, ...), writes
    their nonverbal features as OpenFace and Vokaturi files, reads and aligns
    them, trains on ``n_train`` conversations and compares on ``n_test``
    held-out ones: a TF-IDF + logistic-regression baseline, HAN-ROCK without
    auxiliary targets, and HAN-ROCK with the "ap" and "aphf" auxiliary
    families. Each run prints the paired, conversation-level bootstrap
    interval of each family's difference from no auxiliary target; the
    summary then gives the mean difference over the runs with a t interval
    over the runs, which also covers the variation from one training run to
    the next that a bootstrap within one run cannot see.

    Parameters
    ----------
    n_train, n_test : int, default=75, 125
        Training and held-out conversations of each run (at least 1).
    n_runs : int, default=3
        Runs, each with its own data and initialisation (at least 1).
    max_epochs : int, default=10
        Training epochs of each network (at least 1).
    random_state : int, default=0
        Seed of the first run; every run's seed must be in [0, 2**32 - 1].
    progress : bool, default=True
        Show a progress bar per fit.
    print : callable, default=print
        Where the lines go.

    Returns
    -------
    DataFrame
        One row per model, the mean over the runs of accuracy, balanced
        accuracy, macro and weighted F1 and fit time. ``attrs["runs"]`` holds
        each run's table, ``attrs["differences"]`` each run's
        :class:`~skhanrock.metrics.BootstrapComparison` by (model, metric),
        and ``attrs["across_runs"]`` the summary over runs.
    """
    _check_arguments(n_train, n_test, n_runs, max_epochs, random_state)
    tables, per_run = [], []
    for run in range(1, n_runs + 1):
        seed = random_state + run - 1
        data = _run_data(n_train, n_test, seed)
        X_train, X_test, y_train, y_test = data
        print(f"\nRun {run} (seed {seed}): {len(X_train)} training talkturns in {n_train} "
              f"conversations, {len(X_test)} held-out in {n_test} "
              f"({int(y_test.notna().sum())} labelled).")
        if run == 1:
            example = MonahTranscriber().fit_transform(X_train.head(12))["narrative"]
            print("Example MONAH narrative:\n  " + example.iloc[example.str.len().argmax()])
        table, differences = _fit_run(run, data, max_epochs, seed, progress, print)
        tables.append(table)
        per_run.append(differences)
    across = _across_runs(per_run)
    summary = sum(tables) / n_runs
    _print_summary(summary, tables, across, print)
    summary.attrs.update(runs=tables, differences=per_run, across_runs=across)
    return summary
