"""The lexical path: TF-IDF bags of word n-grams fitted on the training talkturns.

The word GRU reads what words mean; when the exact wording of a talkturn
carries its label (scripted sessions, recurring catchphrases), a linear model
over n-gram counts memorises it far more easily. The bags built here feed a
linear layer of :class:`~skhanrock.nn.HanModule` whose logits are added to the
primary head's ("wide and deep").
"""

from collections import Counter

import numpy as np

from .._utils.validation import check_number
from ._text import tokenize

__all__ = ["LEXICAL_FITS", "STACKED_CONTEXT", "STACKED_MIN_CONVERSATIONS", "NgramVocabulary",
           "check_lexical_column", "check_lexical_context", "check_lexical_fit",
           "check_lexical_ngrams",
           "lexical_context_candidates", "resolve_lexical_fit"]

#: How the lexical layer learns: with the network, first in closed form (``_stacking``),
#: or "auto": stacked once there are enough conversations for its folds.
LEXICAL_FITS = ("auto", "joint", "stacked")
#: Labelled training conversations from which ``lexical_fit="auto"`` stacks (as many as
#: ``train_split="auto"`` needs): with fewer, each fold holds out one or two conversations.
STACKED_MIN_CONVERSATIONS = 20
#: Earlier talkturns a stacked path may read with ``lexical_context="auto"`` (or none):
#: the TF-IDF baseline's three previous talkturns. On IEMOCAP stacking over the current
#: talkturn alone gained nothing; on MELD the utterance alone scored better.
STACKED_CONTEXT = 3


#: Longest n-gram of the lexical path: a longer one hardly recurs, and every n adds
#: to each talkturn's bag (``(1, 10**9)`` would loop a billion times per text).
MAX_NGRAM = 10


def check_lexical_ngrams(value):
    """``value`` as ``(min_n, max_n)`` with ``1 <= min_n <= max_n <= MAX_NGRAM``, or None.

    A list is accepted too, as a saved model gives it back from JSON.
    """
    if value is None:
        return None
    if not isinstance(value, tuple | list) or len(value) != 2:
        raise ValueError("lexical_ngrams must be None or a pair (min_n, max_n) of integers "
                         f"with 1 <= min_n <= max_n <= {MAX_NGRAM}, got {value!r}.")
    low = check_number("lexical_ngrams[0] (min_n)", value[0], low=1, high=MAX_NGRAM,
                       integer=True)
    high = check_number("lexical_ngrams[1] (max_n)", value[1], low=low, high=MAX_NGRAM,
                        integer=True)
    return int(low), int(high)


def check_lexical_column(column, lexical_ngrams):
    """Refuse a ``lexical_column`` that is not None or a column name, or without a lexical path."""
    if column is None:
        return
    if not isinstance(column, str) or not column:
        raise ValueError(f"lexical_column must be None or a column name (str), got {column!r}.")
    if lexical_ngrams is None:
        raise ValueError(f"lexical_column={column!r} is the column the lexical path reads, "
                         "which needs lexical_ngrams (for example (1, 2)); it is None.")


def check_lexical_fit(value, lexical_ngrams):
    """Refuse a ``lexical_fit`` not in :data:`LEXICAL_FITS`, or ``"stacked"`` without a path."""
    if not isinstance(value, str) or value not in LEXICAL_FITS:
        raise ValueError(f"lexical_fit must be one of {LEXICAL_FITS}, got {value!r}.")
    if value == "stacked" and lexical_ngrams is None:
        raise ValueError("lexical_fit='stacked' fits the lexical path first, which needs "
                         "lexical_ngrams (for example (1, 2)); it is None.")


def check_lexical_context(value, context_size, lexical_ngrams):
    """Refuse a ``lexical_context`` other than "auto" or an int in [0, context_size - 1]."""
    if isinstance(value, str) and value == "auto":
        return
    if isinstance(value, str):
        raise ValueError(f"lexical_context must be 'auto' or an integer, got {value!r}.")
    # The window holds context_size talkturns: no earlier one lies beyond it.
    check_number("lexical_context", value, low=0, high=context_size - 1, integer=True)
    if value and lexical_ngrams is None:
        raise ValueError(f"lexical_context={value!r} reads earlier talkturns' n-grams, which "
                         "needs lexical_ngrams (for example (1, 2)); it is None.")


