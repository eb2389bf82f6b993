"""H1 on MELD: do timing and history/future auxiliary targets help the emotion classifier?

The paper's first hypothesis (H1) is that preprocessing data reused as
auxiliary targets makes a better primary model. MELD has no facial or vocal
features here, but its talkturns carry real start/end times and its
neighbouring labels give history/future targets. Four arms, sharing the data,
the network settings and the seeds:

- ``none``: the primary task alone;
- ``hf``: past and future labels (``AuxiliaryTargets(families="hf")``);
- ``t``: timing targets (duration, speech rate, pause, overlap; family ``t``);
- ``thf``: timing and past/future labels;
- ``thf+mi`` and ``thf+proxy``: the ``thf`` tasks through
  ``AuxiliaryTaskSelector`` (``method="mutual_info"``, the cheap filter with
  its default threshold, or ``method="proxy"``, greedy forward selection over
  the families with small proxy networks on held-out training dialogues),
  fitted on the training rows; the run prints the tasks each kept.

Each auxiliary arm is ``AuxiliaryTargets`` + ``MutualInfoLossWeights`` fitted
on the training rows, then ``HanRockClassifier`` (on the text, as in
``benchmarks/meld.py``: MELD has no features for ``MonahTranscriber``'s cues).
The two transformers are fitted before the network rather than inside one
``Pipeline`` because early stopping validates on the dev frame, which needs
the same auxiliary columns (``FrameValidSplit`` sees the frame as given).
Early stopping monitors the dev weighted F1 of the primary task, not the
validation loss, so that every arm stops by the same criterion (the loss of
an auxiliary arm includes its auxiliary terms).

The auxiliary arms train a wider network than ``none``, which is why an
epoch of ``hf`` took 4x one of ``none`` (13 s against 3.3 s): the ROCK
network gives its auxiliary branch ``aux_units`` units, by default
``257 - primary_units`` (129 here), and drops that branch when there is no
auxiliary task, so ``none`` runs 128 GRU units per direction and the others
257, plus the auxiliary talkturn reader and the task fusion. The pipeline
steps themselves are a few percent of a fit (``benchmarks/pipeline_overhead.py``).
``--aux-units 1`` keeps the auxiliary arms at nearly ``none``'s width.

The script prints each arm's test weighted F1 over the seeds (mean and
standard deviation) and, against ``none``, the paired conversation-level
bootstrap interval of the difference, with the test predictions of every seed
pooled (a resample draws test dialogues; a drawn dialogue brings its rows from
every seed), plus the per-seed differences. ``--out`` writes it all as JSON.

Run from the repository root::

    python benchmarks/meld_h1.py [--root ../shared/data/meld] [--seeds 5] [--epochs 12]
        [--dialogues 400] [--arms none,hf,t,thf,thf+mi,thf+proxy] [--aux-units 1]
        [--out meld_h1.json]
"""

import argparse
import json
import time

import numpy as np
import pandas as pd
import torch

# The script's own folder is on sys.path when it runs: reuse MELD's loading code.
from meld import DEFAULT_ROOT, partitions
from sklearn.metrics import f1_score
from sklearn.pipeline import Pipeline
from skorch.callbacks import EarlyStopping, EpochScoring

from skhanrock import AuxiliaryTargets, HanRockClassifier, MutualInfoLossWeights
from skhanrock.metrics import bootstrap_compare
from skhanrock.nn import FrameValidSplit
from skhanrock.preprocessing import AuxiliaryTaskSelector

#: Arm name to auxiliary target families ("" for the primary task alone).
ARMS = {"none": "", "hf": "hf", "t": "t", "thf": "thf", "thf+mi": "thf", "thf+proxy": "thf"}
#: Arms whose tasks go through the auxiliary-task selector, with its method.
SELECTED = {"thf+mi": "mutual_info", "thf+proxy": "proxy"}


def subsample_dialogues(X, y, n_dialogues, seed=0):
    """The rows of ``n_dialogues`` training dialogues drawn at random (all when None).

    One draw (``seed``) for every arm and every network seed, so that the arms
    and the seeds see the same training data.
    """
    dialogues = X["conversation"].unique()
    if n_dialogues is None or n_dialogues >= len(dialogues):
        return X, y
    kept = np.random.default_rng(seed).choice(dialogues, size=n_dialogues, replace=False)
    rows = X["conversation"].isin(kept).to_numpy()
    return X[rows], y[rows]


