"""Tokenisation and the vocabulary fitted on training talkturns."""

import re
from collections import Counter

import numpy as np

__all__ = ["PAD_ID", "UNKNOWN_ID", "EMPTY_ID", "fit_vocabulary", "encode_texts", "tokenize"]

PAD_ID = 0
#: Every out-of-vocabulary word maps to this one id.
UNKNOWN_ID = 1
#: An empty talkturn is read as this single token, so attention always has a
#: real position to attend to.
EMPTY_ID = 2
_SPECIAL_TOKENS = ("<pad>", "<unk>", "<empty>")

# Clitics are split as in the GloVe (Stanford) tokenisation: "don't" -> "do", "n't";
# "it's" -> "it", "'s"; so that pretrained vectors cover them.
_TOKEN = re.compile(r"n't|[a-z0-9]+(?=n't)|'[a-z]+|[a-z0-9]+|[^\sa-z0-9]")
_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "`": "'"})


def tokenize(text):
    """Lower-case ``text`` and split it into words, clitics and punctuation marks.

    Examples
    --------
    >>> tokenize("The woman sadly said: No, don't. It\u2019s fine.")
    ['the', 'woman', 'sadly', 'said', ':', 'no', ',', 'do', "n't", '.', 'it', "'s", 'fine', '.']
    """
    return _TOKEN.findall(text.lower().translate(_APOSTROPHES))


def fit_vocabulary(texts, min_count=1):
    """Map each word seen at least ``min_count`` times in ``texts`` to an id.

    Ids 0, 1 and 2 are reserved for padding, unknown words and empty talkturns;
    words are numbered by decreasing frequency, ties alphabetically, so the
    vocabulary does not depend on row order.

    Examples
    --------
    >>> fit_vocabulary(["b a a", "c a b"])
    {'<pad>': 0, '<unk>': 1, '<empty>': 2, 'a': 3, 'b': 4, 'c': 5}
    """
    counts = Counter(word for text in texts for word in tokenize(text))
    kept = sorted((w for w, c in counts.items() if c >= min_count),
                  key=lambda w: (-counts[w], w))
    vocabulary = {token: i for i, token in enumerate(_SPECIAL_TOKENS)}
    vocabulary.update((word, i) for i, word in enumerate(kept, start=len(_SPECIAL_TOKENS)))
    return vocabulary


def encode_texts(texts, vocabulary, max_words):
    """Encode texts as one flat id array plus per-text offsets and lengths.

    A talkturn longer than ``max_words`` keeps its *first* ``max_words`` tokens:
    MONAH narratives put the nonverbal cues before the verbatim words, and those
    cues must survive truncation.

    Returns
    -------
    ids : ndarray of int64
        All token ids, text after text.
    offsets : ndarray of int64, shape (n_texts,)
        Start of each text in ``ids``.
    lengths : ndarray of int64, shape (n_texts,)
        Number of tokens of each text (at least 1).
    """
    encoded = []
    for text in texts:
        words = tokenize(text)[:max_words]
        encoded.append([vocabulary.get(w, UNKNOWN_ID) for w in words] or [EMPTY_ID])
    lengths = np.fromiter((len(e) for e in encoded), dtype=np.int64, count=len(encoded))
    offsets = np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int64)
    ids = np.fromiter((i for e in encoded for i in e), dtype=np.int64, count=int(lengths.sum()))
    return ids, offsets, lengths
