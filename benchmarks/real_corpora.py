"""MELD: the package's old defaults, each training lever on its own, a new recipe and TF-IDF.

Issue 14 (part 1, measurement). One run fits, on MELD's official train split,
and scores on its dev and test splits:

- ``tfidf``: TF-IDF (1-2 grams) + logistic regression on the current and the
  three previous talkturns, C chosen on dev (``benchmarks/meld.py``'s
  ``ContextTfidf``);
- ``defaults``: ``HanRockClassifier(embeddings="glove-6b-50d")`` with the
  package's old defaults (pinned here in ``OLD_DEFAULTS``, so that the row
  keeps meaning "the old defaults" when the package's defaults change);
- one row per lever, each changing one thing from the old defaults (an
  ablation): class weights, dev early stopping with the best epoch restored,
  frozen embeddings, context size, primary units, dropout, learning rate,
  epochs, the lexical path (TF-IDF bags through a linear head, alone and
  with the three previous talkturns);
- ``recipe``: the levers that helped, combined. ``--recipe auto`` combines
  the levers whose *dev* weighted F1 beat the old defaults' dev weighted F1 by
  at least ``--min-gain`` in the same run (the test split plays no part in
  the choice); ``--recipe a,b,c`` names the lever rows to combine;
- ``package``: ``HanRockClassifier(embeddings="glove-6b-50d")`` with the
  package's defaults as they are now (the recipe that became the defaults).

The dev numbers are those the recipe is chosen from. For rows that stop early
on dev (``early_stop`` and any recipe that includes it) the dev numbers are
optimistic: dev also chose their epoch. The test split is only reported.
Every network row uses ``random_state=--seed``. Wall time is the fit plus the
dev and test predictions (one process, ``--threads`` torch threads).

Against the recipe and the package row, a paired bootstrap over test dialogues
(:func:`skhanrock.metrics.bootstrap_compare` with ``groups`` = dialogue)
gives the 95% interval of their difference from ``tfidf`` and ``defaults`` for
weighted F1, accuracy and balanced accuracy.

Run from the repository root (every row: about 75-90 minutes with one torch
thread on a shared 2-core machine, 4-12 minutes per network row)::

    OMP_NUM_THREADS=1 python benchmarks/real_corpora.py [--root ../shared/data/meld]
        [--rows tfidf,defaults,balanced,...] [--recipe auto] [--recipe-epochs 20]
        [--dialogues N] [--glove-file glove.6B.300d.txt] [--out results.json] [--resume]
        [--quick]

The issue-14 measurement ran every row with ``--recipe auto --recipe-epochs
20`` (early stopping guards the longer budget), but ``glove_file``: that row
reads a GloVe text file of the user's (``--glove-file glove.6B.300d.txt``; no
such file ships), and says so when none is given.

``--quick`` is a smoke run (a few dialogues of each split, 1 epoch).
``--out`` writes every finished row (settings, scores, test predictions) as
JSON after each row; with ``--resume`` the rows already there, with the same
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
from sklearn.metrics import accuracy_score, balanced_accuracy_score, f1_score
from skorch.callbacks import EarlyStopping, EpochScoring

sys.path.insert(0, str(Path(__file__).resolve().parent))
from meld import DEFAULT_ROOT, PREVIOUS_TURNS, fit_tfidf, partitions  # noqa: E402
from meld_h1 import subsample_dialogues  # noqa: E402

from skhanrock import HanRockClassifier  # noqa: E402
from skhanrock.metrics import bootstrap_compare  # noqa: E402
from skhanrock.nn import FrameValidSplit  # noqa: E402

#: The package's defaults before issue 14, written out (plus the shipped GloVe).
OLD_DEFAULTS = {
    "embeddings": "glove-6b-50d", "architecture": "rock", "primary_units": 256,
    "aux_units": None, "context_size": 18, "freeze_embeddings": False, "max_words": 64,
    "min_word_count": 1, "gru_dropout": 0.1, "recurrent_dropout": 0.1, "loss_weights": None,
    "label_offsets": "auto", "chunk_size": 64, "lr": 2 ** -8, "max_epochs": 10,
    "batch_size": 64, "class_weight": None, "lexical_ngrams": None,
}

#: Lever rows: what each changes from OLD_DEFAULTS. ``early_stopping`` is not a
#: parameter: it adds FrameValidSplit(dev), EpochScoring valid_f1 and EarlyStopping.
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
}
#: Rows that need a file of the user's: GloVe 300-d (or any GloVe text file) from --glove-file.
FILE_ROWS = ["glove_file"]
ALL_ROWS = ["tfidf", "defaults", *LEVERS, *FILE_ROWS, "recipe", "package"]
#: Rows the bootstrap compares with each baseline: the recipe chosen in the run, and the
#: package's defaults as they are now (``HanRockClassifier(embeddings="glove-6b-50d")``).
CHALLENGERS = ("recipe", "package")
METRIC_NAMES = {"weighted F1": "weighted_f1", "accuracy": "accuracy",
                "balanced accuracy": "balanced_accuracy"}


def metrics(y_true, y_pred):
    y_true, y_pred = np.asarray(y_true, dtype=object), np.asarray(y_pred, dtype=object)
    return {"weighted F1": float(f1_score(y_true, y_pred, average="weighted")),
            "accuracy": float(accuracy_score(y_true, y_pred)),
            "balanced accuracy": float(balanced_accuracy_score(y_true, y_pred))}


def combine(names):
    """The settings of several lever rows at once (later ones win on a clash)."""
    settings = {}
    for name in names:
        settings.update(LEVERS[name])
    return settings


def package_settings(args):
    """The package's defaults of today: only the shipped GloVe vectors are asked for."""
    settings = {"embeddings": "glove-6b-50d"}
    if args.epochs is not None:
        settings["max_epochs"] = args.epochs
    return settings


