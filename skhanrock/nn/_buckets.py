"""Length buckets: the slices of a length-sorted batch that are padded apart.

Both the dataset (word ids or vectors of talkturns) and a fine-tuned
encoder's piece table (windows of lower-layer states) split their batches
this way, so the rule lives here, below both.
"""

import numpy as np

__all__ = ["length_buckets"]


def length_buckets(lengths, max_buckets=2, min_saving=0.15):
    """Split talkturns sorted by decreasing length into slices padded separately.

    Padding a batch to its longest talkturn wastes the word encoder's work on
    the padding of every shorter one; each bucket is padded to its own longest
    talkturn instead. A bucket is split where that saves at least
    ``min_saving`` of its padded size, since each bucket costs one more pass.
    Two buckets are the default because more passes over fewer rows made the
    word encoder slower on CPU (``benchmarks/word_encoder.py``: 4 buckets
    10-15% slower than 2 on talkturns of 3 to 40 words; PyTorch's packed
    path, which wastes no padding at all, 20-25% slower).

    Returns
    -------
    tuple of int
        Bucket boundaries ``(0, ..., len(lengths))``.

    Examples
    --------
    >>> length_buckets(np.array([40, 38, 6, 5, 5, 4]))
    (0, 2, 6)
    """
    bounds = [0, len(lengths)]
    while len(bounds) - 1 < max_buckets:
        candidates = [_best_split(lengths, start, stop, min_saving)
                      for start, stop in zip(bounds[:-1], bounds[1:], strict=True)]
        saved, split = max(candidates)
        if split is None:
            break
        bounds = sorted([*bounds, split])
    return tuple(bounds)


def _best_split(lengths, start, stop, min_saving):
    """Largest padding saving of one split of the bucket [start, stop), and where."""
    k = np.arange(start + 1, stop)
    # Splitting before position k pads [k, stop) to lengths[k] instead of lengths[start].
    saved = (stop - k) * (int(lengths[start]) - lengths[k])
    if not len(saved) or saved.max() < min_saving * (stop - start) * int(lengths[start]):
        return (0, None)
    return (int(saved.max()), int(k[saved.argmax()]))
