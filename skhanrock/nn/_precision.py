"""The ``precision`` parameter of the estimators: autocast and fp16 loss scaling.

A mixin, as skorch keeps its own precision handling (``AccelerateMixin``)
out of ``NeuralNet``: the estimator inherits it before ``NeuralNet``, so its
``initialize_optimizer``, ``train_step_single`` and ``train_step`` wrap
skorch's. The estimator stores ``precision`` and checks it with the other
parameters (:func:`check_precision`).
"""

import contextlib

import torch
from skorch.dataset import unpack_data
from skorch.utils import TeeGenerator

__all__ = ["PrecisionMixin", "check_precision"]

# The autocast dtype of each ``precision``; "fp32" runs without any autocast context,
# so that it stays exactly the arithmetic of an estimator without the parameter.
_AUTOCAST_DTYPES = {"fp32": None, "bf16": torch.bfloat16, "fp16": torch.float16}


def check_precision(precision):
    """Refuse a ``precision`` that is not one of "fp32", "bf16" and "fp16"."""
    if not isinstance(precision, str) or precision not in _AUTOCAST_DTYPES:
        raise ValueError(f"precision must be one of {list(_AUTOCAST_DTYPES)}, got "
                         f"{precision!r}.")


def _in_float32(outputs):
    """The module's outputs (tensors, or lists and dicts of them) with floats as float32."""
    if isinstance(outputs, torch.Tensor):
        return outputs.float() if outputs.is_floating_point() else outputs
    if isinstance(outputs, dict):
        return {key: _in_float32(value) for key, value in outputs.items()}
    if isinstance(outputs, list | tuple):
        return type(outputs)(_in_float32(value) for value in outputs)
    return outputs


class PrecisionMixin:
    """Runs the module's forward in ``precision``, scaling the loss under "fp16".

    The fitted state it adds is ``grad_scaler_`` (None unless "fp16").
    """

    def initialize_optimizer(self, *args, **kwargs):
        """skorch's optimizer, with a fresh loss scaler when ``precision="fp16"``."""
        super().initialize_optimizer(*args, **kwargs)
        self._initialize_grad_scaler()
        return self

    def _initialize_grad_scaler(self):
        # The scale adapts to the optimizer's steps, so a new optimizer starts it afresh.
        fp16 = self._autocast_dtype() is torch.float16
        self.grad_scaler_ = torch.amp.GradScaler(self._device_type()) if fp16 else None

    def _sync_grad_scaler(self):
        """A scaler that follows ``precision`` set between fits (set_params, then partial_fit)."""
        if (self._autocast_dtype() is torch.float16) != (
                getattr(self, "grad_scaler_", None) is not None):
            self._initialize_grad_scaler()

    def _autocast_dtype(self):
        check_precision(self.precision)
        return _AUTOCAST_DTYPES[self.precision]

    def _device_type(self):
        """"cpu" or "cuda": the device type autocast and the scaler work on."""
        if self.device is not None:
            return torch.device(self.device).type
        return next(self.module_.parameters()).device.type

    def _autocast(self):
        """The autocast context of ``precision``; "fp32" runs in none."""
        dtype = self._autocast_dtype()
        if dtype is None:
            return contextlib.nullcontext()
        return torch.autocast(device_type=self._device_type(), dtype=dtype)

    def _forward_in_precision(self, inputs, **fit_params):
        """``module_(**inputs)`` under autocast, its outputs as float32."""
        if self._autocast_dtype() is None:
            return self.module_(**inputs, **fit_params)
        with self._autocast():
            outputs = self.module_(**inputs, **fit_params)
        # The loss, the scores and the predictions are float32 whatever the forward ran in.
        return _in_float32(outputs)

    def train_step_single(self, batch, **fit_params):
        """skorch's step; with ``precision="fp16"`` the loss is scaled before ``backward``.

        The returned loss is the unscaled one, which the history records and
        the divergence guard checks.
        """
        scaler = getattr(self, "grad_scaler_", None)
        if scaler is None:
            return super().train_step_single(batch, **fit_params)
        self._set_training(True)
        Xi, yi = unpack_data(batch)
        y_pred = self.infer(Xi, **fit_params)
        loss = self.get_loss(y_pred, yi, X=Xi, training=True)
        # Unscaled, the small gradients of a float16 forward would underflow to zero.
        scaler.scale(loss).backward()
        return {"loss": loss, "y_pred": y_pred}

    def train_step(self, batch, **fit_params):
        """skorch's optimisation step; with ``precision="fp16"`` through the loss scaler.

        The gradients are unscaled before ``on_grad_computed``, so callbacks
        such as ``GradientNormClipping`` see (and clip) the true gradients. A
        step whose gradients overflowed is skipped and the scale lowered (the
        scaler's job, not a divergence). ``GradScaler`` takes no closure, so
        the optimizer is stepped without one: optimizers that need a closure
        (LBFGS) do not work with "fp16".
        """
        scaler = getattr(self, "grad_scaler_", None)
        if scaler is None:
            return super().train_step(batch, **fit_params)
        accumulator = self.get_train_step_accumulator()
        self._zero_grad_optimizer()
        accumulator.store_step(self.train_step_single(batch, **fit_params))
        optimizers = [getattr(self, name + "_") for name in self._optimizers]
        for optimizer in optimizers:
            scaler.unscale_(optimizer)
        self.notify("on_grad_computed",
                    named_parameters=TeeGenerator(self.get_all_learnable_params()),
                    batch=batch, training=True)
        for optimizer in optimizers:
            scaler.step(optimizer)
        scaler.update()
        return accumulator.get_step()
