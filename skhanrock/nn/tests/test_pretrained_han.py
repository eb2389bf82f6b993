"""The estimators on a pretrained word encoder: a tiny random BERT under the HAN."""

import shutil

import numpy as np
import pytest
import torch

transformers = pytest.importorskip("transformers")

from skhanrock import ConversationStream, HanRockClassifier, HanRockRegressor  # noqa: E402
from skhanrock._testing import TINY  # noqa: E402
from skhanrock.datasets import make_conversations  # noqa: E402
from skhanrock.inspection import explain, render_html  # noqa: E402
from skhanrock.nn import PretrainedWordEncoder, tokenize  # noqa: E402

from ._shared import HIDDEN, tiny_bert  # noqa: E402

SETTINGS = {**TINY, "device": "cpu"}


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    return tiny_bert(tmp_path_factory.mktemp("models") / "tiny-bert", seed=0)


@pytest.fixture(scope="module")
def data():
    return make_conversations(n_conversations=6, random_state=0)


@pytest.fixture(scope="module")
def fitted(model_dir, data):
    """A classifier on a given encoder, with what the encoder held before and after fit."""
    X, y = data
    encoder = PretrainedWordEncoder(model_dir, max_words=TINY.get("max_words", 64))
    before = {k: v.clone() for k, v in encoder.state_dict().items()}
    clf = HanRockClassifier(embeddings=encoder, **SETTINGS).fit(X, y)
    return clf, encoder, before, encoder.cache_info()


@pytest.fixture(scope="module")
def regressor(model_dir):
    X, y = make_conversations(n_conversations=6, task="regression", random_state=0)
    return HanRockRegressor(embeddings=str(model_dir), **SETTINGS).fit(X, y), X


def test_classifier_reads_the_encoder_states_in_place_of_an_embedding_table(fitted, data):
    clf, encoder, _, _ = fitted
    X, _ = data
    assert clf.module_.embedding is None
    assert clf.module_.word_gru.forward_gru.input_size == HIDDEN == encoder.hidden_size
    assert clf.encoding_.word_encoder_ is encoder and clf.embedding_init_ is None
    proba = clf.predict_proba(X)
    assert proba.shape == (len(X), len(clf.classes_))
    np.testing.assert_allclose(proba.sum(1), 1.0, rtol=1e-5)
    assert set(clf.predict(X)) <= set(clf.classes_)


def test_regressor_reads_a_local_model_folder_on_its_device(regressor, model_dir):
    reg, X = regressor
    encoder = reg.encoding_.word_encoder_
    assert isinstance(encoder, PretrainedWordEncoder)
    assert encoder.model_path == model_dir.resolve() and encoder.max_words == reg.max_words
    assert encoder.device == torch.device("cpu")
    predictions = reg.predict(X)
    assert predictions.shape == (len(X),) and np.isfinite(predictions).all()


def test_each_distinct_text_is_encoded_once_per_fit_and_predict_hits_the_cache(fitted, data):
    clf, encoder, _, after_fit = fitted
    X, _ = data
    n_texts = X["text"].nunique()
    assert (after_fit.misses, after_fit.hits) == (n_texts, 0)
    before = encoder.cache_info()
    clf.predict(X)
    after = encoder.cache_info()
    assert after.misses == before.misses
    assert after.hits == before.hits + n_texts


def test_word_attention_weighs_each_word_of_the_talkturn(fitted, data):
    clf, _, _, _ = fitted
    X, _ = data
    texts = X["text"].to_numpy()
    for item in clf.predict_attention(X, rows=[0, 7, 20]):
        for branch in item.word:
            lengths = [len(alpha) for alpha in branch]
            assert lengths == [len(tokenize(texts[r])[:clf.max_words]) or 1
                               for r in item.context]
            for alpha in branch:
                np.testing.assert_allclose(alpha.sum(), 1.0, rtol=1e-5)
    table = explain(clf, X, rows=[7])
    words = table[(table["level"] == "word") & (table["context"] == 0) & (table["task"] == "y")]
    assert words.sort_values("position")["token"].tolist() == tokenize(texts[7])
    assert "<html" in render_html(table).lower()


