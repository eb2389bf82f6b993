"""MELD or IEMOCAP: TF-IDF baselines, the old and today's defaults, each training lever, over seeds.

Issue 14 (MELD) and issue 28 (IEMOCAP). One run per corpus (``--corpus``):

- **MELD**: official splits; 7 emotions; fitted on train, scored on dev and
  test.
- **IEMOCAP** sessions 1-3 (``../shared/data/iemocap/sessions_1_3.csv``;
  sessions 4-5 are withheld and never read): speaker-disjoint rotations,
  two sessions to train and the third to test, sessions 1-2 -> 3 first
  (``--rotations 1`` runs that one only). Complete conversations: the
  talkturns without a label stay in as context. Tasks: 4-class (excited
  merged into happy; frustrated unlabelled), 6-class, and the mean
  valence, arousal and dominance ratings (``HanRockRegressor``). A dev split
  *inside* training, 20% of the training conversations (one draw, the same
  for every row), chooses the baselines' C or alpha (then refitted on all
  training sessions) and is the ``early_stop`` row's validation set (that
  row trains on the other 80%); every other network row trains on both
  training sessions, as ``fit(X_train, y_train)`` does. Dev scores are
  therefore not reported for IEMOCAP, and the ``recipe`` row (chosen on dev)
  is MELD's only.

Rows (``--rows``; each network row has ``random_state`` = each of ``--seeds``):

- ``tfidf_turn``: TF-IDF 1-2 grams of the current talkturn, logistic
  regression (ridge for a rating), C (alpha) chosen on dev;
- ``tfidf``: the same with the three previous talkturns' TF-IDF beside it
  (``benchmarks/meld.py``'s ``ContextTfidf``);
- ``defaults``: ``HanRockClassifier(embeddings="glove-6b-50d")`` (or
  ``HanRockRegressor``) with the package's old defaults, pinned here in
  ``OLD_DEFAULTS`` so that the row keeps meaning "the old defaults" when the
  package's defaults change;
- one row per lever, each changing one thing from the old defaults (an
  ablation): class weights (classification only), dev early stopping with
  the best epoch restored, frozen embeddings, context size, primary units,
  dropout, learning rate, epochs, the lexical path (alone and with the three
  previous talkturns), no history/future heads, the packaged frozen
  all-MiniLM-L6-v2 encoder, training chunks of 4 talkturns (``chunk4``);
- ``glove_file``: the old defaults on a GloVe text file of the user's
  (``--glove-file glove.6B.300d.txt``; none ships);
- ``recipe`` (MELD): the levers that helped, combined. ``--recipe auto``
  combines the levers whose *dev* weighted F1 beat the old defaults' by at
  least ``--min-gain`` with the first seed; ``--recipe a,b,c`` names them;
- ``package``: ``HanRockClassifier(embeddings="glove-6b-50d")`` with the
  package's defaults as they are now; ``package_minilm``: the same with
  ``embeddings="all-MiniLM-L6-v2"`` (``pip install skhanrock[minilm]``).

Each table cell is the mean over seeds with the min-max spread in brackets
(baseline rows are deterministic: one fit). With several rotations a last
table gives, per row, the mean over rotations of the seed means and the
min-max over every rotation and seed. Wall time is the fit plus the
predictions (one process, ``--threads`` torch threads). For classification a
paired bootstrap over test conversations (first rotation, first seed) gives
the 95% interval of ``package``'s difference from ``tfidf`` and ``defaults``.

Run from the repository root (every row of MELD: about 75-90 minutes per seed
with one torch thread on a shared 2-core machine; IEMOCAP: a network row is
minutes per task, rotation and seed)::

    OMP_NUM_THREADS=1 python benchmarks/real_corpora.py --corpus {meld,iemocap}
        [--root DIR] [--tasks 4-class,valence] [--rotations 1] [--seeds 0 1 2]
        [--rows tfidf,defaults,...] [--recipe auto] [--recipe-epochs 20]
        [--dialogues N] [--glove-file glove.6B.300d.txt] [--out results.json]
        [--resume] [--quick]

``--quick`` is a smoke run of about a minute: a few conversations of each
split (IEMOCAP: 4 per session, first rotation), 1 epoch, the rows
``tfidf_turn,tfidf,defaults,package`` unless ``--rows`` names others.
``--out`` writes every finished fit (settings, scores, test predictions) as
JSON after each one; with ``--resume`` the fits already there, with the same
settings and data, are read back instead of being fitted again.
"""

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.metrics import (
    accuracy_score,
    balanced_accuracy_score,
    f1_score,
    mean_absolute_error,
)
from skorch.callbacks import EarlyStopping, EpochScoring

