"""Saving a fitted estimator or MONAH pipeline in the safe format, and loading it back."""

import json
from pathlib import Path

import numpy as np
from sklearn.pipeline import Pipeline

from . import nn
from ._model_file import check_file_target, open_model_file, read_json, write_aside
from ._stream import split_streamable
from .exceptions import ModelFileError
from .preprocessing import MonahTranscriber

__all__ = ["load_model", "save_model"]

# The transcriber's part of a saved pipeline, beside the estimator's own members.
_PIPELINE = "pipeline.json"
# Its parameters and column names take a few KB.
_MAX_PIPELINE_BYTES = 2 ** 20


def _transcriber_state(transcriber, name):
    params = transcriber.get_params()
    for key, value in params.items():
        if isinstance(value, tuple):
            params[key] = list(value)
        elif value is not None and not isinstance(value, str | int | float | list | dict):
            raise ValueError(f"save_model cannot store the transcriber's {key}={value!r}.")
    return {"step": name, "class": "MonahTranscriber", "params": params,
            "feature_names_in": [str(c) for c in transcriber.feature_names_in_]}


def save_model(model, path):
    """Save a fitted estimator, or a fitted MONAH pipeline, without pickle.

    A pipeline keeps what prediction needs: its
    :class:`~skhanrock.MonahTranscriber` (parameters, as JSON) and its
    estimator (see :meth:`HanRockClassifier.save`). Steps that only shape
    training (auxiliary targets, loss weights, task selection) are left out;
    the loaded pipeline predicts the same without them.

    Parameters
    ----------
    model : HanRockClassifier, HanRockRegressor or Pipeline
        What :class:`~skhanrock.ConversationStream` accepts.
    path : str or Path
        File to write.

    Returns
    -------
    Path
        The file written.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from skhanrock import load_model, make_paper_pipeline, save_model
    >>> from skhanrock.datasets import make_conversations
    >>> X, y = make_conversations(n_conversations=4, random_state=0)
    >>> pipe = make_paper_pipeline("aphf", primary_units=4, context_size=3, max_epochs=1,
    ...                            random_state=0).fit(X, y)
    >>> path = save_model(pipe, pathlib.Path(tempfile.mkdtemp()) / "pipe.skhanrock")
    >>> restored = load_model(path)
    >>> [name for name, _ in restored.steps], bool((restored.predict(X) == pipe.predict(X)).all())
    (['monah', 'han'], True)
    """
    transcriber, estimator = split_streamable(model)
    path = Path(path)
    if transcriber is None:
        return estimator.save(path)
    names = {id(step): name for name, step in model.steps}
    state = {"steps": [_transcriber_state(transcriber, names[id(transcriber)])],
             "estimator_step": model.steps[-1][0]}
    check_file_target(path)
    # The estimator's file, written aside; the pipeline's member is appended before the rename.
    estimator.save(path.with_name(path.name + ".partial"))
    return write_aside(path, lambda archive: archive.writestr(_PIPELINE, json.dumps(state)),
                       mode="a")


def _transcriber(state):
    if not isinstance(state, dict) or state.get("class") != "MonahTranscriber":
        raise ValueError("a saved pipeline step must be a MonahTranscriber, got "
                         f"{state.get('class') if isinstance(state, dict) else state!r}.")
    params = state["params"]
    for key in ("rate_edges", "delay_edges"):
        if isinstance(params.get(key), list):
            params[key] = tuple(params[key])
    transcriber = MonahTranscriber(**params)
    transcriber.feature_names_in_ = np.array(state["feature_names_in"], dtype=object)
    transcriber.n_features_in_ = len(transcriber.feature_names_in_)
    return transcriber


def load_model(path):
    """Load what :func:`save_model` wrote: an estimator, or a MONAH pipeline.

    Nothing is unpickled; see ``HanRockClassifier.load``.

    Parameters
    ----------
    path : str or Path

    Returns
    -------
    HanRockClassifier, HanRockRegressor or Pipeline

    Examples
    --------
    See :func:`save_model`.
    """
    estimator = nn.load(path)
    with open_model_file(path) as archive:
        if _PIPELINE not in archive.namelist():
            return estimator
        state = read_json(archive, _PIPELINE, _MAX_PIPELINE_BYTES, path)
    try:
        steps = [(step["step"], _transcriber(step)) for step in state["steps"]]
        # Pipeline checks the step names and that each step is an estimator.
        return Pipeline([*steps, (state["estimator_step"], estimator)])
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        what = f"the entry {error} is missing" if isinstance(error, KeyError) else str(error)
        raise ModelFileError(f"{what} ({type(error).__name__}).", path=path,
                             member=_PIPELINE) from error
