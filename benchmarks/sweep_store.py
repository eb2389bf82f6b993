"""Trials per hour that a shared curve store sustains: 4 workers on one study.

Each worker process runs trials for a fixed time. A trial reports one score
per epoch and asks, from epoch 5 every 2 epochs, whether it is below the
median (the paper's rule), exactly as a training would, but trains nothing
(``--epoch-seconds`` of sleep per epoch stand for the training): the numbers
are the store's own cost, the ceiling it puts on a sweep. Curves are made-up
decreasing losses with random levels, so the rule stops about half the
trials. Compared:

- ``sqlite``: :class:`~skhanrock.model_selection.MedianStopping` on a
  :class:`~skhanrock.model_selection.SQLiteCurveStore` (one file, one host);
- ``optuna-postgres``: an Optuna study on PostgreSQL with
  :class:`~skhanrock.model_selection.MedianStoppingPruner` (what many
  machines share), when ``--postgres`` or ``SKHANROCK_TEST_POSTGRES_URL``
  gives a server (``.ci/postgres`` starts one);
- ``store-postgres``: MedianStopping on an
  :class:`~skhanrock.model_selection.OptunaCurveStore` on the same server
  (the experiment runner's and ``RandomizedSearchCV``'s path).

Run ``python benchmarks/sweep_store.py [--workers 4] [--seconds 30] [--epochs 30]
[--epoch-seconds 0] [--postgres URL]``.
"""

import argparse
import multiprocessing
import os
import tempfile
import time
import uuid
from types import SimpleNamespace

import numpy as np
from skorch.history import History

from skhanrock.model_selection import (
    MedianStopping,
    MedianStoppingPruner,
    OptunaCurveStore,
    SQLiteCurveStore,
)


def curve(rng, epochs):
    level, rate = rng.uniform(0.3, 1.0), rng.uniform(0.02, 0.2)
    return level * np.exp(-rate * np.arange(epochs)) + rng.normal(0, 0.02, epochs)


def median_stopping_trial(store, study, scores, epoch_seconds):
    callback = MedianStopping(store, study=study)
    callback.on_train_begin(None)
    history = History()
    net = SimpleNamespace(history=history, verbose=0)
    try:
        for score in scores:
            time.sleep(epoch_seconds)
            history.new_epoch()
            history.record("valid_loss", float(score))
            callback.on_epoch_end(net)
    except KeyboardInterrupt:
        pass
    callback.on_train_end(net)


def optuna_trial(study, scores, epoch_seconds):
    import optuna

    trial = study.ask()
    for epoch, score in enumerate(scores, start=1):
        time.sleep(epoch_seconds)
        trial.report(float(score), epoch)
        if trial.should_prune():
            study.tell(trial, state=optuna.trial.TrialState.PRUNED)
            return
    study.tell(trial, float(scores[-1]))


def worker(kind, target, study, seed, seconds, epochs, epoch_seconds, counts):
    rng = np.random.default_rng(seed)
    if kind == "optuna-postgres":
        import optuna

        optuna.logging.set_verbosity(optuna.logging.WARNING)
        optuna_study = optuna.load_study(study_name=study, storage=target,
                                         pruner=MedianStoppingPruner())
        run = lambda scores: optuna_trial(optuna_study, scores, epoch_seconds)  # noqa: E731
    else:
        store = SQLiteCurveStore(target) if kind == "sqlite" else OptunaCurveStore(target)
        run = lambda scores: median_stopping_trial(store, study, scores,  # noqa: E731
                                                   epoch_seconds)
    done, start = 0, time.monotonic()  # after the imports and connections: a sweep pays them once
    while time.monotonic() < start + seconds:
        run(curve(rng, epochs))
        done += 1
    counts.put((done, time.monotonic() - start))


def measure(kind, target, args):
    study = f"bench-{uuid.uuid4().hex}"
    if kind == "optuna-postgres":
        import optuna

        optuna.logging.set_verbosity(optuna.logging.WARNING)
        optuna.create_study(study_name=study, storage=target)
    context = multiprocessing.get_context("spawn")
    counts = context.Queue()
    workers = [context.Process(target=worker, args=(kind, target, study, seed, args.seconds,
                                                    args.epochs, args.epoch_seconds, counts))
               for seed in range(args.workers)]
    for process in workers:
        process.start()
    results = [counts.get() for _ in workers]
    for process in workers:
        process.join()
    return (sum(done for done, _ in results),
            sum(done / seconds for done, seconds in results) * 3600)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--epoch-seconds", type=float, default=0.0)
    parser.add_argument("--postgres", default=os.environ.get("SKHANROCK_TEST_POSTGRES_URL"))
    args = parser.parse_args()
    folder = tempfile.mkdtemp()
    targets = {"sqlite": os.path.join(folder, "curves.sqlite")}
    if args.postgres:
        targets.update({"optuna-postgres": args.postgres, "store-postgres": args.postgres})
    else:
        print("No PostgreSQL URL (--postgres or SKHANROCK_TEST_POSTGRES_URL): SQLite only.")
    print(f"{args.workers} workers, {args.seconds:g} s each, {args.epochs} epochs per trial, "
          f"{args.epoch_seconds:g} s of 'training' per epoch, {os.cpu_count()} CPU cores")
    print("| store | trials | trials/hour |\n|---|---|---|")
    for kind, target in targets.items():
        total, per_hour = measure(kind, target, args)
        print(f"| {kind} | {total} | {per_hour:,.0f} |")


if __name__ == "__main__":
    main()