sys.path.insert(0, str(Path(__file__).resolve().parent))
from meld import DEFAULT_ROOT as MELD_ROOT  # noqa: E402
from meld import PREVIOUS_TURNS, TFIDF_C_GRID, ContextTfidf, partitions  # noqa: E402
from meld_h1 import subsample_dialogues  # noqa: E402

from skhanrock import HanRockClassifier, HanRockRegressor  # noqa: E402
from skhanrock.metrics import bootstrap_compare  # noqa: E402
from skhanrock.nn import FrameValidSplit  # noqa: E402

IEMOCAP_ROOT = MELD_ROOT.parent / "iemocap"
#: IEMOCAP's tasks: (column of sessions_1_3.csv, kind).
IEMOCAP_TASKS = {"4-class": ("emotion4", "classification"),
                 "6-class": ("emotion6", "classification"),
                 "valence": ("valence", "regression"), "arousal": ("arousal", "regression"),
                 "dominance": ("dominance", "regression")}
MELD_TASKS = {"7-class": ("emotion", "classification")}
#: Speaker-disjoint rotations of sessions 1-3: (training sessions, test session).
ROTATIONS = ((("Ses01", "Ses02"), "Ses03"), (("Ses01", "Ses03"), "Ses02"),
             (("Ses02", "Ses03"), "Ses01"))
#: Share of the training conversations held out as IEMOCAP's dev split.
DEV_SHARE = 0.2
RIDGE_ALPHA_GRID = (0.3, 1.0, 3.0, 10.0, 30.0)

#: The package's defaults before issue 14, written out (plus the shipped GloVe).
OLD_DEFAULTS = {
    "embeddings": "glove-6b-50d", "architecture": "rock", "primary_units": 256,
    "aux_units": None, "context_size": 18, "freeze_embeddings": False, "max_words": 64,
    "min_word_count": 1, "gru_dropout": 0.1, "recurrent_dropout": 0.1, "loss_weights": None,
    "label_offsets": "auto", "chunk_size": 64, "lr": 2 ** -8, "max_epochs": 10,
    "batch_size": 64, "class_weight": None, "lexical_ngrams": None,
}

