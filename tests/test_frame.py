import pandas as pd
import pytest

from skhanrock._utils.frame import check_talkturn_frame, conversation_sort_order


def _frame(turns, dtype=None):
    turns = pd.Series(turns, dtype=dtype, index=[f"r{i}" for i in range(len(turns))])
    return pd.DataFrame({"conversation": "c", "turn": turns})


@pytest.mark.parametrize("dtype", ["uint64", "UInt64"])
def test_uint64_turns_beyond_int64_are_refused(dtype):
    # they used to wrap to negative numbers and sort before turn 0
    X = _frame([0, 2 ** 63, 1], dtype)
    with pytest.raises(ValueError, match=r"X\['turn'\] at row 'r1' holds 9223372036854775808"
                                         r".*64-bit"):
        check_talkturn_frame(X)


@pytest.mark.parametrize("value", [1e20, -1e19, 2.0 ** 53, float("inf")])
def test_float_turns_too_large_to_be_exact_are_refused(value):
    X = _frame([0.0, value, 1.0])
    with pytest.raises(ValueError, match=r"X\['turn'\] at row 'r1' holds .*2\*\*53"):
        check_talkturn_frame(X)


def test_turns_within_range_sort_as_numbers():
    X = _frame([2 ** 63 - 1, 0, 2 ** 62], "uint64")
    assert conversation_sort_order(check_talkturn_frame(X)).tolist() == [1, 2, 0]
    X = _frame([2.0 ** 53 - 1, 3.0, 1 - 2.0 ** 53])
    assert conversation_sort_order(check_talkturn_frame(X)).tolist() == [2, 1, 0]
    X = _frame([-(2 ** 63), 5, 2 ** 63 - 1], "int64")
    assert conversation_sort_order(check_talkturn_frame(X)).tolist() == [0, 1, 2]
