import numpy as np
import pandas as pd
import pytest
import torch

from skhanrock import (
    ConversationStream,
    HanRockClassifier,
    HanRockRegressor,
    load_model,
    save_model,
)
from skhanrock._testing import TINY
from skhanrock.datasets import make_conversations
from skhanrock.nn import ConversationValidSplit, HanModule, tokenize
from skhanrock.nn._lexical import NgramVocabulary

LEXICAL = {"lexical_ngrams": (1, 2)}
# The lexical layer starts at zero and reads small TF-IDF weights: with the
# deep layers' lr it would barely move in a test's few epochs.
FAST_LEXICAL = {**LEXICAL, "optimizer__param_groups": [("lexical.*", {"lr": 0.05})]}


@pytest.fixture(scope="module")
def scripted():
    X, y = make_conversations(n_conversations=12, scripted=0.6, signal_words=0.0,
                              random_state=0)
    return X, y


@pytest.fixture(scope="module")
def lexical_classifier(scripted):
    X, y = scripted
    return HanRockClassifier(**TINY, **LEXICAL).fit(X, y)


def test_the_default_is_the_lexical_path_of_1_and_2_grams(scripted, lexical_classifier):
    X, y = scripted
    default = HanRockClassifier(**TINY).fit(X, y)
    assert default.lexical_ngrams == (1, 2)
    assert default.encoding_.lexical_.ngrams_ == lexical_classifier.encoding_.lexical_.ngrams_
    np.testing.assert_array_equal(default.predict_proba(X),
                                  lexical_classifier.predict_proba(X))


def test_none_builds_no_lexical_path(scripted):
    X, y = scripted
    plain = HanRockClassifier(**TINY, lexical_ngrams=None).fit(X, y)
    # The other lexical settings mean nothing without the path.
    explicit = HanRockClassifier(**TINY, lexical_ngrams=None, lexical_min_count=5,
                                 lexical_max_features=3).fit(X, y)
    assert plain.module_.lexical is None and plain.encoding_.lexical_ is None
    assert plain.encoding_.fitted_state()["lexical"] is None
    assert not any(k.startswith("lexical") for k in plain.module_.state_dict())
    np.testing.assert_array_equal(plain.predict_proba(X), explicit.predict_proba(X))
    [item] = plain.predict_attention(X, rows=[3])
    assert item.lexical is None


def test_the_lexical_path_leaves_the_deep_initialisation_alone():
    torch.manual_seed(0)
    plain = HanModule(vocabulary_size=9, embedding_dim=4, primary_units=3, n_primary_outputs=2)
    torch.manual_seed(0)
    wide = HanModule(vocabulary_size=9, embedding_dim=4, primary_units=3, n_primary_outputs=2,
                     lexical_features=7)
    deep = wide.state_dict()
    assert set(deep) - set(plain.state_dict()) == {"lexical.weight"}
    assert not deep["lexical.weight"].any()
    for name, value in plain.state_dict().items():
        torch.testing.assert_close(deep[name], value, rtol=0, atol=0)


def test_the_ngrams_are_fitted_on_the_training_rows_only(scripted):
    X, y = scripted
    split = ConversationValidSplit(0.3, random_state=0)
    held_out = split.held_out(X["conversation"])
    first = X.index[X["conversation"] == held_out[0]][0]
    X = X.copy()
    X.loc[first, "text"] = "zebraword quokkaword"
    X.loc[X.index[X["conversation"] == held_out[0]][1], "text"] = "zebraword quokkaword"
    clf = HanRockClassifier(**TINY, **LEXICAL, lexical_min_count=1, train_split=split)
    clf.fit(X, y)
    ngrams = set(clf.encoding_.lexical_.ngrams_)
    assert not {"zebraword", "quokkaword", "zebraword quokkaword"} & ngrams
    training = X[~X["conversation"].isin(held_out)]
    assert set(tokenize(training["text"].iloc[0])) <= ngrams


def test_min_count_and_max_features_bound_the_vocabulary():
    texts = ["a b", "a b", "a c", "d"]
    assert NgramVocabulary((1, 2), 2, 100).fit(texts).ngrams_ == ["a", "a b", "b"]
    assert NgramVocabulary((1, 1), 1, 2).fit(texts).ngrams_ == ["a", "b"]
    assert NgramVocabulary((2, 2), 1, 100).fit(texts).ngrams_ == ["a b", "a c"]


def test_the_bags_are_sublinear_tf_idf_like_scikit_learns():
    from sklearn.feature_extraction.text import TfidfVectorizer

    texts = ["the cat sat on the mat", "the dog sat", "a cat, a dog", "the the the"]
    ours = NgramVocabulary((1, 2), 1, 100).fit(texts)
    theirs = TfidfVectorizer(tokenizer=tokenize, lowercase=False, token_pattern=None,
                             ngram_range=(1, 2), sublinear_tf=True).fit(texts)
    ids, offsets, weights = ours.bags(texts)
    dense = np.zeros((len(texts), len(ours)))
    for t, (start, stop) in enumerate(zip(offsets, [*offsets[1:], len(ids)], strict=True)):
        dense[t, ids[start:stop]] = weights[start:stop]
    expected = theirs.transform(texts).toarray()
    columns = [theirs.vocabulary_[g] for g in ours.ngrams_]
    np.testing.assert_allclose(dense, expected[:, columns], atol=1e-6)


