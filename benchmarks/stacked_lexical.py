"""What ``lexical_fit="stacked"`` adds to a fit: the closed-form lexical model and its folds.

A stacked lexical path fits, before the network trains, one logistic
regression per candidate ``C`` and fold (4 strengths x 5 grouped folds) and a
final one on every labelled training talkturn. The straightforward reference
is what a user would run by hand: one ``TfidfVectorizer`` and one
``LogisticRegression`` on the same rows (no context blocks, no folds). The
script times the package's n-gram bags, the context bag matrix and
``fit_stacked_lexical`` against that reference and prints the ratios, then
``choose_context`` (the same folds over the current talkturn and over the
current and ``--context`` previous ones, as ``lexical_context="auto"``); with
``--root`` it reads IEMOCAP sessions 1-2 (the rotation's training sessions),
otherwise generated conversations of about that size.

Run ``python benchmarks/stacked_lexical.py [--root ../shared/data/iemocap]
[--context 3] [--repeats 3]``.
"""

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

from skhanrock.datasets import make_conversations
from skhanrock.nn._lexical import NgramVocabulary
from skhanrock.nn._stacking import choose_context, context_bag_matrix, fit_stacked_lexical


def talkturns(root, n_conversations):
    """Sorted (texts, labels or None, conversation codes) of IEMOCAP sessions 1-2 or generated data."""
    if root is not None:
        frame = pd.read_csv(Path(root) / "sessions_1_3.csv")
        frame = frame[frame["session"].isin(["Ses01", "Ses02"])]
        labels = frame["emotion4"]
    else:
        frame, labels = make_conversations(n_conversations, min_turns=40, max_turns=80,
                                           random_state=0)
    order = np.lexsort((frame["turn"].to_numpy(), frame["conversation"].to_numpy()))
    frame, labels = frame.iloc[order], labels.iloc[order]
    codes = pd.factorize(frame["conversation"])[0]
    return frame["text"].astype(str).tolist(), labels, codes


def best_of(repeats, run):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        result = run()
        times.append(time.perf_counter() - start)
    return min(times), result


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", default=None, help="folder of IEMOCAP's sessions_1_3.csv")
    parser.add_argument("--conversations", type=int, default=60,
                        help="generated conversations without --root")
    parser.add_argument("--context", type=int, default=3, help="lexical_context")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    texts, labels, codes = talkturns(args.root, args.conversations)
    labelled = labels.notna().to_numpy()
    classes, targets = np.unique(labels[labelled].astype(str), return_inverse=True)
    encoded = np.full(len(texts), -1)
    encoded[labelled] = targets

    def reference():
        matrix = TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True).fit_transform(
            np.asarray(texts)[labelled])
        return LogisticRegression(C=1.0, max_iter=3000).fit(matrix, targets)

    def bags():
        vocabulary = NgramVocabulary((1, 2), 2, 50_000).fit(texts)
        return vocabulary, context_bag_matrix(vocabulary.bags(texts), codes, len(vocabulary),
                                              args.context)

    reference_s, _ = best_of(args.repeats, reference)
    bags_s, (vocabulary, matrix) = best_of(args.repeats, bags)
    fit_s, fitted = best_of(args.repeats, lambda: fit_stacked_lexical(
        matrix, encoded, labelled, codes, "classification", len(classes)))
    choice_s, (context, scores) = best_of(args.repeats, lambda: choose_context(
        matrix, len(vocabulary), (0, args.context), encoded, labelled, codes, "classification",
        len(classes)))
    print(f"{len(texts)} talkturns ({labelled.sum()} labelled, {codes.max() + 1} "
          f"conversations), {len(vocabulary)} n-grams x {1 + args.context} offsets; "
          f"best of {args.repeats}")
    print(f"reference: TfidfVectorizer + one LogisticRegression  {reference_s:8.2f} s")
    print(f"package: bags + context matrix                       {bags_s:8.2f} s")
    print(f"package: fit_stacked_lexical (C={fitted.strength})"
          f"{'':<{max(0, 14 - len(str(fitted.strength)))}}{fit_s:8.2f} s  "
          f"({fit_s / reference_s:.1f}x the reference)")
    chosen = ", ".join(f"{c} previous: {score:.4f}" for c, score in scores.items())
    print(f"package: choose_context (0 or {args.context})               {choice_s:8.2f} s  "
          f"(held-out log-loss {chosen}; chosen {context})")


if __name__ == "__main__":
    main()
