"""Chunk-shuffled batches against fully random batches: accuracy and training time.

The package batches shuffled chunks of ``chunk_size`` consecutive talkturns so
that the windows of a batch share their talkturn encodings. This script checks
that it costs no accuracy: the same HAN-ROCK is trained with ``chunk_size=64``
(the default), 16 and 1 (fully random batches), same epochs, several
seeds, on the built-in data and, when a copy is at hand, on MELD. On MELD every
mode stops early on the official dev split and keeps its best epoch within the
same epoch budget: a few epochs of a 7-class text model swing test scores by
several points from one epoch to the next, which would drown the comparison.
It reports mean and standard deviation of test accuracy and weighted F1, and
the ratio of training times.

Run ``python benchmarks/batching.py [--seeds 4] [--meld-root PATH] [--quick]``.
"""

import argparse
import time
from pathlib import Path

import pandas as pd
import torch
from sklearn.metrics import accuracy_score, f1_score
from skorch.callbacks import EarlyStopping

from skhanrock import HanRockClassifier
from skhanrock.datasets import load_meld, make_conversations
from skhanrock.nn import FrameValidSplit

DEFAULT_MELD = Path(__file__).resolve().parents[2] / "shared" / "data" / "meld"


def built_in_data(seed, n_conversations):
    X, y = make_conversations(n_conversations=n_conversations, random_state=seed)
    is_test = X["conversation"].isin(X["conversation"].unique()[::4])
    return (X[~is_test], y[~is_test]), (X[is_test], y[is_test])


def meld_data(root, max_train_dialogues):
    frame = load_meld(root, splits=("train", "dev", "test"))
    train = frame[frame["split"] == "train"]
    keep = train["conversation"].unique()[:max_train_dialogues]
    train = train[train["conversation"].isin(keep)]
    dev, test = (frame[frame["split"] == split] for split in ("dev", "test"))
    return (train, train["emotion"]), (test, test["emotion"]), (dev, dev["emotion"])


def meld_params(dev, patience):
    """Early stopping on MELD's dev split, best epoch restored."""
    return {"train_split": FrameValidSplit(*dev),
            "callbacks": [EarlyStopping(monitor="valid_loss", patience=patience,
                                        load_best=True)]}


def one_fit(train, test, chunk_size, seed, estimator_params):
    (X_train, y_train), (X_test, y_test) = train, test
    model = HanRockClassifier(chunk_size=chunk_size, random_state=seed, lexical_ngrams=None,
                              **estimator_params)
    start = time.perf_counter()
    model.fit(X_train, y_train)
    seconds = time.perf_counter() - start
    labelled = y_test.notna().to_numpy()
    predicted = model.predict(X_test)[labelled]
    truth = y_test[labelled]
    return {"accuracy": accuracy_score(truth, predicted),
            "weighted F1": f1_score(truth, predicted, average="weighted"),
            "seconds": seconds}


def mode_name(chunk_size):
    return "fully random" if chunk_size == 1 else f"chunks of {chunk_size}"


def compare(name, make_data, seeds, chunk_sizes, estimator_params):
    rows = []
    for seed in seeds:
        train, test = make_data(seed)
        for chunk_size in chunk_sizes:
            mode = mode_name(chunk_size)
            rows.append({"data": name, "mode": mode, "seed": seed,
                         **one_fit(train, test, chunk_size, seed, estimator_params)})
            print(f"{name}, {mode}, seed {seed}: accuracy {rows[-1]['accuracy']:.3f}, "
                  f"weighted F1 {rows[-1]['weighted F1']:.3f}, {rows[-1]['seconds']:.0f} s",
                  flush=True)
    return rows


def summary(rows):
    table = pd.DataFrame(rows).groupby(["data", "mode"])[["accuracy", "weighted F1", "seconds"]]
    return table.agg(["mean", "std"]).round(3)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, default=4)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--meld-root", default=str(DEFAULT_MELD))
    parser.add_argument("--meld-dialogues", type=int, default=400,
                        help="training dialogues of MELD to use (time budget)")
    parser.add_argument("--chunks", type=int, nargs="+", default=[64, 16, 1],
                        help="chunk sizes to compare; 1 is fully random batches")
    parser.add_argument("--conversations", type=int, default=60,
                        help="built-in conversations per seed")
    parser.add_argument("--primary-units", type=int, default=64)
    parser.add_argument("--meld-epochs", type=int, default=6)
    parser.add_argument("--meld-patience", type=int, default=2)
    parser.add_argument("--meld-seeds", type=int, default=3)
    parser.add_argument("--first-seed", type=int, default=0,
                        help="seeds run from here, so that later runs add new seeds")
    parser.add_argument("--quick", action="store_true", help="one seed, two epochs")
    args = parser.parse_args()
    torch.set_num_threads(2)
    seeds = range(args.first_seed, args.first_seed + (1 if args.quick else args.seeds))
    params = {"context_size": 8, "primary_units": args.primary_units,
              "max_epochs": 2 if args.quick else args.epochs}
    rows = compare("built-in", lambda seed: built_in_data(seed, args.conversations), seeds,
                   args.chunks, params)
    if Path(args.meld_root).is_dir():
        train, test, dev = meld_data(args.meld_root, args.meld_dialogues)
        rows += compare("MELD", lambda seed: (train, test),
                        range(args.first_seed,
                              args.first_seed + (1 if args.quick else args.meld_seeds)),
                        args.chunks,
                        {**params, "max_epochs": 2 if args.quick else args.meld_epochs,
                         "embeddings": "glove-6b-50d", "label_offsets": (-2, -1, 1, 2),
                         "loss_weights": 0.7, **meld_params(dev, args.meld_patience)})
    table = summary(rows)
    print("\n" + table.to_string())
    random = mode_name(1)
    for data in table.index.get_level_values("data").unique():
        for chunk_size in (c for c in args.chunks if c != 1 and 1 in args.chunks):
            chunks, baseline = table.loc[(data, mode_name(chunk_size))], table.loc[(data, random)]
            print(f"{data}: accuracy difference ({mode_name(chunk_size)} - random) "
                  f"{chunks[('accuracy', 'mean')] - baseline[('accuracy', 'mean')]:+.3f}, "
                  f"training time ratio random/chunks "
                  f"x{baseline[('seconds', 'mean')] / chunks[('seconds', 'mean')]:.2f}")


if __name__ == "__main__":
    main()