#: Lever rows: what each changes from OLD_DEFAULTS. ``early_stopping`` is not a
#: parameter: it adds FrameValidSplit(dev), an EpochScoring on dev and EarlyStopping.
LEVERS = {
    "balanced": {"class_weight": "balanced"},
    "early_stop": {"early_stopping": True},
    "freeze": {"freeze_embeddings": True},
    # Unseen words: their random vectors trained while the GloVe ones stay frozen.
    "freeze_found": {"freeze_embeddings": "pretrained"},
    "context6": {"context_size": 6},
    "units128": {"primary_units": 128},
    "dropout0.2": {"gru_dropout": 0.2, "recurrent_dropout": 0.2},
    "lr2^-7": {"lr": 2 ** -7},
    "lr2^-9": {"lr": 2 ** -9},
    "epochs20": {"max_epochs": 20},
    "lexical": {"lexical_ngrams": [1, 2]},
    "lexical_ctx3": {"lexical_ngrams": [1, 2], "lexical_context": 3},
    "no_offsets": {"label_offsets": []},
    "minilm": {"embeddings": "all-MiniLM-L6-v2"},
    # Batches of 16 chunks of 4 talkturns instead of one chunk of 64: on IEMOCAP's long,
    # one-emotion conversations a batch of one conversation left the deep path untrained.
    "chunk4": {"chunk_size": 4},
}
#: Levers that only make sense for a classifier.
CLASSIFICATION_ONLY = {"balanced", "class_weight"}
BASELINES = {"tfidf_turn": 0, "tfidf": PREVIOUS_TURNS}
#: Today's defaults, with only the word vectors named.
PACKAGE_ROWS = {
    "package": {"embeddings": "glove-6b-50d"},
    # The lexical layer trained with the network from zero (the default until lexical_fit).
    "package_joint": {"embeddings": "glove-6b-50d", "lexical_fit": "joint"},
    "package_minilm": {"embeddings": "all-MiniLM-L6-v2"},
    # The lexical path over the current and 3 previous talkturns, fitted first in closed
    # form; the network trained on its held-out logits.
    "package_stacked": {"embeddings": "glove-6b-50d", "lexical_fit": "stacked",
                        "lexical_context": 3},
}
ALL_ROWS = [*BASELINES, "defaults", *LEVERS, "glove_file", "recipe", *PACKAGE_ROWS]
QUICK_ROWS = ["tfidf_turn", "tfidf", "defaults", "package"]
METRICS = {"classification": ("accuracy", "balanced accuracy", "weighted F1"),
           "regression": ("MAE",)}


# -- data ----------------------------------------------------------------------------------


def labelled(y):
    return pd.Series(y).notna().to_numpy()


def meld_folds(args):
    """One fold: MELD's official train, dev and test splits."""
    splits = partitions(args.root or MELD_ROOT)
    train = subsample_dialogues(*splits["train"], args.dialogues)
    dev, test = splits["dev"], splits["test"]
    if args.quick:
        dev, test = subsample_dialogues(*dev, 10), subsample_dialogues(*test, 15)
    as_frame = [(X, y.rename("emotion").to_frame()) for X, y in (train, dev, test)]
    return [{"name": "official", "train": as_frame[0], "fit": as_frame[0], "dev": as_frame[1],
             "test": as_frame[2], "dev_inside": False}]


def load_iemocap(root):
    path = Path(root) / "sessions_1_3.csv"
    if not path.is_file():
        raise SystemExit(f"--corpus iemocap reads {path}, which does not exist (--root).")
    frame = pd.read_csv(path).sort_values(["conversation", "turn"], kind="stable")
    X = frame[["conversation", "turn", "speaker", "text", "session"]]
    return X, frame[[column for column, _ in IEMOCAP_TASKS.values()]]


def split_conversations(X, share, seed=0):
    """Boolean rows of ``share`` of the conversations of ``X`` (at least one), one draw."""
    conversations = X["conversation"].unique()
    n = max(1, round(share * len(conversations)))
    held = np.random.default_rng(seed).choice(conversations, size=n, replace=False)
    return X["conversation"].isin(held).to_numpy()


def iemocap_folds(args):
    """The speaker-disjoint rotations of sessions 1-3, each with a dev split inside training."""
    X, Y = load_iemocap(args.root or IEMOCAP_ROOT)
    if args.quick:
        kept = np.concatenate([
            np.random.default_rng(0).choice(X.loc[X["session"] == s, "conversation"].unique(),
                                            size=4, replace=False)
            for s in sorted(X["session"].unique())])
        rows = X["conversation"].isin(kept).to_numpy()
        X, Y = X[rows], Y[rows]
    folds = []
    for train_sessions, test_session in ROTATIONS[:args.rotations]:
        training = X["session"].isin(train_sessions).to_numpy()
        testing = (X["session"] == test_session).to_numpy()
        X_train, Y_train = X[training], Y[training]
        dev = split_conversations(X_train, DEV_SHARE)
        folds.append({"name": f"{'+'.join(train_sessions)} -> {test_session}",
                      "train": (X_train, Y_train), "fit": (X_train[~dev], Y_train[~dev]),
                      "dev": (X_train[dev], Y_train[dev]),
                      "test": (X[testing], Y[testing]), "dev_inside": True})
    return folds


