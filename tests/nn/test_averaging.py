"""average_weights: each training call ends with the mean of its last epochs' weights."""

import numpy as np
import pytest
import torch
from skorch.callbacks import Callback

from skhanrock import HanRockClassifier, load_model, save_model
from skhanrock._testing import TINY
from skhanrock.exceptions import TrainingDivergedError
from skhanrock.nn import WeightAveraging


class EpochWeights(Callback):
    """Records the network's weights at the end of every epoch."""

    def initialize(self):
        self.weights_ = []
        return self

    def on_epoch_end(self, net, **kwargs):
        self.weights_.append({k: v.detach().clone() for k, v in net.module_.state_dict().items()})


def _fit(X, y, **params):
    recorder = EpochWeights()
    net = HanRockClassifier(**{**TINY, "callbacks": [("epoch_weights", recorder)], **params})
    return net.fit(X, y), recorder


def _assert_weights(net, expected):
    for name, tensor in net.module_.state_dict().items():
        torch.testing.assert_close(tensor, expected[name], rtol=1e-6, atol=1e-7, msg=name)


def _mean(states):
    return {name: torch.stack([s[name] for s in states]).mean(0)
            if states[0][name].is_floating_point() else states[-1][name]
            for name in states[0]}


@pytest.fixture(scope="module")
def averaged(conversations):
    X, y = conversations
    return _fit(X, y, max_epochs=4, average_weights=0.5)


def test_the_weights_are_the_mean_of_the_last_epochs(averaged):
    net, recorder = averaged
    assert len(recorder.weights_) == 4
    assert dict(net.callbacks_)["weight_averaging"].n_averaged_ == 2
    _assert_weights(net, _mean(recorder.weights_[2:]))
    # The mean is not the last epoch's weights: the check above can fail.
    last = recorder.weights_[-1]
    assert any(not torch.equal(tensor, last[name])
               for name, tensor in net.module_.state_dict().items())


def test_zero_keeps_the_last_epoch(conversations):
    X, y = conversations
    net, recorder = _fit(X, y, max_epochs=3, average_weights=0.0)
    assert dict(net.callbacks_)["weight_averaging"].n_averaged_ == 0
    _assert_weights(net, recorder.weights_[-1])


def test_the_share_rounds_up_to_whole_epochs(conversations):
    X, y = conversations
    net, recorder = _fit(X, y, max_epochs=3, average_weights=0.34)  # ceil(1.02) = 2 epochs
    assert dict(net.callbacks_)["weight_averaging"].n_averaged_ == 2
    _assert_weights(net, _mean(recorder.weights_[1:]))


def test_partial_fit_averages_its_own_epochs(averaged, conversations, tmp_path):
    X, y = conversations
    fitted, _ = averaged
    net = load_model(save_model(fitted, tmp_path / "model.skhanrock"))
    recorder = EpochWeights()
    # The share set after fit reaches the next call (the callback reads it then).
    net.set_params(callbacks=[("epoch_weights", recorder)], max_epochs=3,
                   average_weights=0.9).initialize_callbacks()
    net.partial_fit(X, y)
    assert len(recorder.weights_) == 3  # this call's epochs only
    assert dict(net.callbacks_)["weight_averaging"].n_averaged_ == 3
    _assert_weights(net, _mean(recorder.weights_))


def test_save_load_keeps_the_averaged_weights(averaged, conversations, tmp_path):
    X, _ = conversations
    net, _ = averaged
    restored = load_model(save_model(net, tmp_path / "averaged.skhanrock"))
    _assert_weights(restored, net.module_.state_dict())
    np.testing.assert_array_equal(restored.predict_proba(X), net.predict_proba(X))
    assert restored.average_weights == 0.5


def test_a_diverged_call_leaves_the_averaged_model(averaged, conversations, tmp_path):
    X, y = conversations
    fitted, _ = averaged
    net = load_model(save_model(fitted, tmp_path / "model.skhanrock"))
    net.partial_fit(X, y)
    weights = {k: v.clone() for k, v in net.module_.state_dict().items()}
    net.set_params(lr=1e12, max_epochs=4)
    with pytest.raises(TrainingDivergedError):
        net.partial_fit(X, y)
    _assert_weights(net, weights)


@pytest.mark.parametrize("value", [1.0, -0.1, float("nan"), "half", None])
def test_a_bad_share_names_the_parameter(conversations, value):
    X, y = conversations
    with pytest.raises(ValueError, match=r"average_weights must be a number in \[0, 1\)"):
        HanRockClassifier(**TINY, average_weights=value).fit(X, y)


def test_a_bad_share_set_before_partial_fit_names_the_parameter(conversations):
    X, y = conversations
    with pytest.raises(ValueError, match="average_weights must be"):
        HanRockClassifier(**TINY, average_weights=0.5).fit(X, y).set_params(
            average_weights=2).partial_fit(X, y)


def test_an_explicit_share_is_checked_when_the_callback_starts():
    with pytest.raises(ValueError, match="average_weights must be"):
        WeightAveraging(share=1.5).initialize()


def test_a_warm_start_fit_averages_its_own_epochs(averaged, conversations, tmp_path):
    X, y = conversations
    fitted, _ = averaged
    net = load_model(save_model(fitted, tmp_path / "model.skhanrock"))
    recorder = EpochWeights()
    net.set_params(callbacks=[("epoch_weights", recorder)], warm_start=True)
    net.initialize_callbacks().fit(X, y)
    assert len(recorder.weights_) == 4  # fit went on from the loaded weights
    assert dict(net.callbacks_)["weight_averaging"].n_averaged_ == 2
    _assert_weights(net, _mean(recorder.weights_[2:]))
