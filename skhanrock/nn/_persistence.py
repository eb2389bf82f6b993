"""Saving and loading fitted estimators without pickle.

A saved model is one zip file holding ``skhanrock.json`` (the parameters and
the fitted encoding: vocabulary, classes or target scaling, task names, loss
weights, as plain JSON; for a pretrained word encoder, its local folder and
fingerprint instead of its weights) and ``weights.pt`` (the module's tensors, read back
with ``torch.load(weights_only=True)``). Loading it runs no code from the
file: classes are named, and only the package's own network and loss and
torch's optimizers are accepted by name.
"""

import inspect
import io
import json
import warnings

import numpy as np
import pandas as pd
import torch
from skorch.history import History

from .._utils.model_file import (
    damaged_entries,
    open_model_file,
    read_json,
    read_member,
    write_aside,
)
from .._utils.validation import is_finite_number
from .._version import __version__
from ..exceptions import ModelFileError
from ._lexical import check_lexical_ngrams
from ._loss import MultiTaskLoss
from ._module import HanModule

__all__ = ["FORMAT_VERSION", "MAX_CONFIG_BYTES", "load_estimator", "network_params",
           "non_finite_weights", "save_estimator"]

#: Version of the saved layout; a file of another version is refused.
FORMAT_VERSION = 1
_CONFIG, _WEIGHTS = "skhanrock.json", "weights.pt"
#: Largest ``skhanrock.json`` read, in bytes: a 50,000-word vocabulary with
#: 50,000 n-grams and their idf takes a few MB.
MAX_CONFIG_BYTES = 64 * 2 ** 20
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
# The parameters the network and encoding are built with (see network_params).
_NETWORK_PARAMS = ("architecture", "primary_units", "aux_units", "max_words", "gru_dropout",
                   "recurrent_dropout", "freeze_embeddings", "conversation_column",
                   "turn_column", "lexical_ngrams", "lexical_context", "feature_columns",
                   "speaker_column", "lexical_column", "lexical_fit")


def network_params(net):
    """The parameters the network and encoding are built with, which saving checks.

    ``set_params`` changes none of them in a fitted model until the next
    fit, and a file saved with another value would not load as it predicts.
    """
    params = net.get_params(deep=False)
    return {name: params[name] for name in _NETWORK_PARAMS}


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
    raise ValueError(f"save_model cannot store the parameter {name}={value!r}; it keeps numbers, "
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
                    f"save_model stores {name} by name and knows {sorted(known.values())}; got "
                    f"{value!r}. Pickle the estimator instead (from a trusted source only).")
            params[name] = {"__class__": known[value]}
        elif name in _DEFAULT_CLASSES:
            if value is not defaults[name]:
                raise ValueError(f"save_model cannot store {name}={value!r}.")
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
        "lexical_fit": net.lexical_fit_,
        "lexical_context": net.lexical_context_,
        "lexical_strength": getattr(net, "lexical_strength_", None),
        "history": json.loads(json.dumps(net.history.to_list(), default=_plain)),
    }


def _plain(value):
    """numpy scalars in the history as Python numbers; anything else as its text."""
    return value.item() if isinstance(value, np.generic) else str(value)