def network_settings(changes, args):
    settings = {**OLD_DEFAULTS, **changes}
    if args.epochs is not None:
        settings["max_epochs"] = args.epochs
    return settings


def fit_network(settings, data, args):
    (X_train, y_train), (X_dev, y_dev), (X_test, y_test) = data
    params = dict(settings)
    early = params.pop("early_stopping", False)
    if early:
        params["train_split"] = FrameValidSplit(X_dev, y_dev)
        params["callbacks"] = [
            EpochScoring("f1_weighted", lower_is_better=False, name="valid_f1"),
            EarlyStopping(monitor="valid_f1", lower_is_better=False, load_best=True,
                          patience=args.patience)]
    model = HanRockClassifier(**params, random_state=args.seed, verbose=args.verbose)
    model.fit(X_train, y_train)
    extra = {"epochs run": len(model.history),
             "train loss": [round(float(v), 4) for v in model.history[:, "train_loss"]]}
    if early:
        f1 = model.history[:, "valid_f1"]
        extra["best epoch"] = int(np.argmax(f1)) + 1
        extra["valid_f1 per epoch"] = [round(float(v), 4) for v in f1]
    return model.predict(X_dev), model.predict(X_test), extra


def fit_baseline(data):
    train_part, (X_dev, _), (X_test, _) = data
    features, best, dev_f1 = fit_tfidf(train_part, data[1])
    extra = {"C": best.C, "dev weighted F1 per C": {str(c): round(v, 4)
                                                     for c, v in dev_f1.items()}}
    return best.predict(features.transform(X_dev)), best.predict(features.transform(X_test)), \
        extra


def describe(name, settings):
    if name == "tfidf":
        return (f"TF-IDF 1-2 grams (min_df=2, sublinear tf) of the current + {PREVIOUS_TURNS} "
                "previous talkturns, logistic regression, C chosen on dev")
    if name == "defaults":
        return "HanRockClassifier(embeddings='glove-6b-50d'), old defaults"
    if name == "package":
        return ("HanRockClassifier(embeddings='glove-6b-50d'), the package's defaults now "
                "(everything else unset)")
    changed = {k: v for k, v in settings.items()
               if k == "early_stopping" or OLD_DEFAULTS.get(k) != v}
    parts = []
    for key, value in changed.items():
        if key == "early_stopping":
            parts.append("FrameValidSplit(dev) + EpochScoring('f1_weighted', name='valid_f1') + "
                         "EarlyStopping(monitor='valid_f1', lower_is_better=False, "
                         "load_best=True)")
        elif key == "lr":
            parts.append(f"lr=2^{np.log2(value):g}")
        else:
            parts.append(f"{key}={value!r}")
    return ", ".join(parts) or "(same as defaults)"


def choose_recipe(results, args):
    """The lever rows of this run whose dev weighted F1 beat the defaults' by min_gain."""
    if "defaults" not in results:
        raise SystemExit("--recipe auto needs the 'defaults' row in the run.")
    reference = results["defaults"]["dev"]["weighted F1"]
    chosen = [name for name in LEVERS if name in results
              and results[name]["dev"]["weighted F1"] - reference >= args.min_gain]
    # Two learning rates cannot both be used: keep the better one on dev.
    rates = [name for name in chosen if "lr" in LEVERS[name]]
    if len(rates) > 1:
        best = max(rates, key=lambda name: results[name]["dev"]["weighted F1"])
        chosen = [name for name in chosen if name not in rates or name == best]
    return chosen


