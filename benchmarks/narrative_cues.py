"""Why the MONAH narrative hurts on IEMOCAP: cheap measurements, then a few network fits.

Issue 29, item 3. IEMOCAP sessions 1-3 (``../shared/data/iemocap/sessions_1_3.csv``;
sessions 4-5 are withheld and never read), 4 classes, narratives of
``MonahTranscriber(cues="vp", measurements={"loudness": "avg_intensity", "pitch":
"avg_pitch"})`` with the talkturn times (speech rate, pauses) and a speaker label
``woman`` / ``man`` from the speaker id's last letter. ``--set NAME=JSON``
changes a transcriber parameter (``--set loudness_threshold=2`` gives the rules
of before the fix).

Without ``--network`` (seconds): how many talkturns ``max_words`` cuts with and
without the narrative (the package's tokenisation), how many cues fire per
talkturn and in a speaker's first talkturns (and how much a fired loudness,
pitch or rate cue says about the arousal rating there and later), and TF-IDF
1-2 grams + logistic regression on the three speaker-disjoint rotations
(C chosen on 20% of the training conversations, as ``real_corpora.py`` does)
on the words, on the narratives, on the words with the narrative's cue prefix
in a vocabulary of its own, and on the prefix alone; then the narrative
n-grams among the heaviest coefficients.

With ``--network SEED``: one ``HanRockClassifier(embeddings="glove-6b-50d",
label_offsets=[])`` fit on the narratives (lexical path on, the defaults
otherwise; ``--lexical-column text`` gives the lexical path the verbatim
words), sessions 1-2 -> 3, one torch thread; one JSON line (``--out``)::

    OMP_NUM_THREADS=1 python benchmarks/narrative_cues.py [--set min_history=5]
    OMP_NUM_THREADS=1 python benchmarks/narrative_cues.py --network 0 --out narrative.jsonl
        [--lexical-column text]
"""

import argparse
import json
import sys
import time
import warnings
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.sparse import hstack
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, f1_score

sys.path.insert(0, str(Path(__file__).resolve().parent))
from real_corpora import IEMOCAP_ROOT, ROTATIONS, TFIDF_C_GRID, split_conversations  # noqa: E402

from skhanrock import HanRockClassifier, MonahTranscriber  # noqa: E402
from skhanrock.nn import tokenize  # noqa: E402

MEASUREMENTS = {"loudness": "avg_intensity", "pitch": "avg_pitch"}
COLUMNS = ["conversation", "turn", "speaker", "speaker_label", "text", "start", "end",
           "avg_intensity", "avg_pitch"]
#: Cue phrases counted (a phrase inside a longer one is not counted twice).
PHRASES = ("loudly", "softly", "in a high", "in a low", "very slowly", "slowly", "very quickly",
           "quickly", "hundred milliseconds")
Z_PHRASES = PHRASES[:-1]   # the cues a z-score decides (the pause length is always voiced)


def load(root):
    frame = pd.read_csv(Path(root) / "sessions_1_3.csv")
    frame = frame.sort_values(["conversation", "turn"], kind="stable").reset_index(drop=True)
    frame["speaker_label"] = np.where(frame["speaker"].str.endswith("F"), "woman", "man")
    return frame


def narratives(frame, params):
    monah = MonahTranscriber(cues="vp", measurements=MEASUREMENTS, **params)
    return monah.fit_transform(frame[COLUMNS])["narrative"]


def prefix(narrative, text):
    """The narrative before the verbatim words (the words are its lower-cased end)."""
    return narrative[:max(0, len(narrative) - len(text.strip()) - 1)]


def phrases(prefix_text):
    found = []
    for phrase in PHRASES:
        if f" {phrase}" in f" {prefix_text}" and not any(
                phrase in longer and longer in found for longer in PHRASES if longer != phrase):
            found.append(phrase)
    return found


