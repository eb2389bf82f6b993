"""scikit-learn's common checks, rewritten for talkturn frames, on every estimator of the package.

scikit-learn's own checks feed bare numeric arrays, which a talkturn frame
(columns found by name) cannot be, so most of them are expected failures in
``tests/nn/test_common.py`` and ``tests/preprocessing/test_common.py``. The
contract they stand for is checked here on the package's own data
(:func:`~skhanrock.datasets.make_conversations`): fitting twice gives the same
model, nothing the caller passed is modified, a pickled model predicts the
same, ``clone`` keeps the parameters and drops the fit, ``n_features_in_`` and
``feature_names_in_`` are the fit frame's columns, a column the estimator reads
is required by name, and an unfitted estimator raises ``NotFittedError``.
"""

import importlib
import inspect
import pickle

import joblib
import numpy as np
import pandas as pd
import pytest
from sklearn.base import BaseEstimator, clone
from sklearn.exceptions import NotFittedError

from skhanrock import (
    AuxiliaryTargets,
    HanRockClassifier,
    HanRockRegressor,
    MonahTranscriber,
    MutualInfoLossWeights,
)
from skhanrock._testing import TINY
from skhanrock.datasets import make_conversations
from skhanrock.preprocessing import AuxiliaryTaskSelector

_SUBPACKAGES = ["skhanrock", "skhanrock.datasets", "skhanrock.preprocessing", "skhanrock.nn",
                "skhanrock.model_selection", "skhanrock.metrics", "skhanrock.inspection",
                "skhanrock.experiments"]
_OUTPUT_METHODS = ("transform", "predict", "predict_proba")
_NETWORK = {**TINY, "max_epochs": 1}


def _raw(target_type):
    X, y = make_conversations(n_conversations=6, min_turns=4, max_turns=6, target_type=target_type,
                              random_state=0)
    X.attrs["caller"] = {"note": "the caller's own"}  # must come back untouched
    return X, y


def _with_targets():
    X, y = _raw("classification")
    return AuxiliaryTargets(families="aph", label_offsets=(-1,)).fit_transform(X, y), y


# Each estimator, the frame and labels it is fitted on, and a column it reads.
CASES = {
    "MonahTranscriber": (lambda: MonahTranscriber(), lambda: _raw("classification"), "text"),
    "AuxiliaryTargets": (lambda: AuxiliaryTargets(families="aph", label_offsets=(-1,)),
                         lambda: _raw("classification"), "AU05_r"),
    "MutualInfoLossWeights": (lambda: MutualInfoLossWeights(random_state=0), _with_targets,
                              "aux:AU05"),
    "AuxiliaryTaskSelector": (lambda: AuxiliaryTaskSelector(threshold=0.0, random_state=0),
                              _with_targets, "aux:AU05"),
    "HanRockClassifier": (lambda: HanRockClassifier(**_NETWORK),
                          lambda: _raw("classification"), "text"),
    "HanRockRegressor": (lambda: HanRockRegressor(**_NETWORK), lambda: _raw("regression"),
                         "text"),
}


def _public_estimators():
    """Names of the estimator classes that the package's subpackages make public."""
    names = set()
    for package in _SUBPACKAGES:
        module = importlib.import_module(package)
        names.update(name for name in module.__all__
                     if inspect.isclass(getattr(module, name))
                     and issubclass(getattr(module, name), BaseEstimator))
    return names


def _outputs(estimator, X):
    return {method: getattr(estimator, method)(X) for method in _OUTPUT_METHODS
            if hasattr(estimator, method)}


def _assert_same(a, b, where="output"):
    """Equal values, frames (with their attrs), arrays and containers of them."""
    if isinstance(a, pd.DataFrame):
        pd.testing.assert_frame_equal(a, b, obj=where)
        _assert_same(dict(a.attrs), dict(b.attrs), f"{where}.attrs")
    elif isinstance(a, pd.Series):
        pd.testing.assert_series_equal(a, b, obj=where)
    elif isinstance(a, np.ndarray):
        np.testing.assert_array_equal(a, b, err_msg=where)
    elif isinstance(a, dict):
        assert a.keys() == b.keys(), where
        for key in a:
            _assert_same(a[key], b[key], f"{where}[{key!r}]")
    elif isinstance(a, list | tuple):
        assert type(a) is type(b) and len(a) == len(b), where
        for i, (x, z) in enumerate(zip(a, b, strict=True)):
            _assert_same(x, z, f"{where}[{i}]")
    else:
        assert a == b or (a != a and b != b), where  # NaN equals NaN here


