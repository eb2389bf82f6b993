"""``benchmarks/real_corpora.py``: IEMOCAP's rotations are speaker-disjoint and keep whole
conversations, and ``--quick`` runs on both corpora (skipped without ``../shared/data``)."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tests._benchmarks import load_benchmark

REPOSITORY = Path(__file__).resolve().parents[1]
SCRIPT = REPOSITORY / "benchmarks" / "real_corpora.py"
# The corpora live beside the repository (../shared/data), never in it.
DATA = Path(os.environ.get("SKHANROCK_SHARED_DATA", REPOSITORY.parent / "shared" / "data"))
IEMOCAP = DATA / "iemocap"
MELD = DATA / "meld"

pytestmark = pytest.mark.skipif(not SCRIPT.exists(), reason="the benchmarks folder is absent")
needs_iemocap = pytest.mark.skipif(not (IEMOCAP / "sessions_1_3.csv").is_file(),
                                   reason="IEMOCAP sessions 1-3 are not in ../shared/data")
needs_meld = pytest.mark.skipif(not MELD.is_dir(), reason="MELD is not in ../shared/data")


@pytest.fixture(scope="module")
def benchmark():
    return load_benchmark("real_corpora")


def run(*arguments, tmp_path):
    out = tmp_path / "fits.json"
    done = subprocess.run([sys.executable, str(SCRIPT), *arguments, "--quick", "--out", str(out)],
                          timeout=600, capture_output=True, text=True,
                          env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout, json.loads(out.read_text())["fits"]


@needs_iemocap
def test_the_rotations_are_speaker_disjoint_with_whole_conversations(benchmark):
    class Args:
        root, quick, rotations = IEMOCAP, False, 3

    folds = benchmark.iemocap_folds(Args)
    assert [f["name"] for f in folds] == ["Ses01+Ses02 -> Ses03", "Ses01+Ses03 -> Ses02",
                                          "Ses02+Ses03 -> Ses01"]
    for fold in folds:
        (X_train, _), (X_fit, _), (X_dev, _), (X_test, Y_test) = (
            fold[part] for part in ("train", "fit", "dev", "test"))
        assert not set(X_train["speaker"]) & set(X_test["speaker"])
        # The dev conversations are a fifth of the training ones, taken whole.
        assert set(X_dev["conversation"]).isdisjoint(X_fit["conversation"])
        assert len(X_dev) + len(X_fit) == len(X_train)
        share = X_dev["conversation"].nunique() / X_train["conversation"].nunique()
        assert share == pytest.approx(0.2, abs=0.02)
        # Unlabelled talkturns stay in as context: every turn of every conversation.
        assert Y_test["emotion4"].isna().any()
        turns = X_test.groupby("conversation")["turn"]
        assert (turns.max() - turns.min() + 1 == turns.size()).all()
    assert sum(len(f["test"][0]) for f in folds) == 5788


@needs_iemocap
def test_quick_runs_on_iemocap_with_classes_and_ratings(tmp_path):
    stdout, fits = run("--corpus", "iemocap", "--root", str(IEMOCAP), "--tasks",
                       "4-class,valence", "--rows", "tfidf_turn,tfidf,package",
                       "--seeds", "0", "1", tmp_path=tmp_path)
    fold = "Ses01+Ses02 -> Ses03"
    assert set(fits) == {f"{task}|{fold}|{row}|{seed}" for task in ("4-class", "valence")
                         for row, seeds in (("tfidf_turn", [0]), ("tfidf", [0]),
                                            ("package", [0, 1])) for seed in seeds}
    accuracy = fits[f"4-class|{fold}|tfidf_turn|0"]["run"]["test"]["accuracy"]
    assert 0.25 < accuracy <= 1
    assert fits[f"valence|{fold}|package|1"]["run"]["test"]["MAE"] > 0
    # Two seeds: a mean and its min-max spread.
    assert "IEMOCAP 4-class, test, Ses01+Ses02 -> Ses03" in stdout
    package = [line for line in stdout.splitlines() if re.match(r"package +\d", line)]
    assert package and all(re.search(r"\d\.\d{3} \(\d\.\d{3}-\d\.\d{3}\)", line)
                           for line in package)


@needs_meld
def test_quick_runs_on_meld(tmp_path):
    stdout, fits = run("--corpus", "meld", "--root", str(MELD), "--rows", "tfidf_turn,tfidf",
                       tmp_path=tmp_path)
    assert set(fits) == {"7-class|official|tfidf_turn|0", "7-class|official|tfidf|0"}
    assert {"dev", "test"} <= set(fits["7-class|official|tfidf|0"]["run"])
    assert np.isfinite(fits["7-class|official|tfidf|0"]["run"]["test"]["weighted F1"])
    assert "MELD 7-class, dev" in stdout


@pytest.mark.parametrize("corpus", ["meld", "iemocap"])
def test_the_default_rows_are_every_row_the_corpus_has(benchmark, monkeypatch, corpus):
    monkeypatch.setattr(sys, "argv", ["real_corpora.py", "--corpus", corpus])
    args = benchmark.parse_args()
    # The recipe is chosen on dev scores, which only MELD's rows have.
    expected = [row for row in benchmark.ALL_ROWS if corpus == "meld" or row != "recipe"]
    assert args.rows == expected
    assert args.seeds == [0]
    assert args.tasks == (["7-class"] if corpus == "meld" else
                          ["4-class", "6-class", "valence", "arousal", "dominance"])
