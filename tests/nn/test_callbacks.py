"""The estimators' default callbacks: the divergence guard comes first and stays."""

import pytest
from skorch.callbacks import EpochScoring
from skorch.utils import to_numpy

from skhanrock import HanRockClassifier, HanRockRegressor
from skhanrock.nn._callbacks import DivergenceGuard, TalkturnScoring


@pytest.mark.parametrize("estimator", [HanRockClassifier, HanRockRegressor])
def test_the_divergence_guard_runs_before_every_other_callback(estimator):
    scoring = EpochScoring("accuracy", name="valid_acc")
    net = estimator(callbacks=[("valid_acc", scoring)]).initialize()
    callbacks = dict(net.callbacks_)
    # skorch keeps print_log last; the guard is first, so no callback sees a NaN loss.
    assert list(callbacks) == ["divergence_guard", "weight_averaging", "epoch_timer",
                               "train_loss", "valid_loss", "valid_acc", "print_log"]
    assert isinstance(callbacks["divergence_guard"], DivergenceGuard)
    # The plain EpochScoring is replaced by the talkturn one; the caller's is left as it was.
    assert isinstance(callbacks["valid_acc"], TalkturnScoring)
    assert type(scoring) is EpochScoring and scoring.target_extractor is to_numpy


@pytest.mark.parametrize("estimator", [HanRockClassifier, HanRockRegressor])
def test_removing_the_divergence_guard_is_refused(estimator):
    # Without it a fit would go on past a NaN loss and the model would predict from NaN.
    net = estimator().set_params(callbacks__divergence_guard=None)
    with pytest.raises(ValueError, match="callbacks__divergence_guard cannot be removed"):
        net.initialize()
