"""
Quick start
===========

Fit HAN-ROCK on generated conversations, with MONAH narratives, auxiliary targets
and mutual-information loss weights, and look at the fitted loss weights.
"""

import os

from skhanrock import make_paper_pipeline
from skhanrock.datasets import make_conversations

quick = bool(os.environ.get("SKHANROCK_DOCS_QUICK"))
X, y = make_conversations(n_conversations=30 if quick else 60, random_state=0)
train = X["conversation"] < "conv020"

# MONAH narratives -> auxiliary targets -> mutual-information loss weights -> HAN-ROCK
pipe = make_paper_pipeline("aphf", random_state=0, primary_units=64, context_size=6,
                           max_epochs=2 if quick else 8)
print([name for name, _ in pipe.steps])
pipe.fit(X[train], y[train])
print("held-out accuracy:", round(pipe.score(X[~train], y[~train]), 3))
print(pipe.named_steps["han"].loss_weights_.round(3))
