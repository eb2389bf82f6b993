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
from skorch.callbacks import (
    Callback,
    EarlyStopping,
    EpochScoring,
    GradientNormClipping,
    LRScheduler,
)

sys.path.insert(0, str(Path(__file__).resolve().parent))
from real_corpora import IEMOCAP_ROOT, ROTATIONS, load_iemocap  # noqa: E402

from skhanrock import HanRockClassifier  # noqa: E402
from skhanrock.nn import ConversationValidSplit, FrameValidSplit  # noqa: E402


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--root", default=str(IEMOCAP_ROOT))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--rotation", type=int, default=1, choices=range(1, len(ROTATIONS) + 1),
                        help="which speaker-disjoint rotation of real_corpora.py (1: 1+2 -> 3)")
    parser.add_argument("--schedule", choices=["cosine"], default=None,
                        help="decay the lr per epoch to ~0 at the last epoch")
    parser.add_argument("--clip", type=float, default=None, help="gradient-norm clipping")
    parser.add_argument("--probe", action="store_true",
                        help="also score weight averages: EMA per step, uniform over epochs")
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


def scores(model, X, truth, labelled):
    predicted = np.asarray(model.predict(X), dtype=str)[labelled]
    return {"accuracy": round(accuracy_score(truth, predicted), 4),
            "balanced accuracy": round(balanced_accuracy_score(truth, predicted), 4),
            "weighted F1": round(f1_score(truth, predicted, average="weighted"), 4)}


class AverageProbe(Callback):
    """Scores weight averages on the test session without changing training.

    Keeps an exponential moving average of the weights per step for each of
    ``decays`` (scored after epoch 10 and the last) and every epoch-end state
    (uniform averages of the last k epochs are scored at the end).
    """

    def __init__(self, X, truth, labelled, decays=(0.99, 0.995), interim=None):
        self.X, self.truth, self.labelled, self.decays = X, truth, labelled, decays
        # Called with the uniform averages after epoch 10 of a longer fit.
        self.interim = interim

    def on_train_begin(self, net, **kwargs):
        self.ema_ = {d: {k: v.detach().clone() for k, v in net.module_.state_dict().items()}
                     for d in self.decays}
        self.epochs_, self.ema_scores_, self.steps_ = [], {d: [] for d in self.decays}, 0

    def on_batch_end(self, net, training=False, **kwargs):
        if not training:
            return
        self.steps_ += 1
        with torch.no_grad():
            for decay, average in self.ema_.items():
                for name, value in net.module_.state_dict().items():
                    if value.is_floating_point():
                        average[name].lerp_(value, 1 - decay)
                    else:
                        average[name].copy_(value)

    def scored(self, net, state):
        current = {k: v.detach().clone() for k, v in net.module_.state_dict().items()}
        net.module_.load_state_dict(state)
        result = scores(net, self.X, self.truth, self.labelled)
        net.module_.load_state_dict(current)
        return result

    def on_epoch_end(self, net, **kwargs):
        self.epochs_.append({k: v.detach().clone() for k, v in net.module_.state_dict().items()})
        # Scored where a comparison reads them only: each costs a prediction of the test session.
        if len(self.epochs_) not in (10, net.max_epochs):
            return
        for decay, average in self.ema_.items():
            self.ema_scores_[decay].append(
                (len(self.epochs_), self.scored(net, average)["accuracy"]))
        if self.interim and len(self.epochs_) == 10 < net.max_epochs:
            self.interim(net, {"ema_acc": {str(d): v for d, v in self.ema_scores_.items()},
                               "uniform": self.uniform(net, (3, 5))})

    def uniform(self, net, sizes):
        """Scores of the uniform means of the last k epoch-end weights, for each k of sizes."""
        n = len(self.epochs_)
        uniform = {}
        for k in sorted(sizes):
            if 1 < k <= n:
                last = self.epochs_[-k:]
                mean = {name: (torch.stack([s[name].float() for s in last]).mean(0)
                               .to(last[0][name].dtype) if last[0][name].is_floating_point()
                               else last[-1][name]) for name in last[0]}
                uniform[f"last{k}"] = self.scored(net, mean)
        return uniform

    def report(self, net):
        n = len(self.epochs_)
        return {"steps": self.steps_,
                "ema_acc": {str(d): v for d, v in self.ema_scores_.items()},
                "uniform": self.uniform(net, {3, 5, n // 2, n - n // 4})}


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
    train_sessions, test_session = ROTATIONS[args.rotation - 1]
    train = X["session"].isin(train_sessions).to_numpy()
    test = (X["session"] == test_session).to_numpy()
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
    labelled = y[test].notna().to_numpy()
    truth = y[test][labelled].astype(str).to_numpy()
    if args.schedule == "cosine":
        callbacks.append(LRScheduler(torch.optim.lr_scheduler.CosineAnnealingLR,
                                     T_max=params["max_epochs"]))
    if args.clip:
        callbacks.append(GradientNormClipping(args.clip))
    def interim(net, probe_result):
        line = {"seed": args.seed, "rotation": args.rotation, "set": args.set,
                "schedule": args.schedule, "interim_epoch": len(net.history),
                "test_acc": [round(v, 4) for v in net.history[:, "test_acc"]],
                "probe": probe_result}
        with open(args.out, "a") as handle:
            handle.write(json.dumps(line) + "\n")

    probe = AverageProbe(X[test], truth, labelled, interim=interim) if args.probe else None
    if probe:
        callbacks.append(probe)
    start = time.perf_counter()
    model = HanRockClassifier(callbacks=callbacks, **params).fit(X[train], y[train])
    history = model.history
    result = {"seed": args.seed, "rotation": args.rotation, "set": args.set,
              "early": args.early, "schedule": args.schedule, "clip": args.clip,
              "seconds": round(time.perf_counter() - start),
              "train_loss": [round(v, 4) for v in history[:, "train_loss"]],
              "valid_loss": [round(v, 4) for v in history[:, "valid_loss"]]}
    for key in ("test_acc", "test_wf1", "valid_f1"):
        if key in history[0]:
            result[key] = [round(v, 4) for v in history[:, key]]
    result["final"] = scores(model, X[test], truth, labelled)
    if probe:
        result["probe"] = probe.report(model)
    print(json.dumps(result), flush=True)
    with open(args.out, "a") as handle:
        handle.write(json.dumps(result) + "\n")


if __name__ == "__main__":
    main()