# -- scores --------------------------------------------------------------------------------


def metrics(y_true, y_pred, kind):
    """Scores of the labelled rows (unlabelled talkturns are context only)."""
    rows = labelled(y_true)
    if kind == "regression":
        return {"MAE": float(mean_absolute_error(np.asarray(y_true, dtype=float)[rows],
                                                 np.asarray(y_pred, dtype=float)[rows]))}
    y_true = np.asarray(y_true, dtype=object)[rows].astype(str)
    y_pred = np.asarray(y_pred, dtype=object)[rows].astype(str)
    return {"accuracy": float(accuracy_score(y_true, y_pred)),
            "balanced accuracy": float(balanced_accuracy_score(y_true, y_pred)),
            "weighted F1": float(f1_score(y_true, y_pred, average="weighted"))}


def selection_score(y_true, y_pred, kind):
    """Higher is better: dev weighted F1, or minus the dev MAE."""
    scores = metrics(y_true, y_pred, kind)
    return -scores["MAE"] if kind == "regression" else scores["weighted F1"]


# -- rows ----------------------------------------------------------------------------------


def fit_baseline(previous, kind, column, fold):
    """TF-IDF (+ previous talkturns) and a linear model, C or alpha chosen on dev.

    The features read complete conversations (unlabelled talkturns are
    previous talkturns too); the linear model fits the labelled rows. With
    the dev split inside training, the chosen model is refitted on all of it.
    """
    def fitted(part, value):
        X, Y = part
        features = ContextTfidf(previous)
        matrix = features.fit_transform(X)
        rows = labelled(Y[column])
        model = Ridge(alpha=value) if kind == "regression" \
            else LogisticRegression(C=value, max_iter=3000)
        target = Y[column][rows].to_numpy()
        model.fit(matrix[rows], target.astype(float) if kind == "regression" else target)
        return lambda X_new: model.predict(features.transform(X_new))

    grid = RIDGE_ALPHA_GRID if kind == "regression" else TFIDF_C_GRID
    X_dev, Y_dev = fold["dev"]
    candidates = {value: fitted(fold["fit"], value) for value in grid}
    dev_scores = {value: selection_score(Y_dev[column], predict(X_dev), kind)
                  for value, predict in candidates.items()}
    best = max(dev_scores, key=dev_scores.get)
    predict = fitted(fold["train"], best) if fold["dev_inside"] else candidates[best]
    extra = {"alpha" if kind == "regression" else "C": best,
             "dev score per value": {str(v): round(s, 4) for v, s in dev_scores.items()}}
    return predict, extra


def network_settings(changes, kind, args):
    settings = {**OLD_DEFAULTS, **changes}
    if kind == "regression":
        settings.pop("class_weight")
    if args.epochs is not None:
        settings["max_epochs"] = args.epochs
    return settings


def package_settings(changes, args):
    """The package's defaults of today: only the word vectors (and ``changes``) are asked for."""
    settings = dict(changes)
    if args.epochs is not None:
        settings["max_epochs"] = args.epochs
    return settings


def fit_network(settings, kind, column, fold, seed, args):
    params = dict(settings)
    early = params.pop("early_stopping", False)
    X, Y = fold["train"]
    if early:
        X, Y = fold["fit"]
        scorer = "neg_mean_absolute_error" if kind == "regression" else "f1_weighted"
        params["train_split"] = FrameValidSplit(fold["dev"][0], fold["dev"][1][column])
        params["callbacks"] = [
            EpochScoring(scorer, lower_is_better=False, name="valid_score"),
            EarlyStopping(monitor="valid_score", lower_is_better=False, load_best=True,
                          patience=args.patience)]
    estimator = HanRockRegressor if kind == "regression" else HanRockClassifier
    model = estimator(**params, random_state=seed, verbose=args.verbose)
    model.fit(X, Y[column])
    extra = {"epochs run": len(model.history),
             "train loss": [round(float(v), 4) for v in model.history[:, "train_loss"]]}
    if early:
        scores = model.history[:, "valid_score"]
        extra["best epoch"] = int(np.argmax(scores)) + 1
        extra["valid score per epoch"] = [round(float(v), 4) for v in scores]
    return model.predict, extra


