"""Issue 27, item 2: one way in per module parameter."""

import pytest

from skhanrock import HanRockClassifier
from skhanrock._testing import TINY


@pytest.mark.parametrize(("name", "value"), [("primary_units", 3), ("gru_dropout", 0.5),
                                             ("architecture", "flat")])
def test_module_argument_duplicating_an_estimator_parameter_is_refused(conversations, name,
                                                                        value):
    # Before the fix module__primary_units=3 silently replaced the checked primary_units.
    X, y = conversations
    net = HanRockClassifier(**TINY).set_params(**{f"module__{name}": value})
    with pytest.raises(ValueError, match=rf"module__{name}=.* duplicates the estimator "
                                         rf"parameter {name}; set {name}="):
        net.fit(X, y)


def test_module_argument_sized_from_the_data_is_refused(conversations):
    X, y = conversations
    net = HanRockClassifier(**TINY, module__vocabulary_size=5)
    with pytest.raises(ValueError, match="module__vocabulary_size cannot be set: the estimator "
                                         "sizes it from the training data"):
        net.fit(X, y)

