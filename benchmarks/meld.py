"""Real-data check: HAN-ROCK on MELD next to a TF-IDF + logistic-regression baseline.

MELD (Friends dialogues, 7 emotions) is read from the user's copy with
``skhanrock.datasets.load_meld``; the official train/dev/test partitions are
used, dev for early stopping (HAN) and for choosing C (baseline). MELD has no
facial or vocal features here, so the auxiliary tasks are the history and
future labels. Reports test weighted F1, accuracy and wall time.

Run ``python benchmarks/meld.py [--root ../shared/data/meld] [--quick]``.
"""

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.sparse
import torch
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, f1_score
from skorch.callbacks import EarlyStopping, ProgressBar

from skhanrock import HanRockClassifier
from skhanrock.datasets import load_meld
from skhanrock.nn import FrameValidSplit

DEFAULT_ROOT = Path(__file__).resolve().parents[2] / "shared" / "data" / "meld"
PREVIOUS_TURNS = 3


def partitions(root):
    frame = load_meld(root)
    return {split: (part.drop(columns=["emotion", "sentiment"]), part["emotion"])
            for split, part in frame.groupby("split")}


def previous_texts(X, k):
    """The text k talkturns earlier in the same dialogue ("" at the start)."""
    ordered = X.sort_values(["conversation", "turn"])
    return ordered.groupby("conversation")["text"].shift(k).fillna("").loc[X.index]


class ContextTfidf:
    """TF-IDF of the current talkturn and of each of the ``previous`` before it, side by side."""

    def __init__(self, previous=PREVIOUS_TURNS):
        self.vectorizers = [TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True)
                            for _ in range(previous + 1)]

    def fit_transform(self, X):
        return scipy.sparse.hstack([v.fit_transform(previous_texts(X, k) if k else X["text"])
                                    for k, v in enumerate(self.vectorizers)]).tocsr()

    def transform(self, X):
        return scipy.sparse.hstack([v.transform(previous_texts(X, k) if k else X["text"])
                                    for k, v in enumerate(self.vectorizers)]).tocsr()


def scores(y_true, y_pred, seconds):
    return {"weighted F1": f1_score(y_true, y_pred, average="weighted"),
            "accuracy": accuracy_score(y_true, y_pred), "wall seconds": seconds}


TFIDF_C_GRID = (0.5, 1.0, 2.0, 4.0, 8.0)


def fit_tfidf(train_part, dev_part):
    """Fit ``ContextTfidf`` + logistic regression, C chosen on the dev weighted F1.

    Returns the fitted features, the chosen model and the dev weighted F1 of each C.
    """
    (X_train, y_train), (X_dev, y_dev) = train_part, dev_part
    features = ContextTfidf()
    train, dev = features.fit_transform(X_train), features.transform(X_dev)
    models = [LogisticRegression(C=c, max_iter=3000).fit(train, y_train) for c in TFIDF_C_GRID]
    dev_f1 = {model.C: f1_score(y_dev, model.predict(dev), average="weighted")
              for model in models}
    best = max(models, key=lambda model: dev_f1[model.C])
    return features, best, dev_f1


def tfidf_baseline(data):
    start = time.perf_counter()
    train_part, dev_part, (X_test, y_test) = data
    features, best, _ = fit_tfidf(train_part, dev_part)
    prediction = best.predict(features.transform(X_test))
    return scores(y_test, prediction, time.perf_counter() - start), best.C


def han(data, args):
    start = time.perf_counter()
    (X_train, y_train), (X_dev, y_dev), (X_test, y_test) = data
    callbacks = [EarlyStopping(monitor="valid_loss", patience=args.patience, load_best=True)]
    if args.progress:
        callbacks.append(ProgressBar())
    model = HanRockClassifier(
        architecture=args.architecture, primary_units=args.primary_units,
        context_size=args.context, embeddings="glove-6b-50d", max_words=50,
        max_epochs=args.epochs, lr=args.lr, batch_size=args.batch_size,
        gru_dropout=0.2, recurrent_dropout=0.2, loss_weights=args.primary_weight,
        train_split=FrameValidSplit(X_dev, y_dev), callbacks=callbacks, random_state=args.seed,
        lexical_ngrams=None, verbose=1)
    model.fit(X_train, y_train)
    result = scores(y_test, model.predict(X_test), time.perf_counter() - start)
    result["epochs"] = len(model.history)
    return result


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--root", default=str(DEFAULT_ROOT))
    parser.add_argument("--quick", action="store_true", help="2 epochs, for a smoke run")
    parser.add_argument("--epochs", type=int, default=12)
    parser.add_argument("--patience", type=int, default=3)
    parser.add_argument("--context", type=int, default=6)
    parser.add_argument("--primary-units", type=int, default=128)
    parser.add_argument("--architecture", default="rock", choices=("rock", "flat"))
    parser.add_argument("--lr", type=float, default=2 ** -9)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--primary-weight", type=float, default=0.7)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--progress", action="store_true")
    args = parser.parse_args()
    if args.quick:
        args.epochs = 2
    torch.set_num_threads(2)
    splits = partitions(args.root)
    data = [splits["train"], splits["dev"], splits["test"]]
    print(f"MELD: {len(data[0][0])} train, {len(data[1][0])} dev, {len(data[2][0])} test "
          "talkturns; 7 emotions\n")
    baseline, c = tfidf_baseline(data)
    print(f"TF-IDF + logistic regression (current + {PREVIOUS_TURNS} previous talkturns, "
          f"C={c} chosen on dev) done.\n")
    network = han(data, args)
    table = pd.DataFrame({"TF-IDF + logistic regression": baseline,
                          f"HAN-ROCK ({args.architecture}, GloVe 6B 50-d)": network}).T
    print("\nMELD test set:")
    print(table.to_string(float_format=lambda v: f"{v:.3f}"))
    gap = network["weighted F1"] - baseline["weighted F1"]
    print(f"\nHAN minus TF-IDF weighted F1: {gap:+.3f}")
    return np.sign(gap)


if __name__ == "__main__":
    main()