def truncation(text, narrative, n_rows):
    n_text = np.array([len(tokenize(t)) for t in text])
    n_narrative = np.array([len(tokenize(t)) for t in narrative])
    print(f"tokens per talkturn: words {n_text.mean():.1f}, narrative {n_narrative.mean():.1f}")
    for max_words in (64, 32):
        cut = {name: (n > max_words).sum() for name, n in
               (("words", n_text), ("narrative", n_narrative))}
        lost = {name: np.clip(n - max_words, 0, None).sum() / n_text.sum() for name, n in
                (("words", n_text), ("narrative", n_narrative))}
        print(f"max_words={max_words}: talkturns cut: words {cut['words']} "
              f"({cut['words'] / n_rows:.1%}), narrative {cut['narrative']} "
              f"({cut['narrative'] / n_rows:.1%}); tokens lost per word: words "
              f"{lost['words']:.2%}, narrative {lost['narrative']:.2%}")


def firing(frame, cues):
    n_cues = np.array([len(c) for c in cues])
    print("cue phrases per talkturn:", dict(sorted(Counter(n_cues.tolist()).items())),
          f"mean {n_cues.mean():.2f}")
    print("share of talkturns per cue:",
          {p: round(c / len(frame), 3) for p, c in Counter(p for c in cues for p in c).items()})
    position = frame.groupby(["conversation", "speaker"]).cumcount().to_numpy()
    z_fired = np.array([any(p in Z_PHRASES for p in c) for c in cues])
    for low, high in ((0, 2), (2, 3), (3, 5), (5, 10), (10, 10 ** 6)):
        rows = (position >= low) & (position < high)
        print(f"speaker's talkturns {low}-{min(high - 1, 999)}: {rows.sum()} talkturns, "
              f"{z_fired[rows].mean():.3f} with a z-score cue, {n_cues[rows].mean():.2f} cues")
    arousal = frame["arousal"].to_numpy()
    for phrase in ("loudly", "softly", "in a high", "in a low", "quickly", "slowly"):
        fired = np.array([phrase in c for c in cues])
        cells = []
        for low, high in ((2, 5), (5, 10 ** 6)):
            rows = (position >= low) & (position < high)
            cells.append(f"talkturns {low}-{min(high - 1, 999)}: fires {fired[rows].mean():.3f}, "
                         f"arousal {np.nanmean(arousal[rows & fired]) - np.nanmean(arousal[rows]):+.2f}")
        print(f"  {phrase:10s} " + "; ".join(cells))


def tfidf():
    return TfidfVectorizer(tokenizer=tokenize, lowercase=False, token_pattern=None,
                           ngram_range=(1, 2), sublinear_tf=True, min_df=2)


def features(columns, fit_rows, row_sets):
    """TF-IDF of each text column (a vocabulary each), side by side."""
    blocks = [[] for _ in row_sets]
    for column in columns:
        vectorizer = tfidf().fit(column.iloc[fit_rows])
        for block, rows in zip(blocks, row_sets, strict=True):
            block.append(vectorizer.transform(column.iloc[rows]))
    return [hstack(block).tocsr() for block in blocks]


def rotation_scores(frame, y, columns):
    labelled = y.notna().to_numpy()
    accuracy, weighted_f1 = [], []
    for train_sessions, test_session in ROTATIONS:
        training = np.flatnonzero(frame["session"].isin(train_sessions).to_numpy() & labelled)
        testing = np.flatnonzero((frame["session"] == test_session).to_numpy() & labelled)
        dev = split_conversations(frame.iloc[training], 0.2)
        fit_rows, dev_rows = training[~dev], training[dev]
        fit_matrix, dev_matrix = features(columns, fit_rows, [fit_rows, dev_rows])
        dev_f1 = {c: f1_score(y.iloc[dev_rows], LogisticRegression(C=c, max_iter=3000).fit(
            fit_matrix, y.iloc[fit_rows]).predict(dev_matrix), average="weighted")
            for c in TFIDF_C_GRID}
        train_matrix, test_matrix = features(columns, training, [training, testing])
        model = LogisticRegression(C=max(dev_f1, key=dev_f1.get), max_iter=3000)
        predicted = model.fit(train_matrix, y.iloc[training]).predict(test_matrix)
        accuracy.append(accuracy_score(y.iloc[testing], predicted))
        weighted_f1.append(f1_score(y.iloc[testing], predicted, average="weighted"))
    return accuracy, weighted_f1


