"""Tokenisation and the vocabulary fitted on training talkturns."""

import functools
import re
import sys
import unicodedata
from collections import Counter

import numpy as np

__all__ = ["PAD_ID", "UNKNOWN_ID", "EMPTY_ID", "fit_vocabulary", "encode_texts", "tokenize",
           "surface_words", "SPECIAL_TOKENS"]

PAD_ID = 0
#: Every out-of-vocabulary word maps to this one id.
UNKNOWN_ID = 1
#: An empty talkturn is read as this single token, so attention always has a
#: real position to attend to.
EMPTY_ID = 2
#: The tokens of ids 0, 1 and 2, first in every fitted vocabulary.
SPECIAL_TOKENS = ("<pad>", "<unk>", "<empty>")

_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "`": "'"})


# Clitics are split as in the GloVe (Stanford) tokenisation: "don't" -> "do", "n't";
# "it's" -> "it", "'s"; so that pretrained vectors cover them. Anything else that is
# not space (punctuation, symbols, the underscore) is one token per character.
_TEMPLATE = r"n't|{word}+(?=n't)|'{letter}+|{word}+|{other}"
# ASCII text, the common case, takes the pattern with small classes.
_ASCII_TOKEN = re.compile(_TEMPLATE.format(word="[a-z0-9]", letter="[a-z]",
                                           other=r"[^\sa-z0-9]"))
_ASTRAL = 0x10000


def _class(codes):
    """A regex character class of the sorted code points ``codes``, as ranges."""
    spans, start, previous = [], codes[0], codes[0]
    for code in [*codes[1:], None]:
        if code is not None and code == previous + 1:
            previous = code
            continue
        spans.append(re.escape(chr(start)) if start == previous
                     else f"{re.escape(chr(start))}-{re.escape(chr(previous))}")
        if code is not None:
            start = previous = code
    return "[" + "".join(spans) + "]"


def _unicode_class(categories):
    """Characters of the given Unicode major categories, as a fast regex.

    Python's regex engine scans a class with characters beyond U+FFFF range by
    range, about 10 times slower; the rarely seen astral characters are
    therefore a separate class, tried only after a one-range test.
    """
    codes = [c for c in range(sys.maxunicode + 1)
             if unicodedata.category(chr(c))[0] in categories]
    basic = [c for c in codes if c < _ASTRAL]
    astral = [c for c in codes if c >= _ASTRAL]
    return f"(?:{_class(basic)}|(?=[{chr(_ASTRAL)}-{chr(sys.maxunicode)}]){_class(astral)})"


@functools.cache
def _unicode_token():
    """The pattern for text in any script, built on first use (listing takes ~0.2 s).

    A word is a run of letters, digits and combining marks (Unicode categories
    L, N and M): ``\\w`` leaves the marks out, yet Devanagari vowel signs and
    accents typed after their letter belong to the word. On ASCII text it
    splits exactly as :data:`_ASCII_TOKEN`.
    """
    return re.compile(_TEMPLATE.format(word=_unicode_class("LMN"),
                                       letter=_unicode_class("LM"), other=r"\S"))


def tokenize(text):
    """Lower-case ``text`` and split it into words, clitics and punctuation marks.

    Words of any script stay whole ("привет", "café", "नमस्ते"); the text is
    put in Unicode normal form NFC first, so an accent typed as a separate
    combining character gives the same word as the composed letter. Letters
    are lower-cased with :meth:`str.lower`, not :meth:`str.casefold`, which
    would rewrite words ("straße" -> "strasse") that pretrained vocabularies
    keep as they are. Typographic apostrophes and the backquote are read as
    ``'``. Punctuation marks and other symbols are one token each.

    Parameters
    ----------
    text : str
        One talkturn's text (or MONAH narrative).

    Returns
    -------
    list of str
        The tokens, in order.

    Examples
    --------
    >>> tokenize("The woman sadly said: No, don't. It\u2019s fine.")
    ['the', 'woman', 'sadly', 'said', ':', 'no', ',', 'do', "n't", '.', 'it', "'s", 'fine', '.']
    >>> tokenize("Привет, café!")
    ['привет', ',', 'café', '!']
    """
    source, pattern = _normalised(text)
    return pattern.findall(source.lower())


def _normalised(text):
    """``text`` with its apostrophes unified (and NFC for non-ASCII), and the token pattern."""
    if text.isascii():
        return text.translate(_APOSTROPHES), _ASCII_TOKEN
    return unicodedata.normalize("NFC", text).translate(_APOSTROPHES), _unicode_token()


def surface_words(text):
    """The tokens of :func:`tokenize`, with their letter case as written.

    :func:`tokenize` lower-cases; cased models (RoBERTa, cased BERT) read the
    words better as typed. Lower-casing keeps the length of nearly every text,
    and then each token's span in the lower-cased text is its span in the
    original; otherwise the lower-cased tokens are returned.

    Parameters
    ----------
    text : str
        One talkturn's text (or MONAH narrative).

    Returns
    -------
    list of str
        The tokens, in order: ``[w.lower() for w in surface_words(text)]`` is
        ``tokenize(text)``.

    Examples
    --------
    >>> surface_words("The CAT don't, Paris!")
    ['The', 'CAT', 'do', "n't", ',', 'Paris', '!']
    """
    source, pattern = _normalised(text)
    lowered = source.lower()
    if len(lowered) != len(source):
        return pattern.findall(lowered)
    return [source[m.start():m.end()] for m in pattern.finditer(lowered)]


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
    vocabulary = {token: i for i, token in enumerate(SPECIAL_TOKENS)}
    vocabulary.update((word, i) for i, word in enumerate(kept, start=len(SPECIAL_TOKENS)))
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