def table(results, split):
    frame = pd.DataFrame({name: {**r[split], "wall s": r["seconds"]}
                          for name, r in results.items()}).T
    return frame.to_string(float_format=lambda v: f"{v:.3f}")


def bootstrap_rows(results, y_test, groups, args):
    lines = []
    pairs = [(challenger, baseline) for challenger in CHALLENGERS
             for baseline in ("tfidf", "defaults")
             if challenger in results and baseline in results]
    for challenger, baseline in pairs:
        for label, metric in METRIC_NAMES.items():
            result = bootstrap_compare(
                y_test, np.asarray(results[baseline]["test predictions"], dtype=object),
                np.asarray(results[challenger]["test predictions"], dtype=object),
                metric=metric, n_resamples=args.resamples, groups=groups, random_state=0)
            lines.append({"comparison": f"{challenger} - {baseline}", "metric": label,
                          "difference": f"{result.difference:+.3f}",
                          "95% interval": f"[{result.low:+.3f}, {result.high:+.3f}]",
                          "significant": "yes" if result.significant else "no"})
    return pd.DataFrame(lines)


def data_key(data, args):
    return {"train talkturns": len(data[0][0]), "dev talkturns": len(data[1][0]),
            "test talkturns": len(data[2][0]), "seed": args.seed, "quick": args.quick,
            "dialogues": args.dialogues}


def save(path, results, key):
    with open(path, "w") as handle:
        json.dump({"data": key, "rows": results}, handle, indent=1, default=str)


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--root", default=str(DEFAULT_ROOT))
    parser.add_argument("--rows", default=",".join(ALL_ROWS),
                        help="comma-separated subset of " + ",".join(ALL_ROWS))
    parser.add_argument("--recipe", default="auto",
                        help="'auto' (levers that helped on dev in this run) or a comma-"
                             "separated list of lever rows to combine")
    parser.add_argument("--min-gain", type=float, default=0.005,
                        help="dev weighted F1 gain over the defaults for --recipe auto")
    parser.add_argument("--recipe-epochs", type=int, default=None,
                        help="max_epochs of the recipe row (default: from its levers)")
    parser.add_argument("--dialogues", type=int, default=None,
                        help="training dialogues drawn at random (default: all)")
    parser.add_argument("--epochs", type=int, default=None,
                        help="override max_epochs of every network row")
    parser.add_argument("--patience", type=int, default=5,
                        help="EarlyStopping patience (skorch's default 5)")
    parser.add_argument("--glove-file", default=None,
                        help="a GloVe text file (e.g. glove.6B.300d.txt) for the glove_file "
                             "row, in place of the packaged 50-d vectors")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--resamples", type=int, default=1000)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--verbose", type=int, default=0)
    parser.add_argument("--out", default=None, help="write the rows as JSON here")
    parser.add_argument("--resume", action="store_true",
                        help="reuse the rows of --out fitted with the same settings and data")
    parser.add_argument("--quick", action="store_true",
                        help="smoke run: 30 train, 10 dev, 15 test dialogues, 1 epoch")
    args = parser.parse_args()
    rows = args.rows.split(",")
    if set(rows) - set(ALL_ROWS):
        parser.error(f"--rows must be among {ALL_ROWS}, got {rows}.")
    args.rows = [name for name in ALL_ROWS if name in rows]
    if args.recipe != "auto" and set(args.recipe.split(",")) - set(LEVERS):
        parser.error(f"--recipe must be 'auto' or among {list(LEVERS)}, got {args.recipe}.")
    if args.quick:
        args.epochs = 1
        args.dialogues = args.dialogues or 30
    if args.resume and not args.out:
        parser.error("--resume needs --out.")
    return args


