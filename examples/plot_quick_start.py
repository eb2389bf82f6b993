"""
Quick start
===========

Fit HAN-ROCK on generated conversations, with MONAH narratives, auxiliary targets
and mutual-information loss weights, and look at the fitted loss weights.
"""

import os

from sklearn.pipeline import Pipeline

from skhanrock import AuxiliaryTargets, HanRockClassifier, MonahTranscriber, MutualInfoLossWeights
from skhanrock.datasets import make_conversations

quick = bool(os.environ.get("SKHANROCK_DOCS_QUICK"))
X, y = make_conversations(n_conversations=30 if quick else 60, random_state=0)
train = X["conversation"] < "conv020"

pipe = Pipeline([
    ("monah", MonahTranscriber()),
    ("aux", AuxiliaryTargets(families="aphf")),
    ("weights", MutualInfoLossWeights(random_state=0)),
    ("han", HanRockClassifier(primary_units=64, context_size=6, max_epochs=2 if quick else 8,
                              random_state=0)),
])
pipe.fit(X[train], y[train])
print("held-out accuracy:", round(pipe.score(X[~train], y[~train]), 3))
print(pipe.named_steps["han"].loss_weights_.round(3))
