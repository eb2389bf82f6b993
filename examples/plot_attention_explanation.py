"""
Attention explanation
=====================

Analysts read a model's attention on the narrative it was given. This example
fits the paper's multi-task HAN-ROCK (MONAH narratives with action, prosody and
past/future label targets) and a single-task HAN on the same narratives, then
explains both on talkturns of a held-out conversation: word, talkturn and task
attention, standardised and bucketed (None, Low, Medium, High), drawn as a
figure and rendered as the HTML page an analyst would open, the two models side
by side with their own predictions.
"""

import html
import os
import tempfile

import matplotlib.pyplot as plt
import numpy as np

from skhanrock.datasets import make_conversations
from skhanrock.experiments import hypothesis_pipeline
from skhanrock.inspection import explain, plot_attention, render_html

quick = bool(os.environ.get("SKHANROCK_DOCS_QUICK"))
X, y = make_conversations(n_conversations=24 if quick else 40, random_state=0)
train = X["conversation"] < ("conv020" if quick else "conv034")
settings = {"han__primary_units": 32, "han__aux_units": 4, "han__context_size": 4,
            "han__max_epochs": 3 if quick else 8}
multi_task = hypothesis_pipeline("aphf", random_state=0).set_params(**settings)
single_task = hypothesis_pipeline("", random_state=0).set_params(**settings)
for pipe in (multi_task, single_task):
    pipe.fit(X[train], y[train])

# %%
# Explain two consecutive talkturns late in the first held-out conversation.
# ``rows`` are positions in the frame passed to :func:`~skhanrock.inspection.explain`;
# each talkturn is read with its context from that frame, as ``predict`` reads it,
# and the table keeps each model's prediction beside its attention.
X_test, y_test = X[~train], y[~train]
first = X_test["conversation"] == X_test["conversation"].iloc[0]
rows = np.flatnonzero(first)[-2:]
explanation = explain(multi_task, X_test, rows=rows)
compared = explain(single_task, X_test, rows=rows)
last = X_test.index[rows[-1]]
tasks = explanation[(explanation["level"] == "task") & (explanation["row"] == last)]
print(tasks[["token", "attention", "z", "bucket"]].to_string(index=False))

# %%
# The figure: talkturn boxes shaded by their attention bucket, the current one
# outlined, words heavier and darker with theirs; each panel names its model's
# prediction and the true label.
titles = ("HAN-ROCK, aphf auxiliary targets", "HAN, no auxiliary target")
plot_attention(explanation, row=last, compare=compared, labels=y_test,
               speakers=X_test["speaker"], titles=titles)
plt.show()

# %%
# The page for analysts: self-contained (it loads nothing) with every piece of
# user text escaped, so it can be mailed or archived as one file.
page = render_html(explanation, compare=compared, labels=y_test, speakers=X_test["speaker"],
                   titles=titles, path=os.path.join(tempfile.mkdtemp(), "explanation.html"))


class Page:
    """Shows the page in a frame of its own, wherever objects with ``_repr_html_`` are shown."""

    def _repr_html_(self):
        # A frame keeps the page's style from restyling the documentation around it.
        return (f'<iframe srcdoc="{html.escape(page)}" title="attention explanation" '
                f'style="width:100%; height:720px; border:1px solid #ccc"></iframe>')


Page()
