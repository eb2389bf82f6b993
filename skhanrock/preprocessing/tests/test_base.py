import warnings

import pytest
from sklearn.base import clone

from skhanrock import AuxiliaryTargets, MutualInfoLossWeights


def _renamed_steps(conversations):
    """Each target-typed step, its constructor and a frame and labels to fit it on."""
    X, y = conversations
    return [(lambda **p: AuxiliaryTargets(families="a", **p), X, y),
            (lambda **p: MutualInfoLossWeights(random_state=0, **p),
             AuxiliaryTargets(families="a").fit_transform(X, y), y)]


def test_task_is_a_deprecated_alias_of_target_type(conversations):
    # "task" also names a loss head; the transformers' parameter says what it means.
    for make, X, y in _renamed_steps(conversations):
        step = make(task="classification")
        assert clone(step).get_params()["task"] == "classification"
        with pytest.warns(FutureWarning, match="'task' was renamed 'target_type'.*"
                                               "target_type='classification'"):
            step.fit(X, y)
        assert step.target_type_ == "classification"
        with pytest.warns(FutureWarning, match="task_ was renamed target_type_"):
            assert step.task_ == "classification"
        with pytest.raises(ValueError, match="both target_type='regression' and its "
                                             "deprecated alias task='classification'"):
            make(target_type="regression", task="classification").fit(X, y)
        with warnings.catch_warnings():
            warnings.simplefilter("error")       # the new name warns of nothing
            make(target_type="classification").fit(X, y)
