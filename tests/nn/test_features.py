"""The feature path: numeric talkturn measurements as inputs (feature_columns)."""

import numpy as np
import pandas as pd
import pytest
import torch

from skhanrock import (
    ConversationStream,
    HanRockClassifier,
    HanRockRegressor,
    MonahTranscriber,
    load_model,
    save_model,
)
from skhanrock._testing import TINY
from skhanrock.datasets import make_conversations
from skhanrock.inspection import explain_features
from skhanrock.nn import HanModule

from ._shared import run_without_unpickling

FEATURES = ["tone_happiness", "tone_anger", "AU12_r"]
# The linear feature layer starts at zero: with the deep layers' lr it would
# barely move in a test's two epochs, and the explanation would be all zeros.
WITH_FEATURES = {"feature_columns": FEATURES,
                 "optimizer__param_groups": [("features.*", {"lr": 0.05})]}


def _with_gaps(X):
    """``X`` with some feature values missing (NaN), as real measurements have."""
    X = X.copy()
    rng = np.random.default_rng(1)
    for column in FEATURES:
        X.loc[rng.random(len(X)) < 0.15, column] = np.nan
    return X


@pytest.fixture(scope="module")
def data():
    X, y = make_conversations(n_conversations=8, random_state=0)
    return _with_gaps(X), y


@pytest.fixture(scope="module")
def regression_data():
    X, y = make_conversations(n_conversations=8, target_type="regression", random_state=0)
    return _with_gaps(X), y


@pytest.fixture(scope="module")
def classifier(data):
    X, y = data
    return HanRockClassifier(**TINY, **WITH_FEATURES).fit(X, y)


@pytest.fixture(scope="module")
def regressor(regression_data):
    X, y = regression_data
    return HanRockRegressor(**TINY, **WITH_FEATURES, architecture="flat").fit(X, y)


def _one_speaker_rows(X):
    """The sorted rows of the first conversation's first speaker."""
    part = X[X["conversation"] == X["conversation"].iloc[0]].sort_values("turn")
    return part[part["speaker"] == part["speaker"].iloc[0]]


def test_values_are_standardised_against_the_speakers_earlier_talkturns(classifier, data):
    X, _ = data
    rows = _one_speaker_rows(X)
    inputs = classifier.encoding_.feature_inputs(rows, np.arange(len(rows)))
    for i in range(len(rows)):
        for j, column in enumerate(FEATURES):
            earlier = rows[column].iloc[:i].dropna().to_numpy()
            value = rows[column].iloc[i]
            usable = len(earlier) >= 2 and earlier.std() > 0 and not np.isnan(value)
            expected = np.clip((value - earlier.mean()) / earlier.std(), -5, 5) if usable else 0
            assert inputs[i, j] == pytest.approx(expected, abs=1e-5)
            assert inputs[i, len(FEATURES) + j] == (0.0 if usable else 1.0)
    # The speaker's other talkturns of the conversation do not count: the same rows
    # inside the whole frame get the same inputs.
    everything = classifier.encoding_.feature_inputs(X, np.arange(len(X)))
    np.testing.assert_array_equal(everything[X.index.get_indexer(rows.index)], inputs)


def test_the_inputs_enter_the_network_at_the_talkturn_level_and_the_linear_layer(classifier):
    module = classifier.module_
    assert module.primary_reader.gru.forward_weights.input_weight.shape[1] == (
        2 * TINY["primary_units"] + 2 * len(FEATURES))
    assert module.feature_weights().shape == (2 * len(FEATURES), TINY["context_size"],
                                              len(classifier.classes_))
    assert np.abs(module.feature_weights()).sum() > 0


