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


def test_task_is_gone_and_names_target_type(conversations):
    # "task" also names a loss head; renamed before any release, so no alias remains.
    for make, X, y in _renamed_steps(conversations):
        with pytest.raises(TypeError, match="got task='classification': the parameter is now "
                                            "target_type; pass target_type='classification'"):
            make(task="classification")
        step = make(target_type="classification")
        assert "task" not in clone(step).get_params()
        with warnings.catch_warnings():
            warnings.simplefilter("error")       # the new name warns of nothing
            step.fit(X, y)
        assert step.target_type_ == "classification"
        with pytest.raises(AttributeError, match="no attribute 'task_': the fitted target "
                                                 "kind is target_type_"):
            step.task_  # noqa: B018
        assert not hasattr(step, "task_")
