"""A diverged fit or partial_fit leaves the estimator as it was before the call."""

import io
import zipfile

import numpy as np
import pytest
import torch
from sklearn.exceptions import NotFittedError

from skhanrock import ConversationStream, HanRockClassifier, load_model, save_model
from skhanrock._testing import TINY
from skhanrock.exceptions import ModelFileError, TrainingDivergedError


@pytest.fixture(scope="module")
def fitted(conversations):
    X, y = conversations
    return HanRockClassifier(**TINY).fit(X, y)


def _weights(net):
    return {k: v.clone() for k, v in net.module_.state_dict().items()}


def _moments(net):
    return {(param, name): value.clone()
            for param, state in net.optimizer_.state_dict()["state"].items()
            for name, value in state.items()}


def _stream_answers(net, X):
    stream = ConversationStream(net)
    first = X[X["conversation"] == X["conversation"].iloc[0]]
    return np.array([stream.add(turn) for turn in first.to_dict("records")], dtype=object), \
        stream.predict_proba()


@pytest.mark.parametrize("method", ["partial_fit", "fit"])
def test_a_diverged_training_call_restores_the_fitted_model(fitted, conversations, tmp_path,
                                                            method):
    X, y = conversations
    net = load_model(save_model(fitted, tmp_path / "good.skhanrock"))
    net.set_params(max_epochs=1).partial_fit(X, y)  # the optimizer has moments to keep
    proba, weights, epochs = net.predict_proba(X), _weights(net), len(net.history)
    labels, live = _stream_answers(net, X)
    net.set_params(lr=1e12, max_epochs=3)
    moments = _moments(net)
    with pytest.raises(TrainingDivergedError, match="left as it was before this call"):
        getattr(net, method)(X, y)
    np.testing.assert_array_equal(net.predict_proba(X), proba)
    for name, tensor in _weights(net).items():
        assert torch.equal(tensor, weights[name]), name
    assert len(net.history) == epochs
    assert _moments(net).keys() == moments.keys() and moments
    for key, tensor in moments.items():
        assert torch.equal(_moments(net)[key], tensor), key
    # The stream answers from the restored model, and the model saves and loads.
    got_labels, got_live = _stream_answers(net, X)
    np.testing.assert_array_equal(got_labels, labels)
    np.testing.assert_array_equal(got_live, live)
    assert np.isfinite(got_live).all()
    restored = load_model(save_model(net, tmp_path / "after.skhanrock"))
    np.testing.assert_array_equal(restored.predict_proba(X), proba)
    # Training goes on from it with a workable lr, and no earlier state lingers.
    net.set_params(lr=TINY.get("lr", 2 ** -8), max_epochs=1).partial_fit(X, y)
    assert len(net.history) == epochs + 1 and "_before_call" not in vars(net)


def test_a_diverged_first_fit_leaves_the_estimator_unfitted(conversations, tmp_path):
    X, y = conversations
    net = HanRockClassifier(**{**TINY, "max_epochs": 3}, lr=1e12)
    with pytest.raises(TrainingDivergedError):
        net.fit(X, y)
    with pytest.raises(NotFittedError):
        net.predict(X)
    with pytest.raises(NotFittedError):
        save_model(net, tmp_path / "model.skhanrock")
    with pytest.raises(NotFittedError):
        ConversationStream(net).add(X.iloc[0].to_dict())


def test_weights_with_nan_are_refused_at_save_and_at_load(fitted, tmp_path, capsys):
    path = save_model(fitted, tmp_path / "good.skhanrock")
    net = load_model(path)
    with torch.no_grad():
        next(net.module_.parameters()).fill_(float("nan"))
    with pytest.raises(ValueError, match="NaN or infinite.*diverged"):
        save_model(net, tmp_path / "nan.skhanrock")
    assert not (tmp_path / "nan.skhanrock").exists()
    # The same weights written into a file by hand are refused when it is read.
    with zipfile.ZipFile(path) as archive:
        config = archive.read("skhanrock.json")
    weights = io.BytesIO()
    torch.save(net.module_.state_dict(), weights)
    with zipfile.ZipFile(tmp_path / "tampered.skhanrock", "w") as archive:
        archive.writestr("skhanrock.json", config)
        archive.writestr("weights.pt", weights.getvalue())
    with pytest.raises(ModelFileError, match=r"weights\.pt.*NaN or infinite") as error:
        load_model(tmp_path / "tampered.skhanrock")
    assert error.value.member == "weights.pt"
    # The stream command refuses it with one line and status 2 instead of answering NaN.
    from skhanrock.__main__ import main
    assert main(["stream", "--model", str(tmp_path / "tampered.skhanrock")]) == 2
    assert "weights.pt" in capsys.readouterr().err


@pytest.mark.parametrize("failure", ["labels", "dev frame"])
def test_a_training_call_refused_after_initialize_restores_the_fitted_model(fitted, conversations,
                                                                            failure):
    # fit replaces the model (skorch's initialize) before the estimator checks the labels
    # or encodes a FrameValidSplit's dev frame; an error there must put it back.
    from skhanrock.nn import FrameValidSplit

    X, y = conversations
    net = HanRockClassifier(**TINY).fit(X, y)
    before, weights = net.predict_proba(X), _weights(net)
    if failure == "labels":
        bad_X, bad_y, match = X, y.where(y.isna()), "labelled"
    else:
        dev = X.drop(columns=[net.text_column_])
        net.set_params(train_split=FrameValidSplit(dev, y))
        bad_X, bad_y, match = X, y, "FrameValidSplit"
    with pytest.raises(ValueError, match=match):
        net.fit(bad_X, bad_y)
    np.testing.assert_array_equal(net.predict_proba(X), before)
    for name, value in _weights(net).items():
        torch.testing.assert_close(value, weights[name], rtol=0, atol=0)
