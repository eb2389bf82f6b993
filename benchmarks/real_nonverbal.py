"""The paper's H1 on real recordings: do nonverbal measurements help, and which way in?

Issue 29, item 4. The arms, the protocol and the decision rule were written
into ``docs/user_guide/nonverbal.rst`` ("Pre-registration: H1 on real
recordings") before any arm was run; this script runs exactly them.

Corpora (``--corpus``), never copied into the package:

- **IEMOCAP** sessions 1-3 (``../shared/data/iemocap/sessions_1_3.csv``;
  sessions 4-5 are withheld and never read): the speaker-disjoint rotations
  of ``real_corpora.py`` (two sessions train, the third tests), complete
  conversations, tasks 4-class, 6-class, valence, arousal, dominance;
- **MELD** official train and test splits, 7 classes, with the Praat
  measurements of its own audio (``../shared/data/meld/prosody/``) joined by
  dialogue and utterance.

Both corpora carry the same eight Praat columns (``PROSODY``); the five with a
meaning the package knows are named in ``MEANINGS``.

Arms (``--arms``), each a pipeline a user could type; ``E`` is ``--embeddings``:

- ``tfidf``, ``tfidf_prosody``: the cheap references, TF-IDF 1-2 grams of the
  talkturn and its three predecessors, logistic regression (ridge for a
  rating), C (alpha) chosen on the networks' dev conversations; the second
  with the eight measurements appended (median-imputed, standardised);
- ``words``: ``HanRock*(embeddings=E, label_offsets=())``, the words alone;
- ``narrative``: ``MonahTranscriber(cues="vp", measurements=MEANINGS)`` before
  it (the measurements voiced as MONAH cues);
- ``features``: ``feature_columns=PROSODY`` (the feature path);
- ``aux_prosody``, ``aux_timing``, ``aux_history_future``, ``aux_all``:
  ``AuxiliaryTargets`` (the eight columns as targets; ``t``; ``hf``; all
  three) and ``MutualInfoLossWeights`` before the network, which takes its loss
  weights and label offsets from them;
- ``best``: the union of the levers above whose mean *dev* score beat
  ``words``' mean dev score over the runs already finished (chosen on dev,
  never on test; ``aux_all`` counts as its three families).

Every arm trains with the same dev early stopping: 20% of the training
conversations held out (``ConversationValidSplit(0.2, random_state=0)``, the
same conversations for every arm and seed), weighted F1 (or minus the MAE)
scored on them after each epoch, ``EarlyStopping(patience=--patience,
load_best=True)`` within ``--epochs`` epochs. A run is one (rotation, seed);
each arm's difference from ``words`` is paired by run, and the table gives its
mean with the 95% t interval over runs. An arm *helps* when that interval
excludes zero on the side of a better score, *hurts* when it excludes zero on
the other side, and otherwise the data cannot tell.

Run from the repository root (a network fit is minutes on one thread: the full
design is thousands of CPU minutes, meant for a larger machine; ``--out`` keeps
every finished fit so that a run can be resumed and split across machines)::

    OMP_NUM_THREADS=1 python benchmarks/real_nonverbal.py --corpus {iemocap,meld}
        [--embeddings glove-6b-50d|all-MiniLM-L6-v2] [--tasks 4-class,arousal]
        [--arms words,features,...] [--seeds 0 1 2 3 4] [--rotations 3]
        [--epochs 30] [--patience 5] [--out fits.jsonl] [--quick]

``--quick`` is a smoke run (a few conversations, 2 epochs, two seeds, first
rotation) that exercises every arm.
"""

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.sparse
from scipy import stats
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler
from skorch.callbacks import EarlyStopping, EpochScoring

sys.path.insert(0, str(Path(__file__).resolve().parent))
from meld import PREVIOUS_TURNS, TFIDF_C_GRID, ContextTfidf, partitions  # noqa: E402
from meld_h1 import subsample_dialogues  # noqa: E402
from real_corpora import (  # noqa: E402
    IEMOCAP_ROOT,
    IEMOCAP_TASKS,
    MELD_ROOT,
    RIDGE_ALPHA_GRID,
    ROTATIONS,
    labelled,
    metrics,
    selection_score,
)

from skhanrock import (  # noqa: E402
    AuxiliaryTargets,
    HanRockClassifier,
    HanRockRegressor,
    MonahTranscriber,
    MutualInfoLossWeights,
)
from skhanrock.datasets import attach_measurements  # noqa: E402
from skhanrock.nn import ConversationValidSplit  # noqa: E402

PROSODY = ["duration", "avg_intensity", "intensity_variation", "avg_pitch", "pitch_std",
           "pitch_range", "articulation_rate", "mean_hnr"]
