"""The lexical path's training and prediction cost: the estimator with and without it.

The lexical path (``lexical_ngrams=(1, 2)``, the estimators' default) fits an
n-gram vocabulary on the training texts, builds one TF-IDF bag per encoded
talkturn and adds one sparse lookup per distinct talkturn of a batch. This
times ``fit`` and ``predict`` of ``HanRockClassifier`` with the path and without
it (``lexical_ngrams=None``, the straightforward reference) on the same scripted
conversations, alternating the two so that a drifting machine affects both,
and prints each one's median over ``--repeats`` and the ratio of the medians.

Run ``python benchmarks/lexical_cost.py [--conversations 200] [--epochs 3]
[--repeats 3] [--threads 1]`` (about 3 minutes with the defaults).
"""

import argparse
import time

import numpy as np
import torch

from skhanrock import HanRockClassifier
from skhanrock.datasets import make_conversations

SETTINGS = {"with the lexical path": (1, 2), "without (reference)": None}


def one_run(X, y, lexical_ngrams, epochs):
    model = HanRockClassifier(lexical_ngrams=lexical_ngrams, max_epochs=epochs, random_state=0)
    start = time.perf_counter()
    model.fit(X, y)
    fitted = time.perf_counter()
    model.predict(X)
    return fitted - start, time.perf_counter() - fitted


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--conversations", type=int, default=200)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    X, y = make_conversations(args.conversations, scripted=0.5, random_state=0)
    print(f"{len(X)} talkturns, {args.epochs} epochs, {args.threads} thread(s), "
          f"median of {args.repeats}")
    times = {name: [] for name in SETTINGS}
    for _ in range(args.repeats):
        for name, ngrams in SETTINGS.items():
            times[name].append(one_run(X, y, ngrams, args.epochs))
    medians = {name: np.median(np.array(runs), axis=0) for name, runs in times.items()}
    for name, (fit, predict) in medians.items():
        print(f"{name:24s} fit {fit:6.2f} s   predict {predict:6.2f} s")
    ratio = medians["with the lexical path"] / medians["without (reference)"]
    print(f"{'ratio':24s} fit {ratio[0]:6.2f}x  predict {ratio[1]:6.2f}x")


if __name__ == "__main__":
    main()