def save_estimator(net, path):
    """Write a fitted estimator to ``path`` (a zip file) without pickling anything.

    The estimator's half of :func:`skhanrock.save_model`, which users call.

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
    _check_network_params(net)
    state = {k: v.detach().cpu() for k, v in net.module_.state_dict().items()}
    bad = non_finite_weights(state)
    if bad:
        raise ValueError(f"save_model refuses this {type(net).__name__}: its weights {bad[:5]} hold "
                         "NaN or infinite values (the fit diverged). Refit it, with a smaller "
                         "lr for example.")
    config = {"format": FORMAT_VERSION, "skhanrock_version": __version__,
              "estimator": type(net).__name__, "params": _saved_params(net),
              "fitted": _fitted_state(net)}
    weights = io.BytesIO()
    torch.save(state, weights)

    def write(archive):
        archive.writestr(_CONFIG, json.dumps(config))
        archive.writestr(_WEIGHTS, weights.getvalue())

    return write_aside(path, write)


def _check_network_params(net):
    """The parameters saved are those the fitted network was built with, and valid ones."""
    built = getattr(net, "_network_params_", None) or {}
    current = network_params(net)
    changed = [f"{name}={current[name]!r} (fitted with {value!r})"
               for name, value in built.items() if current[name] != value]
    if changed:
        raise ValueError(
            f"save_model refuses this {type(net).__name__}: set_params changed {', '.join(changed)} "
            "after fit, and its network still has the fitted values (it predicts with "
            "them); a file with the new values would not load. Set them back, or fit again, "
            "before saving.")
    try:
        net._check_hyper_parameters()
    except ValueError as error:
        raise ValueError(f"save_model refuses a parameter that load_model (as fit) would refuse: "
                         f"{error}") from error


def _refused(message, path, member=_CONFIG):
    return ModelFileError(message, path=path, member=member)


def _read_weights(archive, limit, path):
    data = read_member(archive, _WEIGHTS, limit, path)
    try:
        weights = torch.load(io.BytesIO(data), weights_only=True, map_location="cpu")
    except Exception as error:  # noqa: BLE001 - whatever torch's reader trips on
        # torch's own message may advise weights_only=False, that is to run the
        # file's code: it is not passed on.
        raise _refused(f"it is not a file of tensors (torch's tensor-only reader refused it "
                       f"with {type(error).__name__}). It is not a skhanrock model, and "
                       "skhanrock will not unpickle it.", path, _WEIGHTS) from None
    if not (isinstance(weights, dict) and all(isinstance(k, str) and isinstance(v, torch.Tensor)
                                              for k, v in weights.items())):
        raise _refused("it is not a mapping of parameter names to tensors.", path, _WEIGHTS)
    return weights


def _saved_class(config, classes, path):
    """The one of ``classes`` that ``config`` names, after its format is checked."""
    if config.get("format") != FORMAT_VERSION:
        raise ValueError(
            f"{path} has the saved-model format {config.get('format')!r}; this skhanrock "
            f"({__version__}) reads format {FORMAT_VERSION}. Load it with the skhanrock "
            f"version that wrote it ({config.get('skhanrock_version')!r}).")
    by_name = {cls.__name__: cls for cls in classes}
    name = config.get("estimator")
    if not isinstance(name, str) or name not in by_name:
        raise ValueError(f"{path} holds {name!r}, which is not one of {sorted(by_name)}.")
    if config.get("skhanrock_version") != __version__:
        warnings.warn(f"{path} was written by skhanrock {config.get('skhanrock_version')} and is "
                      f"loaded by {__version__}; check its predictions.", UserWarning,
                      stacklevel=5)
    return by_name[name]


def load_estimator(path, classes):
    """Read a model written by :func:`save_estimator` into whichever of ``classes`` it names.

    The estimator's half of :func:`skhanrock.load_model`, which users call.
    Every member is bounded before it is read, every parameter is checked as
    ``fit`` checks it, and a damaged or tampered file raises a
    :class:`~skhanrock.exceptions.ModelFileError` naming the file and member.

    Parameters
    ----------
    path : str or Path
        The saved file.
    classes : tuple of type
        The estimator classes a file may hold (``HanRockClassifier``,
        ``HanRockRegressor``).

    Returns
    -------
    estimator
        Fitted, on ``device="cpu"`` unless the saved device is available.
    """
    with open_model_file(path) as archive:
        config = read_json(archive, _CONFIG, MAX_CONFIG_BYTES, path)
        cls = _saved_class(config, classes, path)
        if _WEIGHTS not in archive.namelist():
            raise _refused(f"it has no {_WEIGHTS} member.", path, member=None)
        with damaged_entries(path, _CONFIG):
            net, history = _restored(cls, config, path, archive.getinfo(_WEIGHTS).file_size)
        weights = _read_weights(archive, _weights_limit(net.module_), path)
    _load_weights(net, weights, path)
    encoder = net.encoding_.word_encoder_
    if encoder is None:
        # The trained vectors stand in for the initial ones, which were not saved.
        net.encoding_.embedding_init_ = weights[_embedding_key(weights)].numpy()
    else:
        # A later fit from scratch reads the same checkpoint (and fine-tunes it alike).
        net.embeddings = encoder if encoder.fine_tune_layers else str(encoder.model_path)
    net.history = history
    net.batch_order_rng_ = np.random.default_rng(net.seed_)
    # A later partial_fit continues this model instead of refitting its vocabulary.
    net.needs_data_fit_ = False
    return net


def _restored(cls, config, path, weights_bytes):
    """The estimator ``config`` describes, built and checked; its weights still to load."""
    if not isinstance(config.get("params"), dict) or not isinstance(config.get("fitted"), dict):
        raise _refused("it lacks the 'params' and 'fitted' objects.", path)
    params = _loaded_params(config["params"])
    _check_param_names(cls, params)
    # Files written before the lexical path became the default were saved without
    # it, and some before the parameter existed: those have no n-grams to read.
    params.setdefault("lexical_ngrams", None)
    # And those written before the lexical path could be fitted first trained it jointly.
    params.setdefault("lexical_fit", "joint")
    if str(params.get("device", "cpu")).startswith("cuda") and not torch.cuda.is_available():
        warnings.warn(f"{path} was saved with device={params['device']!r}; no CUDA GPU is "
                      "available, so it is loaded on the CPU.", UserWarning, stacklevel=5)
        params["device"] = "cpu"
    net = cls(**params)
    fitted = config["fitted"]
    _check_encoding_state(fitted["encoding"], net, weights_bytes)
    net.encoding_ = net._new_encoding().set_fitted_state(fitted["encoding"])
    net.target_ = net._new_target().set_fitted_state(fitted["target"])
    net._set_target_attributes()
    net.feature_names_in_ = np.array(_strings(fitted["feature_names_in"], "feature_names_in"),
                                     dtype=object)
    net.n_features_in_ = len(net.feature_names_in_)
    if fitted["seed"] is not None and not isinstance(fitted["seed"], int):
        raise ValueError(f"the seed must be an integer or null, got {fitted['seed']!r}.")
    net.seed_ = fitted["seed"]
    net.lexical_strength_ = _lexical_strength(fitted.get("lexical_strength"))
    # Files from before the lexical path could be fitted first trained it jointly.
    net.lexical_fit_ = fitted.get("lexical_fit", "joint")
    if net.lexical_fit_ not in ("joint", "stacked"):
        raise ValueError(f"the lexical fit must be 'joint' or 'stacked', got "
                         f"{net.lexical_fit_!r}.")
    # Older files hold the number in the parameter itself.
    net.lexical_context_ = fitted.get("lexical_context", params.get("lexical_context") or 0)
    if isinstance(net.lexical_context_, bool) or not isinstance(net.lexical_context_, int) \
            or not 0 <= net.lexical_context_ < net.context_size:
        raise ValueError(f"the lexical context must be an integer in [0, context_size), got "
                         f"{net.lexical_context_!r}.")
    net.valid_conversations_ = np.array([], dtype=object)
    # Builds the network, checking every parameter as fit does.
    net.initialize()
    net._network_params_ = network_params(net)
    return net, History(list(fitted["history"]))


def _lexical_strength(value):
    """The saved ``lexical_strength_``: a positive number, or None (joint or older files)."""
    if value is not None and (isinstance(value, bool) or not isinstance(value, int | float)
                              or not value > 0):
        raise ValueError(f"the lexical strength must be a positive number or null, got "
                         f"{value!r}.")
    return value


def _check_param_names(cls, params):
    """Only the parameters save_model writes: no training-time objects, no unknown module keys."""
    for name in params:
        if name in _TRAINING_ONLY or name.startswith("callbacks"):
            raise ValueError(f"it sets the parameter {name!r}, which save_model never writes.")
        prefix, _, key = name.partition("__")
        # skorch reads optimizer__* itself (param_groups, ...): only the network's and
        # the loss's keyword arguments are checked here.
        if key and prefix in ("module", "criterion"):
            cls_ = params.get(prefix, cls().get_params()[prefix])
            if key not in inspect.signature(cls_).parameters:
                raise ValueError(f"it sets {name!r}, but {cls_.__name__} has no parameter "
                                 f"{key!r}.")


def _strings(value, name):
    if not (isinstance(value, list) and all(isinstance(v, str) for v in value)):
        raise ValueError(f"{name} must be a list of strings.")
    return value


def _check_encoding_state(state, net, weights_bytes):
    """The fitted encoding's entries that later code indexes with, checked before use."""
    vocabulary = state["vocabulary"]
    if not (isinstance(vocabulary, dict)
            and all(isinstance(i, int) and not isinstance(i, bool) for i in vocabulary.values())
            and sorted(vocabulary.values()) == list(range(len(vocabulary)))):
        raise ValueError("the vocabulary must map each word to a distinct id 0, 1, ..., "
                         "n - 1.")
    rows = state.get("pretrained_rows")
    if rows is not None and not (isinstance(rows, list) and all(
            isinstance(i, int) and 0 <= i < len(vocabulary) for i in rows)):
        raise ValueError(f"pretrained_rows must be vocabulary ids (0 to {len(vocabulary) - 1}).")
    shape = state.get("embedding_shape")
    if shape is not None:
        if not (isinstance(shape, list) and len(shape) == 2 and shape[0] == len(vocabulary)
                and isinstance(shape[1], int) and shape[1] >= 1):
            raise ValueError(f"embedding_shape must be [{len(vocabulary)}, dimension], got "
                             f"{shape!r}.")
        # The table is part of the weights: one larger than weights.pt cannot be in it,
        # and is not allocated.
        if shape[0] * shape[1] * 4 > weights_bytes:
            raise ValueError(f"embedding_shape {shape} needs more bytes than {_WEIGHTS} "
                             f"declares ({weights_bytes:,}).")
    _check_lexical_state(state.get("lexical"), net.lexical_ngrams)


