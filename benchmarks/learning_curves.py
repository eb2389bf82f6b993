"""IEMOCAP learning curves: train loss, test loss and test scores per epoch, one fit.

Issue 28, item 1 (why context does not help). Sessions 1-2 train, session 3
tests (the first speaker-disjoint rotation of ``real_corpora.py``; sessions 4-5
are withheld and never read), 4 classes, complete conversations. The test
session is the fit's ``FrameValidSplit``, which only scores it after every
epoch (training is unchanged), so the history holds the test loss, accuracy and
weighted F1 of every epoch. With ``--early`` the fit instead holds out 10% of
the training conversations (``ConversationValidSplit``), stops on their
weighted F1 with the best epoch restored, and the test session is scored once.

Each fit appends one JSON line to ``--out``. Run from the repository root::

    OMP_NUM_THREADS=1 python benchmarks/learning_curves.py --root ../shared/data/iemocap
        --seed 0 --epochs 16 [--set 'label_offsets=[]' 'lr=0.001953125'] [--early]
        [--conversations 6] [--out curves.jsonl]

``--set NAME=VALUE`` changes one estimator parameter (VALUE is JSON) from the
package's defaults (``embeddings="glove-6b-50d"``); ``--conversations N``
keeps the first N conversations of each session (a smoke run).
"""

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch
from sklearn.metrics import accuracy_score, balanced_accuracy_score, f1_score
from skorch.callbacks import EarlyStopping, EpochScoring

sys.path.insert(0, str(Path(__file__).resolve().parent))
from real_corpora import IEMOCAP_ROOT, load_iemocap  # noqa: E402

from skhanrock import HanRockClassifier  # noqa: E402
from skhanrock.nn import ConversationValidSplit, FrameValidSplit  # noqa: E402


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--root", default=str(IEMOCAP_ROOT))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--epochs", type=int, default=16)
    parser.add_argument("--set", nargs="*", default=[], metavar="NAME=JSON")
    parser.add_argument("--early", action="store_true")
    parser.add_argument("--conversations", type=int, default=None)
    parser.add_argument("--out", default="curves.jsonl")
    return parser.parse_args()


def changes(items):
    params = {}
    for item in items:
        name, _, value = item.partition("=")
        params[name] = json.loads(value)
    return params


def main():
    args = parse_args()
    torch.set_num_threads(1)
    X, Y = load_iemocap(args.root)
    if args.conversations:
        kept = X.groupby("session")["conversation"].unique().map(
            lambda c: c[:args.conversations]).explode()
        rows = X["conversation"].isin(kept).to_numpy()
        X, Y = X[rows], Y[rows]
    y = Y["emotion4"]
    train = X["session"].isin(["Ses01", "Ses02"]).to_numpy()
    test = (X["session"] == "Ses03").to_numpy()
    params = {"embeddings": "glove-6b-50d", "random_state": args.seed,
              "max_epochs": args.epochs, **changes(args.set)}
    if args.early:
        params["train_split"] = ConversationValidSplit(0.1, random_state=args.seed)
        callbacks = [EpochScoring("f1_weighted", lower_is_better=False, name="valid_f1"),
                     EarlyStopping(monitor="valid_f1", lower_is_better=False, patience=5,
                                   load_best=True)]
    else:
        params["train_split"] = FrameValidSplit(X[test], y[test])
        callbacks = [EpochScoring("accuracy", lower_is_better=False, name="test_acc"),
                     EpochScoring("f1_weighted", lower_is_better=False, name="test_wf1")]
    start = time.perf_counter()
    model = HanRockClassifier(callbacks=callbacks, **params).fit(X[train], y[train])
    history = model.history
    result = {"seed": args.seed, "set": args.set, "early": args.early,
              "seconds": round(time.perf_counter() - start),
              "train_loss": [round(v, 4) for v in history[:, "train_loss"]],
              "valid_loss": [round(v, 4) for v in history[:, "valid_loss"]]}
    for key in ("test_acc", "test_wf1", "valid_f1"):
        if key in history[0]:
            result[key] = [round(v, 4) for v in history[:, key]]
    labelled = y[test].notna().to_numpy()
    truth = y[test][labelled].astype(str).to_numpy()
    predicted = np.asarray(model.predict(X[test]), dtype=str)[labelled]
    result["final"] = {"accuracy": round(accuracy_score(truth, predicted), 4),
                       "balanced accuracy": round(balanced_accuracy_score(truth, predicted), 4),
                       "weighted F1": round(f1_score(truth, predicted, average="weighted"), 4)}
    print(json.dumps(result), flush=True)
    with open(args.out, "a") as handle:
        handle.write(json.dumps(result) + "\n")


if __name__ == "__main__":
    main()
