"""
Streaming a conversation turn by turn
=====================================

A live call, a therapy session or a hearing does not arrive as a finished
frame. :class:`~skhanrock.ConversationStream` takes a fitted model (here the
paper's MONAH pipeline) and predicts each talkturn as it arrives. It encodes each
talkturn's words once, keeps the encodings of the last ``context_size``
talkturns, and narrates MONAH cues from the speaker's earlier talkturns only. So
a talkturn costs the same after two hundred talkturns as after two, and every
answer equals what ``predict`` gives for the last row of the conversation so far.
"""

import os
import time

from skhanrock import ConversationStream, make_paper_pipeline
from skhanrock.datasets import make_conversations

quick = bool(os.environ.get("SKHANROCK_DOCS_QUICK"))
X, y = make_conversations(n_conversations=30 if quick else 60, random_state=0)
train = X["conversation"] < "conv020"
pipe = make_paper_pipeline("aphf", random_state=0, primary_units=64, context_size=6,
                           max_epochs=2 if quick else 6)
pipe.fit(X[train], y[train])

# %%
# Talkturns arrive one at a time, as dicts (what a transcription service would
# send); ``add`` returns the prediction, ``predict_proba`` the probabilities
# behind it.
stream = ConversationStream(pipe)
conversation = X[X["conversation"] == "conv025"].sort_values("turn")
for talkturn in conversation.head(6).to_dict("records"):
    start = time.perf_counter()
    label = stream.add(talkturn)
    milliseconds = 1000 * (time.perf_counter() - start)
    best = stream.predict_proba().max()
    print(f"turn {talkturn['turn']:2d} {talkturn['speaker_label']:5s} "
          f"{talkturn['text'][:40]:40s} -> {label:7s} (p={best:.2f}, {milliseconds:.1f} ms)")

# %%
# The newest talkturn's attention: which earlier talkturns of its window the
# primary task read, and which of its own words.
attention = stream.attention()
print("context (talkturn positions):", attention.context.tolist())
print("talkturn attention:", attention.talkturn[0].round(2).tolist())
narrative = pipe.named_steps["monah"].transform(conversation.head(6))["narrative"].iloc[-1]
print("words of the newest narrative:", narrative)
print("their attention:", attention.word[0][-1].round(2).tolist())

# %%
# The answers equal batch prediction on each prefix of the conversation.
replay = ConversationStream(pipe)
streamed = [replay.add(t) for t in conversation.to_dict("records")]
batch = [pipe.predict(conversation.head(end))[-1] for end in range(1, len(conversation) + 1)]
print("stream == predict on every prefix:", streamed == batch)
print("stream.prediction() is the last answer:", replay.prediction() == streamed[-1])

# %%
# The stream wraps the estimator's own incremental predictor, ``predict_next``:
# it takes one conversation's next talkturn (here the narrative the pipeline's
# transcriber writes) and the state the previous call returned.
estimator = pipe[-1]
narratives = pipe.named_steps["monah"].transform(conversation)
state = None
for talkturn in narratives.to_dict("records"):
    state = estimator.predict_next(talkturn, state)
print("predict_next on the last talkturn:", state.prediction,
      "probabilities", state.probabilities.round(2).tolist())

# %%
# From a shell, a saved model streams JSON lines (one talkturn per line in, one
# prediction per line out), so that it can sit behind a transcription service::
#
#     skhanrock.save_model(pipe, "pipe.skhanrock")        # in Python, once
#     transcriber | skhanrock stream --model pipe.skhanrock | dashboard
