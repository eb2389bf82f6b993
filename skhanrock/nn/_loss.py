"""The weighted multi-task loss of the primary, auxiliary and history/future tasks."""

import torch
from torch import nn
from torch.nn import functional as F

__all__ = ["MultiTaskLoss"]


def _masked_column_means(values, mask):
    """Mean of each column over its masked-in rows; 0 for a column with none."""
    return (values * mask).sum(0) / mask.sum(0).clamp(min=1)


def _regression_losses(predicted, target, kind):
    """Per-column L1 or L2 loss over the non-missing targets.

    Missing targets are zero-filled *before* the difference, because a NaN
    that is masked out afterwards would still turn the gradient into NaN.
    """
    present = ~torch.isnan(target)
    difference = predicted - torch.where(present, target, torch.zeros_like(target))
    error = difference.abs() if kind == "l1" else difference.square()
    return _masked_column_means(error, present.to(error.dtype))


class MultiTaskLoss(nn.Module):
    """Weighted sum of the primary, auxiliary and history/future losses.

    Classification: cross-entropy for the primary task and the history/future
    heads (whose last class means "no usable label"). Regression: ``loss``
    (L1 or L2) for both. Auxiliary targets always use L1. Missing primary
    labels and missing auxiliary targets are left out of their task's mean.

    Parameters
    ----------
    task : {"classification", "regression"}
    loss : {"l1", "l2"}, default="l1"
        Regression loss of the primary and history/future tasks.

    Examples
    --------
    >>> import torch
    >>> loss = MultiTaskLoss("regression")
    >>> outputs = (torch.tensor([1.0, 2.0]), torch.zeros(2, 0), torch.zeros(2, 0), {})
    >>> targets = {"primary": torch.tensor([2.0, float("nan")]),
    ...            "aux": torch.zeros(2, 0), "offsets": torch.zeros(2, 0)}
    >>> loss(outputs, targets, torch.tensor([1.0]))
    tensor(1.)
    """

    def __init__(self, task="classification", loss="l1"):
        super().__init__()
        self.task = task
        self.loss = loss

    def task_losses(self, outputs, targets):
        """Unweighted loss of every task, primary first."""
        primary, aux, offsets = outputs[:3]
        if self.task == "classification":
            labels = targets["primary"]
            n_labelled = (labels >= 0).sum().clamp(min=1)
            primary_loss = F.cross_entropy(primary, labels, ignore_index=-1,
                                           reduction="sum") / n_labelled
            offset_losses = F.cross_entropy(offsets.transpose(1, 2), targets["offsets"],
                                            reduction="none").mean(0)
        else:
            primary_loss = _regression_losses(primary.unsqueeze(1),
                                              targets["primary"].unsqueeze(1), self.loss)
            offset_losses = _regression_losses(offsets, targets["offsets"], self.loss)
        aux_losses = _regression_losses(aux, targets["aux"], "l1")
        return torch.cat([primary_loss.reshape(1), aux_losses, offset_losses])

    def forward(self, outputs, targets, weights):
        """Weighted total; ``weights`` has one entry per task, primary first."""
        return (self.task_losses(outputs, targets) * weights).sum()
