import numpy as np
import pandas as pd
from conftest import TINY
from sklearn.base import clone
from sklearn.model_selection import GroupKFold, RandomizedSearchCV
from sklearn.pipeline import Pipeline

from skhanrock import (
    AuxiliaryTargets,
    HanRockClassifier,
    HanRockRegressor,
    MonahTranscriber,
    MutualInfoLossWeights,
)


def paper_pipeline(estimator):
    return Pipeline([("monah", MonahTranscriber()),
                     ("aux", AuxiliaryTargets(families="aphf")),
                     ("weights", MutualInfoLossWeights(random_state=0)),
                     ("han", estimator)])


def test_fitted_weights_and_offsets_reach_the_estimator(conversations):
    X, y = conversations
    pipe = paper_pipeline(HanRockClassifier(**TINY)).fit(X, y)
    net = pipe.named_steps["han"]
    pd.testing.assert_series_equal(net.loss_weights_, pipe.named_steps["weights"].loss_weights_,
                                   check_names=False)
    assert net.text_column_ == "narrative" and net.label_offsets_ == (-4, -3, -2, -1, 1, 2, 3, 4)
    assert len(net.aux_columns_) == 8
    assert pipe.predict(X).shape == (len(X),)


def test_regression_pipeline_scales_targets_to_the_primary_range(regression_conversations):
    X, y = regression_conversations
    pipe = paper_pipeline(HanRockRegressor(**TINY)).fit(X, y)
    # Float labels are a regression target for every step; with target_range="auto"
    # the range is that of the training labels (a preset such as "iemocap" fixes it).
    assert pipe.named_steps["aux"].task_ == pipe.named_steps["weights"].task_ == "regression"
    assert pipe.named_steps["aux"].target_range_ == (y.min(), y.max())
    assert np.isfinite(pipe.predict(X)).all()


def test_every_step_is_searchable_and_clonable(conversations):
    X, y = conversations
    pipe = paper_pipeline(HanRockClassifier(**{**TINY, "max_epochs": 1}))
    search = RandomizedSearchCV(
        pipe, {"weights__assignment": ["random", "linear", "softmax"],
               "weights__primary_weight": [0.5, 0.9], "aux__families": ["ap", "aphf"],
               "monah__families": ["v", "vpa"], "han__architecture": ["rock", "flat"],
               "han__primary_units": [4, 6]},
        n_iter=2, cv=GroupKFold(2), random_state=0)
    search.fit(X, y, groups=X["conversation"])
    assert len(search.cv_results_["params"]) == 2
    assert clone(pipe).get_params()["weights__assignment"] == "softmax"