def lexical_context_candidates(value, lexical_fit, context_size):
    """The earlier talkturns a fit's lexical path may read: ``value``, or what "auto" allows.

    ``"auto"``: for a stacked path, none or :data:`STACKED_CONTEXT` (at most
    ``context_size - 1``), which the stacking folds choose between
    (``_stacking.choose_context``); 0 for a joint one.

    Examples
    --------
    >>> lexical_context_candidates("auto", "stacked", 18)
    (0, 3)
    >>> lexical_context_candidates("auto", "stacked", 3), lexical_context_candidates("auto", "joint", 18)
    ((0, 2), (0,))
    >>> lexical_context_candidates(1, "stacked", 18)
    (1,)
    """
    if not (isinstance(value, str) and value == "auto"):
        return (int(value),)
    if lexical_fit != "stacked":
        return (0,)
    return tuple(sorted({0, min(STACKED_CONTEXT, context_size - 1)}))


def resolve_lexical_fit(value, lexical_ngrams, n_conversations, target_type="classification"):
    """``"joint"`` or ``"stacked"``: what ``value`` means for a fit on ``n_conversations``.

    ``"auto"`` stacks a classifier's lexical path with at least
    :data:`STACKED_MIN_CONVERSATIONS` labelled training conversations (a
    regressor's trains jointly: on IEMOCAP's valence and arousal a stacked
    ridge scored below the joint fit);
    ``"stacked"`` needs two (checked here, before a fit replaces anything).

    Examples
    --------
    >>> resolve_lexical_fit("auto", (1, 2), 40), resolve_lexical_fit("auto", (1, 2), 12)
    ('stacked', 'joint')
    >>> resolve_lexical_fit("auto", (1, 2), 40, "regression")
    'joint'
    """
    check_lexical_fit(value, lexical_ngrams)
    if value == "stacked" and n_conversations < 2:
        raise ValueError(
            "lexical_fit='stacked' needs labelled talkturns in at least two training "
            "conversations, to give the network held-out logits; got "
            f"{n_conversations}.")
    if value != "auto":
        return value
    stacked = (lexical_ngrams is not None and target_type == "classification"
               and n_conversations >= STACKED_MIN_CONVERSATIONS)
    return "stacked" if stacked else "joint"


def _ngrams(words, low, high):
    """The n-grams of ``words`` for n in [low, high], each as its words joined by a space.

    Tokens never contain whitespace, so the joined key is unambiguous.
    """
    return [" ".join(words[i:i + n]) for n in range(low, high + 1)
            for i in range(len(words) - n + 1)]