def network(args, seed, dev, aux):
    """The estimator every arm shares; ``aux`` says whether it reads the pipeline's tasks."""
    handed_on = ({"loss_weights": "pipeline", "label_offsets": "pipeline"} if aux
                 else {"label_offsets": ()})
    callbacks = [EpochScoring("f1_weighted", lower_is_better=False, name="valid_f1"),
                 EarlyStopping(monitor="valid_f1", lower_is_better=False,
                               patience=args.patience, load_best=True)]
    return HanRockClassifier(
        architecture="rock", primary_units=args.primary_units, context_size=args.context,
        embeddings="glove-6b-50d", max_words=50, max_epochs=args.epochs, lr=args.lr,
        batch_size=args.batch_size, gru_dropout=0.2, recurrent_dropout=0.2,
        text_column="text", train_split=FrameValidSplit(*dev), callbacks=callbacks,
        random_state=seed, lexical_ngrams=None, verbose=0, aux_units=args.aux_units,
        **handed_on)


def preparation(arm, args, seed):
    """AuxiliaryTargets (+ the selector for a selected arm) + MutualInfoLossWeights."""
    offsets = (*range(-args.offsets, 0), *range(1, args.offsets + 1))
    steps = [("aux", AuxiliaryTargets(families=ARMS[arm], target_type="classification",
                                      label_offsets=offsets if "h" in ARMS[arm] else "auto"))]
    if arm in SELECTED:
        steps.append(("select", AuxiliaryTaskSelector(method=SELECTED[arm],
                                                      target_type="classification",
                                                      random_state=seed)))
    steps.append(("weights", MutualInfoLossWeights(primary_weight=args.primary_weight,
                                                   target_type="classification",
                                                   random_state=seed)))
    return Pipeline(steps)


def fit_arm(arm, data, args, seed):
    """Fit one arm with one seed; return its test predictions and a summary."""
    start = time.perf_counter()
    (X_train, y_train), (X_dev, y_dev), (X_test, _) = data
    weights, families = None, ARMS[arm]
    if families:
        prep = preparation(arm, args, seed).fit(X_train, y_train)
        weights = prep.named_steps["weights"].loss_weights_
        X_train, X_dev, X_test = (prep.transform(X) for X in (X_train, X_dev, X_test))
    model = network(args, seed, (X_dev, y_dev), aux=bool(families)).fit(X_train, y_train)
    summary = {"epochs": len(model.history),
               "best_epoch": int(np.argmax(model.history[:, "valid_f1"])) + 1,
               "dev_weighted_f1": float(max(model.history[:, "valid_f1"])),
               "seconds": time.perf_counter() - start}
    if weights is not None:
        summary["loss_weights"] = {name: round(float(w), 4) for name, w in weights.items()}
    if arm in SELECTED:
        selector = prep.named_steps["select"]
        summary["selected_tasks"] = list(selector.selected_tasks_)
        summary["task_scores"] = {task: round(float(v), 4)
                                  for task, v in selector.scores_.items()}
    return model.predict(X_test), summary


def compare(truth, dialogues, predictions, seeds, args):
    """Per-arm score over the seeds and the pooled paired bootstrap against ``none``."""
    rows, comparisons = {}, {}
    for arm, by_seed in predictions.items():
        scores = [f1_score(truth, by_seed[s], average="weighted") for s in seeds]
        rows[arm] = {"mean": float(np.mean(scores)),
                     "std": float(np.std(scores, ddof=1)) if len(scores) > 1 else 0.0,
                     "per_seed": [float(v) for v in scores]}
    pooled_truth = np.concatenate([truth] * len(seeds))
    pooled_groups = np.concatenate([dialogues] * len(seeds))
    baseline = np.concatenate([predictions["none"][s] for s in seeds])
    for arm in predictions:
        if arm == "none":
            continue
        result = bootstrap_compare(
            pooled_truth, baseline, np.concatenate([predictions[arm][s] for s in seeds]),
            metric="weighted_f1", n_resamples=args.resamples, groups=pooled_groups,
            random_state=0)
        per_seed = np.subtract(rows[arm]["per_seed"], rows["none"]["per_seed"])
        comparisons[arm] = {"difference": float(result.difference),
                            "low": float(result.low), "high": float(result.high),
                            "significant": bool(result.significant),
                            "per_seed_differences": [float(v) for v in per_seed],
                            "seeds_better": int((per_seed > 0).sum())}
    return rows, comparisons


