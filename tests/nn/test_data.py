import numpy as np
import pytest

from skhanrock.nn import ChunkedBatchSampler, ConversationValidSplit, TalkturnDataset
from skhanrock.nn._data import length_buckets, split_by_conversation
from skhanrock.nn._text import encode_texts, fit_vocabulary


@pytest.fixture(scope="module")
def dataset():
    texts = ["a b c", "d", "", "e f", "a", "b b b b b b"]
    vocabulary = fit_vocabulary(texts)
    ids, offsets, lengths = encode_texts(texts, vocabulary, max_words=4)
    return TalkturnDataset(ids, offsets, lengths, np.array([0, 0, 0, 1, 1, 1]),
                           context_size=3, sorted_to_caller=np.arange(6))


def test_windows_never_cross_conversations(dataset):
    positions, lengths = dataset.window_positions(np.arange(6))
    np.testing.assert_array_equal(lengths, [1, 2, 3, 1, 2, 3])
    for row, (window, n) in enumerate(zip(positions, lengths, strict=True)):
        real = window[:n]
        assert real[-1] == row
        assert np.all(dataset.conversation_codes[real] == dataset.conversation_codes[row])


def test_collate_encodes_each_distinct_talkturn_once(dataset):
    batch, targets = dataset.collate([1, 2, 3, 4])
    assert targets is None
    assert len(batch) == 4
    # windows of rows 1-4 use talkturns 0, 1, 2, 3, 4 once each
    assert batch.tokens.shape[0] == 5
    current = batch.windows[np.arange(4), batch.window_lengths - 1]
    np.testing.assert_array_equal(batch.talkturns[current.numpy()], [1, 2, 3, 4])
    assert np.all(np.diff(batch.lengths.numpy()) <= 0)  # sorted for the length buckets
    assert batch.tokens.shape[1] == int(batch.lengths.max())


def test_chunked_sampler_keeps_chunks_consecutive_and_covers_everything():
    sampler = ChunkedBatchSampler(50, batch_size=8, chunk_size=5, shuffle=True, seed=0)
    batches = list(sampler)
    order = np.concatenate(batches)
    assert sorted(order) == list(range(50))
    assert len(batches) == len(sampler) == 7
    chunk_starts = order[::5]
    assert np.all(chunk_starts % 5 == 0)
    assert not np.array_equal(order, np.arange(50))
    again = np.concatenate(list(ChunkedBatchSampler(50, 8, 5, shuffle=True, seed=0)))
    np.testing.assert_array_equal(order, again)


def test_conversation_valid_split_holds_out_whole_conversations(dataset):
    # The estimators hold out what held_out draws, with split_by_conversation.
    codes = dataset.conversation_codes
    held_out = ConversationValidSplit(0.5, random_state=0).held_out(codes)
    train, valid = split_by_conversation(dataset, np.isin(codes, held_out))
    train_codes = set(dataset.conversation_codes[train.indices])
    valid_codes = set(dataset.conversation_codes[valid.indices])
    assert train_codes and valid_codes and not train_codes & valid_codes
    assert list(train.indices) == sorted(train.indices)
    with pytest.raises(ValueError, match="valid_fraction"):
        ConversationValidSplit(1.5).held_out(codes)


def test_length_buckets_split_only_where_padding_is_wasted():
    assert length_buckets(np.array([9, 9, 8, 8])) == (0, 4)
    bounds = length_buckets(np.array([60, 58, 12, 11, 10, 3, 3, 2, 2, 2]))
    assert bounds[0] == 0 and bounds[-1] == 10 and 2 in bounds
    assert len(bounds) - 1 <= 4


def test_chunked_sampler_restarts_chunks_at_each_conversation():
    conversations = np.repeat([0, 1, 2], [7, 3, 5])
    sampler = ChunkedBatchSampler(15, batch_size=4, chunk_size=4, shuffle=True, seed=1,
                                  conversations=conversations)
    chunks = sampler.chunks()
    assert [list(c) for c in chunks] == [[0, 1, 2, 3], [4, 5, 6], [7, 8, 9], [10, 11, 12, 13],
                                         [14]]
    order = np.concatenate(list(sampler))
    assert sorted(order) == list(range(15))
    starts = {int(c[0]) for c in chunks}
    position = 0
    while position < len(order):
        # Every chunk comes out whole and in order.
        assert order[position] in starts
        chunk = next(c for c in chunks if c[0] == order[position])
        np.testing.assert_array_equal(order[position:position + len(chunk)], chunk)
        position += len(chunk)


def test_held_out_conversations_are_drawn_from_sorted_ids_and_need_every_id():
    from skhanrock.nn import ConversationValidSplit

    split = ConversationValidSplit(0.5, random_state=0)
    ids = ["c", "a", "d", "b", 3, 1]
    assert split.held_out(ids).tolist() == split.held_out(ids[::-1]).tolist()
    with pytest.raises(ValueError, match="Conversation ids may not be missing; row 1"):
        split.held_out(np.array(["a", None, "b"], dtype=object))
    with pytest.raises(ValueError, match=r"valid_fraction must be a number in \(0, 1\)"):
        ConversationValidSplit("a").held_out(["a", "b"])


def test_a_table_of_word_vectors_is_padded_with_zero_vectors():
    table = np.arange(12, dtype=np.float32).reshape(6, 2) + 1
    dataset = TalkturnDataset(table, np.array([0, 3, 4]), np.array([3, 1, 2]),
                              np.array([0, 0, 0]), context_size=3,
                              sorted_to_caller=np.arange(3))
    batch, _ = dataset.collate([2])
    assert batch.tokens.shape == (3, 3, 2) and batch.lengths.tolist() == [3, 2, 1]
    np.testing.assert_array_equal(batch.tokens[1].numpy(), [[9, 10], [11, 12], [0, 0]])
    np.testing.assert_array_equal(batch.tokens[2].numpy(), [[7, 8], [0, 0], [0, 0]])
