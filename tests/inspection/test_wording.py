import copy

import numpy as np
import pandas as pd
import pytest

from skhanrock import HanRockClassifier, HanRockRegressor, make_paper_pipeline
from skhanrock._testing import TINY
from skhanrock.datasets import make_conversations
from skhanrock.inspection import explain_wording
from skhanrock.nn import tokenize

# The lexical layer starts at zero; its own larger rate makes its weights matter
# within a test's few epochs.
WIDE = {**TINY, "lexical_context": 2, "optimizer__param_groups": [("lexical.*", {"lr": 0.05})]}


@pytest.fixture(scope="module")
def scripted():
    return make_conversations(n_conversations=10, scripted=0.6, signal_words=0.0,
                              random_state=0)


@pytest.fixture(scope="module")
def classifier(scripted):
    return HanRockClassifier(**WIDE).fit(*scripted)


def test_the_contributions_add_up_to_the_lexical_logit_of_the_predicted_class(scripted,
                                                                              classifier):
    X, _ = scripted
    rows = [0, 1, 7, 30]
    table = explain_wording(classifier, X, rows=rows)
    for item in classifier.predict_attention(X, rows=rows):
        mine = table[table["row"] == X.index[item.row]]
        k = list(classifier.classes_).index(item.prediction)
        assert np.isclose(mine["contribution"].sum(), item.lexical[k], atol=1e-5)
        assert (mine["output"] == item.prediction).all()
        assert (mine["prediction"] == item.prediction).all()
        # The current talkturn and at most lexical_context=2 before it, within the window.
        assert set(mine["context"]) <= {0, -1, -2}
        assert set(mine["context"]) <= set(range(-len(item.context) + 1, 1))
    first = table[table["row"] == X.index[0]]
    assert set(first["context"]) <= {0}
    assert (table["contribution"].abs() > 0).any()


def test_the_ngrams_are_the_talkturns_kept_ones_by_decreasing_contribution(scripted,
                                                                          classifier):
    X, _ = scripted
    table = explain_wording(classifier, X, rows=[7])
    kept = set(classifier.encoding_.lexical_.ngrams_)
    for (_, talkturn), group in table.groupby(["context", "talkturn"]):
        words = tokenize(X.loc[talkturn, "text"])
        grams = set(words) | {" ".join(pair) for pair in zip(words[:-1], words[1:], strict=True)}
        assert set(group["ngram"]) == grams & kept
        assert np.allclose(group["contribution"], group["tfidf"] * group["coefficient"])
        assert (np.diff(group["contribution"].to_numpy()) <= 0).all()


def test_a_regressors_contributions_are_what_the_lexical_path_adds_to_its_predictions():
    X, y = make_conversations(n_conversations=10, target_type="regression", scripted=0.6,
                              signal_words=0.0, random_state=0)
    net = HanRockRegressor(**WIDE).fit(X, y)
    table = explain_wording(net, X, rows=[3, 9])
    assert table["output"].isna().all()
    deep_only = copy.deepcopy(net)
    deep_only.module_.lexical.weight.data.zero_()
    added = net.predict(X) - deep_only.predict(X)
    for position in (3, 9):
        mine = table[table["row"] == X.index[position]]
        assert np.isclose(mine["contribution"].sum(), added[position], atol=1e-4)


def test_a_pipeline_is_explained_on_the_text_its_network_read(scripted):
    X, y = scripted
    pipe = make_paper_pipeline("", **TINY, lexical_ngrams=(1, 2)).fit(X, y)
    narrative = pipe[:-1].transform(X)["narrative"]
    table = explain_wording(pipe, X, rows=[4])
    current = table[(table["context"] == 0) & ~table["ngram"].str.contains(" ")]
    assert len(current) and set(current["ngram"]) <= set(tokenize(narrative.iloc[4]))
    # MONAH's words, which the raw text does not hold, are among them.
    assert set(current["ngram"]) - set(tokenize(X["text"].iloc[4]))


def test_without_a_lexical_path_it_points_to_explain(scripted):
    X, y = scripted
    plain = HanRockClassifier(**TINY, lexical_ngrams=None).fit(X, y)
    with pytest.raises(ValueError, match="lexical_ngrams=None.*use explain"):
        explain_wording(plain, X)


def test_the_input_is_checked_as_explain_checks_it(scripted, classifier):
    X, _ = scripted
    with pytest.raises(TypeError, match="DataFrame"):
        explain_wording(classifier, X.to_numpy())
    with pytest.raises(ValueError, match="selects no talkturn"):
        explain_wording(classifier, X, rows=[])
    assert isinstance(explain_wording(classifier, X, rows=np.arange(len(X)) < 3), pd.DataFrame)


def test_a_talkturn_without_a_kept_ngram_has_no_rows(scripted, classifier):
    X, _ = scripted
    unknown = X.assign(text="zzzq qqqz")
    table = explain_wording(classifier, unknown, rows=[0, 5])
    assert table.empty and list(table.columns[:4]) == ["row", "context", "talkturn", "ngram"]
    mixed = explain_wording(classifier, X.assign(text=["zzzq"] + list(X["text"].iloc[1:])),
                            rows=[0, 1])
    assert set(mixed["talkturn"]) == {X.index[1]} and mixed["ngram"].dtype == object


def _exactly_two_kept_ngrams(classifier):
    """A text whose only kept n-grams are two single words (their bigram is not kept)."""
    kept = set(classifier.encoding_.lexical_.ngrams_)
    words = sorted(g for g in kept if " " not in g and g.isalpha())
    return next(f"{a} {b}" for a in words for b in words if a != b and f"{a} {b}" not in kept)


def test_a_multiindex_keeps_its_row_labels_whole(scripted, classifier):
    X, _ = scripted
    X = X.assign(text=[_exactly_two_kept_ngrams(classifier)] + list(X["text"].iloc[1:]))
    multi = X.set_axis(pd.MultiIndex.from_arrays([X["conversation"], X["turn"]]))
    rows = [0, 1, 7, 30]
    flat = explain_wording(classifier, X, rows=rows)
    table = explain_wording(classifier, multi, rows=rows)
    # The first talkturn has exactly two n-grams; the others other counts.
    assert (flat["row"] == X.index[0]).sum() == 2
    assert table["row"].tolist() == [multi.index[X.index.get_loc(r)] for r in flat["row"]]
    assert table["talkturn"].tolist() == [multi.index[X.index.get_loc(t)]
                                          for t in flat["talkturn"]]
    assert all(isinstance(label, tuple) for label in table["row"])
    assert flat["row"].dtype == X.index.dtype
    pd.testing.assert_frame_equal(table.drop(columns=["row", "talkturn"]),
                                  flat.drop(columns=["row", "talkturn"]))


def test_lone_surrogates_in_ngrams_and_labels_are_kept_as_they_are():
    X, y = make_conversations(n_conversations=4, scripted=0.6, random_state=0)
    # A lone surrogate (from a bad decode) in every text, and in the row labels.
    X["text"] = pd.Series([f"{t} \ud800odd" for t in X["text"]], index=X.index, dtype=object)
    X.index = pd.Index([f"row\udc80{i}" for i in range(len(X))], dtype=object)
    net = HanRockClassifier(**TINY).fit(X, y.set_axis(X.index))
    table = explain_wording(net, X, rows=[3])
    assert set(table["row"]) == {X.index[3]}
    assert any("\ud800" in ngram for ngram in table["ngram"])
