"""The one way to save a fitted estimator or MONAH pipeline, and to load it back: no pickle."""

import json
from pathlib import Path

import numpy as np
from sklearn.pipeline import Pipeline

from . import nn
from ._stream import split_streamable
from ._utils.model_file import (
    check_file_target,
    damaged_entries,
    open_model_file,
    read_json,
    write_aside,
)
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
    """Save a fitted estimator, or a fitted MONAH pipeline, to one file without pickle.

    The file (a zip) holds the estimator's parameters and fitted encoding
    (vocabulary, classes or target scaling, task names, loss weights) as
    JSON and its network's weights as tensors; :func:`load_model` restores
    the same predictions in another process and runs no code from the file,
    unlike ``pickle.load``, which can run anything a file holds.
    Training-time objects (``callbacks``, ``train_split``, ``embeddings``)
    are not saved: the loaded model has their defaults. A pretrained word
    encoder's weights are not saved either: the file keeps its local folder
    and fingerprint (and ``fine_tune_layers``), and :func:`load_model` reads
    that folder again; the trained top layers of a fine-tuned encoder are
    network weights, saved with the others. A pipeline keeps what prediction
    needs: its :class:`~skhanrock.MonahTranscriber` (parameters, as JSON)
    and its estimator. Steps that only shape training (auxiliary targets,
    loss weights, task selection) are left out; the loaded pipeline predicts
    the same without them.

    The file is written as the model predicts, so saving refuses what would
    not load as it predicts: NaN or infinite weights, parameters changed by
    ``set_params`` after ``fit`` that the fitted network was built with, an
    encoder built from a model in memory (it has no folder to read again),
    and custom ``module``, ``criterion`` or optimizer classes.

    Parameters
    ----------
    model : HanRockClassifier, HanRockRegressor or Pipeline
        What :class:`~skhanrock.ConversationStream` accepts, fitted.
    path : str or Path
        File to write, for example ``"model.skhanrock"``; its folder must
        exist. A failed save leaves neither the file nor a ``.partial`` one.

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
    >>> from skhanrock import HanRockRegressor
    >>> reg = HanRockRegressor(primary_units=4, context_size=3, max_epochs=1,
    ...                        random_state=0).fit(X, X["AU12_r"])
    >>> type(load_model(save_model(reg, path))).__name__
    'HanRockRegressor'
    """
    transcriber, estimator = split_streamable(model)
    path = Path(path)
    if transcriber is None:
        return estimator.__skhanrock_save__(path)
    names = {id(step): name for name, step in model.steps}
    state = {"steps": [_transcriber_state(transcriber, names[id(transcriber)])],
             "estimator_step": model.steps[-1][0]}
    check_file_target(path)
    # The estimator's file, written aside; the pipeline's member is appended before the rename.
    estimator.__skhanrock_save__(path.with_name(path.name + ".partial"))
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

    Nothing is unpickled: the weights are read with
    ``torch.load(weights_only=True)``, and classes are named in the file and
    only the package's network and loss and torch's optimizers are accepted.
    A pretrained word encoder is read from its folder again, which must still
    hold the same model. A file of another saved-model format is refused; one
    written by another skhanrock version loads with a warning.

    Parameters
    ----------
    path : str or Path

    Returns
    -------
    HanRockClassifier, HanRockRegressor or Pipeline
        Fitted; an estimator saved on a GPU loads on the CPU, with a
        warning, when no GPU is available.

    Raises
    ------
    skhanrock.exceptions.ModelFileError
        If the file is damaged or tampered with (naming the file and the
        member of the zip that is wrong).
    ValueError
        If the file was written in another saved-model format.

    Examples
    --------
    See :func:`save_model`.
    """
    estimator = nn.HanRockClassifier.__skhanrock_load__(path)
    with open_model_file(path) as archive:
        if _PIPELINE not in archive.namelist():
            return estimator
        state = read_json(archive, _PIPELINE, _MAX_PIPELINE_BYTES, path)
    with damaged_entries(path, _PIPELINE):
        steps = [(step["step"], _transcriber(step)) for step in state["steps"]]
        # Pipeline checks the step names and that each step is an estimator.
        return Pipeline([*steps, (state["estimator_step"], estimator)])
