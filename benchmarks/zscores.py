"""Speaker z-scores: the package's ``earlier_speaker_z`` against a pandas expanding-window reference.

MONAH's cues and the feature path read each talkturn's measurement against
the mean and spread of its speaker's *earlier* talkturns in the conversation
(``skhanrock._utils.zscores.earlier_speaker_z``, one loop over each speaker's rows
that a stream can follow talkturn by talkturn). The straightforward batch
reference is a pandas expanding window per (conversation, speaker), shifted by
one row so that a talkturn never reads itself: once on the whole frame (a
groupby's expanding window, every feature at once) and once as MONAH computed
it before ``_utils/zscores.py`` existed (``transform`` of each group, one feature at
a time). All run on generated data of
the size of IEMOCAP sessions 1-3 as the feature path reads it (5,788
talkturns, 8 features, about 90 two-speaker conversations, some measurements
missing); the script checks that they agree, then prints their times and
the ratios.

Run ``python benchmarks/zscores.py [--rows 5788] [--features 8] [--repeats 5]``.
"""

import argparse
import time

import numpy as np
import pandas as pd

from skhanrock._utils.zscores import earlier_speaker_z

MIN_HISTORY = 2  # MonahTranscriber's and the feature path's default


def talkturns(n_rows, n_features, rng):
    """Sorted talkturns: conversations of about 64 turns, two speakers, 5% values missing."""
    conversations = np.sort(rng.integers(0, max(1, n_rows // 64), n_rows))
    speakers = np.where(rng.random(n_rows) < 0.5, "F", "M")
    values = rng.normal(size=(n_rows, n_features)) * rng.uniform(0.5, 5, n_features)
    values[rng.random(values.shape) < 0.05] = np.nan
    return values, conversations.astype(str), speakers


def pandas_reference(values, conversations, speakers, min_history):
    """z against the speaker's earlier talkturns with pandas' shifted expanding windows."""
    frame = pd.DataFrame(values)
    groups = frame.groupby([conversations, speakers], sort=False)
    earlier = groups.shift(1)  # within each group, so a talkturn never reads itself
    by_group = earlier.groupby([conversations, speakers], sort=False)
    expanding = by_group.expanding(min_periods=min_history)
    # expanding() on a groupby puts the group keys in front of the row labels
    mean = expanding.mean().reset_index(level=[0, 1], drop=True).sort_index()
    spread = expanding.std(ddof=0).reset_index(level=[0, 1], drop=True).sort_index()
    z = (frame - mean) / spread
    return z.where(spread > 0).to_numpy()


def pandas_transform(values, conversations, speakers, min_history):
    """The same z as MONAH's former rule: a ``transform`` per group, feature by feature."""
    columns = []
    for feature in np.asarray(values).T:
        grouped = pd.Series(feature).groupby([conversations, speakers], sort=False)
        mean = grouped.transform(lambda s: s.shift().expanding(min_history).mean())
        spread = grouped.transform(lambda s: s.shift().expanding(min_history).std(ddof=0))
        columns.append(((feature - mean) / spread.where(spread > 0)).to_numpy(dtype=float))
    return np.column_stack(columns)


def best_time(function, repeats):
    """The fastest of ``repeats`` runs, in seconds, and the last result."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - start)
    return min(times), result


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=5788)
    parser.add_argument("--features", type=int, default=8)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    values, conversations, speakers = talkturns(args.rows, args.features,
                                                np.random.default_rng(0))
    package_seconds, package = best_time(
        lambda: earlier_speaker_z(values, conversations, speakers, MIN_HISTORY), args.repeats)
    pandas_seconds, reference = best_time(
        lambda: pandas_reference(values, conversations, speakers, MIN_HISTORY), args.repeats)
    transform_seconds, former = best_time(
        lambda: pandas_transform(values, conversations, speakers, MIN_HISTORY), args.repeats)
    for other in (reference, former):
        # The same z where either has one: NaN in the same places, values to rounding.
        np.testing.assert_array_equal(np.isnan(package), np.isnan(other))
        np.testing.assert_allclose(package, other, rtol=1e-9, atol=1e-9)
    n_z = int((~np.isnan(package)).sum())
    print(f"{args.rows} talkturns x {args.features} features, "
          f"{len(np.unique(conversations))} conversations; {n_z} z-scores agree "
          f"(best of {args.repeats})")
    print(f"earlier_speaker_z            {package_seconds:.3f} s")
    print(f"pandas expanding, one frame  {pandas_seconds:.3f} s  "
          f"(earlier_speaker_z takes {package_seconds / pandas_seconds:.2f}x)")
    print(f"pandas transform per group   {transform_seconds:.3f} s  "
          f"(earlier_speaker_z takes {package_seconds / transform_seconds:.2f}x)")


if __name__ == "__main__":
    main()