MEANINGS = {"loudness": "avg_intensity", "pitch": "avg_pitch", "pitch_spread": "pitch_std",
            "speech_rate": "articulation_rate", "voice_quality": "mean_hnr"}
#: Each lever: what it adds to the words-only network.
LEVERS = {"narrative": {"narrative": True}, "features": {"features": True},
          "aux_prosody": {"aux_measurements": True}, "aux_timing": {"aux": "t"},
          "aux_history_future": {"aux": "hf"},
          "aux_all": {"aux_measurements": True, "aux": "thf"}}
#: The cheap references (deterministic: one fit per fold, no seed).
BASELINES = {"tfidf": False, "tfidf_prosody": True}
ARMS = [*BASELINES, "words", *LEVERS, "best"]
MELD_TASKS = {"7-class": ("emotion", "classification")}
DEV_FRACTION = 0.2


# -- data ----------------------------------------------------------------------------------


def iemocap_runs(args):
    path = Path(args.root or IEMOCAP_ROOT) / "sessions_1_3.csv"
    if not path.is_file():
        raise SystemExit(f"--corpus iemocap reads {path}, which does not exist (--root).")
    frame = pd.read_csv(path).sort_values(["conversation", "turn"], kind="stable")
    if args.quick:
        kept = [c for s in sorted(frame["session"].unique())
                for c in sorted(frame.loc[frame["session"] == s, "conversation"].unique())[:4]]
        frame = frame[frame["conversation"].isin(kept)]
    X = frame[["conversation", "turn", "speaker", "text", "start", "end", "session", *PROSODY]]
    Y = frame[[column for column, _ in IEMOCAP_TASKS.values()]]
    for train_sessions, test_session in ROTATIONS[:args.rotations]:
        training = X["session"].isin(train_sessions).to_numpy()
        testing = (X["session"] == test_session).to_numpy()
        yield (f"{'+'.join(train_sessions)} -> {test_session}", (X[training], Y[training]),
               (X[testing], Y[testing]))


def meld_prosody(root, split):
    table = pd.read_csv(Path(root) / "prosody" / f"{split}_audio_features.csv")
    ids = table["filename"].str.extract(r"^dia(\d+)_utt(\d+)\.wav$")
    if ids.isna().any(axis=None):
        raise SystemExit(f"{split}_audio_features.csv: a filename is not dia<N>_utt<M>.wav")
    return table.assign(conversation=[f"{split}_{d}" for d in ids[0]],
                        turn=ids[1].astype(int)).drop(columns="filename")


def meld_runs(args):
    root = Path(args.root or MELD_ROOT)
    splits = partitions(root)
    parts = {}
    for split in ("train", "test"):
        X, y = splits[split]
        if args.quick:
            X, y = subsample_dialogues(X, y, 12 if split == "train" else 6)
        X = attach_measurements(X, meld_prosody(root, split), on=["conversation", "turn"])
        parts[split] = (X, y.rename("emotion").to_frame())
    yield "official", parts["train"], parts["test"]


# -- arms ----------------------------------------------------------------------------------


def lever_union(levers):
    """The settings of several levers together (aux letters joined)."""
    merged = {}
    for name in levers:
        for key, value in LEVERS[name].items():
            merged[key] = merged.get(key, "") + value if key == "aux" else value
    if "aux" in merged:
        merged["aux"] = "".join(c for c in "thf" if c in merged["aux"])
    return merged


def network(kind, seed, uses_aux, args):
    scorer = "neg_mean_absolute_error" if kind == "regression" else "f1_weighted"
    estimator = HanRockRegressor if kind == "regression" else HanRockClassifier
    return estimator(
        embeddings=args.embeddings, random_state=seed, max_epochs=args.epochs,
        label_offsets="pipeline" if uses_aux else (),
        loss_weights="pipeline" if uses_aux else None,
        train_split=ConversationValidSplit(DEV_FRACTION, random_state=0),
        callbacks=[EpochScoring(scorer, lower_is_better=False, name="dev_score"),
                   EarlyStopping(monitor="dev_score", lower_is_better=False,
                                 patience=args.patience, load_best=True)])


def arm_pipeline(settings, kind, seed, args):
    """The pipeline of one arm: optional narrative, optional auxiliary targets, the network."""
    steps = []
    if settings.get("narrative"):
        steps.append(("monah", MonahTranscriber(cues="vp", measurements=MEANINGS)))
    uses_aux = bool(settings.get("aux") or settings.get("aux_measurements"))
    if uses_aux:
        # Named apart: the timing family computes a target called "duration" itself.
        columns = ({f"praat_{c}": c for c in PROSODY} if settings.get("aux_measurements")
                   else None)
        steps.append(("aux", AuxiliaryTargets(families=settings.get("aux", ""), columns=columns,
                                              target_type=kind)))
        steps.append(("weights", MutualInfoLossWeights(target_type=kind, random_state=seed)))
    net = network(kind, seed, uses_aux, args)
    if settings.get("features"):
        net.set_params(feature_columns=PROSODY)
    steps.append(("han", net))
    return Pipeline(steps)


