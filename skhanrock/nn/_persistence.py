"""Saving and loading fitted estimators without pickle.

A saved model is one zip file holding ``skhanrock.json`` (the parameters and
the fitted encoding: vocabulary, classes or target scaling, task names, loss
weights, as plain JSON; for a pretrained word encoder, its local folder and
fingerprint instead of its weights) and ``weights.pt`` (the module's tensors, read back
with ``torch.load(weights_only=True)``). Loading it runs no code from the
file: classes are named, and only the package's own network and loss and
torch's optimizers are accepted by name.
"""

import io
import json
import warnings
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from skorch.history import History

from .._version import __version__
from ._loss import MultiTaskLoss
from ._module import HanModule

__all__ = ["FORMAT_VERSION", "load_estimator", "save_estimator", "saved_class_name"]

#: Version of the saved layout; a file of another version is refused.
FORMAT_VERSION = 1
_CONFIG, _WEIGHTS = "skhanrock.json", "weights.pt"
# Objects that only shape training; a loaded model predicts without them.
_TRAINING_ONLY = ("callbacks", "train_split", "embeddings")
# Classes saved by name: nothing else is imported when a file is loaded.
_NAMED_CLASSES = {
    "module": {"HanModule": HanModule},
    "criterion": {"MultiTaskLoss": MultiTaskLoss},
    "optimizer": {name: getattr(torch.optim, name) for name in
                  ("Adam", "AdamW", "SGD", "RMSprop", "Adagrad", "Adamax", "NAdam", "RAdam")},
}
_DEFAULT_CLASSES = ("iterator_train", "iterator_valid", "dataset")


def _json_value(name, value):
    """``value`` as JSON, or a ValueError naming the parameter."""
    if isinstance(value, np.generic):
        value = value.item()
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, tuple):
        # Kept apart from lists, so that get_params reads the same after loading
        # (lexical_ngrams=(1, 2), label_offsets=(-1, 1)).
        return {"__tuple__": [_json_value(name, v) for v in value]}
    if isinstance(value, list):
        return [_json_value(name, v) for v in value]
    if isinstance(value, pd.Series):
        value = value.to_dict()
    if isinstance(value, dict):
        # Keys may be classes of any type, which JSON objects cannot keep.
        return {"__pairs__": [[_json_value(name, k), _json_value(name, v)]
                              for k, v in value.items()]}
    raise ValueError(f"save() cannot store the parameter {name}={value!r}; it keeps numbers, "
                     "strings, lists, tuples and dicts of them. Reset it before saving, or pickle "
                     "the estimator from a trusted source only.")


def _from_json(value):
    if isinstance(value, dict) and "__tuple__" in value:
        return tuple(_from_json(v) for v in value["__tuple__"])
    if isinstance(value, dict) and "__pairs__" in value:
        return {_hashable(_from_json(k)): _from_json(v) for k, v in value["__pairs__"]}
    if isinstance(value, list):
        return [_from_json(v) for v in value]
    return value


def _hashable(key):
    return tuple(key) if isinstance(key, list) else key


def _saved_params(net):
    params, defaults = {}, type(net)().get_params(deep=False)
    for name, value in net.get_params(deep=False).items():
        if name in _TRAINING_ONLY or name.startswith(("callbacks__", "_")):
            continue
        if name in _NAMED_CLASSES:
            known = {cls: key for key, cls in _NAMED_CLASSES[name].items()}
            if value not in known:
                raise ValueError(
                    f"save() stores {name} by name and knows {sorted(known.values())}; got "
                    f"{value!r}. Pickle the estimator instead (from a trusted source only).")
            params[name] = {"__class__": known[value]}
        elif name in _DEFAULT_CLASSES:
            if value is not defaults[name]:
                raise ValueError(f"save() cannot store {name}={value!r}.")
        else:
            params[name] = _json_value(name, value)
    return params


def _loaded_params(params):
    loaded = {}
    for name, value in params.items():
        if isinstance(value, dict) and "__class__" in value:
            classes = _NAMED_CLASSES.get(name, {})
            if value["__class__"] not in classes:
                raise ValueError(f"The saved {name} {value['__class__']!r} is not one of "
                                 f"{sorted(classes)}.")
            loaded[name] = classes[value["__class__"]]
        else:
            loaded[name] = _from_json(value)
    return loaded


def _fitted_state(net):
    return {
        "encoding": net.encoding_.fitted_state(),
        "target": net.target_.fitted_state(),
        "feature_names_in": [str(c) for c in net.feature_names_in_],
        "seed": net.seed_,
        "history": json.loads(json.dumps(net.history.to_list(), default=_plain)),
    }


def _plain(value):
    """numpy scalars in the history as Python numbers; anything else as its text."""
    return value.item() if isinstance(value, np.generic) else str(value)


