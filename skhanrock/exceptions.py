"""Exceptions raised by skhanrock, beside those of scikit-learn and skorch."""

__all__ = ["ModelFileError", "TrainingDivergedError"]


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


class ModelFileError(ValueError):
    """A saved model file is damaged, tampered with, or not a skhanrock model.

    Raised by :func:`~skhanrock.load_model` for every such
    file, whatever part of it is wrong, instead of the error of the library
    that first tripped on it. Nothing in the file is unpickled or run.

    Parameters
    ----------
    message : str
        What is wrong with the file.
    path : str or Path
        The file.
    member : str or None, default=None
        The part of the zip file that is wrong (``"skhanrock.json"``,
        ``"weights.pt"``, ``"pipeline.json"``), or None for the file as a whole.

    Examples
    --------
    >>> from skhanrock.exceptions import ModelFileError
    >>> error = ModelFileError("its vocabulary is not a word-to-id mapping.",
    ...                        path="model.skhanrock", member="skhanrock.json")
    >>> print(error)
    model.skhanrock (member skhanrock.json) is damaged or not a model written by skhanrock.save_model: its vocabulary is not a word-to-id mapping.
    >>> isinstance(error, ValueError), error.member
    (True, 'skhanrock.json')
    """

    def __init__(self, message, *, path, member=None):
        where = f"{path}" if member is None else f"{path} (member {member})"
        super().__init__(f"{where} is damaged or not a model written by skhanrock.save_model: "
                         f"{message}")
        self.path = str(path)
        self.member = member

    def __reduce__(self):
        return (_rebuild_model_file_error, (str(self), self.path, self.member))


def _rebuild_model_file_error(text, path, member):
    error = ModelFileError("", path=path, member=member)
    error.args = (text,)
    return error
