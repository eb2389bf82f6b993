"""Exceptions raised by skhanrock, beside those of scikit-learn and skorch."""

__all__ = ["TrainingDivergedError"]


class TrainingDivergedError(RuntimeError):
    """A training or validation loss became NaN or infinite.

    Raised by :class:`~skhanrock.HanRockClassifier` and
    :class:`~skhanrock.HanRockRegressor` at the end of the epoch whose loss is
    not finite, instead of returning a model that predicts from diverged
    weights. The experiment runner records such a trial as diverged and
    leaves it out of model selection.

    Parameters
    ----------
    message : str
        What diverged and what to try (usually a smaller ``lr``).
    epoch : int or None, default=None
        The epoch (1-based) whose loss was not finite.
    loss_name : str or None, default=None
        The history key that was not finite (``"train_loss"``, ``"valid_loss"``).
    value : float or None, default=None
        Its value.

    Examples
    --------
    >>> from skhanrock.exceptions import TrainingDivergedError
    >>> error = TrainingDivergedError("diverged", epoch=3, loss_name="train_loss",
    ...                               value=float("nan"))
    >>> error.epoch
    3
    """

    def __init__(self, message, *, epoch=None, loss_name=None, value=None):
        super().__init__(message)
        self.epoch = epoch
        self.loss_name = loss_name
        self.value = value

    def __reduce__(self):
        # Keeps the keyword fields when a trial's error crosses a process (joblib, Dask).
        return (_rebuild, (str(self), self.epoch, self.loss_name, self.value))


def _rebuild(message, epoch, loss_name, value):
    return TrainingDivergedError(message, epoch=epoch, loss_name=loss_name, value=value)