def report(rows, comparisons, n_seeds):
    table = pd.DataFrame({
        "families": [(ARMS[arm] or "-") + (", selected" if arm in SELECTED else "")
                     for arm in rows],
        "test weighted F1": [f"{r['mean']:.3f} ± {r['std']:.3f}" for r in rows.values()],
        "difference vs none [95% CI]": [
            "" if arm == "none" else
            f"{c['difference']:+.3f} [{c['low']:+.3f}, {c['high']:+.3f}]"
            + (" *" if c["significant"] else "")
            for arm, c in ((a, comparisons.get(a)) for a in rows)],
        "seeds better": ["" if arm == "none" else
                         f"{comparisons[arm]['seeds_better']}/{n_seeds}" for arm in rows],
    }, index=list(rows))
    print(f"\nMELD test set, {n_seeds} seeds (mean ± standard deviation over seeds); "
          "differences: pooled seeds, paired bootstrap over test dialogues, "
          "* = interval excludes 0")
    print(table.to_string())


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--root", default=str(DEFAULT_ROOT))
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--epochs", type=int, default=12)
    parser.add_argument("--patience", type=int, default=3)
    parser.add_argument("--dialogues", type=int, default=None,
                        help="training dialogues drawn at random (default: all)")
    parser.add_argument("--arms", default=",".join(ARMS),
                        help="comma-separated subset of " + ",".join(ARMS))
    parser.add_argument("--context", type=int, default=6)
    parser.add_argument("--primary-units", type=int, default=128)
    parser.add_argument("--aux-units", type=int, default=None,
                        help="units of the auxiliary branch (default: 257 - primary units)")
    parser.add_argument("--lr", type=float, default=2 ** -9)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--primary-weight", type=float, default=0.7)
    parser.add_argument("--offsets", type=int, default=4,
                        help="past and future labels of the h and f families")
    parser.add_argument("--resamples", type=int, default=1000)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--out", default=None, help="write the results as JSON here")
    args = parser.parse_args()
    arms = args.arms.split(",")
    if "none" not in arms or set(arms) - set(ARMS):
        parser.error(f"--arms must include 'none' and be among {list(ARMS)}, got {arms}.")
    torch.set_num_threads(args.threads)
    splits = partitions(args.root)
    train = subsample_dialogues(*splits["train"], args.dialogues)
    data = [train, splits["dev"], splits["test"]]
    X_test, y_test = splits["test"]
    print(f"MELD: {len(train[0])} train talkturns ({train[0]['conversation'].nunique()} "
          f"dialogues), {len(data[1][0])} dev, {len(X_test)} test; {args.seeds} seeds; "
          f"arms {arms}", flush=True)
    seeds = list(range(args.seeds))
    predictions = {arm: {} for arm in arms}
    runs = []
    for seed in seeds:
        for arm in arms:
            predictions[arm][seed], summary = fit_arm(arm, data, args, seed)
            score = f1_score(y_test, predictions[arm][seed], average="weighted")
            runs.append({"arm": arm, "seed": seed, "test_weighted_f1": float(score), **summary})
            print(f"  seed {seed} {arm:<4} test weighted F1 {score:.3f} "
                  f"(dev {summary['dev_weighted_f1']:.3f}, best epoch {summary['best_epoch']}"
                  f"/{summary['epochs']}, {summary['seconds']:.0f} s)", flush=True)
            if "selected_tasks" in summary:
                print(f"    selected {summary['selected_tasks']}", flush=True)
    rows, comparisons = compare(y_test.to_numpy(), X_test["conversation"].to_numpy(),
                                predictions, seeds, args)
    report(rows, comparisons, len(seeds))
    if args.out:
        with open(args.out, "w") as handle:
            json.dump({"settings": vars(args), "n_train_talkturns": len(train[0]),
                       "arms": rows, "against_none": comparisons, "runs": runs},
                      handle, indent=2)
        print(f"\nwrote {args.out}")


if __name__ == "__main__":
    main()