class NgramVocabulary:
    """N-grams of :func:`~skhanrock.nn.tokenize` words with their idf, and TF-IDF bags.

    A talkturn's bag weighs each of its n-grams by ``(1 + log tf) * idf``
    (sublinear term frequency), L2-normalised, as scikit-learn's
    ``TfidfVectorizer(sublinear_tf=True)`` does; ``idf`` is the smoothed
    ``log((1 + n) / (1 + df)) + 1`` over the n training talkturns. The whole
    text is read (not only the first ``max_words`` tokens the word GRU reads).

    Parameters
    ----------
    ngram_range : tuple of int
        ``(min_n, max_n)``.
    min_count : int
        N-grams found in fewer training talkturns are dropped.
    max_features : int
        At most this many n-grams are kept, the most frequent (in training
        talkturns) first, ties alphabetically.

    Attributes
    ----------
    ngrams_ : list of str
        The kept n-grams, in id order.
    idf_ : ndarray of float32
        Their idf weights.

    Examples
    --------
    >>> vocabulary = NgramVocabulary((1, 2), min_count=2, max_features=100)
    >>> vocabulary = vocabulary.fit(["I am fine", "I am here", "fine"])
    >>> vocabulary.ngrams_
    ['am', 'fine', 'i', 'i am']
    >>> ids, offsets, weights = vocabulary.bags(["am fine", "nothing known"])
    >>> ids.tolist(), offsets.tolist(), round(float((weights ** 2).sum()), 6)
    ([0, 1], [0, 2], 1.0)
    """

    def __init__(self, ngram_range=(1, 2), min_count=2, max_features=50_000):
        self.ngram_range = ngram_range
        self.min_count = min_count
        self.max_features = max_features

    def fit(self, texts):
        """Keep the n-grams of ``texts`` (the training talkturns) and their idf.

        Returns
        -------
        self
        """
        low, high = check_lexical_ngrams(self.ngram_range)
        min_count = check_number("lexical_min_count", self.min_count, low=1, integer=True)
        max_features = check_number("lexical_max_features", self.max_features, low=1,
                                    integer=True)
        texts = list(texts)
        # Document frequency: a talkturn repeating an n-gram counts it once.
        counts = Counter(g for text in texts for g in set(_ngrams(tokenize(text), low, high)))
        kept = sorted((g for g, c in counts.items() if c >= min_count),
                      key=lambda g: (-counts[g], g))[:max_features]
        if not kept:
            # At a count of 1 the training texts hold no word at all: only turning the
            # path off can help then.
            lower = "lower lexical_min_count or " if min_count > 1 else ""
            raise ValueError(
                f"lexical_ngrams={self.ngram_range!r}: no n-gram occurs in at least "
                f"lexical_min_count={min_count} of the {len(texts)} training talkturns, so the "
                f"lexical path would have no feature; {lower}turn it off "
                "(lexical_ngrams=None).")
        df = np.array([counts[g] for g in kept], dtype=np.float64)
        return self._set(kept, np.log((1.0 + len(texts)) / (1.0 + df)) + 1.0)

    def _set(self, ngrams, idf):
        self.ngrams_ = list(ngrams)
        self.idf_ = np.asarray(idf, dtype=np.float32)
        self._ids = {g: i for i, g in enumerate(self.ngrams_)}
        return self

    def bags(self, texts):
        """The TF-IDF bag of each text, flat, as ``torch.nn.EmbeddingBag`` reads it.

        Returns
        -------
        ids : ndarray of int64
            N-gram ids, text after text (unknown n-grams are left out).
        offsets : ndarray of int64, shape (n_texts,)
            Start of each text's bag in ``ids``; a text without a known n-gram
            has an empty bag.
        weights : ndarray of float32
            The weight of each id (each bag has unit L2 norm).
        """
        low, high = self.ngram_range
        ids, weights, sizes = [], [], []
        for text in texts:
            counts = Counter(i for i in map(self._ids.get, _ngrams(tokenize(text), low, high))
                             if i is not None)
            bag = np.fromiter(counts, dtype=np.int64, count=len(counts))
            tf = np.fromiter(counts.values(), dtype=np.float64, count=len(counts))
            weight = (1.0 + np.log(tf)) * self.idf_[bag]
            norm = np.sqrt((weight ** 2).sum())
            ids.append(bag)
            weights.append(weight / norm if norm > 0 else weight)
            sizes.append(len(bag))
        offsets = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64) if sizes \
            else np.zeros(0, dtype=np.int64)
        return (np.concatenate(ids) if ids else np.zeros(0, dtype=np.int64),
                offsets,
                np.concatenate(weights).astype(np.float32) if weights
                else np.zeros(0, dtype=np.float32))

    def fitted_state(self):
        """The fitted n-grams and idf as JSON-ready values (for saving)."""
        return {"ngram_range": list(self.ngram_range), "ngrams": list(self.ngrams_),
                "idf": [float(v) for v in self.idf_]}

    @classmethod
    def from_fitted_state(cls, state, min_count, max_features):
        """The vocabulary :meth:`fitted_state` described."""
        vocabulary = cls(tuple(state["ngram_range"]), min_count, max_features)
        return vocabulary._set(state["ngrams"], state["idf"])

    def __len__(self):
        return len(self.ngrams_)