def describe(name, settings):
    if name in BASELINES:
        return (f"TF-IDF 1-2 grams (min_df=2, sublinear tf) of the current + {BASELINES[name]} "
                "previous talkturns, logistic regression (ridge for a rating), C (alpha) "
                "chosen on dev")
    if name == "defaults":
        return "embeddings='glove-6b-50d', old defaults"
    if name in PACKAGE_ROWS:
        given = ", ".join(f"{key}={value!r}" for key, value in PACKAGE_ROWS[name].items())
        return f"{given}, the package's defaults now (all else unset)"
    changed = {k: v for k, v in settings.items()
               if k == "early_stopping" or OLD_DEFAULTS.get(k) != v}
    parts = []
    for key, value in changed.items():
        if key == "early_stopping":
            parts.append("FrameValidSplit(dev) + EpochScoring(dev weighted F1 or -MAE) + "
                         "EarlyStopping(load_best=True)")
        elif key == "lr":
            parts.append(f"lr=2^{np.log2(value):g}")
        else:
            parts.append(f"{key}={value!r}")
    return ", ".join(parts) or "(same as defaults)"


def choose_recipe(results, args):
    """The lever rows whose dev weighted F1 (first seed) beat the defaults' by min_gain."""
    seed = str(args.seeds[0])
    if seed not in results.get("defaults", {}):
        raise SystemExit("--recipe auto needs the 'defaults' row in the run.")
    reference = results["defaults"][seed]["dev"]["weighted F1"]
    chosen = [name for name in LEVERS if seed in results.get(name, {})
              and results[name][seed]["dev"]["weighted F1"] - reference >= args.min_gain]
    # Two learning rates cannot both be used: keep the better one on dev.
    rates = [name for name in chosen if "lr" in LEVERS[name]]
    if len(rates) > 1:
        best = max(rates, key=lambda name: results[name][seed]["dev"]["weighted F1"])
        chosen = [name for name in chosen if name not in rates or name == best]
    return chosen


def row_settings(name, kind, results, args):
    """The settings of a row, or None (with the reason printed) when it does not apply."""
    if name in BASELINES:
        return {"previous talkturns": BASELINES[name]}
    if name == "defaults":
        return network_settings({}, kind, args)
    if name in PACKAGE_ROWS:
        return package_settings(PACKAGE_ROWS[name], args)
    if name == "glove_file":
        if args.glove_file is None:
            print(f"  {name:<14} not run: needs --glove-file (e.g. glove.6B.300d.txt)")
            return None
        return network_settings({"embeddings": args.glove_file}, kind, args)
    if name == "recipe":
        levers = choose_recipe(results, args) if args.recipe == "auto" \
            else args.recipe.split(",")
        print(f"  recipe: levers {levers or '(none)'}", flush=True)
        settings = network_settings(
            {k: v for lever in levers for k, v in LEVERS[lever].items()}, kind, args)
        if args.recipe_epochs is not None:
            settings["max_epochs"] = args.recipe_epochs
        return settings
    if kind == "regression" and name in CLASSIFICATION_ONLY:
        return None
    return network_settings(LEVERS[name], kind, args)


# -- tables --------------------------------------------------------------------------------


def spread(values):
    values = np.asarray(values, dtype=float)
    if len(values) == 1:
        return f"{values[0]:.3f}"
    return f"{values.mean():.3f} ({values.min():.3f}-{values.max():.3f})"


def fold_table(results, kind, split):
    lines = {}
    for name, by_seed in results.items():
        runs = [run for run in by_seed.values() if split in run]
        if runs:
            lines[name] = {m: spread([run[split][m] for run in runs]) for m in METRICS[kind]}
            lines[name]["wall s"] = f"{np.mean([run['seconds'] for run in runs]):.0f}"
            lines[name]["seeds"] = len(runs)
    return pd.DataFrame(lines).T.to_string()


