"""The ``precision`` parameter: float32 unchanged, bf16/fp16 autocast, fp16 loss scaling."""

import functools

import numpy as np
import pytest
import torch
from skorch.callbacks import Callback, GradientNormClipping

from skhanrock import HanRockClassifier, HanRockRegressor, load_model, save_model
from skhanrock._testing import TINY
from skhanrock.datasets import make_conversations
from skhanrock.exceptions import TrainingDivergedError

needs_cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
DEVICES = ["cpu", pytest.param("cuda", marks=needs_cuda)]


def data_for(net, conversations, regression_conversations):
    return conversations if isinstance(net, HanRockClassifier) else regression_conversations


class GradientNorms(Callback):
    """Records the gradient norm that ``on_grad_computed`` callbacks see."""

    def initialize(self):
        self.norms = []
        return self

    def on_grad_computed(self, net, named_parameters, **kwargs):
        grads = [p.grad for _, p in named_parameters if p.grad is not None]
        self.norms.append(float(torch.linalg.vector_norm(torch.stack(
            [torch.linalg.vector_norm(g) for g in grads]))))


def test_fp32_is_the_estimator_without_the_parameter(conversations, monkeypatch):
    X, y = conversations
    before = HanRockClassifier(**TINY).fit(X, y).predict_proba(X)

    def no_autocast(*args, **kwargs):
        raise AssertionError("fp32 must not enter an autocast context")

    monkeypatch.setattr(torch, "autocast", no_autocast)
    net = HanRockClassifier(**TINY, precision="fp32").fit(X, y)
    np.testing.assert_array_equal(net.predict_proba(X), before)
    assert net.grad_scaler_ is None


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("precision", ["bf16", "fp16"])
@pytest.mark.parametrize("estimator", [HanRockClassifier, HanRockRegressor])
def test_half_precision_fits_and_predicts_in_float32(estimator, precision, device, conversations,
                                                     regression_conversations):
    net = estimator(**TINY, precision=precision, device=device)
    X, y = data_for(net, conversations, regression_conversations)
    autocast = []
    net.initialize()
    net.fit(X, y)
    net.module_.register_forward_hook(
        lambda module, args, output: autocast.append(torch.is_autocast_enabled(device)))
    predictions = net.predict(X)
    assert autocast and all(autocast)
    assert all(p.dtype == torch.float32 for p in net.module_.parameters())
    assert np.isfinite(net.history[:, "train_loss"]).all()
    if isinstance(net, HanRockClassifier):
        proba = net.predict_proba(X)
        assert proba.dtype == np.float32
        np.testing.assert_allclose(proba.sum(axis=1), 1, atol=1e-5)
    else:
        assert np.isfinite(predictions.astype(float)).all()
    assert (net.grad_scaler_ is not None) == (precision == "fp16")


@pytest.mark.parametrize("device", DEVICES)
def test_half_precision_accuracy_is_that_of_fp32(device):
    # Seeds 0, 1 and 2 gave differences up to 0.02 on these sizes; the bound leaves room.
    X, y = make_conversations(n_conversations=16, random_state=1)
    X_test, y_test = make_conversations(n_conversations=8, random_state=101)
    params = {**TINY, "primary_units": 12, "max_epochs": 6, "device": device}
    scores = {precision: HanRockClassifier(**params, precision=precision).fit(X, y)
              .score(X_test, y_test) for precision in ("fp32", "bf16", "fp16")}
    assert abs(scores["bf16"] - scores["fp32"]) <= 0.08, scores
    assert abs(scores["fp16"] - scores["fp32"]) <= 0.08, scores


@pytest.mark.parametrize("precision", ["float16", "FP16", "half", None, 16, ["bf16"]])
def test_an_unknown_precision_is_refused_by_name(precision, conversations):
    X, y = conversations
    with pytest.raises(ValueError, match="precision must be one of"):
        HanRockClassifier(**TINY, precision=precision).fit(X, y)


@pytest.mark.parametrize("device", DEVICES)
def test_save_and_load_keep_the_precision(device, conversations, tmp_path):
    X, y = conversations
    net = HanRockClassifier(**TINY, precision="bf16", device=device).fit(X, y)
    restored = load_model(save_model(net, tmp_path / "model.skhanrock"))
    assert restored.precision == "bf16"
    np.testing.assert_array_equal(restored.predict_proba(X), net.predict_proba(X))


def test_a_diverged_fp16_fit_is_still_an_error(conversations):
    X, y = conversations
    with pytest.raises(TrainingDivergedError, match="loss became"):
        HanRockClassifier(**{**TINY, "lr": 1e30}, precision="fp16").fit(X, y)


def test_fp16_skips_overflowing_steps_instead_of_diverging(conversations, monkeypatch):
    # A scale near float32's limit overflows the first gradients: the scaler must
    # skip those steps and lower the scale, and the fit must finish.
    monkeypatch.setattr(torch.amp, "GradScaler",
                        functools.partial(torch.amp.GradScaler, init_scale=2.0 ** 126))
    X, y = conversations
    net = HanRockClassifier(**TINY, precision="fp16").fit(X, y)
    assert net.grad_scaler_.get_scale() < 2.0 ** 126
    assert np.isfinite(net.predict_proba(X)).all()


def test_fp16_callbacks_see_unscaled_gradients(conversations):
    X, y = conversations
    norms = {}
    for precision in ("fp32", "fp16"):
        recorder = GradientNorms()
        HanRockClassifier(**{**TINY, "max_epochs": 1}, precision=precision, callbacks=[
            ("norms", recorder), ("clip", GradientNormClipping(1.0))]).fit(X, y)
        norms[precision] = recorder.norms[0]
    # Scaled gradients would be 65536 times larger.
    assert 0.5 < norms["fp16"] / norms["fp32"] < 2, norms


def test_precision_set_between_fits_takes_effect(conversations):
    X, y = conversations
    net = HanRockClassifier(**TINY).fit(X, y)
    assert net.grad_scaler_ is None
    net.set_params(precision="fp16").partial_fit(X, y)
    assert isinstance(net.grad_scaler_, torch.amp.GradScaler)
    net.set_params(precision="bf16").partial_fit(X, y)
    assert net.grad_scaler_ is None