def test_the_encoder_stays_frozen_and_outside_the_trained_module(fitted):
    clf, encoder, before, _ = fitted
    for name, tensor in encoder.state_dict().items():
        torch.testing.assert_close(tensor, before[name], rtol=0, atol=0)
    assert not any(p.requires_grad for p in encoder.parameters())
    trained = {id(p) for p in clf.module_.parameters()}
    assert not trained & {id(p) for p in encoder.parameters()}


def test_save_and_load_read_the_encoder_from_its_folder(fitted, data, tmp_path):
    clf, _, _, _ = fitted
    X, _ = data
    restored = HanRockClassifier.load(clf.save(tmp_path / "model.skhanrock"))
    assert restored.encoding_.word_encoder_.fingerprint() == clf.encoding_.word_encoder_.fingerprint()
    np.testing.assert_allclose(restored.predict_proba(X), clf.predict_proba(X), atol=1e-6)
    assert restored.embeddings == str(clf.encoding_.word_encoder_.model_path)


def test_load_refuses_another_model_or_a_missing_folder(model_dir, data, tmp_path):
    X, y = data
    folder = shutil.copytree(model_dir, tmp_path / "checkpoint")
    clf = HanRockClassifier(embeddings=str(folder), **{**SETTINGS, "max_epochs": 1}).fit(X, y)
    path = clf.save(tmp_path / "model.skhanrock")
    shutil.rmtree(folder)
    tiny_bert(folder, seed=1)
    with pytest.raises(ValueError, match="fingerprint"):
        HanRockClassifier.load(path)
    shutil.rmtree(folder)
    with pytest.raises(ValueError, match="does not exist"):
        HanRockClassifier.load(path)


def test_saving_an_encoder_without_a_folder_is_refused(fitted, data, tmp_path):
    X, y = data
    encoder = fitted[1]
    config = transformers.BertConfig(**{k: v for k, v in encoder.model.config.to_dict().items()
                                        if k != "_name_or_path"})
    in_memory = PretrainedWordEncoder(transformers.BertModel(config), encoder.tokenizer)
    assert in_memory.model_path is None
    clf = HanRockClassifier(embeddings=in_memory, **{**SETTINGS, "max_epochs": 1}).fit(X, y)
    with pytest.raises(ValueError, match="save_pretrained"):
        clf.save(tmp_path / "model.skhanrock")
    assert not (tmp_path / "model.skhanrock").exists()


@pytest.mark.parametrize("name", ["bert-base-uncased", "sentence-transformers/all-MiniLM-L6-v2"])
def test_a_model_name_is_never_downloaded(name, data):
    X, y = data
    with pytest.raises(ValueError, match="No network access"):
        HanRockClassifier(embeddings=name, **SETTINGS).fit(X, y)


def test_fine_tuning_and_other_max_words_are_refused(model_dir, data):
    X, y = data
    with pytest.raises(ValueError, match="not supported by the estimators yet"):
        HanRockClassifier(embeddings=PretrainedWordEncoder(model_dir, fine_tune_layers=1),
                          **SETTINGS).fit(X, y)
    with pytest.raises(ValueError, match="max_words"):
        HanRockClassifier(embeddings=PretrainedWordEncoder(model_dir, max_words=5),
                          **SETTINGS).fit(X, y)


@pytest.mark.parametrize("model", ["fitted", "regressor"])
def test_stream_equals_predict_on_every_prefix(model, request, data):
    estimator = request.getfixturevalue(model)[0]
    X = data[0] if model == "fitted" else request.getfixturevalue(model)[1]
    conversation = X[X["conversation"] == X["conversation"].iloc[0]].sort_values("turn")
    stream = ConversationStream(estimator)
    for end, talkturn in enumerate(conversation.to_dict("records"), start=1):
        live = stream.add(talkturn)
        prefix = conversation.iloc[:end]
        if model == "fitted":
            assert live == estimator.predict(prefix)[-1]
            np.testing.assert_allclose(stream.predict_proba(), estimator.predict_proba(prefix)[-1],
                                       atol=1e-5)
        else:
            np.testing.assert_allclose(live, estimator.predict(prefix)[-1], rtol=1e-5, atol=1e-5)