def test_the_lexical_path_learns_the_exact_wording():
    scores = {}
    for seed in (0, 1):
        X, y = make_conversations(n_conversations=30, scripted=0.6, signal_words=0.0,
                                  random_state=seed)
        ids = pd.unique(X["conversation"])
        test = X["conversation"].isin(ids[:len(ids) // 3]).to_numpy()
        settings = {**TINY, "max_epochs": 4, "random_state": seed}
        for name, extra in (("deep", {"lexical_ngrams": None}), ("wide", FAST_LEXICAL)):
            clf = HanRockClassifier(**settings, **extra).fit(X[~test], y[~test])
            scores[name, seed] = clf.score(X[test], y[test])
    # Measured: deep 0.35 / 0.28, wide 0.59 / 0.59 (seed 2: 0.26 / 0.48).
    for seed in (0, 1):
        assert scores["wide", seed] > scores["deep", seed] + 0.15, scores


@pytest.mark.parametrize("cls", [HanRockClassifier, HanRockRegressor])
@pytest.mark.parametrize("architecture", ["rock", "flat"])
def test_both_estimators_and_architectures_add_the_lexical_logits(cls, architecture,
                                                                   scripted, tmp_path):
    X, y = scripted
    if cls is HanRockRegressor:
        X, y = make_conversations(n_conversations=12, target_type="regression", scripted=0.6,
                                  signal_words=0.0, random_state=0)
    net = cls(**TINY, **FAST_LEXICAL, architecture=architecture).fit(X, y)
    weight = net.module_.lexical.weight
    assert weight.shape == (len(net.encoding_.lexical_), 1 if cls is HanRockRegressor else 4)
    assert weight.abs().sum() > 0
    before = net.predict(X)
    with torch.no_grad():
        saved = weight.clone()
        weight.zero_()
        deep_only = net.predict(X)
        weight.copy_(saved)
    assert not np.array_equal(before, deep_only)
    items = net.predict_attention(X, rows=[0, 7])
    assert all(item.lexical.shape == weight.shape[1:] for item in items)
    assert all(len(item.word[0]) == len(item.context) for item in items)
    restored = load_model(save_model(net, tmp_path / "model.skhanrock"))
    np.testing.assert_array_equal(restored.predict(X), before)
    assert restored.encoding_.lexical_.ngrams_ == net.encoding_.lexical_.ngrams_
    np.testing.assert_array_equal(restored.encoding_.lexical_.idf_, net.encoding_.lexical_.idf_)


def test_save_and_load_keep_the_lexical_path(lexical_classifier, scripted, tmp_path):
    X, _ = scripted
    path = save_model(lexical_classifier, tmp_path / "model.skhanrock")
    restored = load_model(path)
    assert restored.get_params()["lexical_ngrams"] == (1, 2)
    np.testing.assert_array_equal(restored.predict_proba(X), lexical_classifier.predict_proba(X))
    torch.testing.assert_close(restored.module_.lexical.weight,
                               lexical_classifier.module_.lexical.weight, rtol=0, atol=0)


@pytest.fixture(scope="module")
def context_classifier(scripted):
    X, y = scripted
    return HanRockClassifier(**TINY, **FAST_LEXICAL, lexical_context=2).fit(X, y)


@pytest.mark.parametrize("fixture", ["lexical_classifier", "context_classifier"])
def test_the_stream_equals_predict_with_the_lexical_path(fixture, scripted, request):
    X, _ = scripted
    lexical_classifier = request.getfixturevalue(fixture)
    stream = ConversationStream(lexical_classifier)
    for _, part in list(X.groupby("conversation"))[:3]:
        part = part.sort_values("turn")
        for end, talkturn in enumerate(part.to_dict("records"), start=1):
            prediction = stream.add(talkturn)
            prefix = part.iloc[:end]
            assert prediction == lexical_classifier.predict(prefix)[-1]
            np.testing.assert_allclose(stream.predict_proba(),
                                       lexical_classifier.predict_proba(prefix)[-1], atol=1e-5)
    [batch] = lexical_classifier.predict_attention(part, rows=[len(part) - 1])
    np.testing.assert_allclose(stream.attention().lexical, batch.lexical, atol=1e-6)


@pytest.mark.parametrize("params, message", [
    ({"lexical_ngrams": (2, 1)}, r"lexical_ngrams\[1\] \(max_n\)"),
    ({"lexical_ngrams": (0, 2)}, r"lexical_ngrams\[0\] \(min_n\)"),
    ({"lexical_ngrams": 2}, "lexical_ngrams must be None or a pair"),
    ({"lexical_ngrams": (1, 2, 3)}, "lexical_ngrams must be None or a pair"),
    ({"lexical_ngrams": (1.5, 2)}, r"lexical_ngrams\[0\]"),
    ({"lexical_min_count": 0}, "lexical_min_count"),
    ({"lexical_max_features": 0}, "lexical_max_features"),
    ({"lexical_max_features": 2.5}, "lexical_max_features"),
    ({**LEXICAL, "lexical_min_count": 10 ** 6}, "no n-gram occurs in at least"),
    ({**LEXICAL, "lexical_context": -1}, "lexical_context"),
    ({**LEXICAL, "lexical_context": TINY["context_size"]}, "lexical_context"),
    ({"lexical_ngrams": None, "lexical_context": 1},
     "lexical_context=1 reads earlier talkturns' n-grams"),
])
def test_bad_lexical_parameters_are_refused_by_name(scripted, params, message):
    X, y = scripted
    with pytest.raises(ValueError, match=message):
        HanRockClassifier(**TINY, **params).fit(X, y)


def test_the_module_refuses_bags_it_cannot_read():
    module = HanModule(vocabulary_size=9, embedding_dim=4, primary_units=3, n_primary_outputs=2)
    tokens, lengths = torch.tensor([[3, 4]]), torch.tensor([2])
    bag = (torch.tensor([0]), torch.tensor([0]), torch.tensor([1.0]))
    with pytest.raises(ValueError, match="ngrams must be given exactly when"):
        module.encode_talkturns(tokens, lengths, ngrams=bag)
    wide = HanModule(vocabulary_size=9, embedding_dim=4, primary_units=3, n_primary_outputs=2,
                     lexical_features=3)
    with pytest.raises(ValueError, match="ngrams must be given exactly when"):
        wide.encode_talkturns(tokens, lengths)
    with pytest.raises(ValueError, match="lexical_features"):
        HanModule(vocabulary_size=9, embedding_dim=4, primary_units=3, lexical_features=-1)


def test_lexical_context_weighs_each_earlier_talkturn_with_its_own_logits():
    module = HanModule(vocabulary_size=9, embedding_dim=4, primary_units=3, n_primary_outputs=2,
                       lexical_features=3, lexical_context=1)
    assert module.lexical.weight.shape == (3, 4)
    # Per n-gram: logits (current talkturn), then logits (previous talkturn).
    with torch.no_grad():
        module.lexical.weight.copy_(torch.tensor([[1.0, 0.0, 10.0, 0.0],
                                                  [0.0, 2.0, 0.0, 20.0],
                                                  [0.0, 0.0, 0.0, 0.0]]))
    tokens, lengths = torch.tensor([[3, 4], [5, 0]]), torch.tensor([2, 1])
    bags = (torch.tensor([0, 1]), torch.tensor([0, 1]), torch.tensor([1.0, 1.0]))
    windows, window_lengths = torch.tensor([[0, 0], [0, 1]]), torch.tensor([1, 2])
    *_, attention = module(tokens, lengths, windows, window_lengths, ngrams=bags)
    # Window 0 is talkturn 0 alone; window 1 is talkturn 1 after talkturn 0.
    torch.testing.assert_close(attention["lexical"], torch.tensor([[1.0, 0.0], [10.0, 2.0]]))


def test_lexical_context_is_saved_and_counts(context_classifier, scripted, tmp_path):
    X, _ = scripted
    module = context_classifier.module_
    assert module.lexical.weight.shape == (len(context_classifier.encoding_.lexical_), 3 * 4)
    restored = load_model(save_model(context_classifier, tmp_path / "model.skhanrock"))
    assert restored.lexical_context == 2
    np.testing.assert_array_equal(restored.predict_proba(X), context_classifier.predict_proba(X))
    # Weights of the earlier offsets were trained and move the predictions.
    with torch.no_grad():
        weight = module.lexical.weight.view(-1, 3, 4)
        assert weight[:, 1:].abs().sum() > 0
        saved = weight.clone()
        weight[:, 1:] = 0
        current_only = context_classifier.predict_proba(X)
        weight.copy_(saved)
    assert not np.allclose(current_only, context_classifier.predict_proba(X))


def test_training_texts_without_words_name_the_only_fix(scripted):
    X, y = scripted
    silent = X.assign(text="")
    with pytest.raises(ValueError, match=r"feature; turn it off \(lexical_ngrams=None\)"):
        HanRockClassifier(**TINY, lexical_min_count=1).fit(silent, y)
    with pytest.raises(ValueError, match="lower lexical_min_count or turn it off"):
        HanRockClassifier(**TINY).fit(silent, y)
    HanRockClassifier(**TINY, lexical_ngrams=None).fit(silent, y)
