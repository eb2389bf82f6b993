"""attach_measurements: a per-talkturn table joined to the talkturns by key."""

import warnings

import numpy as np
import pandas as pd
import pytest

from skhanrock.datasets import attach_measurements, make_conversations


@pytest.fixture()
def frames():
    X, _ = make_conversations(n_conversations=3, random_state=0)
    X = X[["conversation", "turn", "speaker", "text"]].iloc[::-1]  # any row order
    X.index = [f"t{i}" for i in range(len(X))]
    rng = np.random.default_rng(0)
    table = X[["conversation", "turn"]].sample(frac=1.0, random_state=0).reset_index(drop=True)
    table["avg_pitch"] = rng.normal(200, 20, len(table))
    table["mean_hnr"] = rng.normal(10, 2, len(table))
    return X, table


def _joined_by_hand(X, table, column):
    lookup = {(c, t): v for c, t, v in zip(table["conversation"], table["turn"], table[column],
                                            strict=True)}
    return np.array([lookup.get((c, t), np.nan) for c, t in zip(X["conversation"], X["turn"],
                                                                 strict=True)])


def test_every_talkturn_gets_its_own_row_in_its_own_order_and_index(frames):
    X, table = frames
    before, table_before = X.copy(), table.copy()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = attach_measurements(X, table)
    assert list(out.index) == list(X.index)
    assert list(out.columns) == [*X.columns, "avg_pitch", "mean_hnr"]
    for column in ("avg_pitch", "mean_hnr"):
        np.testing.assert_array_equal(out[column].to_numpy(), _joined_by_hand(X, table, column))
    pd.testing.assert_frame_equal(X, before)  # nothing the user passed is modified
    pd.testing.assert_frame_equal(table, table_before)


def test_talkturns_without_a_row_are_counted_and_named(frames):
    X, table = frames
    dropped = table.iloc[:3]
    with pytest.warns(UserWarning, match=r"3 of \d+ talkturns have no row") as record:
        out = attach_measurements(X, table.iloc[3:], columns=["avg_pitch"])
    first = (dropped["conversation"].iloc[0], int(dropped["turn"].iloc[0]))
    assert repr(first) in str(record[0].message)
    assert out["avg_pitch"].isna().sum() == 3
    assert "mean_hnr" not in out.columns


def test_rows_matching_no_talkturn_are_counted(frames):
    X, table = frames
    extra = pd.DataFrame({"conversation": ["nowhere"], "turn": [7], "avg_pitch": [1.0],
                          "mean_hnr": [2.0]})
    with pytest.warns(UserWarning, match=r"1 of \d+ rows of measurements match no talkturn"
                                         r".*\('nowhere', 7\)"):
        attach_measurements(X, pd.concat([table, extra]))


def test_duplicate_keys_are_refused_by_name(frames):
    X, table = frames
    twice = pd.concat([table, table.iloc[[4]]])
    key = repr((table["conversation"].iloc[4], int(table["turn"].iloc[4])))
    with pytest.raises(ValueError, match=r"more than one row for 1 key\(s\) " + key.replace(
            "(", r"\(").replace(")", r"\)")):
        attach_measurements(X, twice)


@pytest.mark.parametrize("change, kwargs, message", [
    (lambda X, t: (X, t.drop(columns="turn")), {}, r"measurements has no key column\(s\) \['turn'\]"),
    (lambda X, t: (X.drop(columns="turn"), t), {}, r"talkturns has no key column\(s\) \['turn'\]"),
    (lambda X, t: (X, t), {"columns": ["pitch"]}, r"columns names \['pitch'\]"),
    (lambda X, t: (X.assign(avg_pitch=1.0), t), {}, r"already has the column\(s\) \['avg_pitch'\]"),
    (lambda X, t: (X, t.assign(turn=t["turn"].astype(str))), {}, "cannot be compared|no row"),
])
def test_bad_input_is_refused_by_name(frames, change, kwargs, message):
    X, table = frames
    X, table = change(X, table)
    with pytest.raises(ValueError, match=message), warnings.catch_warnings():
        warnings.simplefilter("error")
        try:
            attach_measurements(X, table, **kwargs)
        except UserWarning as warning:  # keys that match nothing: every talkturn named
            raise ValueError(str(warning)) from None
