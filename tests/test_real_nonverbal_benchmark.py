"""``benchmarks/real_nonverbal.py``: the pre-registered H1 arms on real recordings.

The pure parts (the t interval, the ``best`` arm's choice on dev, the levers'
union, the verdict) run everywhere; a ``--quick`` run of every arm on each
corpus runs only where ``../shared/data`` holds it.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tests._benchmarks import load_benchmark

REPOSITORY = Path(__file__).resolve().parents[1]
SCRIPT = REPOSITORY / "benchmarks" / "real_nonverbal.py"
DATA = Path(os.environ.get("SKHANROCK_SHARED_DATA", REPOSITORY.parent / "shared" / "data"))

pytestmark = pytest.mark.skipif(not SCRIPT.exists(), reason="the benchmarks folder is absent")


@pytest.fixture(scope="module")
def benchmark():
    return load_benchmark("real_nonverbal")


def test_t_interval_matches_the_textbook_formula(benchmark):
    differences = [0.02, 0.05, -0.01, 0.04, 0.03]
    mean, low, high = benchmark.t_interval(differences)
    half = 2.7764451051977987 * np.std(differences, ddof=1) / np.sqrt(5)  # t(0.975, 4)
    assert mean == pytest.approx(0.026)
    assert (low, high) == pytest.approx((0.026 - half, 0.026 + half))
    assert np.isnan(benchmark.t_interval([0.1])[1])


def record(arm, seed, dev, accuracy, task="4-class"):
    return {"corpus": "iemocap", "task": task, "arm": arm, "fold": "f", "seed": seed,
            "dev score": dev, "scores": {"accuracy": accuracy}}


def test_best_arm_takes_the_levers_that_beat_words_on_dev_only(benchmark):
    records = [record("words", 0, 0.50, 0.60), record("words", 1, 0.52, 0.60),
               # better on dev, worse on test: chosen (the choice never reads test)
               record("features", 0, 0.55, 0.10), record("features", 1, 0.53, 0.10),
               # worse on dev, better on test: not chosen
               record("narrative", 0, 0.40, 0.90), record("narrative", 1, 0.45, 0.90),
               record("aux_timing", 0, 0.60, 0.50),
               record("words", 0, 0.99, 0.60, task="6-class")]
    assert benchmark.chosen_levers(records, "iemocap", "4-class") == ["features", "aux_timing"]
    with pytest.raises(SystemExit, match="words arm"):
        benchmark.chosen_levers(records, "iemocap", "arousal")


def test_lever_union_joins_auxiliary_letters_in_one_order(benchmark):
    union = benchmark.lever_union(["aux_history_future", "features", "aux_timing",
                                   "aux_prosody"])
    assert union == {"aux": "thf", "features": True, "aux_measurements": True}
    assert benchmark.lever_union([]) == {}


def test_the_table_pairs_runs_and_gives_the_verdict_by_direction(benchmark):
    records = [record("words", s, 0.5, 0.60 + 0.01 * s) for s in range(5)]
    records += [record("features", s, 0.5, 0.65 + 0.01 * s + 0.001 * (-1) ** s)
                for s in range(5)]
    records += [record("narrative", s, 0.5, 0.60 + 0.01 * s + 0.02 * (-1) ** s)
                for s in range(5)]
    rows = benchmark.table(records, lambda task: ("accuracy", "higher")).set_index("arm")
    assert rows.loc["features", "difference"] == pytest.approx(0.0502)
    assert rows.loc["features", "verdict"] == "helps"
    assert rows.loc["narrative", "verdict"] == "cannot tell"
    # A lower-is-better metric flips the verdict of the same numbers.
    flipped = benchmark.table(records, lambda task: ("accuracy", "lower")).set_index("arm")
    assert flipped.loc["features", "verdict"] == "hurts"


def test_unknown_arm_is_refused_by_name(benchmark):
    with pytest.raises(SystemExit):
        benchmark.parse_args(["--arms", "words,telepathy"])


ALL_ARMS = ["tfidf", "tfidf_prosody", "words", "narrative", "features", "aux_prosody", "aux_timing", "aux_history_future",
            "aux_all", "best"]


# MELD runs the arms that read its joined measurements; IEMOCAP runs every arm.
@pytest.mark.parametrize("corpus, needs, task, arms", [
    ("iemocap", DATA / "iemocap" / "sessions_1_3.csv", "4-class", ALL_ARMS),
    ("meld", DATA / "meld" / "prosody" / "train_audio_features.csv", "7-class",
     ["tfidf_prosody", "words", "features", "aux_all", "best"])])
def test_quick_run_fits_every_arm(corpus, needs, task, arms, tmp_path):
    if not needs.is_file():
        pytest.skip(f"{needs} is not in ../shared/data")
    out = tmp_path / "fits.jsonl"
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--corpus", corpus, "--root", str(needs.parents[
            0 if corpus == "iemocap" else 1]), "--tasks", task, "--seeds", "0",
         "--arms", ",".join(arms),
         "--quick", "--out", str(out)],
        timeout=600, capture_output=True, text=True, env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert done.returncode == 0, done.stderr[-3000:]
    fits = [json.loads(line) for line in out.read_text().splitlines()]
    assert [f["arm"] for f in fits] == arms
    networks = [f for f in fits if not f["arm"].startswith("tfidf")]
    assert all(1 <= f["best epoch"] <= f["epochs run"] <= 2 for f in networks)
    assert all(f["seed"] is None and "C or alpha" in f for f in fits if f not in networks)
    assert "words" in done.stdout and "95% t interval" in done.stdout