def overall_table(per_fold, kind):
    """Per row: mean over rotations of the seed means, and the min-max of every fit."""
    lines = {}
    names = dict.fromkeys(name for results in per_fold.values() for name in results)
    for name in names:
        folds = [results[name] for results in per_fold.values() if name in results]
        cells = {}
        for metric in METRICS[kind]:
            means = [np.mean([run["test"][metric] for run in by_seed.values()])
                     for by_seed in folds]
            every = [run["test"][metric] for by_seed in folds for run in by_seed.values()]
            cells[metric] = f"{np.mean(means):.3f} ({min(every):.3f}-{max(every):.3f})"
        cells["rotations"] = len(folds)
        lines[name] = cells
    return pd.DataFrame(lines).T.to_string()


def bootstrap_rows(results, y_test, groups, args):
    seed = str(args.seeds[0])
    rows = labelled(y_test)
    y_true = np.asarray(y_test, dtype=object)[rows].astype(str)
    lines = []
    for challenger in PACKAGE_ROWS:
        for baseline in ("tfidf", "defaults"):
            if seed not in results.get(challenger, {}) or seed not in results.get(baseline, {}):
                continue
            for label, metric in (("weighted F1", "weighted_f1"), ("accuracy", "accuracy"),
                                  ("balanced accuracy", "balanced_accuracy")):
                predictions = [np.asarray(results[name][seed]["test predictions"],
                                          dtype=object)[rows].astype(str)
                               for name in (baseline, challenger)]
                result = bootstrap_compare(y_true, *predictions, metric=metric,
                                           n_resamples=args.resamples, groups=groups[rows],
                                           random_state=0)
                lines.append({"comparison": f"{challenger} - {baseline}", "metric": label,
                              "difference": f"{result.difference:+.3f}",
                              "95% interval": f"[{result.low:+.3f}, {result.high:+.3f}]",
                              "significant": "yes" if result.significant else "no"})
    return pd.DataFrame(lines)


# -- the run -------------------------------------------------------------------------------


def data_key(folds, args):
    return {"corpus": args.corpus, "quick": args.quick, "dialogues": args.dialogues,
            "folds": {f["name"]: [len(f["train"][0]), len(f["fit"][0]), len(f["dev"][0]),
                                  len(f["test"][0])] for f in folds}}


