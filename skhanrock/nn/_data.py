"""Encoded talkturns, context windows and the batches that share talkturn encodings."""


import numpy as np
import pandas as pd
import torch
from torch.utils.data import Dataset, Subset

from .._utils.frame import canonical_codes
from .._utils.validation import check_number
from ._buckets import length_buckets
from ._fine_tuning import PieceTable

__all__ = ["ChunkedBatchSampler", "TalkturnBatch", "TalkturnDataset", "ConversationValidSplit",
           "WordTable", "base_positions", "speaker_groups", "split_by_conversation"]


class WordTable:
    """Word ids or word vectors of talkturns laid one after another, gathered batch by batch.

    The counterpart of a fine-tuned encoder's ``PieceTable``: both answer
    :meth:`batch` with the talkturns' whole input to the word encoder, so
    :class:`TalkturnDataset` gathers a batch one way whatever it holds.

    Parameters
    ----------
    values : array-like of shape (n_words,) or (n_words, H)
        Word ids, or word vectors.

    Examples
    --------
    >>> import numpy as np
    >>> table = WordTable(np.array([3, 4, 5, 6, 7]))
    >>> table.batch(np.array([0, 2]), np.array([2, 1])).tolist()
    [[3, 4], [5, 0]]
    """

    def __init__(self, values):
        self.values = torch.as_tensor(values)

    def batch(self, word_offsets, lengths):
        """The rows of talkturns starting at ``word_offsets``, right-padded with zeros.

        Parameters
        ----------
        word_offsets, lengths : ndarray of int
            Per talkturn, the offset of its first word and its words.

        Returns
        -------
        Tensor of shape (U, max(lengths)) or (U, max(lengths), H)
        """
        steps = np.arange(int(lengths.max()))
        real = steps < lengths[:, None]
        flat_index = np.where(real, word_offsets[:, None] + steps, 0)
        tokens = self.values[torch.from_numpy(flat_index)]
        padding = ~torch.from_numpy(real)
        if tokens.ndim == 3:
            padding = padding.unsqueeze(-1)  # word vectors: zero the whole padded row
        return tokens.masked_fill(padding, 0)


class TalkturnBatch:
    """A batch of context windows over the distinct talkturns they contain.

    ``len(batch)`` is the number of samples (windows), which is what skorch
    counts; the talkturn tensors have their own first dimension.
    :meth:`TalkturnDataset.collate` builds it; the network reads it through
    :meth:`module_inputs`.

    Parameters
    ----------
    tokens : LongTensor of shape (U, T), FloatTensor of shape (U, T, H) or PieceBatch
        Word ids (or word vectors) of the U distinct talkturns, left-aligned,
        sorted by decreasing length; with a fine-tuned word encoder, the
        lower-layer states of their pieces, from which the network makes the
        word vectors.
    lengths : LongTensor of shape (U,)
        Words per talkturn.
    windows : LongTensor of shape (B, L)
        Each sample's talkturns, oldest first, as indices into ``tokens``.
    window_lengths : LongTensor of shape (B,)
        Real talkturns per window.
    rows, talkturns : ndarray of int
        Sorted dataset positions of the B samples and of the U talkturns.
    word_buckets : tuple of int or None, default=None
        Boundaries of the length buckets over the talkturns.
    ngrams : tuple of Tensor or None, default=None
        The lexical path's TF-IDF bags of the U talkturns, in their order:
        ``(ids, offsets, weights)`` as ``torch.nn.EmbeddingBag`` reads them;
        None without a lexical path.
    features : Tensor of shape (U, 2 * n_features) or None, default=None
        The feature path's inputs of the U talkturns, in their order; None
        without a feature path.
    lexical_logits : Tensor of shape (B, n_outputs) or None, default=None
        The B samples' logits that replace the lexical layer's (a stacked
        lexical path's held-out logits, while training); None reads the layer.

    Examples
    --------
    >>> import numpy as np
    >>> dataset = TalkturnDataset(np.array([5, 6, 7, 8]), np.array([0, 2, 3]),
    ...                           np.array([2, 1, 1]), np.array([0, 0, 0]),
    ...                           context_size=2, sorted_to_caller=np.arange(3))
    >>> batch, targets = dataset.collate([1, 2])
    >>> len(batch), batch.windows.tolist(), targets is None
    (2, [[0, 1], [1, 2]], True)
    """

    def __init__(self, tokens, lengths, windows, window_lengths, rows, talkturns,
                 word_buckets=None, ngrams=None, features=None, lexical_logits=None):
        self.tokens = tokens
        self.lengths = lengths
        self.windows = windows
        self.window_lengths = window_lengths
        #: Sorted positions of the samples (windows) and of the distinct talkturns.
        self.rows = rows
        self.talkturns = talkturns
        self.word_buckets = word_buckets
        self.ngrams = ngrams
        self.features = features
        self.lexical_logits = lexical_logits

    def __len__(self):
        return len(self.windows)

    def module_inputs(self, device):
        """The keyword arguments of :meth:`HanModule.forward`, on ``device``."""
        inputs = {
            "tokens": self.tokens.to(device),
            "lengths": self.lengths.to(device),
            "windows": self.windows.to(device),
            "window_lengths": self.window_lengths.to(device),
            "word_buckets": self.word_buckets,
        }
        if self.ngrams is not None:
            inputs["ngrams"] = tuple(part.to(device) for part in self.ngrams)
        if self.features is not None:
            inputs["features"] = self.features.to(device)
        if self.lexical_logits is not None:
            inputs["lexical_logits"] = self.lexical_logits.to(device)
        return inputs