def _params_hash(estimator):
    return {name: joblib.hash(value) for name, value in estimator.get_params(deep=False).items()}


@pytest.fixture(scope="module")
def fitted():
    """name -> (fitted estimator, X, y, its outputs), fitted once per module."""
    cache = {}

    def get(name):
        if name not in cache:
            make, data, _ = CASES[name]
            X, y = data()
            estimator = make()
            cache[name] = (estimator.fit(X, y), X, y, _outputs(estimator, X))
        return cache[name]

    return get


def test_every_public_estimator_is_checked():
    # A new estimator fails here until it has a case, so the checks below cover it.
    assert _public_estimators() == set(CASES)


@pytest.mark.parametrize("name", CASES)
def test_fit_is_idempotent_and_returns_self(fitted, name):
    first, X, y, expected = fitted(name)
    estimator = clone(first)
    assert estimator.fit(X, y) is estimator
    _assert_same(_outputs(estimator, X), expected, "first refit")
    estimator.fit(X, y)
    _assert_same(_outputs(estimator, X), expected, "second refit")


@pytest.mark.parametrize("name", CASES)
def test_nothing_the_caller_passed_is_modified(name):
    make, data, _ = CASES[name]
    X, y = data()
    X_before, y_before = X.copy(deep=True), y.copy(deep=True)
    attrs_before = pickle.loads(pickle.dumps(X.attrs))
    estimator = make()
    params_before = _params_hash(estimator)
    estimator.fit(X, y)
    _outputs(estimator, X)
    pd.testing.assert_frame_equal(X, X_before)
    _assert_same(dict(X.attrs), attrs_before, "X.attrs")
    pd.testing.assert_series_equal(y, y_before)
    assert _params_hash(estimator) == params_before


@pytest.mark.parametrize("name", CASES)
def test_a_pickled_model_gives_the_same_outputs(fitted, name):
    estimator, X, _, expected = fitted(name)
    _assert_same(_outputs(pickle.loads(pickle.dumps(estimator)), X), expected, "unpickled")


@pytest.mark.parametrize("name", CASES)
def test_clone_keeps_the_parameters_and_drops_the_fit(fitted, name):
    estimator, X, _, _ = fitted(name)
    copy = clone(estimator)
    assert _params_hash(copy) == _params_hash(estimator)
    assert _params_hash(clone(CASES[name][0]())) == _params_hash(CASES[name][0]())
    for method in _OUTPUT_METHODS:
        if hasattr(copy, method):
            with pytest.raises(NotFittedError):
                getattr(copy, method)(X)


@pytest.mark.parametrize("name", CASES)
def test_features_in_are_the_fit_frames_columns(fitted, name):
    estimator, X, y, _ = fitted(name)
    assert estimator.n_features_in_ == X.shape[1]
    assert list(estimator.feature_names_in_) == list(X.columns)
    # A refit on other columns resets them (scikit-learn's check_n_features_in_after_fitting).
    wider = X.assign(extra_column=0.5)
    refitted = clone(estimator).fit(wider, y)
    assert refitted.n_features_in_ == X.shape[1] + 1
    assert list(refitted.feature_names_in_) == [*X.columns, "extra_column"]


@pytest.mark.parametrize("name", CASES)
def test_a_column_the_estimator_reads_is_required_by_name(fitted, name):
    estimator, X, _, _ = fitted(name)
    column = CASES[name][2]
    method = next(m for m in _OUTPUT_METHODS if hasattr(estimator, m))
    with pytest.raises(ValueError, match=f"'?{column}'?"):
        getattr(estimator, method)(X.drop(columns=column))


@pytest.mark.parametrize("name", CASES)
def test_an_unfitted_estimator_raises_not_fitted(name):
    make, data, _ = CASES[name]
    X, _ = data()
    estimator = make()
    methods = [m for m in _OUTPUT_METHODS if hasattr(estimator, m)]
    assert methods
    for method in methods:
        with pytest.raises(NotFittedError):
            getattr(estimator, method)(X)