def test_context_talkturns_carry_their_features_through_the_talkturn_level():
    torch.manual_seed(0)
    module = HanModule(vocabulary_size=9, embedding_dim=4, primary_units=3,
                       n_primary_outputs=2, talkturn_features=2).eval()
    tokens, lengths = torch.tensor([[3, 4], [5, 0]]), torch.tensor([2, 1])
    windows, window_lengths = torch.tensor([[0, 1]]), torch.tensor([2])
    features = torch.zeros(2, 4)
    before = module(tokens, lengths, windows, window_lengths, features=features)[0]
    features[0, 0] = 3.0  # the earlier talkturn of the window, not the current one
    after = module(tokens, lengths, windows, window_lengths, features=features)[0]
    # The linear layer is still zero: the change reached the output through the GRU.
    assert not module.features.weight.any()
    assert not torch.allclose(before, after)


def test_the_module_refuses_features_it_cannot_read():
    tokens, lengths = torch.tensor([[3, 4]]), torch.tensor([2])
    windows, window_lengths = torch.tensor([[0]]), torch.tensor([1])
    plain = HanModule(vocabulary_size=9, embedding_dim=4, primary_units=3, n_primary_outputs=2)
    with pytest.raises(ValueError, match="it has none"):
        plain(tokens, lengths, windows, window_lengths, features=torch.zeros(1, 2))
    with_path = HanModule(vocabulary_size=9, embedding_dim=4, primary_units=3,
                          n_primary_outputs=2, talkturn_features=1)
    with pytest.raises(ValueError, match="it has one"):
        with_path(tokens, lengths, windows, window_lengths)
    with pytest.raises(ValueError, match="no feature path"):
        plain.feature_weights()


@pytest.mark.parametrize("fixture", ["classifier", "regressor"])
def test_the_stream_equals_predict_on_every_prefix(fixture, data, regression_data, request):
    net = request.getfixturevalue(fixture)
    X, _ = data if fixture == "classifier" else regression_data
    stream = ConversationStream(net)
    assert set(FEATURES) <= set(stream.columns) and "speaker" in stream.columns
    for _, part in list(X.groupby("conversation"))[:2]:
        part = part.sort_values("turn")
        for end, talkturn in enumerate(part.to_dict("records"), start=1):
            # A stream's caller passes None for a missing measurement.
            talkturn = {k: None if isinstance(v, float) and np.isnan(v) else v
                        for k, v in talkturn.items()}
            prediction = stream.add(talkturn)
            prefix = part.iloc[:end]
            if fixture == "classifier":
                assert prediction == net.predict(prefix)[-1]
                np.testing.assert_allclose(stream.predict_proba(),
                                           net.predict_proba(prefix)[-1], atol=1e-5)
            else:
                assert prediction == pytest.approx(net.predict(prefix)[-1], abs=1e-5)
    [batch] = net.predict_attention(part, rows=[len(part) - 1])
    np.testing.assert_allclose(stream.attention().features, batch.features, atol=1e-6)


def test_a_pipeline_with_a_transcriber_streams_the_features_too(data):
    X, y = data
    pipe = make_pipeline_with_monah().fit(X, y)
    stream = ConversationStream(pipe)
    part = X[X["conversation"] == X["conversation"].iloc[0]].sort_values("turn")
    live = [stream.add(talkturn) for talkturn in part.to_dict("records")]
    assert live == list(pipe.predict(part))


def test_a_refused_feature_value_leaves_the_narrators_history_untouched(data):
    X, y = data
    pipe = make_pipeline_with_monah().fit(X, y)
    part = X[X["conversation"] == X["conversation"].iloc[0]].sort_values("turn")
    stream, clean = ConversationStream(pipe), ConversationStream(pipe)
    for talkturn in part.to_dict("records"):
        # Every talkturn is first sent with a bad measurement, which is refused.
        with pytest.raises(ValueError, match="'AU12_r' must be a finite number"):
            stream.add({**talkturn, "AU12_r": "loud"})
        assert stream.add(talkturn) == clean.add(talkturn)
        np.testing.assert_array_equal(stream.predict_proba(), clean.predict_proba())