class CheapFeatures:
    """TF-IDF of the talkturn and its three predecessors, with the measurements beside it.

    The measurements are imputed with the training median and standardised
    on the training rows; this is the issue's cheap multimodal baseline.
    """

    def __init__(self, prosody):
        self.text = ContextTfidf(PREVIOUS_TURNS)
        self.numbers = make_pipeline(SimpleImputer(strategy="median"), StandardScaler())
        self.prosody = prosody

    def fit_transform(self, X):
        parts = [self.text.fit_transform(X)]
        if self.prosody:
            parts.append(scipy.sparse.csr_matrix(self.numbers.fit_transform(X[PROSODY])))
        return scipy.sparse.hstack(parts).tocsr()

    def transform(self, X):
        parts = [self.text.transform(X)]
        if self.prosody:
            parts.append(scipy.sparse.csr_matrix(self.numbers.transform(X[PROSODY])))
        return scipy.sparse.hstack(parts).tocsr()


def dev_rows(X):
    """The development conversations every network arm holds out, as boolean rows."""
    held = ConversationValidSplit(DEV_FRACTION, random_state=0).held_out(X["conversation"])
    return X["conversation"].isin(held).to_numpy()


def fit_baseline(prosody, kind, column, train, test):
    """C (alpha) chosen on the networks' dev conversations, then refitted on all training rows."""
    (X_train, Y_train), (X_test, Y_test) = train, test

    def fitted(X, y, value):
        features = CheapFeatures(prosody)
        rows = labelled(y)
        model = Ridge(alpha=value) if kind == "regression" \
            else LogisticRegression(C=value, max_iter=3000)
        target = y[rows].to_numpy()
        model.fit(features.fit_transform(X)[rows],
                  target.astype(float) if kind == "regression" else target)
        return lambda X_new: model.predict(features.transform(X_new))

    dev = dev_rows(X_train)
    y = Y_train[column]
    grid = RIDGE_ALPHA_GRID if kind == "regression" else TFIDF_C_GRID
    dev_scores = {value: selection_score(y[dev], fitted(X_train[~dev], y[~dev], value)(
        X_train[dev]), kind) for value in grid}
    best = max(dev_scores, key=dev_scores.get)
    predict = fitted(X_train, y, best)
    return {"scores": metrics(Y_test[column], predict(X_test), kind),
            "dev score": dev_scores[best], "C or alpha": best}


# -- runs ----------------------------------------------------------------------------------


def fit_arm(settings, kind, column, train, test, seed, args):
    (X_train, Y_train), (X_test, Y_test) = train, test
    pipe = arm_pipeline(settings, kind, seed, args)
    began = time.perf_counter()
    pipe.fit(X_train, Y_train[column])
    history = pipe[-1].history
    dev = [float(v) for v in history[:, "dev_score"]]
    scores = metrics(Y_test[column], pipe.predict(X_test), kind)
    return {"scores": scores, "dev score": max(dev), "best epoch": int(np.argmax(dev)) + 1,
            "epochs run": len(history), "seconds": round(time.perf_counter() - began, 1)}


def chosen_levers(records, corpus, task):
    """Levers whose mean dev score beat ``words``' over the finished runs (the ``best`` arm)."""
    def mean_dev(arm):
        values = [r["dev score"] for r in records
                  if (r["corpus"], r["task"], r["arm"]) == (corpus, task, arm)]
        return np.mean(values) if values else None

    words = mean_dev("words")
    if words is None:
        raise SystemExit(f"the best arm of {task} needs the words arm's runs first")
    return [lever for lever in LEVERS if lever != "aux_all"
              and mean_dev(lever) is not None and mean_dev(lever) > words]


def package_commit():
    """The repository's commit, so that every record says which defaults it ran (None outside git)."""
    try:
        done = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                              text=True, cwd=Path(__file__).resolve().parent, timeout=10)
    except OSError:
        return None
    return done.stdout.strip() or None


def read_records(path):
    if path is None or not Path(path).is_file():
        return []
    return [json.loads(line) for line in Path(path).read_text().splitlines() if line.strip()]


