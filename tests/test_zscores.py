"""The within-speaker z-score rule shared by MONAH and the feature path."""

import numpy as np
import pandas as pd

from skhanrock._utils.zscores import earlier_speaker_z, earlier_z


def _pandas_rule(values, conversations, speakers, min_history):
    """MONAH's earlier implementation of the rule, kept here as the reference."""
    series = pd.Series(values)
    grouped = series.groupby([conversations, speakers], sort=False)
    mean = grouped.transform(lambda s: s.shift().expanding(min_history).mean())
    spread = grouped.transform(lambda s: s.shift().expanding(min_history).std(ddof=0))
    return ((series - mean) / spread.where(spread > 0)).to_numpy(dtype=float)


def test_batch_matches_the_former_pandas_rule_and_the_one_step_rule():
    rng = np.random.default_rng(0)
    n = 60
    values = rng.normal(size=(n, 2))
    values[rng.random((n, 2)) < 0.2] = np.nan
    conversations = np.repeat(["c0", "c1"], n // 2)
    speakers = rng.choice(["a", "b", "c"], size=n)
    z = earlier_speaker_z(values, conversations, speakers, min_history=2)
    for j in range(2):
        np.testing.assert_allclose(z[:, j], _pandas_rule(values[:, j], conversations,
                                                         speakers, 2), rtol=1e-12)
    # The last row, one step at a time from its speaker's earlier rows: the same bits.
    same = np.flatnonzero((conversations == conversations[-1]) & (speakers == speakers[-1]))
    np.testing.assert_array_equal(earlier_z(values[same[:-1]], values[-1], 2), z[-1])


def test_a_row_without_speaker_has_no_z_and_is_nobodys_history():
    z = earlier_speaker_z([[1.0], [2.0], [100.0], [4.0], [5.0]], ["c"] * 5,
                          ["a", "a", None, "a", "a"], min_history=2)
    assert np.isnan(z[2, 0])
    np.testing.assert_allclose(z[3:, 0], [5.0, (5 - 7 / 3) / np.std([1, 2, 4])])


def test_later_rows_never_change_earlier_z():
    values = np.array([[1.0], [3.0], [2.0], [8.0]])
    before = earlier_speaker_z(values, ["c"] * 4, ["a"] * 4, min_history=2)
    values[3] = -50.0
    after = earlier_speaker_z(values, ["c"] * 4, ["a"] * 4, min_history=2)
    np.testing.assert_array_equal(before[:3], after[:3])


def test_a_long_speaker_matches_the_one_step_rule_to_the_bit_across_blocks():
    # More rows than the batch computes at once, so rows on both sides of a block edge
    # are checked against the stream's one-talkturn answer.
    rng = np.random.default_rng(1)
    values = rng.normal(loc=3.0, size=(600, 2))
    values[rng.random((600, 2)) < 0.1] = np.nan
    z = earlier_speaker_z(values, ["c"] * 600, ["a"] * 600, min_history=2)
    for row in (1, 2, 255, 256, 257, 511, 512, 599):
        np.testing.assert_array_equal(earlier_z(values[:row], values[row], 2), z[row])
    for j in range(2):
        np.testing.assert_allclose(z[:, j], _pandas_rule(values[:, j], ["c"] * 600, ["a"] * 600,
                                                         2), rtol=1e-10)