def make_pipeline_with_monah():
    from sklearn.pipeline import Pipeline
    return Pipeline([("monah", MonahTranscriber()),
                     ("han", HanRockClassifier(**TINY, **WITH_FEATURES))])


def test_save_and_load_keep_the_feature_path_in_a_fresh_process(classifier, data, tmp_path):
    X, _ = data
    path = save_model(classifier, tmp_path / "model.skhanrock")
    X.to_pickle(tmp_path / "X.pkl")
    np.save(tmp_path / "expected.npy", classifier.predict_proba(X))
    stdout = run_without_unpickling(
        "import numpy as np, pandas as pd\n"
        "from skhanrock import load_model\n"
        f"net = load_model({str(path)!r})\n"
        f"X = pd.read_pickle({str(tmp_path / 'X.pkl')!r})\n"
        f"np.testing.assert_array_equal(net.predict_proba(X), "
        f"np.load({str(tmp_path / 'expected.npy')!r}))\n"
        "print(net.encoding_.feature_columns_)\n")
    assert str(FEATURES) in stdout
    restored = load_model(path)
    assert restored.get_params()["feature_columns"] == FEATURES
    torch.testing.assert_close(restored.module_.features.weight,
                               classifier.module_.features.weight, rtol=0, atol=0)


@pytest.mark.parametrize("fixture", ["classifier", "regressor"])
def test_the_explanation_sums_to_the_linear_layers_share(fixture, data, regression_data,
                                                         request):
    net = request.getfixturevalue(fixture)
    X, _ = data if fixture == "classifier" else regression_data
    rows = [0, 4, 9, 17]
    table = explain_features(net, X, rows=rows)
    items = net.predict_attention(X, rows=rows)
    sums = table.groupby("row", sort=False)["contribution"].sum()
    for item in items:
        if fixture == "classifier":
            share = item.features[list(net.classes_).index(item.prediction)]
        else:
            share = item.features[0] * net.target_.scale_
        assert sums[X.index[item.row]] == pytest.approx(share, abs=1e-5)
        assert share != 0
        n_context = min(len(item.context), TINY["context_size"])
        assert (table["row"] == X.index[item.row]).sum() == n_context * 2 * len(FEATURES)
    inputs = net.encoding_.feature_inputs(X, np.arange(len(X)))
    own = table[table["context"] == 0]
    np.testing.assert_allclose(
        own["value"].to_numpy().reshape(len(rows), -1),
        inputs[X.index.get_indexer(own["talkturn"].unique())], rtol=0, atol=0)


def test_explain_features_keeps_multiindex_row_labels_whole(classifier, data):
    X, _ = data
    multi = X.set_axis(pd.MultiIndex.from_arrays([X["conversation"], X["turn"]]))
    rows = [0, 4, 9]
    flat = explain_features(classifier, X, rows=rows)
    table = explain_features(classifier, multi, rows=rows)
    assert table["row"].tolist() == [multi.index[X.index.get_loc(r)] for r in flat["row"]]
    assert table["talkturn"].tolist() == [multi.index[X.index.get_loc(t)]
                                          for t in flat["talkturn"]]
    pd.testing.assert_frame_equal(table.drop(columns=["row", "talkturn"]),
                                  flat.drop(columns=["row", "talkturn"]))


def test_explain_features_refuses_a_model_without_the_path(data):
    X, y = data
    plain = HanRockClassifier(**{**TINY, "max_epochs": 1}).fit(X, y)
    with pytest.raises(ValueError, match="feature_columns=None"):
        explain_features(plain, X, rows=[0])
    assert plain.module_.features is None
    [item] = plain.predict_attention(X, rows=[0])
    assert item.features is None