class TalkturnDataset(Dataset):
    """Talkturns sorted by conversation and turn; one sample per talkturn.

    Item ``i`` is the sorted position ``i`` itself: :meth:`collate` builds the
    windows of a whole batch at once, so that every distinct talkturn of the
    batch is padded and encoded only once.

    Parameters
    ----------
    token_ids, token_offsets, token_lengths : ndarray
        Encoded talkturns in sorted order (see ``encode_texts``). ``token_ids``
        may instead be a float table of word vectors, shape (n_words, H), as
        :meth:`TalkturnEncoding.encode` gives with a pretrained word encoder;
        the batches then hold padded vectors (U, T, H) in place of ids. A
        ``PieceTable`` (a fine-tuned word encoder's lower-layer states)
        gives each batch the ``PieceBatch`` of its talkturns.
    conversation_codes : ndarray of int, shape (n,)
        Conversation of each sorted talkturn.
    context_size : int
        Talkturns per window: the current one and up to ``context_size - 1``
        earlier ones of the same conversation.
    sorted_to_caller : ndarray of int, shape (n,)
        Caller row of each sorted position.
    targets : dict of ndarray or None
        Per sorted talkturn: ``primary``, ``aux`` and ``offsets`` targets.
    lexical : tuple of ndarray or None, default=None
        The lexical path's TF-IDF bags of the sorted talkturns, ``(ids,
        offsets, weights)`` (see ``NgramVocabulary.bags``); the batches then
        carry those of their talkturns.
    features : ndarray of shape (n, 2 * n_features) or None, default=None
        The feature path's inputs of the sorted talkturns (see
        ``TalkturnEncoding.feature_inputs``); the batches then carry those of
        their talkturns.
    lexical_logits : ndarray of shape (n, n_outputs) or None, default=None
        Per sorted talkturn, logits that replace the lexical layer's for its
        window (a stacked lexical path's held-out logits); the batches then
        carry those of their samples.

    Examples
    --------
    Three talkturns of one conversation, then one of another; windows of
    two talkturns never reach across the conversation boundary:

    >>> import numpy as np
    >>> dataset = TalkturnDataset(token_ids=np.array([3, 4, 5, 6, 7]),
    ...                           token_offsets=np.array([0, 2, 3, 4]),
    ...                           token_lengths=np.array([2, 1, 1, 1]),
    ...                           conversation_codes=np.array([0, 0, 0, 1]),
    ...                           context_size=2, sorted_to_caller=np.arange(4))
    >>> positions, lengths = dataset.window_positions([0, 1, 2, 3])
    >>> positions.tolist(), lengths.tolist()
    ([[0, 0], [0, 1], [1, 2], [3, 3]], [1, 2, 2, 1])
    """

    def __init__(self, token_ids, token_offsets, token_lengths, conversation_codes,
                 context_size, sorted_to_caller, targets=None, lexical=None, features=None,
                 lexical_logits=None):
        # One table per kind of input, each gathering its batches itself, so that
        # collate never asks which kind it holds.
        if isinstance(token_ids, PieceTable):
            self.token_ids = self._table = token_ids
        else:
            self._table = WordTable(token_ids)
            self.token_ids = self._table.values
        self.token_offsets = np.asarray(token_offsets)
        self.token_lengths = np.asarray(token_lengths)
        self.conversation_codes = np.asarray(conversation_codes)
        self.context_size = check_number("TalkturnDataset: context_size", context_size, low=1,
                                         integer=True)
        self.sorted_to_caller = np.asarray(sorted_to_caller)
        self.targets = None if targets is None else {
            name: torch.as_tensor(values) for name, values in targets.items()}
        self.lexical = None
        if lexical is not None:
            ids, offsets, weights = (np.asarray(part) for part in lexical)
            sizes = np.diff(np.r_[offsets, len(ids)])
            self.lexical = (torch.as_tensor(ids), offsets, sizes, torch.as_tensor(weights))
        self.features = None if features is None else torch.as_tensor(features)
        self.lexical_logits = None if lexical_logits is None else torch.as_tensor(lexical_logits)
        positions = np.arange(len(self.conversation_codes))
        first = np.r_[True, self.conversation_codes[1:] != self.conversation_codes[:-1]]
        self.conversation_start = np.maximum.accumulate(np.where(first, positions, 0))

    def __len__(self):
        return len(self.conversation_codes)

    def __getitem__(self, i):
        return i

    def window_positions(self, rows):
        """Sorted positions of each row's window (left-aligned) and the window lengths."""
        rows = np.asarray(rows)
        start = np.maximum(self.conversation_start[rows], rows - self.context_size + 1)
        window_lengths = rows - start + 1
        steps = np.arange(int(window_lengths.max()))
        positions = start[:, None] + steps
        positions = np.where(steps < window_lengths[:, None], positions, rows[:, None])
        return positions, window_lengths

    def _ngrams(self, talkturns):
        """The lexical bags of ``talkturns`` (sorted positions), in their order, or None."""
        if self.lexical is None:
            return None
        ids, offsets, sizes, weights = self.lexical
        sizes = sizes[talkturns]
        starts = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)
        # Position of each bag entry in the flat arrays: its bag's start plus its rank.
        flat = np.repeat(offsets[talkturns] - starts, sizes) + np.arange(int(sizes.sum()))
        index = torch.from_numpy(flat.astype(np.int64))
        return ids[index], torch.from_numpy(starts), weights[index]

    def collate(self, rows):
        """Turn a list of sorted positions into ``(TalkturnBatch, targets)``."""
        rows = np.asarray(rows, dtype=np.int64)
        positions, window_lengths = self.window_positions(rows)
        distinct, windows = np.unique(positions, return_inverse=True)
        # Longest talkturns first, so that length buckets are contiguous slices.
        by_length = np.argsort(-self.token_lengths[distinct], kind="stable")
        distinct = distinct[by_length]
        windows = np.argsort(by_length)[windows]
        lengths = self.token_lengths[distinct]
        tokens = self._table.batch(self.token_offsets[distinct], lengths)
        batch = TalkturnBatch(tokens, torch.from_numpy(lengths),
                              torch.from_numpy(windows.reshape(positions.shape)),
                              torch.from_numpy(window_lengths), rows, distinct,
                              length_buckets(lengths), self._ngrams(distinct),
                              None if self.features is None
                              else self.features[torch.from_numpy(distinct)])
        index = torch.from_numpy(rows)
        if self.lexical_logits is not None:
            batch.lexical_logits = self.lexical_logits[index]
        if self.targets is None:
            return batch, None
        return batch, {name: values[index] for name, values in self.targets.items()}