def save_estimator(net, path):
    """Write a fitted estimator to ``path`` (a zip file) without pickling anything.

    Parameters
    ----------
    net : HanRockClassifier or HanRockRegressor
        A fitted estimator.
    path : str or Path
        File to write; its folder must exist.

    Returns
    -------
    Path
        The file written.
    """
    net._check_fitted_encoding()
    config = {"format": FORMAT_VERSION, "skhanrock_version": __version__,
              "estimator": type(net).__name__, "params": _saved_params(net),
              "fitted": _fitted_state(net)}
    weights = io.BytesIO()
    torch.save({k: v.detach().cpu() for k, v in net.module_.state_dict().items()}, weights)
    path = Path(path)
    # Written aside and renamed, so that an interrupted save never leaves half a model.
    partial = path.with_name(path.name + ".partial")
    with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(_CONFIG, json.dumps(config))
        archive.writestr(_WEIGHTS, weights.getvalue())
    partial.replace(path)
    return path


def _read(path):
    try:
        with zipfile.ZipFile(path) as archive:
            config = json.loads(archive.read(_CONFIG))
            weights = archive.read(_WEIGHTS)
    except (zipfile.BadZipFile, KeyError, json.JSONDecodeError) as error:
        raise ValueError(f"{path} is not a model written by skhanrock's save(): {error}") \
            from error
    return config, torch.load(io.BytesIO(weights), weights_only=True, map_location="cpu")


def saved_class_name(path):
    """Name of the estimator class a saved file holds (its JSON only; no weights are read)."""
    try:
        with zipfile.ZipFile(path) as archive:
            return json.loads(archive.read(_CONFIG)).get("estimator")
    except (zipfile.BadZipFile, KeyError, json.JSONDecodeError) as error:
        raise ValueError(f"{path} is not a model written by skhanrock's save(): {error}") \
            from error


def _check_config(config, cls, path):
    if config.get("format") != FORMAT_VERSION:
        raise ValueError(
            f"{path} has the saved-model format {config.get('format')!r}; this skhanrock "
            f"({__version__}) reads format {FORMAT_VERSION}. Load it with the skhanrock "
            f"version that wrote it ({config.get('skhanrock_version')!r}).")
    if config.get("estimator") != cls.__name__:
        raise ValueError(f"{path} holds a {config.get('estimator')}, not a {cls.__name__}; "
                         f"load it with {config.get('estimator')}.load.")
    if config.get("skhanrock_version") != __version__:
        warnings.warn(f"{path} was written by skhanrock {config.get('skhanrock_version')} and is "
                      f"loaded by {__version__}; check its predictions.", UserWarning,
                      stacklevel=3)


def load_estimator(cls, path):
    """Read a model written by :func:`save_estimator` into a new ``cls``.

    Parameters
    ----------
    cls : type
        ``HanRockClassifier`` or ``HanRockRegressor``, as saved.
    path : str or Path
        The saved file.

    Returns
    -------
    estimator
        Fitted, on ``device="cpu"`` unless the saved device is available.
    """
    config, weights = _read(path)
    _check_config(config, cls, path)
    params = _loaded_params(config["params"])
    # Files written before the lexical path became the default were saved without
    # it, and some before the parameter existed: those have no n-grams to read.
    params.setdefault("lexical_ngrams", None)
    if str(params.get("device", "cpu")).startswith("cuda") and not torch.cuda.is_available():
        warnings.warn(f"{path} was saved with device={params['device']!r}; no CUDA GPU is "
                      "available, so it is loaded on the CPU.", UserWarning, stacklevel=2)
        params["device"] = "cpu"
    net = cls(**params)
    fitted = config["fitted"]
    net.encoding_ = net._new_encoding().set_fitted_state(fitted["encoding"])
    net.target_ = net._new_target().set_fitted_state(fitted["target"])
    net._set_target_attributes()
    net.feature_names_in_ = np.array(fitted["feature_names_in"], dtype=object)
    net.n_features_in_ = len(net.feature_names_in_)
    net.seed_ = fitted["seed"]
    net.valid_conversations_ = np.array([], dtype=object)
    net.initialize()
    net.module_.load_state_dict(weights)
    encoder = net.encoding_.word_encoder_
    if encoder is None:
        # The trained vectors stand in for the initial ones, which were not saved.
        net.encoding_.embedding_init_ = weights[_embedding_key(weights)].numpy()
    else:
        # A later fit from scratch reads the same checkpoint (and fine-tunes it alike).
        net.embeddings = encoder if encoder.fine_tune_layers else str(encoder.model_path)
    net.history = History(fitted["history"])
    net.batch_order_rng_ = np.random.default_rng(net.seed_)
    # A later partial_fit continues this model instead of refitting its vocabulary.
    net.needs_data_fit_ = False
    return net


def _embedding_key(weights):
    keys = [k for k in weights if k.endswith("embedding.weight")]
    if len(keys) != 1:
        raise ValueError(f"expected one embedding matrix among the saved weights, got {keys}.")
    return keys[0]