def save(path, stored, key):
    with open(path, "w") as handle:
        json.dump({"data": key, "fits": stored}, handle, indent=1, default=str)


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--corpus", choices=["meld", "iemocap"], default="meld")
    parser.add_argument("--root", default=None,
                        help=f"the corpus folder (default {MELD_ROOT} or {IEMOCAP_ROOT})")
    parser.add_argument("--tasks", default=None,
                        help="comma-separated tasks (IEMOCAP: " + ",".join(IEMOCAP_TASKS)
                             + "; default all)")
    parser.add_argument("--rotations", type=int, default=len(ROTATIONS),
                        help="IEMOCAP: the first N rotations (1: sessions 1-2 -> 3 only)")
    parser.add_argument("--rows", default=None,
                        help="comma-separated subset of " + ",".join(ALL_ROWS))
    parser.add_argument("--seeds", type=int, nargs="+", default=[0],
                        help="random_state of every network row (e.g. --seeds 0 1 2)")
    parser.add_argument("--recipe", default="auto",
                        help="'auto' (levers that helped on dev in this run) or a comma-"
                             "separated list of lever rows to combine")
    parser.add_argument("--min-gain", type=float, default=0.005,
                        help="dev weighted F1 gain over the defaults for --recipe auto")
    parser.add_argument("--recipe-epochs", type=int, default=None,
                        help="max_epochs of the recipe row (default: from its levers)")
    parser.add_argument("--dialogues", type=int, default=None,
                        help="MELD: training dialogues drawn at random (default: all)")
    parser.add_argument("--epochs", type=int, default=None,
                        help="override max_epochs of every network row")
    parser.add_argument("--patience", type=int, default=5,
                        help="EarlyStopping patience (skorch's default 5)")
    parser.add_argument("--glove-file", default=None,
                        help="a GloVe text file (e.g. glove.6B.300d.txt) for the glove_file "
                             "row, in place of the packaged 50-d vectors")
    parser.add_argument("--resamples", type=int, default=1000)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--verbose", type=int, default=0)
    parser.add_argument("--out", default=None, help="write the fits as JSON here")
    parser.add_argument("--resume", action="store_true",
                        help="reuse the fits of --out made with the same settings and data")
    parser.add_argument("--quick", action="store_true",
                        help="smoke run: a few conversations, 1 epoch, 4 rows")
    args = parser.parse_args()
    tasks = IEMOCAP_TASKS if args.corpus == "iemocap" else MELD_TASKS
    args.tasks = list(tasks) if args.tasks is None else args.tasks.split(",")
    if set(args.tasks) - set(tasks):
        parser.error(f"--tasks must be among {list(tasks)} for {args.corpus}, got {args.tasks}.")
    args.task_specs = {name: tasks[name] for name in args.tasks}
    every_row = [name for name in ALL_ROWS if args.corpus == "meld" or name != "recipe"]
    rows = (QUICK_ROWS if args.quick else every_row) if args.rows is None \
        else args.rows.split(",")
    if set(rows) - set(ALL_ROWS):
        parser.error(f"--rows must be among {ALL_ROWS}, got {rows}.")
    if args.corpus == "iemocap" and "recipe" in rows:
        parser.error("the recipe row is chosen on dev scores, which IEMOCAP's rows (trained "
                     "on the dev conversations too) do not have; it is MELD's only.")
    args.rows = [name for name in ALL_ROWS if name in rows]
    if args.recipe != "auto" and set(args.recipe.split(",")) - set(LEVERS):
        parser.error(f"--recipe must be 'auto' or among {list(LEVERS)}, got {args.recipe}.")
    if not 1 <= args.rotations <= len(ROTATIONS):
        parser.error(f"--rotations must be 1 to {len(ROTATIONS)}, got {args.rotations}.")
    if args.quick:
        args.epochs = 1
        args.rotations = 1
        args.dialogues = args.dialogues or 30
    if args.resume and not args.out:
        parser.error("--resume needs --out.")
    return args


def run_fit(name, settings, kind, column, fold, seed, args):
    """Fit one row once; its dev (MELD) and test scores and test predictions."""
    start = time.perf_counter()
    predict, extra = fit_baseline(settings["previous talkturns"], kind, column, fold) \
        if name in BASELINES else fit_network(settings, kind, column, fold, seed, args)
    X_test, Y_test = fold["test"]
    test_pred = predict(X_test)
    run = {"test": metrics(Y_test[column], test_pred, kind), **extra,
           "test predictions": [str(v) for v in test_pred]}
    if not fold["dev_inside"]:
        run["dev"] = metrics(fold["dev"][1][column], predict(fold["dev"][0]), kind)
    run["seconds"] = time.perf_counter() - start
    return run


def report_fit(name, seed, run, kind):
    scores = ", ".join(f"{m} {run['test'][m]:.3f}" for m in METRICS[kind])
    dev = f"dev {selection_metric(kind)} {run['dev'][selection_metric(kind)]:.3f}, " \
        if "dev" in run else ""
    print(f"  {name:<14} seed {seed}: {dev}test {scores}, {run['seconds']:.0f} s"
          + (f", {run['epochs run']} epochs" if "epochs run" in run else "")
          + (f", best epoch {run['best epoch']}" if "best epoch" in run else ""), flush=True)


def selection_metric(kind):
    return "MAE" if kind == "regression" else "weighted F1"