def _check_lexical_state(state, lexical_ngrams):
    ngrams = check_lexical_ngrams(lexical_ngrams)
    if (state is None) != (ngrams is None):
        raise ValueError(f"lexical_ngrams={lexical_ngrams!r} but the fitted n-grams are "
                         f"{'absent' if state is None else 'present'}.")
    if state is None:
        return
    if check_lexical_ngrams(state["ngram_range"]) != ngrams:
        raise ValueError(f"the fitted lexical ngram_range {state['ngram_range']!r} is not "
                         f"lexical_ngrams={lexical_ngrams!r}.")
    grams, idf = _strings(state["ngrams"], "lexical ngrams"), state["idf"]
    if len(set(grams)) != len(grams):
        raise ValueError("the lexical n-grams must be distinct.")
    if not (isinstance(idf, list) and len(idf) == len(grams)
            and all(is_finite_number(v) for v in idf)):
        raise ValueError(f"the lexical idf must be {len(grams)} finite numbers, one per n-gram.")


def _weights_limit(module):
    """Bytes ``weights.pt`` may hold for ``module``: its tensors plus torch's zip framing."""
    tensors = module.state_dict().values()
    return sum(t.numel() * t.element_size() for t in tensors) + 4096 * len(tensors) + 2 ** 16


def _load_weights(net, weights, path):
    expected = net.module_.state_dict()
    if set(weights) != set(expected):
        missing, extra = sorted(set(expected) - set(weights)), sorted(set(weights) - set(expected))
        raise _refused(f"its tensors do not match the network its configuration describes "
                       f"(missing {missing[:5]}, unexpected {extra[:5]}).", path, _WEIGHTS)
    for name, tensor in weights.items():
        if tensor.shape != expected[name].shape:
            raise _refused(f"the tensor {name} has shape {tuple(tensor.shape)}; the network its "
                           f"configuration describes needs {tuple(expected[name].shape)}.",
                           path, _WEIGHTS)
    bad = non_finite_weights(weights)
    if bad:
        raise _refused(f"the tensors {bad[:5]} hold NaN or infinite values: the model it "
                       "holds diverged and would predict NaN.", path, _WEIGHTS)
    net.module_.load_state_dict(weights)


def non_finite_weights(weights):
    """Names of the floating-point tensors of ``weights`` holding NaN or infinity."""
    return [name for name, tensor in weights.items()
            if tensor.is_floating_point() and not bool(torch.isfinite(tensor).all())]


def _embedding_key(weights):
    keys = [k for k in weights if k.endswith("embedding.weight")]
    if len(keys) != 1:
        raise ValueError(f"expected one embedding matrix among the saved weights, got {keys}.")
    return keys[0]
