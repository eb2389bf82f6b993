"""``benchmarks/zscores.py``: its two pandas references agree with ``earlier_speaker_z``."""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tests._benchmarks import load_benchmark

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "zscores.py"

pytestmark = pytest.mark.skipif(not SCRIPT.exists(), reason="the benchmarks folder is absent")


@pytest.fixture(scope="module")
def benchmark():
    return load_benchmark("zscores")


def test_the_references_compute_the_package_rule(benchmark):
    from skhanrock._utils.zscores import earlier_speaker_z

    values, conversations, speakers = benchmark.talkturns(300, 3, np.random.default_rng(2))
    expected = earlier_speaker_z(values, conversations, speakers, 2)
    assert np.isnan(values).any() and (~np.isnan(expected)).sum() > 300
    for reference in (benchmark.pandas_reference, benchmark.pandas_transform):
        np.testing.assert_allclose(reference(values, conversations, speakers, 2), expected,
                                   rtol=1e-9, atol=1e-9)
    # The comparison can fail: a longer history leaves other z-scores out.
    with pytest.raises(AssertionError):
        np.testing.assert_allclose(
            benchmark.pandas_reference(values, conversations, speakers, 3), expected)


def test_the_script_runs_and_reports_the_ratio():
    out = subprocess.run([sys.executable, str(SCRIPT), "--rows", "200", "--features", "2",
                          "--repeats", "1"], capture_output=True, text=True, check=True).stdout
    assert "z-scores agree" in out and "earlier_speaker_z takes" in out
