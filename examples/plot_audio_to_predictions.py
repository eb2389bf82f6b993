"""
From audio files to predictions with open tools
===============================================

The paper's prosody family came from Vokaturi, a proprietary SDK. Here the whole
pipeline runs from recordings and a timed transcript with open tools only:
:func:`~skhanrock.datasets.extract_prosody` measures pitch, loudness and voicing
with Praat's algorithms (``pip install skhanrock[prosody]``);
:class:`~skhanrock.MonahTranscriber` voices them in the narratives ("loudly", "in a
high pitch"); :class:`~skhanrock.AuxiliaryTargets` reuses them as the ``o`` family
of auxiliary targets; HAN-ROCK learns from both.

Real recordings are not shipped with the package, so this example writes one WAV
file per conversation of the built-in generator: each talkturn is a voiced
harmonic sound at the talkturn's times, whose pitch and loudness follow the
speaker and, a little, the hidden emotion (angry speech louder and higher, sad
speech softer and lower). With your own data, point ``extract_prosody`` at your
files (the file stem is the conversation id) and skip the synthesis.
"""

import os
import tempfile
from pathlib import Path

import numpy as np
import soundfile

from skhanrock import make_paper_pipeline
from skhanrock.datasets import extract_prosody, make_conversations

quick = bool(os.environ.get("SKHANROCK_DOCS_QUICK"))
X, y = make_conversations(n_conversations=36 if quick else 48, random_state=0)

# %%
# Recordings: one file per conversation, 16 kHz mono.
RATE = 16000
PITCH = {"angry": 1.25, "happy": 1.15, "neutral": 1.0, "sad": 0.85}   # times the speaker's
LOUDNESS = {"angry": 0.5, "happy": 0.35, "neutral": 0.25, "sad": 0.12}
rng = np.random.default_rng(0)
voice_of = {s: rng.uniform(110, 220) for s in X["speaker"].unique()}
folder = Path(tempfile.mkdtemp(prefix="skhanrock-audio-"))
emotion = y.fillna("neutral")  # unlabelled talkturns still speak; this only drives the audio
for conversation, part in X.groupby("conversation"):
    signal = np.zeros(int((part["end"].max() + 0.5) * RATE))
    for row, talkturn in part.iterrows():
        start, end = int(talkturn["start"] * RATE), int(talkturn["end"] * RATE)
        t = np.arange(end - start) / RATE
        f0 = voice_of[talkturn["speaker"]] * PITCH[emotion[row]] * (1 + 0.03 * np.sin(3 * t))
        phase = 2 * np.pi * np.cumsum(f0) / RATE
        harmonics = sum(np.sin(k * phase) / k for k in range(1, 8))
        envelope = np.minimum(1, np.minimum(t, t[-1] - t) / 0.02)
        signal[start:end] = LOUDNESS[emotion[row]] * envelope * harmonics / 2
    signal += rng.normal(0, 0.002, len(signal))
    soundfile.write(folder / f"{conversation}.wav", signal, RATE)
print(len(list(folder.glob("*.wav"))), "recordings in", folder)

# %%
# Prosody per talkturn, measured from the audio.
frame = extract_prosody(X, folder / "*.wav", progress=False)
print(frame[["conversation", "turn", "speaker", "pitch_median_hz", "intensity_db",
             "voiced_fraction", "silence_before"]].head().round(2).to_string(index=False))

# %%
# MONAH narratives now voice loudness and pitch against the speaker's earlier
# talkturns.
pipe = make_paper_pipeline("aohf", random_state=0, primary_units=32, context_size=6,
                           max_epochs=5 if quick else 6)
narratives = pipe.named_steps["monah"].fit_transform(frame)["narrative"]
for text in narratives[narratives.str.contains("loudly|softly|pitch")].head(3):
    print(text)

# %%
# Auxiliary targets from the open prosody features, then HAN-ROCK; fitted on
# two thirds of the conversations and scored on the rest.
train = frame["conversation"] < f"conv{2 * frame['conversation'].nunique() // 3:03d}"
pipe.fit(frame[train], y[train])
print([t for t in pipe.named_steps["han"].task_names_ if t.startswith("aux:")][:8])
print("held-out accuracy:", round(pipe.score(frame[~train], y[~train]), 3))
