"""
From OpenFace and Vokaturi files to MONAH narratives
====================================================

Users arrive with files on disk: one OpenFace ``FeatureExtraction`` CSV per video
(frame-level action-unit intensities and presence flags) and a Vokaturi table of
tone probabilities per talkturn. This example writes such files for generated
conversations, reads them back, attaches the frames to talkturns by time, and
weaves the cues into the transcript.
"""

import tempfile

import matplotlib.pyplot as plt

from skhanrock import AuxiliaryTargets, MonahTranscriber
from skhanrock.datasets import (
    align_frames,
    make_conversations,
    make_feature_files,
    read_openface,
    read_vokaturi,
)

generated, y = make_conversations(n_conversations=4, random_state=0)
directory = tempfile.mkdtemp()
paths = make_feature_files(generated, directory, random_state=0)
print("OpenFace files:", len(paths["openface"]), "| Vokaturi table:", paths["vokaturi"])

# %%
# Read the files as OpenFace and Vokaturi wrote them. The OpenFace reader keeps
# the video id (the file name), strips the header's leading spaces and checks
# that no two files cover the same video.
frames = read_openface(paths["openface"])
tones = read_vokaturi(paths["vokaturi"])
print(frames.iloc[:3, :8])

# %%
# Attach frames to talkturns by time. Frames where OpenFace lost the face
# (``success == 0`` or low confidence) are ignored, and they end a run of
# presence (a smile needs AU06 and AU12 together for 0.5 s without a break); a
# talkturn with no usable frame gets missing values, not zeros. The talkturns'
# ``conversation`` ids must equal the videos' ids, here the file names.
transcript = generated[["conversation", "turn", "speaker", "speaker_label", "text", "start",
                        "end"]]
talkturns = align_frames(transcript.merge(tones, on=["conversation", "turn"]), frames,
                         video_column="conversation")
print(talkturns.filter(like="AU12").head())

# %%
# The frames of the first conversation, with the talkturn boundaries.
video = frames[frames["video"] == "conv000"]
fig, ax = plt.subplots(figsize=(8, 2.5))
ax.plot(video["timestamp"], video["AU12_r"], linewidth=0.8, label="AU12 (lip corner puller)")
for start in talkturns.loc[talkturns["conversation"] == "conv000", "start"]:
    ax.axvline(start, color="grey", linewidth=0.5)
ax.set_xlabel("seconds")
ax.legend(loc="upper right")

# %%
# MONAH narratives: actions, smiles, tone, speech rate and pauses woven into the
# words, with z-scores against each speaker's earlier talkturns only.
narratives = MonahTranscriber().fit_transform(talkturns)
for text in narratives["narrative"].head(4):
    print("-", text)

# %%
# The same features, reused as auxiliary targets: percentile ranks fitted on
# these rows and scaled to the primary range.
targets = AuxiliaryTargets(families="ap").fit_transform(talkturns, y)
print(targets.filter(like="aux:").describe().loc[["min", "max"]].round(2))
