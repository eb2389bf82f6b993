"""
Nonverbal measurements, three ways in
=====================================

A table of per-talkturn measurements from some tool (Praat scripts, openSMILE,
:func:`~skhanrock.datasets.extract_prosody`) reaches HAN-ROCK three ways:

1. voiced in the MONAH narrative ("the woman loudly said ...");
2. reused as auxiliary targets the network learns to predict beside the
   emotion;
3. read as numbers through the feature path, whose share of each prediction
   :func:`~skhanrock.inspection.explain_features` lists.

Real recordings are not shipped with the package, so the measurement table is
made here for the built-in generated conversations, with the column names a
Praat script might use: loudness and pitch follow each speaker's voice and, a
little, the hidden emotion; the harmonics-to-noise ratio is noise. With your own
data, read your table instead of making one.
"""

import os

import numpy as np

from skhanrock import HanRockClassifier, MonahTranscriber, make_paper_pipeline
from skhanrock.datasets import attach_measurements, make_conversations
from skhanrock.inspection import explain_features

quick = bool(os.environ.get("SKHANROCK_DOCS_QUICK"))
X, y = make_conversations(n_conversations=16 if quick else 30, random_state=0)
talkturns = X[["conversation", "turn", "speaker", "speaker_label", "text", "start", "end"]]
train = (X["conversation"] < f"conv{3 * X['conversation'].nunique() // 4:03d}").to_numpy()

# %%
# The tool's table: one row per talkturn, keyed by conversation and turn, in its
# own column names. Only the measurement depends on the emotion (unlabelled
# talkturns speak as neutral ones); the example never reads it elsewhere.
rng = np.random.default_rng(0)
voice = {s: (rng.normal(60, 4), rng.uniform(110, 220)) for s in X["speaker"].unique()}
louder = {"angry": 6.0, "happy": 3.0, "neutral": 0.0, "sad": -4.0}
higher = {"angry": 1.2, "happy": 1.15, "neutral": 1.0, "sad": 0.9}
emotion = y.fillna("neutral")
praat = X[["conversation", "turn"]].assign(
    avg_intensity=[voice[s][0] + louder[e] + rng.normal(0, 2)
                   for s, e in zip(X["speaker"], emotion, strict=True)],
    avg_pitch=[voice[s][1] * higher[e] * rng.lognormal(0, 0.05)
               for s, e in zip(X["speaker"], emotion, strict=True)],
    mean_hnr=rng.normal(12, 2, len(X)),
).iloc[2:]   # the tool failed on the first two talkturns
print(praat.head(3).round(2).to_string(index=False))

# %%
# Attach the table by key. Talkturns left without a row get NaN (a missing
# measurement, masked by every consumer) and are counted and named in a warning.
talkturns = attach_measurements(talkturns, praat, on=["conversation", "turn"])
meanings = {"loudness": "avg_intensity", "pitch": "avg_pitch", "voice_quality": "mean_hnr"}

# %%
# 1. Voiced in the MONAH narrative. Each measurement is z-scored against the
# speaker's earlier talkturns of the conversation and voiced beyond its
# threshold (a z-score of 3 by default: lower ones voiced too many noisy cues on
# real recordings); the same dict tells every consumer which column means what.
monah = MonahTranscriber(cues="vp", measurements=meanings)
narratives = monah.fit_transform(talkturns)["narrative"]
for text in narratives[narratives.str.contains("loudly|softly|pitch")].head(3):
    print("-", text)

# %%
# 2. Reused as auxiliary targets: ``columns=`` the same dict names the targets
# by their meaning (``aux:loudness``...), beside timing and the neighbours'
# labels, and the pipeline weighs each task by its mutual information with the
# emotion.
settings = {"random_state": 0, "primary_units": 16, "aux_units": 16, "context_size": 4,
            "max_epochs": 2 if quick else 4, "embeddings": "random"}
pipe = make_paper_pipeline("thf", **settings)
pipe.set_params(monah__cues="vp", monah__measurements=meanings, aux__columns=meanings)
pipe.fit(talkturns[train], y[train])
print(pipe.named_steps["han"].loss_weights_.round(3).head(6))
print("held-out accuracy, narrative + auxiliary targets:",
      round(pipe.score(talkturns[~train], y[~train]), 3))

# %%
# 3. Read as numbers through the feature path: standardised per speaker against
# the past only, masked where unknown, entering at the talkturn level and through
# a linear layer whose share of each prediction is exact to explain.
clf = HanRockClassifier(feature_columns=list(meanings.values()), **settings)
clf.fit(talkturns[train], y[train])
print("held-out accuracy, words + feature path:",
      round(clf.score(talkturns[~train], y[~train]), 3))
held_out = talkturns[~train]
table = explain_features(clf, held_out, rows=[5])
print(table.loc[table["context"] == 0,
                ["feature", "input", "value", "coefficient", "contribution"]].round(3)
      .to_string(index=False))
