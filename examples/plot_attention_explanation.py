"""
Attention explanation
=====================

Explain one prediction: word, talkturn and task attention, drawn as a figure and
rendered as an HTML page for analysts.
"""

import os
import tempfile

import matplotlib.pyplot as plt

from skhanrock import HanRockClassifier
from skhanrock.datasets import make_conversations
from skhanrock.inspection import explain, plot_attention, render_html

quick = bool(os.environ.get("SKHANROCK_DOCS_QUICK"))
X, y = make_conversations(n_conversations=20, random_state=0)
clf = HanRockClassifier(primary_units=32, context_size=4, max_epochs=2 if quick else 6,
                        random_state=0).fit(X, y)
explanation = explain(clf, X, rows=[7])
print(explanation[explanation["level"] == "task"][["token", "attention", "bucket"]])

plot_attention(explanation)
plt.show()

page = render_html(explanation, predictions=clf.predict(X.iloc[[7]]), labels=y.iloc[[7]],
                   speakers=X["speaker"],
                   path=os.path.join(tempfile.mkdtemp(), "explanation.html"))
print(len(page), "characters of HTML")
