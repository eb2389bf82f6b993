"""scikit-learn's common estimator checks on the two networks.

The estimators read a *talkturn frame* (a DataFrame with conversation, turn
and text columns) and accept unlabelled rows (missing y) by design, so the
checks that feed a bare numeric array or expect NaN labels to be refused
cannot pass; each is listed below with its reason. Every other check runs.
"""

from sklearn.utils.estimator_checks import parametrize_with_checks

from skhanrock import HanRockClassifier, HanRockRegressor
from skhanrock._testing import TINY

_FRAME = ("X must be a talkturn DataFrame (conversation, turn and text columns); the check "
          "passes a numeric array, which is refused with a TypeError")


_NAN_LABELS = ("missing labels mark unlabelled talkturns, which stay as context of the "
               "labelled ones; y with NaN is accepted by design (inf is refused, but only "
               "once X is a talkturn frame)")


_FRAME_CHECKS = [
    "check_fit_score_takes_y", "check_estimators_overwrite_params",
    "check_dont_overwrite_parameters", "check_estimators_fit_returns_self",
    "check_readonly_memmap_input", "check_n_features_in_after_fitting",
    "check_estimators_dtypes", "check_complex_data", "check_dtype_object",
    "check_pipeline_consistency", "check_estimators_pickle", "check_f_contiguous_array_estimator",
    "check_estimators_partial_fit_n_features", "check_supervised_y_2d",
    "check_methods_sample_order_invariance", "check_methods_subset_invariance",
    "check_fit2d_1sample", "check_fit2d_1feature", "check_dict_unchanged",
    "check_fit_idempotent", "check_fit_check_is_fitted", "check_n_features_in", "check_fit1d",
    "check_fit2d_predict1d", "check_requires_y_none", "check_positive_only_tag_during_fit",
    "check_estimators_empty_data_messages", "check_estimators_nan_inf",
    "check_classifier_data_not_an_array", "check_classifiers_one_label",
    "check_classifiers_one_label_sample_weights", "check_classifiers_classes",
    "check_classifiers_train", "check_classifiers_regression_target",
    "check_class_weight_classifiers",
    "check_classifiers_multilabel_representation_invariance",
    "check_classifiers_multilabel_output_format_predict",
    "check_classifiers_multilabel_output_format_predict_proba",
    "check_regressor_data_not_an_array", "check_regressors_train",
    "check_regressors_no_decision_function", "check_regressors_int",
    "check_regressor_multioutput", "check_sample_weight_equivalence_on_dense_data",
    "check_sample_weights_list", "check_sample_weights_pandas_series",
    "check_sample_weights_shape", "check_sample_weights_not_an_array",
    "check_sample_weights_not_overwritten", "check_sample_weights_invariance",
]


def _expected_failed_checks(estimator):
    failures = dict.fromkeys(_FRAME_CHECKS, _FRAME)
    failures["check_supervised_y_no_nan"] = _NAN_LABELS
    failures["check_no_attributes_set_in_init"] = (
        "skorch's NeuralNet sets history_, initialized_ and virtual_params_ in __init__, "
        "by design of skorch")
    return failures


@parametrize_with_checks([HanRockClassifier(**TINY), HanRockRegressor(**TINY)],
                         expected_failed_checks=_expected_failed_checks)
def test_sklearn_common_checks(estimator, check):
    check(estimator)
