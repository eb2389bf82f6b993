"""``benchmarks/gpu.py --quick`` runs, so the GPU benchmark's code path is exercised on CPU CI."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "gpu.py"


@pytest.mark.skipif(not SCRIPT.exists(), reason="the benchmarks folder is not installed")
def test_the_quick_gpu_benchmark_writes_its_json(tmp_path):
    out = tmp_path / "gpu.json"
    done = subprocess.run([sys.executable, str(SCRIPT), "--quick", "--out", str(out)],
                          timeout=300, capture_output=True, text=True,
                          env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert done.returncode == 0, done.stderr[-3000:]
    results = json.loads(out.read_text())
    assert {(r["context_size"], r["precision"]) for r in results["speed"]} == {
        (L, p) for L in (1, 10, 30) for p in ("fp32", "bf16")}
    assert all(r["samples_per_s"] > 0 for r in results["speed"])
    assert results["cpu_speed"]["device_over_cpu"] > 0
    assert [r["k"] for r in results["trials"]] == [1, 2]
    assert all(r["trials_per_hour"] > 0 and r["h1_sweep_30_trials_at_iemocap_h"] > 0
               for r in results["trials"])
