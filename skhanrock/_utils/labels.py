"""History and future label targets (the paper's ``y-k`` and ``y+k`` tasks).

The primary label k talkturns before (k < 0) or after (k > 0) the current one
becomes an auxiliary target. When that talkturn is unlabelled, the nearest
labelled talkturn *further* in the same direction is used, and when none is
left inside the conversation the target is "no usable label". Windows never
cross a conversation.
"""

import numpy as np

__all__ = [
    "DEFAULT_LABEL_OFFSETS",
    "check_label_offsets",
    "label_offset_sources",
    "label_offset_targets",
    "label_offset_task_name",
]

DEFAULT_LABEL_OFFSETS = (-4, -3, -2, -1, 1, 2, 3, 4)


def label_offset_task_name(offset):
    """Task name of the label ``offset`` talkturns away: ``"y-1"``, ``"y+2"``."""
    return f"y{offset:+d}"


def check_label_offsets(offsets, *, name="label_offsets"):
    """Validate a collection of non-zero integer offsets and return a sorted tuple."""
    try:
        values = [int(v) for v in offsets]
    except (TypeError, ValueError) as error:
        raise TypeError(
            f"{name} must be a collection of non-zero integers, got {offsets!r}.") from error
    if any(v != o for v, o in zip(values, offsets, strict=True)) or 0 in values:
        raise ValueError(f"{name} must hold non-zero integers, got {list(offsets)!r}.")
    if len(set(values)) != len(values):
        raise ValueError(f"{name} has repeated offsets: {list(offsets)!r}.")
    return tuple(sorted(values))


def label_offset_sources(conversation_codes, labelled, offsets):
    """Row positions whose label serves as the ``y+k`` target of each row.

    Parameters
    ----------
    conversation_codes : ndarray of shape (n_rows,)
        Integer conversation code per row; rows are sorted by conversation, then
        turn, so each conversation is one contiguous block.
    labelled : ndarray of bool, shape (n_rows,)
        Whether each row has a primary label.
    offsets : sequence of int
        Non-zero offsets.

    Returns
    -------
    sources : ndarray of int64, shape (n_rows, n_offsets)
        Position of the source row, or -1 where no usable label exists.
    """
    codes = np.asarray(conversation_codes)
    labelled = np.asarray(labelled, dtype=bool)
    n_rows = len(codes)
    positions = np.arange(n_rows)
    block_start = np.r_[True, codes[1:] != codes[:-1]]
    conversation_start = np.maximum.accumulate(np.where(block_start, positions, 0))
    block_end = np.r_[codes[1:] != codes[:-1], True]
    conversation_end = np.minimum.accumulate(
        np.where(block_end, positions, n_rows - 1)[::-1]
    )[::-1]
    # Latest labelled row at or before each position, earliest at or after it.
    previous_labelled = np.maximum.accumulate(np.where(labelled, positions, -1))
    next_labelled = np.minimum.accumulate(
        np.where(labelled, positions, n_rows)[::-1]
    )[::-1]

    sources = np.full((n_rows, len(offsets)), -1, dtype=np.int64)
    for j, offset in enumerate(offsets):
        target = positions + offset
        if offset < 0:
            inside = target >= conversation_start
            found = previous_labelled[np.clip(target, 0, None)]
            usable = inside & (found >= conversation_start)
        else:
            inside = target <= conversation_end
            found = next_labelled[np.clip(target, None, n_rows - 1)]
            usable = inside & (found <= conversation_end)
        sources[usable, j] = found[usable]
    return sources


def label_offset_targets(values, conversation_codes, labelled, offsets, fill):
    """The ``y+k`` target of every row and offset: the one builder of history/future targets.

    The estimator (from encoded labels) and :class:`~skhanrock.MutualInfoLossWeights`
    (from the labels themselves) both build their targets here, so the two
    can never disagree on which talkturn serves as ``y-1``.

    Parameters
    ----------
    values : array-like of shape (n_rows,)
        What a target holds, per row (the label, its class code or its scaled
        value); rows sorted by conversation, then turn.
    conversation_codes, labelled, offsets
        As in :func:`label_offset_sources`.
    fill : scalar
        The target where no usable label exists (a "no label" class, NaN, None).

    Returns
    -------
    ndarray of shape (n_rows, n_offsets)

    Examples
    --------
    >>> labels = np.array(["sad", None, "happy"], dtype=object)
    >>> label_offset_targets(labels, [0, 0, 0], [True, False, True], [-1, 1], fill=None).tolist()
    [[None, 'happy'], ['sad', 'happy'], ['sad', None]]
    """
    values = np.asarray(values)
    sources = label_offset_sources(conversation_codes, labelled, offsets)
    return np.where(sources >= 0, values[np.clip(sources, 0, None)], fill)
