"""Reading OpenFace files: the package's checked reader against a bare ``pandas.read_csv``.

``read_openface`` checks that every line has the header's fields (pandas
would shift a line with an extra field and pad a short one) before pandas
reads the file; this measures what that check costs on files of the size
OpenFace writes (30 frames per second, 714 columns).

Run ``python benchmarks/readers.py [--frames 18000] [--repeats 3]``.
"""

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from skhanrock.datasets import read_openface


def openface_file(directory, n_frames, rng):
    columns = ["frame", "face_id", "timestamp", "confidence", "success"]
    columns += [f"feature_{i}" for i in range(674)]
    columns += [f"AU{i:02d}_r" for i in range(1, 18)] + [f"AU{i:02d}_c" for i in range(1, 19)]
    table = pd.DataFrame(rng.random((n_frames, len(columns))).round(3), columns=columns)
    table["frame"] = np.arange(1, n_frames + 1)
    table["timestamp"] = table["frame"] / 30
    table["success"] = 1
    path = Path(directory) / "video.csv"
    table.to_csv(path, index=False, sep=",")
    return path


def best_of(function, repeats):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return min(times)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--frames", type=int, default=18000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        path = openface_file(directory, args.frames, np.random.default_rng(0))
        reference = best_of(lambda: pd.read_csv(path, skipinitialspace=True), args.repeats)
        package = best_of(lambda: read_openface(path), args.repeats)
    print(f"{args.frames} frames x 714 columns: pandas.read_csv {reference:.2f} s, "
          f"read_openface {package:.2f} s (x{package / reference:.2f} the reference)")


if __name__ == "__main__":
    main()
