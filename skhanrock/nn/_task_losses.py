"""Each task's loss in the training history, for tracking tools and learning curves."""

import re

import numpy as np
import torch
from skorch.callbacks import Callback
from skorch.dataset import get_len

__all__ = ["TaskLosses"]


def _key_part(task):
    """A task name as a history key part that MLflow and TensorBoard accept as a metric name."""
    return re.sub(r"[^0-9A-Za-z_.-]", "_", str(task))


class TaskLosses(Callback):
    """Record the unweighted loss of the primary and of every auxiliary task at each epoch.

    The estimators' history holds ``train_loss`` and ``valid_loss``: the
    weighted sum of the task losses that training minimises. This callback
    adds, per epoch, ``train_loss_<task>`` (and ``valid_loss_<task>`` when
    the net has a ``train_split``) for every name of ``task_names_``: the
    primary task, the auxiliary targets and the history/future offsets,
    averaged over the epoch's batches as skorch averages ``train_loss``, so
    that the ``loss_weights_``-weighted sum of them is ``train_loss``. skorch's
    logging callbacks (``TensorBoard``, ``MlflowLogger``) log every history
    key, these included; put them after this callback in ``callbacks``.
    Characters other than letters, digits, ``_``, ``.`` and ``-`` in a task
    name become ``_``.

    The losses are computed again from the batch's outputs, without
    gradients: a small cost next to the forward pass.

    Examples
    --------
    >>> from skhanrock import HanRockClassifier
    >>> from skhanrock.datasets import make_conversations
    >>> from skhanrock.nn import TaskLosses
    >>> X, y = make_conversations(n_conversations=4, random_state=0)
    >>> X["aux:pitch"] = X.groupby("speaker").cumcount()  # an auxiliary target column
    >>> net = HanRockClassifier(max_epochs=1, primary_units=4, aux_units=2, embedding_dim=8,
    ...                         callbacks=[TaskLosses()]).fit(X, y)
    >>> net.task_names_[:3]
    ['y', 'aux:pitch', 'y-4']
    >>> "train_loss_y" in net.history[-1], "train_loss_aux_pitch" in net.history[-1]
    (True, True)
    """

    def on_epoch_begin(self, net, **kwargs):
        self.sums_ = {}

    def on_batch_end(self, net, batch=None, training=False, y_pred=None, **kwargs):
        """Add the batch's task losses, weighted by its size as skorch weights ``train_loss``."""
        if batch is None or y_pred is None:
            return
        inputs, targets = batch
        targets = {name: values.to(net.device) for name, values in targets.items()}
        with torch.no_grad():
            losses = net.criterion_.task_losses(y_pred, targets).float().cpu().numpy()
        size = get_len(inputs)
        total, count = self.sums_.get(training, (0.0, 0))
        self.sums_[training] = (total + losses * size, count + size)

    def on_epoch_end(self, net, **kwargs):
        """Record the epoch's mean loss of every task."""
        for training, (total, count) in self.sums_.items():
            side = "train" if training else "valid"
            means = np.asarray(total, dtype=float) / max(count, 1)
            for task, value in zip(net.task_names_, means, strict=True):
                net.history.record(f"{side}_loss_{_key_part(task)}", float(value))
