"""
MELD from your own copy
=======================

MELD (dialogues from the TV series *Friends*, seven emotions) has no facial or
vocal features in its CSV release, so the auxiliary tasks here are the past and
future labels (``families="hf"``). Point ``SKHANROCK_MELD`` at the folder that
holds ``train_sent_emo.csv``, ``dev_sent_emo.csv`` and ``test_sent_emo.csv``
(``SKHANROCK_MELD=~/data/MELD python plot_meld.py``); no data ships with the
package, and without the variable this page shows the code without training. This page trains on a slice of the training
dialogues for a few epochs to stay within two minutes; ``benchmarks/meld.py`` in
the repository runs the full-size comparison with a TF-IDF baseline.
"""

import os

from sklearn.pipeline import Pipeline
from skorch.callbacks import EarlyStopping

from skhanrock import AuxiliaryTargets, HanRockClassifier, MutualInfoLossWeights
from skhanrock.datasets import load_meld
from skhanrock.metrics import score
from skhanrock.nn import FrameValidSplit

quick = bool(os.environ.get("SKHANROCK_DOCS_QUICK"))
root = os.environ.get("SKHANROCK_MELD")


def fit_on_meld(root, n_dialogues, max_epochs):
    """Fit HAN-ROCK with history/future targets on MELD's first dialogues; score on test."""
    frame = load_meld(root)
    train = frame[frame["split"] == "train"]
    train = train[train["conversation"].isin(train["conversation"].unique()[:n_dialogues])]
    dev, test = frame[frame["split"] == "dev"], frame[frame["split"] == "test"]
    pipe = Pipeline([
        ("aux", AuxiliaryTargets(families="hf", label_offsets=(-2, -1, 1, 2))),
        ("weights", MutualInfoLossWeights(primary_weight=0.7, random_state=0)),
        ("han", HanRockClassifier(
            primary_units=64, context_size=6, embeddings="glove-6b-50d", max_epochs=max_epochs,
            lr=2 ** -9, batch_size=32, random_state=0,
            train_split=FrameValidSplit(dev, dev["emotion"]),
            callbacks=[EarlyStopping(patience=2, load_best=True)])),
    ])
    pipe.fit(train, train["emotion"])
    predicted = pipe.predict(test)
    return {metric: round(score(test["emotion"], predicted, metric), 3)
            for metric in ("weighted_f1", "accuracy")}


# %%
# With a copy of MELD, fit and score; without one, say where it is looked for.
if root:
    print(fit_on_meld(root, n_dialogues=60 if quick else 250, max_epochs=1 if quick else 4))
else:
    print("SKHANROCK_MELD is not set: point it at the folder with MELD's CSV files to train.")
