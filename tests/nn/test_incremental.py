"""predict_next: one talkturn at a time gives what predict gives the whole frame."""

import numpy as np
import pandas as pd
import pytest
from sklearn.base import is_classifier

from skhanrock import HanRockClassifier, HanRockRegressor
from skhanrock._testing import TINY
from skhanrock.nn import ConversationState

FEATURES = ["tone_happiness", "AU12_r"]
MODELS = [("classifier", {}), ("regressor", {}), ("classifier", {"feature_columns": FEATURES}),
          ("regressor", {"feature_columns": FEATURES, "architecture": "flat"})]


def _with_gaps(X):
    """``X`` with some feature values missing, so the speaker histories skip them."""
    X = X.copy()
    rng = np.random.default_rng(1)
    for column in FEATURES:
        X.loc[rng.random(len(X)) < 0.2, column] = np.nan
    return X


@pytest.fixture(scope="module", params=MODELS,
                ids=[f"{kind}{'-features' if extra else ''}" for kind, extra in MODELS])
def fitted(request, conversations, regression_conversations):
    kind, extra = request.param
    X, y = conversations if kind == "classifier" else regression_conversations
    X = _with_gaps(X)
    cls = HanRockClassifier if kind == "classifier" else HanRockRegressor
    # Three epochs: outputs far from their initial values, so a wrong window shows.
    return cls(**{**TINY, "max_epochs": 3, **extra}).fit(X, y), X


def _incremental(model, X):
    """Per row of X: the state after predict_next on its conversation up to that row."""
    prediction, outputs = pd.Series(index=X.index, dtype=object), {}
    for _, part in X.groupby("conversation"):
        state = None
        for row, talkturn in zip(part.sort_values("turn").index,
                                 part.sort_values("turn").to_dict("records"), strict=True):
            state = model.predict_next(talkturn, state)
            prediction[row] = state.prediction
            outputs[row] = state.probabilities if is_classifier(model) else state.prediction
    return prediction, np.stack([outputs[row] for row in X.index])


def test_every_talkturn_equals_predict_on_the_whole_frame(fitted):
    model, X = fitted
    prediction, outputs = _incremental(model, X)
    if is_classifier(model):
        np.testing.assert_allclose(outputs, model.predict_proba(X), rtol=0, atol=1e-6)
        assert (prediction.to_numpy() == model.predict(X)).all()
        # The logits' softmax: probabilities whose most probable class is the prediction.
        np.testing.assert_allclose(outputs.sum(axis=1), 1.0, atol=1e-6)
        assert (model.classes_[outputs.argmax(axis=1)] == prediction.to_numpy()).all()
        # Not a constant model: otherwise equal predictions would prove little.
        assert len(set(prediction)) > 1 or np.ptp(outputs, axis=0).max() > 1e-3
    else:
        np.testing.assert_allclose(outputs, model.predict(X), rtol=0, atol=1e-6)
        assert np.ptp(outputs) > 1e-3


def test_the_window_is_the_last_context_size_talkturns(fitted):
    model, X = fitted
    part = X[X["conversation"] == X["conversation"].iloc[0]].sort_values("turn")
    # Left in training mode (dropout on), as a fit without a validation split leaves it.
    model.module_.train()
    state = None
    for talkturn in part.to_dict("records"):
        state = model.predict_next(talkturn, state)
    assert not model.module_.training
    assert state.n_talkturns == len(part)
    attention = state.attention()
    n = len(part)
    assert attention.context.tolist() == list(range(n - TINY["context_size"], n))
    [batch] = model.predict_attention(part, rows=[n - 1])
    np.testing.assert_allclose(attention.talkturn[0], batch.talkturn[0], atol=1e-6)


def test_a_refused_talkturn_leaves_the_state_as_it_was(conversations):
    X, y = conversations
    X = _with_gaps(X)
    model = HanRockClassifier(**TINY, feature_columns=FEATURES).fit(X, y)
    talkturns = X[X["conversation"] == X["conversation"].iloc[0]].sort_values("turn") \
        .to_dict("records")
    state = model.predict_next(talkturns[0])
    before = state.probabilities.copy()
    for bad, message in [({**talkturns[1], "AU12_r": "loud"}, "'AU12_r' must be a finite"),
                         ({**talkturns[1], "text": 3}, "'text' must be its text"),
                         ({k: v for k, v in talkturns[1].items() if k != "speaker"},
                          r"no column\(s\) \['speaker'\]")]:
        with pytest.raises(ValueError, match=message):
            model.predict_next(bad, state)
        assert state.n_talkturns == 1
        np.testing.assert_array_equal(state.probabilities, before)
    clean = model.predict_next(talkturns[0])
    for talkturn in talkturns[1:]:
        np.testing.assert_array_equal(model.predict_next(talkturn, state).probabilities,
                                      model.predict_next(talkturn, clean).probabilities)


def test_bad_calls_name_what_is_expected(conversations):
    X, y = conversations
    model = HanRockClassifier(**TINY).fit(X, y)
    talkturn = X.iloc[0].to_dict()
    with pytest.raises(TypeError, match="mapping"):
        model.predict_next(X.head(1))
    with pytest.raises(TypeError, match="state must be a ConversationState"):
        model.predict_next(talkturn, state={})
    other = HanRockClassifier(**TINY).fit(X, y)
    with pytest.raises(ValueError, match="another fitted model"):
        model.predict_next(talkturn, other.predict_next(talkturn))
    with pytest.raises(ValueError, match="no talkturn has been added"):
        ConversationState(model).attention()
    with pytest.raises(Exception, match="not fitted"):
        HanRockClassifier(**TINY).predict_next(talkturn)
