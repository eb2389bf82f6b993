"""scikit-learn's common estimator checks on the three frame transformers.

``MonahTranscriber``, ``AuxiliaryTargets`` and ``MutualInfoLossWeights`` read a
*talkturn frame*: a DataFrame whose columns are named by role (conversation,
turn, speaker, text, feature columns). Their tags say what they take (a 2-D
table with text and missing values), so every applicable check runs. The
checks that feed a bare numpy array (or a list, a memmap, an array-like) to
``fit`` cannot pass: the array is refused with a TypeError naming its type.
Each is listed below with its reason; with ``xfail_strict`` a listed check
that starts passing fails the test, so the list stays honest. The properties
those checks test on arrays (pickling, idempotent fits, untouched parameters
and input) are tested on talkturn frames at the end of this file.
"""

import pickle

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.utils.estimator_checks import parametrize_with_checks

from skhanrock import AuxiliaryTargets, MonahTranscriber, MutualInfoLossWeights
from skhanrock.datasets import make_conversations
from skhanrock.preprocessing import AuxiliaryTaskSelector

_FRAME = ("X must be a talkturn DataFrame whose columns are named by role (conversation, "
          "turn, speaker, text, feature columns); the check passes a numpy array (or a "
          "list, memmap or array-like), which fit refuses with a TypeError naming its type")


_FRAME_CHECKS = [
    "check_fit_score_takes_y", "check_estimators_overwrite_params",
    "check_dont_overwrite_parameters", "check_estimators_fit_returns_self",
    "check_readonly_memmap_input", "check_n_features_in_after_fitting",
    "check_estimators_dtypes", "check_dtype_object", "check_pipeline_consistency",
    "check_estimators_pickle", "check_f_contiguous_array_estimator",
    "check_transformer_data_not_an_array", "check_transformer_general",
    "check_transformer_preserve_dtypes", "check_methods_sample_order_invariance",
    "check_methods_subset_invariance", "check_fit2d_1sample", "check_fit2d_1feature",
    "check_dict_unchanged", "check_fit_idempotent", "check_fit_check_is_fitted",
    "check_n_features_in",
]


_SPECIFIC = {
    "check_positive_only_tag_during_fit": (
        "negative values are accepted (features are z-scored or ranked), but the check "
        "passes them as a numpy array, which is refused with a TypeError"),
    "check_estimators_empty_data_messages": (
        "an empty numpy array is refused with a TypeError (not a DataFrame) before its size "
        "is read; an empty DataFrame is refused with a ValueError ('X is empty')"),
    "check_complex_data": (
        "complex values arrive as a numpy array, refused with a TypeError before its dtype "
        "is read; a complex feature column of a DataFrame is a ValueError naming the column"),
    "check_fit1d": ("a 1-D array is refused with a TypeError (X must be a DataFrame), not the "
                    "ValueError the check expects"),
    "check_fit2d_predict1d": ("fit on a numpy array is refused with a TypeError before "
                              "transform can be given a 1-D one"),
}


# MutualInfoLossWeights requires y; y=None is refused with scikit-learn's wording, but
# the check passes X as a numpy array, which is refused first.
_REQUIRES_Y = {"check_requires_y_none": _FRAME}


def _expected_failed_checks(estimator):
    failures = {**dict.fromkeys(_FRAME_CHECKS, _FRAME), **_SPECIFIC}
    if estimator.__sklearn_tags__().target_tags.required:
        failures.update(_REQUIRES_Y)
    return failures


@parametrize_with_checks([MonahTranscriber(), AuxiliaryTargets(), AuxiliaryTaskSelector(),
                          MutualInfoLossWeights()],
                         expected_failed_checks=_expected_failed_checks, xfail_strict=True)
def test_sklearn_common_checks(estimator, check):
    check(estimator)


# ------------------------------------------- the same properties on a talkturn frame
@pytest.fixture(scope="module")
def frame_and_labels():
    X, y = make_conversations(n_conversations=3, min_turns=4, max_turns=5, random_state=0)
    return AuxiliaryTargets(families="a").fit_transform(X, y), y


def _steps():
    return [MonahTranscriber(), AuxiliaryTargets(families="ap"),
            MutualInfoLossWeights(random_state=0)]


@pytest.mark.parametrize("step", _steps(), ids=lambda s: type(s).__name__)
def test_frame_transformers_behave_on_talkturn_frames(frame_and_labels, step):
    X, y = frame_and_labels
    before, params = X.copy(), clone(step).get_params()
    fitted = step.fit(X, y)
    assert fitted is step and step.get_params() == params        # returns self, params kept
    pd.testing.assert_frame_equal(X, before)                       # the caller's frame too
    out = step.transform(X)
    assert list(out.columns) == list(step.get_feature_names_out())
    # fitting twice, or a pickled copy, gives the same output
    pd.testing.assert_frame_equal(clone(step).fit(X, y).fit(X, y).transform(X), out)
    pd.testing.assert_frame_equal(pickle.loads(pickle.dumps(step)).transform(X), out)
    assert pickle.loads(pickle.dumps(out)).attrs == out.attrs


@pytest.mark.parametrize("step", _steps(), ids=lambda s: type(s).__name__)
def test_frame_transformers_refuse_arrays_and_sparse_input_by_type(frame_and_labels, step):
    from scipy import sparse

    X, y = frame_and_labels
    numbers = X.select_dtypes("number").to_numpy()
    with pytest.raises(TypeError, match="X must be a pandas DataFrame.*got ndarray"):
        clone(step).fit(numbers, y)
    with pytest.raises(TypeError, match="sparse input is not supported"):
        clone(step).fit(sparse.csr_matrix(numbers), y)
    with pytest.raises(TypeError, match="X must be a pandas DataFrame, got ndarray"):
        step.fit(X, y).transform(numbers)


def test_a_complex_feature_column_is_refused_not_truncated(frame_and_labels):
    # numpy drops the imaginary part when casting to float, with only a ComplexWarning
    X, y = frame_and_labels
    complex_X = X.assign(AU05_r=X["AU05_r"] + 1j)
    with pytest.raises(ValueError, match=r"X\['AU05_r'\] must hold real numbers, got complex"):
        AuxiliaryTargets(families="a").fit(complex_X, y)
    assert np.iscomplexobj(complex_X["AU05_r"])                      # untouched