def heaviest_narrative_ngrams(frame, y, narrative, cue_prefix):
    rows = (frame["session"].isin(ROTATIONS[0][0]) & y.notna()).to_numpy()
    vectorizer = tfidf()
    matrix = vectorizer.fit_transform(narrative[rows])
    model = LogisticRegression(C=max(TFIDF_C_GRID), max_iter=3000).fit(matrix, y[rows])
    names = vectorizer.get_feature_names_out()
    weight = np.abs(model.coef_).max(axis=0)
    narrative_words = set(tokenize(" ".join(cue_prefix))) - set(
        tokenize(" ".join(frame["text"].astype(str))))
    narrative_words |= {"said", "woman", "man"}
    top = [names[i] for i in np.argsort(-weight)[:200]]
    print("narrative n-grams among the 200 heaviest (sessions 1-2):",
          [n for n in top if any(w in narrative_words for w in n.split())])


def diagnose(frame, narrative):
    text = frame["text"].astype(str)
    cue_prefix = pd.Series([prefix(n, t) for n, t in zip(narrative, text, strict=True)])
    truncation(text, narrative, len(frame))
    firing(frame, [phrases(p) for p in cue_prefix])
    y = frame["emotion4"]
    print("TF-IDF 1-2 grams + logistic regression, 4 classes, rotations "
          + ", ".join(f"{'+'.join(s)}->{t}" for s, t in ROTATIONS))
    arms = {"words": [text], "narrative": [narrative],
            "words + cue prefix kept apart": [text, cue_prefix], "cue prefix alone": [cue_prefix]}
    for name, columns in arms.items():
        accuracy, weighted_f1 = rotation_scores(frame, y, columns)
        print(f"  {name:30s} accuracy {' '.join(f'{a:.3f}' for a in accuracy)} "
              f"mean {np.mean(accuracy):.3f} | weighted F1 mean {np.mean(weighted_f1):.3f}")
    heaviest_narrative_ngrams(frame, y, narrative, cue_prefix)


def network(frame, narrative, seed, params, out, lexical_column=None):
    import torch
    torch.set_num_threads(1)
    X = frame[["conversation", "turn", "speaker", "text", "session"]].assign(narrative=narrative)
    y = frame["emotion4"]
    train = X["session"].isin(ROTATIONS[0][0]).to_numpy()
    test = (X["session"] == ROTATIONS[0][1]).to_numpy()
    start = time.perf_counter()
    model = HanRockClassifier(embeddings="glove-6b-50d", label_offsets=[], random_state=seed,
                              lexical_column=lexical_column)
    model.fit(X[train], y[train])
    labelled = y[test].notna().to_numpy()
    truth = y[test][labelled].astype(str)
    predicted = np.asarray(model.predict(X[test]), dtype=str)[labelled]
    result = {"seed": seed, "set": params, "lexical_column": lexical_column, "seconds": round(time.perf_counter() - start),
              "accuracy": round(accuracy_score(truth, predicted), 4),
              "weighted F1": round(f1_score(truth, predicted, average="weighted"), 4)}
    print(json.dumps(result), flush=True)
    with open(out, "a") as handle:
        handle.write(json.dumps(result) + "\n")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--root", default=str(IEMOCAP_ROOT))
    parser.add_argument("--set", nargs="*", default=[], metavar="NAME=JSON")
    parser.add_argument("--network", type=int, default=None, metavar="SEED")
    parser.add_argument("--out", default="narrative_cues.jsonl")
    parser.add_argument("--lexical-column", default=None)
    args = parser.parse_args()
    params = {}
    for item in args.set:
        name, _, value = item.partition("=")
        params[name] = json.loads(value)
    frame = load(args.root)
    narrative = narratives(frame, params)
    if args.network is None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)   # tokenizer= without token_pattern
            diagnose(frame, narrative)
    else:
        network(frame, narrative, args.network, params, args.out, args.lexical_column)


if __name__ == "__main__":
    main()
