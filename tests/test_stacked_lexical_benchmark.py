"""``benchmarks/stacked_lexical.py``: its data, its bag matrix, and the ratio it reports."""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tests._benchmarks import load_benchmark

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "stacked_lexical.py"

pytestmark = pytest.mark.skipif(not SCRIPT.exists(), reason="the benchmarks folder is absent")


def test_the_generated_talkturns_are_sorted_conversations():
    texts, labels, codes = load_benchmark("stacked_lexical").talkturns(None, 4)
    assert len(texts) == len(labels) == len(codes) >= 4 * 40
    assert (np.diff(codes) >= 0).all() and codes.max() == 3


def test_each_talkturns_current_block_is_an_l2_normalised_bag():
    from skhanrock.nn._lexical import NgramVocabulary
    from skhanrock.nn._stacking import context_bag_matrix

    texts, _, codes = load_benchmark("stacked_lexical").talkturns(None, 4)
    vocabulary = NgramVocabulary((1, 2), 2, 50_000).fit(texts)
    matrix = context_bag_matrix(vocabulary.bags(texts), codes, len(vocabulary), 1)
    current, previous = matrix[:, :len(vocabulary)], matrix[:, len(vocabulary):]
    np.testing.assert_allclose(np.asarray(current.multiply(current).sum(axis=1)).ravel(), 1.0,
                               atol=1e-6)
    # A conversation's first talkturn has no previous block.
    starts = np.r_[0, np.flatnonzero(np.diff(codes)) + 1]
    assert previous[starts].nnz == 0 and previous.nnz > 0


def test_the_script_runs_and_reports_the_ratio():
    out = subprocess.run([sys.executable, str(SCRIPT), "--conversations", "6", "--repeats", "1",
                          "--context", "1"], capture_output=True, text=True, check=True).stdout
    assert "fit_stacked_lexical" in out and "x the reference" in out
    assert "choose_context" in out and "chosen" in out