def run_task(task, fold, args, stored, key):
    """Every row and seed of one task on one fold: {row: {seed: run}}."""
    column, kind = args.task_specs[task]
    results = {}
    for name in args.rows:
        settings = row_settings(name, kind, results, args)
        if settings is None:
            continue
        as_stored = json.loads(json.dumps(settings, default=str))
        seeds = args.seeds[:1] if name in BASELINES else args.seeds
        for seed in seeds:
            fit_key = f"{task}|{fold['name']}|{name}|{seed}"
            if fit_key in stored and stored[fit_key]["settings"] == as_stored:
                results.setdefault(name, {})[str(seed)] = stored[fit_key]["run"]
                print(f"  {name:<14} seed {seed}: read back from {args.out}", flush=True)
                continue
            try:
                run = run_fit(name, settings, kind, column, fold, seed, args)
            except Exception as error:  # a diverged fit is a result too; report and go on
                print(f"  {name:<14} seed {seed}: FAILED: {type(error).__name__}: {error}",
                      flush=True)
                continue
            run["description"] = describe(name, settings)
            results.setdefault(name, {})[str(seed)] = run
            report_fit(name, seed, run, kind)
            if args.out:
                stored[fit_key] = {"settings": as_stored, "run": run}
                save(args.out, stored, key)
    return results


def main():
    args = parse_args()
    os.environ.setdefault("OMP_NUM_THREADS", str(args.threads))
    torch.set_num_threads(args.threads)
    folds = meld_folds(args) if args.corpus == "meld" else iemocap_folds(args)
    key = data_key(folds, args)
    stored = {}
    if args.resume and os.path.exists(args.out):
        with open(args.out) as handle:
            previous = json.load(handle)
        if previous["data"] == json.loads(json.dumps(key)):
            stored = previous["fits"]
    for fold in folds:
        print(f"{args.corpus.upper()} {fold['name']}: "
              + ", ".join(f"{len(fold[part][0])} {part} talkturns "
                          f"({fold[part][0]['conversation'].nunique()} conversations)"
                          for part in ("train", "dev", "test"))
              + f"; seeds {args.seeds}; {args.threads} torch thread(s)", flush=True)
    for task, (column, kind) in args.task_specs.items():
        per_fold = {}
        for fold in folds:
            print(f"\n== {task} ({column}), {fold['name']} ==", flush=True)
            per_fold[fold["name"]] = run_task(task, fold, args, stored, key)
        print_task(task, kind, per_fold, folds, args)


def print_task(task, kind, per_fold, folds, args):
    first = per_fold[folds[0]["name"]]
    print(f"\nSettings of each row of {task}:")
    for name, by_seed in first.items():
        print(f"  {name:<14} {next(iter(by_seed.values()))['description']}")
    print("  defaults =", ", ".join(f"{k}={v!r}" if k != "lr" else f"lr=2^{np.log2(v):g}"
                                     for k, v in OLD_DEFAULTS.items()))
    for fold in folds:
        results = per_fold[fold["name"]]
        if not fold["dev_inside"]:
            print(f"\n{args.corpus.upper()} {task}, dev (mean over seeds, min-max; rows that "
                  "stop early on dev are optimistic here):")
            print(fold_table(results, kind, "dev"))
        print(f"\n{args.corpus.upper()} {task}, test, {fold['name']} (mean over seeds, "
              "min-max):")
        print(fold_table(results, kind, "test"))
    if len(folds) > 1:
        print(f"\n{args.corpus.upper()} {task}, every rotation (mean of the rotations' seed "
              "means; min-max over every rotation and seed):")
        print(overall_table(per_fold, kind))
    if kind == "classification":
        X_test, Y_test = folds[0]["test"]
        column = args.task_specs[task][0]
        comparisons = bootstrap_rows(first, Y_test[column].to_numpy(),
                                     X_test["conversation"].to_numpy(), args)
        if len(comparisons):
            print(f"\nPaired bootstrap over test conversations ({folds[0]['name']}, seed "
                  f"{args.seeds[0]}, {args.resamples} resamples, 95% interval; significant = "
                  "excludes 0):")
            print(comparisons.to_string(index=False))


if __name__ == "__main__":
    main()
