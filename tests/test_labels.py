import numpy as np
import pytest

from skhanrock._utils.labels import (
    check_label_offsets,
    label_offset_sources,
    label_offset_targets,
    label_offset_task_name,
)


def test_offset_sources_follow_the_nearest_labelled_talkturn_further_away():
    # two conversations: rows 0-4 and 5-7; rows 1 and 3 unlabelled, row 7 unlabelled
    codes = np.array([0, 0, 0, 0, 0, 1, 1, 1])
    labelled = np.array([True, False, True, False, True, True, True, False])
    sources = label_offset_sources(codes, labelled, [-2, -1, 1, 2])
    expected = np.array([
        [-1, -1, 2, 2],    # row 0: no past; t+1 unlabelled -> row 2; t+2 is row 2
        [-1, 0, 2, 4],     # row 1: t+2 = row 3 unlabelled -> row 4
        [0, 0, 4, 4],      # row 2: t-1 = row 1 unlabelled -> row 0
        [0, 2, 4, -1],     # row 3: t+2 beyond the conversation end
        [2, 2, -1, -1],    # row 4: t-1 = row 3 unlabelled -> row 2
        [-1, -1, 6, -1],   # row 5: t+2 = row 7 unlabelled and nothing further
        [-1, 5, -1, -1],   # row 6: t-2 would be row 4 of the other conversation
        [5, 6, -1, -1],
    ])
    np.testing.assert_array_equal(sources, expected)


def test_offset_targets_hold_the_source_rows_value_or_the_fill():
    codes = np.array([0, 0, 0, 1, 1])
    labels = np.array(["sad", None, "happy", "angry", None], dtype=object)
    targets = label_offset_targets(labels, codes, labels != None, [-1, 1], fill="none")  # noqa: E711
    assert targets.tolist() == [["none", "happy"], ["sad", "happy"], ["sad", "none"],
                                ["none", "none"], ["angry", "none"]]
    # The estimator's class codes: the fill is the "no label" class.
    primary = np.array([2, -1, 0, 1, -1])
    codes_out = label_offset_targets(primary, codes, primary >= 0, [1], fill=3)
    assert codes_out[:, 0].tolist() == [0, 0, 3, 3, 3]


def test_offset_sources_never_cross_conversations():
    codes = np.repeat([0, 1, 2], 3)
    sources = label_offset_sources(codes, np.ones(9, dtype=bool), [-4, -1, 1, 4])
    for row, row_sources in enumerate(sources):
        used = row_sources[row_sources >= 0]
        assert np.all(codes[used] == codes[row])


def test_task_names_and_offset_validation():
    assert [label_offset_task_name(k) for k in (-1, 3)] == ["y-1", "y+3"]
    assert check_label_offsets([2, -1]) == (-1, 2)
    with pytest.raises(ValueError, match="non-zero"):
        check_label_offsets([0, 1])
    with pytest.raises(ValueError, match="repeated"):
        check_label_offsets([1, 1])
    with pytest.raises(ValueError, match="non-zero integers"):
        check_label_offsets([1.5])
