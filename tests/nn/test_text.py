import random
import re
import string

import numpy as np
import pytest

from skhanrock.nn._text import EMPTY_ID, UNKNOWN_ID, encode_texts, fit_vocabulary, tokenize


def test_encoding_truncates_keeps_first_words_and_marks_empty_and_unknown():
    vocabulary = fit_vocabulary(["one two three"])
    ids, offsets, lengths = encode_texts(["one two three four", "", "zebra"], vocabulary, 2)
    np.testing.assert_array_equal(lengths, [2, 1, 1])
    assert ids[0] == vocabulary["one"] and ids[1] == vocabulary["two"]
    assert ids[2] == EMPTY_ID and ids[3] == UNKNOWN_ID
    assert tokenize("Hello, World") == ["hello", ",", "world"]


# The tokeniser before words of other scripts were kept whole: on ASCII text it must not change.
_ASCII_TOKEN = re.compile(r"n't|[a-z0-9]+(?=n't)|'[a-z]+|[a-z0-9]+|[^\sa-z0-9]")


@pytest.mark.parametrize(("text", "expected"), [
    ("Привет café", ["привет", "café"]),
    ("Straße ÉCOLE", ["straße", "école"]),            # str.lower, not casefold
    ("नमस्ते दुनिया", ["नमस्ते", "दुनिया"]),             # vowel signs and virama stay in the word
    ("cafe\u0301 café", ["café", "café"]),             # decomposed and composed: one word
    ("日本語です。", ["日本語です", "。"]),
    ("l'été c\u2019est ça", ["l", "'été", "c", "'est", "ça"]),
    ("٢٣ apples", ["٢٣", "apples"]),
    ("snake_case", ["snake", "_", "case"]),
])
def test_words_of_any_script_stay_whole(text, expected):
    assert tokenize(text) == expected


def test_ascii_text_tokenises_as_before():
    rng = random.Random(0)
    alphabet = string.ascii_letters + string.digits + string.punctuation + " \t\n" + "n't" * 5
    texts = ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 40)))
             for _ in range(2000)]
    texts += ["The woman sadly said: No, don't. It's fine.", "the speaker angrily and "
              "quickly said after two hundred milliseconds a long delay hi."]
    for text in texts:
        # a backquote was, and is, read as an apostrophe
        before = _ASCII_TOKEN.findall(text.lower().replace("`", "'"))
        assert tokenize(text) == before, text
        # the same words next to a non-ASCII one (the pattern for any script)
        assert tokenize("é " + text) == ["é", *before], text


def test_a_non_ascii_word_takes_one_place_of_max_words():
    vocabulary = fit_vocabulary(["привет мир"])
    ids, _, lengths = encode_texts(["привет мир"], vocabulary, 2)
    assert lengths.tolist() == [2]
    assert ids.tolist() == [vocabulary["привет"], vocabulary["мир"]]
