"""The estimators' default callbacks: talkturn scoring and the divergence guard.

skorch keeps side concerns of training in callbacks rather than in
``NeuralNet``; the estimators do the same. ``initialize_callbacks`` adapts
plain ``EpochScoring`` callbacks with :func:`talkturn_scoring`, and
``get_default_callbacks`` adds a :class:`DivergenceGuard`.
"""

import numpy as np
import torch
from skorch.callbacks import Callback, EpochScoring
from skorch.utils import to_numpy

from ..exceptions import TrainingDivergedError
from ..metrics import get_scorer
from ._data import base_positions
from ._rollback import restore, snapshot

__all__ = ["DivergenceGuard", "TalkturnScoring", "talkturn_scoring"]


class TalkturnScoring(EpochScoring):
    """skorch's ``EpochScoring`` on the primary labels of the labelled talkturns.

    The estimators build it from a plain ``EpochScoring`` (see
    :func:`talkturn_scoring`): the targets of a batch are a dict of every
    task, so the primary labels are extracted from it, and a scorer name is
    replaced by :func:`skhanrock.metrics.get_scorer`'s, which skips the
    unlabelled talkturns (they stay as context of the labelled ones).
    """

    def get_test_data(self, dataset_train, dataset_valid, use_caching):
        dataset = dataset_train if self.on_train else dataset_valid
        if dataset is None:
            return None, None, []
        if use_caching:
            labels = [self.target_extractor(y) for y in self.y_trues_]
            return dataset, np.concatenate(labels) if labels else None, self.y_preds_
        base, positions = base_positions(dataset)
        targets = {name: values[torch.as_tensor(positions)]
                   for name, values in base.targets.items()}
        return dataset, self.target_extractor(targets), []


def talkturn_scoring(callback, net):
    """``callback`` adapted to talkturn targets when it is a plain ``EpochScoring``.

    Any other callback, or an ``EpochScoring`` given its own target
    extractor, is returned as it is; the caller's object is never changed.
    """
    if type(callback) is not EpochScoring or callback.target_extractor is not to_numpy:
        return callback
    params = callback.get_params()
    params["target_extractor"] = net._primary_labels
    if isinstance(params["scoring"], str):
        params["scoring"] = get_scorer(params["scoring"])
    if params.get("name") is None and isinstance(callback.scoring, str):
        params["name"] = callback.scoring
    return TalkturnScoring(**params).initialize()


class DivergenceGuard(Callback):
    """Stops at the first non-finite loss and puts the estimator back as it was.

    A diverged model must not predict: a training or validation loss that
    is NaN or infinite raises
    :class:`~skhanrock.exceptions.TrainingDivergedError`, and the estimator is
    restored to what it was before the ``fit`` or ``partial_fit`` call (an
    unfitted one stays unfitted). Every estimator has one, named
    ``"divergence_guard"``, among its default callbacks.

    The estimator's own ``on_train_begin`` runs before any callback's and
    already changes the estimator (it fits the encoding and rebuilds the
    network), so the estimator keeps the model before the call itself, with
    :meth:`keep_replaced_model` and :meth:`keep_model_before_call`.

    Examples
    --------
    >>> from skhanrock import HanRockClassifier
    >>> net = HanRockClassifier().initialize()
    >>> type(dict(net.callbacks_)["divergence_guard"]).__name__
    'DivergenceGuard'
    """

    @staticmethod
    def keep_replaced_model(net):
        """Keep the fitted model that ``net.initialize()`` is about to replace.

        ``fit`` starts with ``initialize``; the model it replaces is the one
        a diverged fit puts back.
        """
        vars(net).pop("_replaced_model", None)
        if getattr(net, "initialized_", False) and net.__sklearn_is_fitted__():
            net._replaced_model = snapshot(net, shallow=True)

    @staticmethod
    def keep_model_before_call(net):
        """Keep the estimator as it is at the start of a training call, until it ends."""
        replaced = vars(net).pop("_replaced_model", None)
        vars(net).pop("_before_call", None)
        net._before_call = snapshot(net) if replaced is None else replaced

    @staticmethod
    def restore_model_before_call(net):
        """Put the estimator back as the training call found it (when it was kept).

        For a call that fails: at a non-finite loss, and at an error of the
        estimator's own checks or data fits once ``initialize`` has replaced
        the model.
        """
        before = vars(net).pop("_before_call", None)
        if before is not None:
            restore(net, before)

    def on_batch_end(self, net, batch=None, training=False, loss=None, **kwargs):
        """Raise at a non-finite loss, with the estimator restored."""
        if loss is None:
            return
        loss = loss.detach()
        if bool(torch.isfinite(loss).all()):
            return
        epoch = len(net.history)
        side = "training" if training else "validation"
        error = TrainingDivergedError(
            f"{type(net).__name__}: the {side} loss became {float(loss):g} at epoch {epoch}; "
            f"the fit diverged and the estimator is left as it was before this call. Try a "
            f"smaller lr (now {net.lr:g}), for example {net.lr / 10:g}, or check the "
            "targets for extreme values.",
            epoch=epoch, loss_name=f"{'train' if training else 'valid'}_loss",
            value=float(loss))
        # Its weights may already hold NaN: the model before the call predicts instead
        # (an unfitted one raises NotFittedError).
        self.restore_model_before_call(net)
        raise error

    def on_train_end(self, net, X=None, y=None, **kwargs):
        """The call went through: the model before it is no longer needed."""
        vars(net).pop("_before_call", None)