class ChunkedBatchSampler:
    """Batches of consecutive samples, shuffled in chunks.

    Each conversation's samples are cut into chunks of ``chunk_size``
    consecutive positions (the last one of a conversation may be shorter);
    with ``shuffle`` the chunks are put in random order before being cut into
    batches. Consecutive positions are consecutive talkturns, so the windows of
    a batch overlap and share their talkturn encodings, while the chunk order
    still changes every epoch. A chunk never spans two conversations: one that
    starts where its conversation starts needs no earlier talkturn encoded for
    its windows.

    Parameters
    ----------
    n_samples : int
    batch_size : int
    chunk_size : int
    shuffle : bool
    seed : int, numpy Generator or None
        Seed of the chunk order; epoch ``e`` uses the ``e``-th draw. A
        Generator is used as it is, so its draws continue where they stopped.
    conversations : array-like of shape (n_samples,) or None
        Conversation of each sample, samples of one conversation consecutive;
        None treats all samples as one conversation.

    Examples
    --------
    >>> sampler = ChunkedBatchSampler(7, batch_size=4, chunk_size=2, shuffle=False)
    >>> [list(map(int, b)) for b in sampler]
    [[0, 1, 2, 3], [4, 5, 6]]
    >>> sampler = ChunkedBatchSampler(7, batch_size=3, chunk_size=2, shuffle=True, seed=0,
    ...                               conversations=[0, 0, 0, 1, 1, 1, 1])
    >>> [list(map(int, c)) for c in sampler.chunks()]
    [[0, 1], [2], [3, 4], [5, 6]]
    """

    def __init__(self, n_samples, batch_size, chunk_size, shuffle, seed=None,
                 conversations=None):
        self.n_samples = n_samples
        self.batch_size = check_number("ChunkedBatchSampler: batch_size", batch_size, low=1, integer=True)
        self.chunk_size = check_number("ChunkedBatchSampler: chunk_size", chunk_size, low=1, integer=True)
        self.shuffle = shuffle
        self.rng = np.random.default_rng(seed)
        self.conversations = conversations

    def __len__(self):
        return -(-self.n_samples // self.batch_size)

    def chunks(self):
        """The chunks in their natural order, as arrays of sample positions."""
        positions = np.arange(self.n_samples)
        conversation_start = np.zeros(self.n_samples, dtype=int)
        if self.conversations is not None:
            codes = np.asarray(self.conversations)
            first = np.r_[True, codes[1:] != codes[:-1]]
            conversation_start = np.maximum.accumulate(np.where(first, positions, 0))
        starts = np.flatnonzero((positions - conversation_start) % self.chunk_size == 0)
        return np.split(positions, starts[1:])

    def __iter__(self):
        order = np.arange(self.n_samples)
        if self.shuffle:
            chunks = self.chunks()
            order = np.concatenate([chunks[i] for i in self.rng.permutation(len(chunks))])
        for start in range(0, self.n_samples, self.batch_size):
            yield order[start:start + self.batch_size]


def split_by_conversation(dataset, is_valid):
    """Training and validation :class:`~torch.utils.data.Subset` of ``dataset``.

    ``is_valid`` flags the sorted positions to hold out. Indices stay sorted,
    so each batch still holds consecutive talkturns.
    """
    is_valid = np.asarray(is_valid, dtype=bool)
    return (Subset(dataset, np.flatnonzero(~is_valid).tolist()),
            Subset(dataset, np.flatnonzero(is_valid).tolist()))


class ConversationValidSplit:
    """skorch ``train_split`` that holds out whole conversations for validation.

    Holding out rows at random would put talkturns of one conversation on
    both sides, and a held-out talkturn's label would still be a history or
    future target of its neighbours in training; whole conversations avoid
    both. The estimators draw the held-out conversations once per training
    call, before they fit the vocabulary, so nothing is fitted on them (the
    drawn ids are the estimator's ``valid_conversations_``).

    Parameters
    ----------
    valid_fraction : float in (0, 1), default=0.2
        Approximate fraction of conversations held out.
    random_state : int or None, default=None
        Seed of the draw. None takes the estimator's ``random_state``, so a
        seeded estimator holds out the same conversations at every training
        call; with neither seeded, every call draws anew. Seed one of them
        when a model is trained in several calls (``partial_fit``,
        ``warm_start``), so that validation never scores conversations
        trained on earlier.
    speaker_disjoint : bool, default=False
        Hold out whole groups of conversations that share a speaker (the
        estimators read the ``speaker_column``), so that no held-out speaker
        is also heard in training and the validation score is that of new
        speakers, as the test score of a speaker-disjoint evaluation is. When
        no such groups make up half of the share (one cast speaks in every
        conversation, as in MELD, or two sessions of two actors each, as in
        IEMOCAP's training sessions), the draw is the conversation draw of
        ``speaker_disjoint=False``.

    Examples
    --------
    >>> from skhanrock import HanRockClassifier
    >>> from skhanrock.nn import ConversationValidSplit
    >>> from skorch.callbacks import EarlyStopping
    >>> split = ConversationValidSplit(0.5, random_state=0)
    >>> split.held_out(["a", "a", "b", "c", "c", "d"]).tolist()
    ['c', 'd']
    >>> net = HanRockClassifier(train_split=split, callbacks=[EarlyStopping(patience=3)])

    With speakers, conversations that share one ("a" and "b" share Ann) are
    held out together, where the plain draw splits them:

    >>> ConversationValidSplit(0.5, random_state=1).held_out(["a", "b", "c", "d"]).tolist()
    ['b', 'c']
    >>> by_speaker = ConversationValidSplit(0.5, random_state=1, speaker_disjoint=True)
    >>> by_speaker.held_out(["a", "a", "b", "b", "c", "d"],
    ...                     speakers=["ann", "bo", "ann", "cy", "dee", "ed"]).tolist()
    ['a', 'b']
    """

    def __init__(self, valid_fraction=0.2, random_state=None, speaker_disjoint=False):
        self.valid_fraction = valid_fraction
        self.random_state = random_state
        self.speaker_disjoint = speaker_disjoint

    def held_out(self, conversations, default_random_state=None, speakers=None):
        """The conversations held out for validation.

        Parameters
        ----------
        conversations : array-like of shape (n_rows,)
            Conversation id of each talkturn.
        default_random_state : int or None, default=None
            Seed used when ``random_state`` is None (the estimators pass their own).
        speakers : array-like of shape (n_rows,) or None, default=None
            Speaker of each talkturn (missing values link nothing); needed
            with ``speaker_disjoint=True``, unused otherwise.

        Returns
        -------
        ndarray
            The held-out conversation ids, sorted. The same ids, in any order,
            and the same ``random_state`` always give the same draw.
        """
        fraction = check_number("valid_fraction", self.valid_fraction, low=0, high=1,
                                low_open=True, high_open=True)
        if not isinstance(self.speaker_disjoint, bool | np.bool_):
            raise ValueError(f"speaker_disjoint must be True or False, got "
                             f"{self.speaker_disjoint!r}.")
        conversations = np.asarray(conversations)
        ids = pd.unique(conversations)
        # Drawn from the sorted ids, so the draw does not depend on the row order.
        ids = ids[np.argsort(canonical_codes(ids))]
        if len(ids) < 2:
            raise ValueError(
                "ConversationValidSplit needs at least 2 conversations to hold one out; "
                f"the training data has {len(ids)}.")
        seed = default_random_state if self.random_state is None else self.random_state
        n_valid = min(len(ids) - 1, max(1, round(fraction * len(ids))))
        if self.speaker_disjoint:
            if speakers is None:
                raise ValueError("ConversationValidSplit(speaker_disjoint=True) needs the "
                                 "speaker of each talkturn (speakers=).")
            groups = speaker_groups(conversations, speakers, ids)
            chosen = _whole_groups(groups, n_valid, np.random.default_rng(seed))
            if 2 * chosen.sum() >= n_valid:
                return ids[chosen]
        rng = np.random.default_rng(seed)
        return ids[np.sort(rng.choice(len(ids), n_valid, replace=False))]

    def __repr__(self):
        disjoint = ", speaker_disjoint=True" if self.speaker_disjoint else ""
        return (f"{type(self).__name__}(valid_fraction={self.valid_fraction}, "
                f"random_state={self.random_state}{disjoint})")


def speaker_groups(conversations, speakers, ids):
    """Group of each of ``ids``: conversations linked by a shared speaker, transitively.

    Parameters
    ----------
    conversations, speakers : array-like of shape (n_rows,)
        Conversation and speaker of each talkturn; a missing speaker links nothing.
    ids : ndarray
        The distinct conversation ids, in the order of the result.

    Returns
    -------
    ndarray of shape (len(ids),)
        A group number per conversation; equal numbers share a speaker chain.
    """
    speakers = pd.Series(np.asarray(speakers, dtype=object))
    if len(speakers) != len(conversations):
        raise ValueError(f"speakers has {len(speakers)} values for {len(conversations)} "
                         "talkturns.")
    position = {conversation: i for i, conversation in enumerate(ids)}
    parent = np.arange(len(ids))

    def root(i):
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    first_conversation = {}
    known = speakers.notna().to_numpy()
    for conversation, speaker in zip(conversations[known], speakers[known], strict=True):
        here = position[conversation]
        there = first_conversation.setdefault(speaker, here)
        parent[root(here)] = root(there)
    return np.array([root(i) for i in range(len(ids))])


def _whole_groups(groups, n_valid, rng):
    """Mask of the conversations of whole groups, drawn at random, that fit in ``n_valid``."""
    names, sizes = np.unique(groups, return_counts=True)
    taken, count = [], 0
    # Sizes counted once: a mask and its sum per group made this quadratic in conversations.
    for i in rng.permutation(len(names)):
        if count + sizes[i] <= n_valid:
            taken.append(names[i])
            count += sizes[i]
    return np.isin(groups, taken)


def base_positions(dataset):
    """The :class:`TalkturnDataset` under (nested) subsets, and the positions they select."""
    positions = np.arange(len(dataset))
    while isinstance(dataset, Subset):
        positions = np.asarray(dataset.indices)[positions]
        dataset = dataset.dataset
    return dataset, positions
