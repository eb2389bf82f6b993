"""The weighted multi-task loss of the primary, auxiliary and history/future tasks."""

import torch
from torch import nn
from torch.nn import functional as F

from .._utils.validation import ReplacedName, replaced_parameters

__all__ = ["MultiTaskLoss"]


def _masked_column_means(values, mask):
    """Mean of each column over its masked-in rows; 0 for a column with none."""
    return (values * mask).sum(0) / mask.sum(0).clamp(min=1)


def _weighted_mean(losses, weight):
    """Mean of per-row ``losses`` under row weights (0 for unlabelled rows), 0 with none."""
    weight = weight.to(losses.dtype)
    return (losses * weight).sum() / weight.sum().clamp(min=torch.finfo(losses.dtype).tiny)


_TARGET_TYPES = ("classification", "regression")
# The error of each regression loss; a name outside it must never fall back to another loss.
_REGRESSION_ERRORS = {"l1": torch.abs, "l2": torch.square}


def _regression_losses(predicted, target, kind):
    """Per-column L1 or L2 loss over the non-missing targets.

    Missing targets are zero-filled *before* the difference, because a NaN
    that is masked out afterwards would still turn the gradient into NaN.
    """
    present = ~torch.isnan(target)
    difference = predicted - torch.where(present, target, torch.zeros_like(target))
    error = _REGRESSION_ERRORS[kind](difference)
    return _masked_column_means(error, present.to(error.dtype))


def _check_choice(name, value, allowed):
    # isinstance first: an unhashable or array-like value must not reach "in".
    if not isinstance(value, str) or value not in allowed:
        raise ValueError(f"MultiTaskLoss: {name} must be one of {allowed}, got {value!r}.")


def _check_primary(target_type, primary, labels):
    """Refuse primary outputs and labels of the other kind of target.

    A criterion whose ``target_type`` differs from its estimator's (say
    ``HanRockClassifier(criterion__target_type="regression")``) would otherwise fail
    with a shape error deep inside torch, or not at all.
    """
    if target_type == "classification" and (primary.dim() != 2 or labels.is_floating_point()):
        raise ValueError(
            "MultiTaskLoss: target_type='classification' needs primary outputs of shape "
            f"(n_samples, n_classes) and integer labels, got outputs of shape "
            f"{tuple(primary.shape)} and {labels.dtype} labels; a regressor's criterion "
            "needs target_type='regression'.")
    if target_type == "regression" and (primary.dim() != 1 or not labels.is_floating_point()):
        raise ValueError(
            "MultiTaskLoss: target_type='regression' needs one primary output per sample and "
            f"numeric targets, got outputs of shape {tuple(primary.shape)} and {labels.dtype} "
            "targets; a classifier's criterion needs target_type='classification'.")


class MultiTaskLoss(nn.Module):
    """Weighted sum of the primary, auxiliary and history/future losses.

    Classification: cross-entropy for the primary task and the history/future
    heads (whose last class means "no usable label"). Regression: ``loss``
    (L1 or L2) for both. Auxiliary targets always use L1. Missing primary
    labels and missing auxiliary targets are left out of their task's mean.
    A ``"weight"`` entry among the targets (one per row: class and sample
    weights, 0 for unlabelled rows) makes the primary loss a weighted mean.

    Parameters
    ----------
    target_type : {"classification", "regression"}, default="classification"
        Kind of primary target; it must match the estimator's (the estimators
        set it themselves). A *task* is one loss head, not this.
    loss : {"l1", "l2"}, default="l1"
        Regression loss of the primary and history/future tasks.

    Raises
    ------
    ValueError
        If ``target_type`` or ``loss`` is not one of its allowed values.

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

    task = ReplacedName("target_type")

    @replaced_parameters(task="target_type")
    def __init__(self, target_type="classification", loss="l1"):
        super().__init__()
        _check_choice("target_type", target_type, _TARGET_TYPES)
        _check_choice("loss", loss, tuple(_REGRESSION_ERRORS))
        self.target_type = target_type
        self.loss = loss

    def __getattr__(self, name):
        # nn.Module answers a name it lacks itself, which would hide ReplacedName's message.
        replaced = type(self).__dict__.get(name)
        if isinstance(replaced, ReplacedName):
            replaced.__get__(self, type(self))
        return super().__getattr__(name)

    def task_losses(self, outputs, targets):
        """Unweighted loss of every task, primary first."""
        primary, aux, offsets = outputs[:3]
        _check_primary(self.target_type, primary, targets["primary"])
        weight = targets.get("weight")
        if self.target_type == "classification":
            labels = targets["primary"]
            if weight is None:
                n_labelled = (labels >= 0).sum().clamp(min=1)
                primary_loss = F.cross_entropy(primary, labels, ignore_index=-1,
                                               reduction="sum") / n_labelled
            else:
                losses = F.cross_entropy(primary, labels, ignore_index=-1, reduction="none")
                primary_loss = _weighted_mean(losses, weight)
            offset_losses = F.cross_entropy(offsets.transpose(1, 2), targets["offsets"],
                                            reduction="none").mean(0)
        else:
            if weight is None:
                primary_loss = _regression_losses(primary.unsqueeze(1),
                                                  targets["primary"].unsqueeze(1), self.loss)
            else:
                present = ~torch.isnan(targets["primary"])
                target = torch.where(present, targets["primary"],
                                     torch.zeros_like(targets["primary"]))
                errors = _REGRESSION_ERRORS[self.loss](primary - target)
                primary_loss = _weighted_mean(errors, weight * present)
            offset_losses = _regression_losses(offsets, targets["offsets"], self.loss)
        aux_losses = _regression_losses(aux, targets["aux"], "l1")
        return torch.cat([primary_loss.reshape(1), aux_losses, offset_losses])

    def forward(self, outputs, targets, weights):
        """Weighted total; ``weights`` has one entry per task, primary first.

        Raises
        ------
        ValueError
            If ``weights`` is not a vector with one entry per task, which
            would otherwise be broadcast into a silently wrong total.
        """
        losses = self.task_losses(outputs, targets)
        weights = torch.as_tensor(weights, dtype=losses.dtype, device=losses.device)
        if weights.shape != losses.shape:
            n_aux, n_offsets = outputs[1].shape[1], outputs[2].shape[1]
            raise ValueError(
                f"MultiTaskLoss: weights must have one entry per task, 1 primary + {n_aux} "
                f"auxiliary + {n_offsets} history/future = {len(losses)}, got shape "
                f"{tuple(weights.shape)}.")
        return (losses * weights).sum()
