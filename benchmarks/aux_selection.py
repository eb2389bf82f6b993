"""Auxiliary-task selection on planted data: does dropping noise and conflict cost anything?

The built-in conversations get planted useless (``noise_a``, ``noise_b``) and
harmful (``conflict``) features (``make_conversations(planted_features=True)``),
which ``AuxiliaryTargets`` turns into auxiliary targets next to the action,
prosody and history/future tasks. Three arms share the data, the split and the
network:

- ``every task``: all auxiliary tasks, planted ones included;
- ``mutual_info``: ``AuxiliaryTaskSelector(method="mutual_info")``;
- ``proxy``: ``AuxiliaryTaskSelector(method="proxy")`` (greedy forward selection
  over families with small proxy networks on a conversation-held-out split).

For each seed the script prints the tasks each selector kept and the test
accuracy of each arm, then the paired, conversation-level bootstrap interval of
each selector's accuracy minus that of ``every task``, pooled over seeds.
Run from the repository root (a few minutes on 2 cores)::

    python benchmarks/aux_selection.py [--seeds 3] [--conversations 60] [--epochs 8]
"""

import argparse
import time

import numpy as np
import pandas as pd
from sklearn.model_selection import GroupShuffleSplit
from sklearn.pipeline import Pipeline

from skhanrock import AuxiliaryTargets, HanRockClassifier, MonahTranscriber, MutualInfoLossWeights
from skhanrock.datasets import make_conversations
from skhanrock.metrics import bootstrap_compare
from skhanrock.preprocessing import AuxiliaryTaskSelector

PLANTED = ["noise_a", "noise_b", "conflict"]
ARMS = ("every task", "mutual_info", "proxy")


def make_pipeline(arm, seed, epochs):
    """The paper's pipeline with the planted targets, and the arm's selector if any."""
    steps = [("monah", MonahTranscriber()),
             ("aux", AuxiliaryTargets(families="aphf", label_offsets=(-2, -1, 1, 2),
                                      columns=PLANTED, target_type="classification"))]
    if arm != "every task":
        steps.append(("select", AuxiliaryTaskSelector(method=arm, random_state=seed,
                                                      target_type="classification")))
    steps += [("weights", MutualInfoLossWeights(target_type="classification",
                                                random_state=seed)),
              ("han", HanRockClassifier(loss_weights="pipeline", label_offsets="pipeline",
                                        context_size=8, max_epochs=epochs, embedding_dim=32,
                                        primary_units=32, aux_units=32, lexical_ngrams=None,
                                        random_state=seed))]
    return Pipeline(steps)


def run_seed(seed, n_conversations, epochs):
    """Test labels, conversations and each arm's predictions for one seed."""
    X, y = make_conversations(n_conversations=n_conversations, planted_features=True,
                              random_state=seed)
    train, test = next(GroupShuffleSplit(n_splits=1, test_size=0.25, random_state=seed)
                       .split(X, groups=X["conversation"]))
    predictions = {}
    for arm in ARMS:
        pipe = make_pipeline(arm, seed, epochs).fit(X.iloc[train], y.iloc[train])
        predictions[arm] = pipe.predict(X.iloc[test])
        if arm != "every task":
            selector = pipe.named_steps["select"]
            dropped = sorted(set(selector.scores_.index) - set(selector.selected_tasks_))
            print(f"  {arm:<11} kept {selector.selected_tasks_}\n{'':14}dropped {dropped}")
    truth = y.iloc[test].to_numpy()
    labelled = pd.notna(truth)
    for arm in ARMS:
        accuracy = np.mean(predictions[arm][labelled] == truth[labelled])
        print(f"  {arm:<11} test accuracy {accuracy:.3f}")
    groups = [f"{seed}:{c}" for c in X["conversation"].iloc[test]]
    return truth, groups, predictions


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--conversations", type=int, default=60)
    parser.add_argument("--epochs", type=int, default=8)
    args = parser.parse_args()
    start = time.perf_counter()
    truth, groups, predictions = [], [], {arm: [] for arm in ARMS}
    for seed in range(args.seeds):
        print(f"seed {seed}")
        seed_truth, seed_groups, seed_predictions = run_seed(seed, args.conversations,
                                                             args.epochs)
        truth.append(seed_truth)
        groups += seed_groups
        for arm in ARMS:
            predictions[arm].append(seed_predictions[arm])
    truth = np.concatenate(truth)
    print(f"pooled over {args.seeds} seeds ({int(pd.notna(truth).sum())} labelled test "
          "talkturns): accuracy difference against 'every task', paired conversation "
          "bootstrap, 95% interval")
    baseline = np.concatenate(predictions["every task"])
    for arm in ARMS[1:]:
        comparison = bootstrap_compare(truth, baseline, np.concatenate(predictions[arm]),
                                       groups=groups, n_resamples=2000, random_state=0)
        mark = " *" if comparison.significant else ""
        print(f"  {arm:<11} {comparison.difference:+.3f} "
              f"[{comparison.low:+.3f}, {comparison.high:+.3f}]{mark}")
    print(f"(* the interval excludes 0)  {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