def main():
    args = parse_args()
    os.environ.setdefault("OMP_NUM_THREADS", str(args.threads))
    torch.set_num_threads(args.threads)
    splits = partitions(args.root)
    train = subsample_dialogues(*splits["train"], args.dialogues)
    dev, test = splits["dev"], splits["test"]
    if args.quick:
        dev, test = subsample_dialogues(*dev, 10), subsample_dialogues(*test, 15)
    data = [train, dev, test]
    key = data_key(data, args)
    X_test, y_test = test
    print(f"MELD: {len(train[0])} train talkturns ({train[0]['conversation'].nunique()} "
          f"dialogues), {len(dev[0])} dev ({dev[0]['conversation'].nunique()}), "
          f"{len(X_test)} test ({X_test['conversation'].nunique()}); 7 emotions; seed "
          f"{args.seed}; {args.threads} torch thread(s); rows {args.rows}", flush=True)

    previous = {}
    if args.resume and os.path.exists(args.out):
        with open(args.out) as handle:
            stored = json.load(handle)
        if stored["data"] == json.loads(json.dumps(key)):
            previous = stored["rows"]
    results = {}
    for name in args.rows:
        if name == "tfidf":
            settings = {}
        elif name == "defaults":
            settings = network_settings({}, args)
        elif name == "package":
            settings = package_settings(args)
        elif name == "recipe":
            levers = choose_recipe(results, args) if args.recipe == "auto" \
                else args.recipe.split(",")
            settings = network_settings(combine(levers), args)
            if args.recipe_epochs is not None:
                settings["max_epochs"] = args.recipe_epochs
            print(f"recipe: levers {levers or '(none)'}", flush=True)
        elif name == "glove_file":
            if args.glove_file is None:
                print(f"  {name:<11} not run: needs --glove-file (e.g. glove.6B.300d.txt)",
                      flush=True)
                continue
            settings = network_settings({"embeddings": args.glove_file}, args)
        else:
            settings = network_settings(LEVERS[name], args)
        stored_settings = json.loads(json.dumps(settings, default=str))
        if name in previous and previous[name]["settings"] == stored_settings:
            results[name] = previous[name]
            print(f"  {name:<11} read back from {args.out}", flush=True)
            continue
        start = time.perf_counter()
        try:
            dev_pred, test_pred, extra = fit_baseline(data) if name == "tfidf" \
                else fit_network(settings, data, args)
        except Exception as error:  # a diverged fit is a result too; report and go on
            print(f"  {name:<11} FAILED: {type(error).__name__}: {error}", flush=True)
            continue
        seconds = time.perf_counter() - start
        results[name] = {"settings": stored_settings, "description": describe(name, settings),
                         "dev": metrics(dev[1], dev_pred), "test": metrics(y_test, test_pred),
                         "seconds": seconds, **extra,
                         "test predictions": [str(v) for v in test_pred]}
        if name == "recipe":
            results[name]["levers"] = levers
        r = results[name]
        print(f"  {name:<11} dev wF1 {r['dev']['weighted F1']:.3f} "
              f"(bal {r['dev']['balanced accuracy']:.3f}), test wF1 "
              f"{r['test']['weighted F1']:.3f} (acc {r['test']['accuracy']:.3f}, bal "
              f"{r['test']['balanced accuracy']:.3f}), {seconds:.0f} s"
              + (f", {extra['epochs run']} epochs" if "epochs run" in extra else "")
              + (f", best epoch {extra['best epoch']}" if "best epoch" in extra else ""),
              flush=True)
        if args.out:
            save(args.out, {**previous, **results}, key)

    print("\nSettings of each row (network rows: everything else as in `defaults`, "
          f"random_state={args.seed}):")
    for name, r in results.items():
        print(f"  {name:<11} {r['description']}")
    print("  defaults =", ", ".join(f"{k}={v!r}" if k != "lr" else f"lr=2^{np.log2(v):g}"
                                     for k, v in OLD_DEFAULTS.items()))
    print("\nMELD dev set (the recipe is chosen from these; rows that stop early on dev "
          "are optimistic here):")
    print(table(results, "dev"))
    print("\nMELD test set:")
    print(table(results, "test"))
    comparisons = bootstrap_rows(results, np.asarray(y_test, dtype=object),
                                 X_test["conversation"].to_numpy(), args)
    if len(comparisons):
        print(f"\nPaired bootstrap over test dialogues ({args.resamples} resamples, "
              "95% interval; significant = excludes 0):")
        print(comparisons.to_string(index=False))
    if "recipe" in results:
        recipe = results["recipe"]["test"]
        print(f"\nGoal 1, test weighted F1 >= 0.59: {recipe['weighted F1']:.3f} "
              f"({recipe['weighted F1'] - 0.59:+.3f})")
        if "tfidf" in results:
            target = results["tfidf"]["test"]["balanced accuracy"] + 0.05
            print(f"Goal 2, test balanced accuracy >= TF-IDF's + 0.05 = {target:.3f}: "
                  f"{recipe['balanced accuracy']:.3f} ({recipe['balanced accuracy'] - target:+.3f})")


if __name__ == "__main__":
    main()