def test_later_talkturns_change_no_earlier_input_or_prediction(classifier, data):
    X, _ = data
    part = X[X["conversation"] == X["conversation"].iloc[0]].sort_values("turn")
    changed = part.copy()
    later = changed.index[-3:]
    changed.loc[later, FEATURES] = [[40.0, -30.0, 99.0]] * len(later)
    earlier = np.arange(len(part) - 3)
    encoding = classifier.encoding_
    before = encoding.feature_inputs(part, np.arange(len(part)))
    after = encoding.feature_inputs(changed, np.arange(len(part)))
    np.testing.assert_array_equal(before[earlier], after[earlier])
    assert not np.array_equal(before[-3:], after[-3:])
    np.testing.assert_array_equal(classifier.predict_proba(part)[earlier],
                                  classifier.predict_proba(changed)[earlier])


def test_predict_fits_nothing_on_the_rows_it_predicts(classifier, data):
    X, _ = data
    state = classifier.encoding_.fitted_state()
    first = X["conversation"] == X["conversation"].iloc[0]
    others = X.copy()
    others.loc[~first, FEATURES] = others.loc[~first, FEATURES] * 100 + 7
    np.testing.assert_allclose(classifier.predict_proba(X)[first.to_numpy()],
                               classifier.predict_proba(others)[first.to_numpy()], atol=1e-6)
    # The feature path keeps no statistic at all: only which columns it reads.
    assert classifier.encoding_.fitted_state() == state
    assert {k: state[k] for k in ("feature_columns", "speaker_column")} == {
        "feature_columns": FEATURES, "speaker_column": "speaker"}


def test_missing_values_enter_as_zero_with_an_indicator(classifier, data):
    X, _ = data
    inputs = classifier.encoding_.feature_inputs(X, np.arange(len(X)))
    for j, column in enumerate(FEATURES):
        missing = X[column].isna().to_numpy()
        assert missing.any()
        assert (inputs[missing, j] == 0).all()
        assert (inputs[missing, len(FEATURES) + j] == 1).all()
    assert np.isfinite(classifier.predict_proba(X)).all()
    # A column with no value at all is no error: every talkturn is "missing".
    blank = X.assign(AU12_r=np.nan)
    assert np.isfinite(classifier.predict_proba(blank)).all()


@pytest.mark.parametrize("change, message", [
    (lambda X: X.assign(AU12_r="loud"), r"X\['AU12_r'\] must be numeric; row 0 holds 'loud'"),
    (lambda X: X.drop(columns="tone_anger"), r"no column\(s\) \['tone_anger'\]"),
    (lambda X: X.drop(columns="speaker"), r"no column\(s\) \['speaker'\].*speaker_column"),
    (lambda X: X.assign(AU12_r=np.inf), r"X\['AU12_r'\] is infinite at row 0"),
])
def test_bad_feature_columns_are_named_at_fit_and_predict(classifier, data, change, message):
    X, y = data
    with pytest.raises(ValueError, match=message):
        HanRockClassifier(**TINY, feature_columns=FEATURES).fit(change(X), y)
    with pytest.raises(ValueError, match=message):
        classifier.predict(change(X))


@pytest.mark.parametrize("value, message", [
    ("AU12_r", "feature_columns must be None or a non-empty list"),
    ([], "feature_columns must be None or a non-empty list"),
    (["AU12_r", "AU12_r"], r"names the column\(s\) \['AU12_r'\] more than once"),
])
def test_bad_feature_column_lists_are_refused(data, value, message):
    X, y = data
    with pytest.raises(ValueError, match=message):
        HanRockClassifier(**TINY, feature_columns=value).fit(X, y)


def test_the_stream_refuses_a_bad_value_by_column_and_keeps_its_state(classifier, data):
    X, _ = data
    part = X[X["conversation"] == X["conversation"].iloc[0]].sort_values("turn")
    records = part.to_dict("records")
    stream = ConversationStream(classifier)
    stream.add(records[0])
    for bad in ("loud", [1.0, 2.0], float("inf")):
        with pytest.raises(ValueError, match="'AU12_r' must be a finite number"):
            stream.add({**records[1], "AU12_r": bad})
    live = [stream.add(talkturn) for talkturn in records[1:]]
    assert live[-1] == classifier.predict(part)[-1]
