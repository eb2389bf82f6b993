"""``lexical_column``: the lexical path reads the verbatim words while the word level reads
the MONAH narrative (issue 29, item 3: the narrative's words flooded the n-grams)."""

import numpy as np
import pytest

from skhanrock import (
    ConversationStream,
    HanRockClassifier,
    MonahTranscriber,
    load_model,
    save_model,
)
from skhanrock._testing import TINY
from skhanrock.inspection import explain_wording
from tests.test_stream import _check_stream_equals_batch

NARRATIVE_ONLY = ("said", "woman", "man")   # words of every narrative, of no generated text


@pytest.fixture(scope="module")
def narrated(conversations):
    X, y = conversations
    X = MonahTranscriber().fit_transform(X)
    assert not X["text"].str.contains(r"\b(?:said|woman|man)\b").any()
    return X, y


@pytest.fixture(scope="module")
def apart(narrated):
    X, y = narrated
    return HanRockClassifier(lexical_column="text", **TINY).fit(X, y)


def _has_narrative_words(ngrams):
    return any(word in NARRATIVE_ONLY for ngram in ngrams for word in ngram.split())


def test_the_ngrams_come_from_the_lexical_column(narrated, apart):
    X, y = narrated
    assert apart.text_column_ == "narrative" and apart.lexical_column_ == "text"
    assert not _has_narrative_words(apart.encoding_.lexical_.ngrams_)
    # The word level still reads the narrative, cue words included.
    assert {"said", "woman"} <= set(apart.encoding_.vocabulary_)
    merged = HanRockClassifier(**TINY).fit(X, y)
    assert merged.lexical_column_ == "narrative"
    assert _has_narrative_words(merged.encoding_.lexical_.ngrams_)


def test_predict_reads_the_lexical_column(narrated, apart):
    X, _ = narrated
    assert apart.lexical_column_ == "text"
    attention = apart.predict_attention(X, rows=[3])[0]
    changed = X.assign(text=X["text"].where(np.arange(len(X)) != 3, "zzz unknown words"))
    assert not np.allclose(apart.predict_attention(changed, rows=[3])[0].lexical,
                           attention.lexical)
    with pytest.raises(ValueError, match="'text'"):
        apart.predict(X.drop(columns="text"))


def test_stream_save_load_and_wording_read_it_too(narrated, apart, tmp_path):
    X, _ = narrated
    _check_stream_equals_batch(apart, X)
    loaded = load_model(save_model(apart, tmp_path / "apart.skhanrock"))
    assert loaded.lexical_column_ == "text"
    np.testing.assert_allclose(loaded.predict_proba(X), apart.predict_proba(X), atol=1e-6)
    table = explain_wording(apart, X, rows=[5])
    assert len(table) and not _has_narrative_words(table["ngram"])


def test_a_stream_with_the_transcriber_reads_the_verbatim_words(conversations):
    from skhanrock import make_paper_pipeline

    X, y = conversations
    model = make_paper_pipeline("", lexical_ngrams=(1, 2), lexical_column="text", **TINY)
    model.fit(X, y)
    assert ConversationStream(model).transcriber is model.named_steps["monah"]
    _check_stream_equals_batch(model, X)


@pytest.mark.parametrize("params, message", [
    ({"lexical_column": ""}, "lexical_column must be None or a column name"),
    ({"lexical_column": ["text"]}, "lexical_column must be None or a column name"),
    ({"lexical_column": "text", "lexical_ngrams": None}, "needs lexical_ngrams"),
])
def test_bad_lexical_column_is_refused_by_name(narrated, params, message):
    X, y = narrated
    with pytest.raises(ValueError, match=message):
        HanRockClassifier(**{**TINY, **params}).fit(X, y)


def test_an_absent_lexical_column_is_refused_at_fit(narrated):
    X, y = narrated
    with pytest.raises(ValueError, match="'words'"):
        HanRockClassifier(lexical_column="words", **TINY).fit(X, y)


def test_a_stream_refuses_a_bad_lexical_text_before_the_narrator_remembers_it(conversations):
    from skhanrock import make_paper_pipeline

    X, y = conversations
    X = X.assign(verbatim=X["text"])
    model = make_paper_pipeline("", lexical_ngrams=(1, 2), lexical_column="verbatim", **TINY)
    model.fit(X, y)
    stream = ConversationStream(model)
    assert "verbatim" in stream.columns
    first = X[X["conversation"] == X["conversation"].iloc[0]]
    records = first.to_dict("records")
    expected = model.predict_proba(first)
    for i, record in enumerate(records):
        if i == 2:
            with pytest.raises(TypeError, match="'verbatim'"):
                stream.add({**record, "verbatim": 5})
        # The refused talkturn left nothing in the narrator's history (cues, last end
        # time): the stream still gives each talkturn what predict gives it.
        stream.add(record)
        np.testing.assert_allclose(stream.predict_proba(), expected[i], atol=1e-5)
