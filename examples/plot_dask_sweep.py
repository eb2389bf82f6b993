"""
A random search on a local Dask cluster
=======================================

The same ``RandomizedSearchCV`` code runs on a Dask cluster through joblib: here a
``LocalCluster`` of two worker processes on this machine, in production a
scheduler and one worker per GPU on several machines (see the user guide). The
median-stopping rule reads and writes the learning curves of all trials in one
SQLite file, fresh for this sweep, so a trial stops when it falls below the
median of the others, whichever worker runs them. SQLite serves the workers of
one host; on several machines the user guide shows a store for a shared folder.
"""

import os
import tempfile

import joblib
import matplotlib.pyplot as plt
import torch
from dask.distributed import Client, LocalCluster
from scipy.stats import loguniform
from sklearn.model_selection import RandomizedSearchCV

from skhanrock import HanRockClassifier
from skhanrock.datasets import make_conversations
from skhanrock.model_selection import MedianStopping, SpeakerGroupKFold, SQLiteCurveStore
from skhanrock.nn import ConversationValidSplit

quick = bool(os.environ.get("SKHANROCK_DOCS_QUICK"))


def sweep(store):
    """A random search over the learning rate, fitted on two local worker processes."""
    X, y = make_conversations(n_conversations=20 if quick else 30, n_speakers=80, random_state=0)
    net = HanRockClassifier(
        primary_units=32, aux_units=4, context_size=6, max_epochs=6 if quick else 10,
        random_state=0,
        train_split=ConversationValidSplit(0.25, random_state=0),
        callbacks=[MedianStopping(store, study="sweep", first_check=3, every=2)])
    search = RandomizedSearchCV(net, {"lr": loguniform(2 ** -12, 2 ** -3)},
                                n_iter=3 if quick else 6, cv=SpeakerGroupKFold(2),
                                random_state=0)
    # Worker processes, one thread each, listening on the loopback interface only.
    cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                           host="127.0.0.1", dashboard_address=None)
    with cluster, Client(cluster) as client, joblib.parallel_config(backend="dask"):
        # torch would start one thread per core in every worker; two workers on
        # two cores would then spin against each other and run several times slower.
        client.run(torch.set_num_threads, 1)
        search.fit(X, y)
    return search


# %%
# Worker processes start by importing this script again, so the work runs under
# the ``__main__`` guard.
if __name__ == "__main__":
    store = os.path.join(tempfile.mkdtemp(), "curves.sqlite")
    search = sweep(store)
    print("best learning rate:", round(search.best_params_["lr"], 5),
          "| best CV accuracy:", round(search.best_score_, 3))

    # Every trial's dev-loss curve, as the workers wrote them; the short ones
    # were stopped by the median rule.
    curves = SQLiteCurveStore(store).curves("sweep")
    fig, ax = plt.subplots(figsize=(6, 3))
    for _, curve in curves.groupby("trial"):
        ax.plot(curve["epoch"], curve["score"], marker="o", markersize=3)
    ax.set_xlabel("epoch")
    ax.set_ylabel("dev loss")
    stopped = curves.groupby("trial")["epoch"].max()
    print(f"{(stopped < search.estimator.max_epochs).sum()} of {len(stopped)} trials "
          "stopped early")
