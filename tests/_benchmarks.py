"""Loading a script of ``benchmarks/`` as a module, for the tests of its pure parts."""

import importlib.util
import sys
from pathlib import Path

#: The repository's benchmarks folder (absent from an installed package's tests).
BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


def load_benchmark(name):
    """``benchmarks/<name>.py`` as a module; its sibling scripts import while it loads."""
    script = BENCHMARKS / f"{name}.py"
    sys.path.insert(0, str(BENCHMARKS))
    try:
        spec = importlib.util.spec_from_file_location(name, script)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(BENCHMARKS))
    return module
