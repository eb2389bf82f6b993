"""
The paper's hypotheses on built-in data
=======================================

H1: do auxiliary targets help (none, ap, aphf)? H2: how should the capacity be
split between the primary and the auxiliary branch? H3: should the auxiliary
branch sit below the primary task (HAN-ROCK) rather than beside it (flat MTL)?
Each arm gets a random search with the same parameter draws and seeds; the
trial best on dev is read on test, and the paper's bootstrap compares each arm
with the baseline (``*`` = significantly better: the 95% interval of the
difference lies above zero; a significantly worse arm gets no star).

The data are in the demo's regime, the paper's setting: annotators disagree
with the hidden emotion on 30% of the talkturns, half of the talkturns are
unlabelled, and the words carry half their usual emotion, while the nonverbal
features stay noisy views of it. The budget is tiny so the page builds in about
a minute: one or two trials per arm, a few epochs, about a dozen test
conversations. At that size the differences below are mostly training noise
(the demo, ``python -m skhanrock demo``, measures that noise over several
runs); read this page for how the experiments run and what they report, and
use ``skhanrock experiment --trials 30`` (the paper's budget: 30 trials of up
to 350 epochs) for the answer.
"""

import os

from scipy.stats import loguniform, randint

from skhanrock.datasets import PAPER_REGIME, make_conversations
from skhanrock.experiments import markdown_table, paper_table, run_experiment
from skhanrock.inspection import plot_experiment

quick = bool(os.environ.get("SKHANROCK_DOCS_QUICK"))
# The demo's regime: noisy labels, half of them missing, weak words.
X, y = make_conversations(n_conversations=40 if quick else 60, n_speakers=120, random_state=0,
                          **PAPER_REGIME)
settings = {
    "n_trials": 1 if quick else 2,
    # Enough epochs for every arm to train: with two, the auxiliary arms, whose
    # primary loss has half the weight, were still near chance.
    "max_epochs": 8,
    "n_resamples": 200,
    "search_space": {"han__lr": loguniform(2 ** -9, 2 ** -6),
                     "han__context_size": randint(3, 9),
                     "weights__assignment": ["linear", "softmax"]},
    "fixed_params": {"han__primary_units": 32, "han__aux_units": 4, "han__batch_size": 32},
}

# %%
# The capacity is fixed at P = 32 and A = 4 to keep the example fast (the paper's
# A = 257 - P would give every one of the 16 auxiliary encoders 225 units), except
# in H2, whose arms set P themselves (an arm's own setting wins over a fixed one).
results = {name: run_experiment(X, y, name, **settings) for name in ("H1", "H3")}
results["H2"] = run_experiment(X, y, "H2", **{**settings, "n_trials": 1})
print(markdown_table(results["H1"].table[["cell", "difference", "low", "high"]], "H1"))

# %%
# The table in the paper's layout: one column per experiment, ``*`` for a
# significant improvement over that experiment's baseline.
for name, result in results.items():
    print(name, "baseline:", result.baseline)
    print(paper_table({f"{name} test {result.metric}": result}).to_string(), "\n")

# %%
# The same results as figures: the difference of each arm to its baseline, with
# the bootstrap interval and the zero line.
plot_experiment(results)