def run_all(args):
    records = read_records(args.out)
    done = {(r["corpus"], r["embeddings"], r["task"], r["arm"], r["fold"], r["seed"])
            for r in records}
    tasks = (IEMOCAP_TASKS if args.corpus == "iemocap" else MELD_TASKS)
    names = args.tasks.split(",") if args.tasks else list(tasks)
    unknown = sorted(set(names) - set(tasks))
    if unknown:
        raise SystemExit(f"--tasks: unknown {unknown}; choose among {sorted(tasks)}")
    runs = list(iemocap_runs(args) if args.corpus == "iemocap" else meld_runs(args))
    commit = package_commit()
    for task in names:
        column, kind = tasks[task]
        for arm in args.arms.split(","):
            if arm == "best":
                levers = chosen_levers(records, args.corpus, task)
                settings = lever_union(levers)
            else:
                levers, settings = [], LEVERS.get(arm, {})
            for fold, train, test in runs:
                for seed in [None] if arm in BASELINES else args.seeds:
                    key = (args.corpus, args.embeddings, task, arm, fold, seed)
                    if key in done:
                        continue
                    result = (fit_baseline(BASELINES[arm], kind, column, train, test)
                              if arm in BASELINES
                              else fit_arm(settings, kind, column, train, test, seed, args))
                    record = {"corpus": args.corpus, "embeddings": args.embeddings,
                              "task": task, "arm": arm, "fold": fold, "seed": seed,
                              "levers": levers, "commit": commit, **result}
                    records.append(record)
                    print(json.dumps(record), flush=True)
                    if args.out:
                        with open(args.out, "a") as handle:
                            handle.write(json.dumps(record) + "\n")
    return [r for r in records if r["corpus"] == args.corpus
            and r["embeddings"] == args.embeddings and r["task"] in names]


# -- table ---------------------------------------------------------------------------------


def t_interval(differences, level=0.95):
    """Mean and the t interval of paired differences (NaN bounds with fewer than two)."""
    values = np.asarray(differences, dtype=float)
    mean = float(values.mean())
    if len(values) < 2:
        return mean, float("nan"), float("nan")
    half = stats.t.ppf(0.5 + level / 2, len(values) - 1) * values.std(ddof=1) / np.sqrt(len(values))
    return mean, mean - half, mean + half


def verdict(low, high, better):
    """The pre-registered rule: the interval excludes zero on one side, or the data cannot tell."""
    if (low > 0 and better == "higher") or (high < 0 and better == "lower"):
        return "helps"
    if (high < 0 and better == "higher") or (low > 0 and better == "lower"):
        return "hurts"
    return "cannot tell"


def table(records, metric_of):
    """One row per (task, arm): mean test score over runs, difference from words, verdict."""
    rows = []
    for task in dict.fromkeys(r["task"] for r in records):
        metric, better = metric_of(task)
        runs = {(r["arm"], r["fold"], r["seed"]): r["scores"][metric]
                for r in records if r["task"] == task}
        for arm in dict.fromkeys(r["arm"] for r in records if r["task"] == task):
            mine = {k[1:]: v for k, v in runs.items() if k[0] == arm}
            paired = [mine[k] - runs[("words", *k)] for k in mine if ("words", *k) in runs]
            row = {"task": task, "arm": arm, "metric": metric, "runs": len(mine),
                   "mean": np.mean(list(mine.values())),
                   "min": min(mine.values()), "max": max(mine.values())}
            if arm != "words" and paired:
                mean, low, high = t_interval(paired)
                row.update({"difference": mean, "95% t interval": f"[{low:+.3f}, {high:+.3f}]",
                            "verdict": verdict(low, high, better)})
            rows.append(row)
    return pd.DataFrame(rows)


def headline_metric(task):
    kind = {**IEMOCAP_TASKS, **MELD_TASKS}[task][1]
    if kind == "regression":
        return "MAE", "lower"
    return ("accuracy", "higher") if task == "4-class" else ("weighted F1", "higher")


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--corpus", choices=["iemocap", "meld"], default="iemocap")
    parser.add_argument("--root", default=None, help="the corpus folder")
    parser.add_argument("--embeddings", default="glove-6b-50d",
                        choices=["glove-6b-50d", "all-MiniLM-L6-v2"])
    parser.add_argument("--tasks", default=None, help="comma-separated; all by default")
    parser.add_argument("--arms", default=",".join(ARMS), help="comma-separated")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    parser.add_argument("--rotations", type=int, default=len(ROTATIONS), choices=[1, 2, 3])
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--patience", type=int, default=5)
    parser.add_argument("--out", default=None, help="JSON lines of finished fits (resumed)")
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    unknown = sorted(set(args.arms.split(",")) - set(ARMS))
    if unknown:
        parser.error(f"--arms: unknown {unknown}; choose among {ARMS}")
    if args.quick:
        args.epochs, args.patience, args.seeds, args.rotations = 2, 1, args.seeds[:2], 1
    return args


def main(argv=None):
    args = parse_args(argv)
    records = run_all(args)
    with pd.option_context("display.width", 200, "display.max_columns", 20):
        print(table(records, headline_metric).round(3).to_string(index=False))


if __name__ == "__main__":
    main()
