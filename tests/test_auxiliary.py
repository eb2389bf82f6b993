import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone

from skhanrock import AuxiliaryTargets, MutualInfoLossWeights
from skhanrock._frame import LABEL_OFFSETS_ATTR, LOSS_WEIGHTS_ATTR


def test_percentiles_are_fitted_on_training_rows_only(conversations):
    X, y = conversations
    train, test = X.iloc[:30], X.iloc[30:].copy()
    test["AU05_r"] = 100.0  # far above every training value
    aux = AuxiliaryTargets(families="a").fit(train, y.iloc[:30])
    out = aux.transform(test)
    assert np.allclose(out["aux:AU05"], 1.0)
    train_ranks = aux.transform(train)["aux:AU05"]
    assert train_ranks.min() == 0.0 and train_ranks.max() == 1.0
    # percentiles preserve the order of the training values
    by_feature = train_ranks.to_numpy()[np.argsort(train["AU05_r"].to_numpy())]
    assert np.all(np.diff(by_feature) >= 0)


def test_target_range_follows_the_primary_target(conversations, regression_conversations):
    X, y = regression_conversations
    out = AuxiliaryTargets(families="p").fit_transform(X, y)
    values = out.filter(like="aux:").to_numpy()
    assert np.isclose(np.nanmin(values), y.min()) and np.isclose(np.nanmax(values), y.max())
    X, y = conversations
    explicit = AuxiliaryTargets(families="p", target_range=(-1, 1)).fit_transform(X, y)
    assert explicit.filter(like="aux:").min().min() == -1.0
    classification = AuxiliaryTargets(families="p").fit_transform(X, y)
    assert classification.filter(like="aux:").max().max() == 1.0


def test_user_columns_history_future_and_missing_values(conversations):
    X, y = conversations
    X = X.assign(AU05_r=X["AU05_r"].where(X["turn"] != 1))
    out = AuxiliaryTargets(families="ah", columns={"pause": "start"}, history=2).fit_transform(X, y)
    assert "aux:pause" in out.columns
    assert out.attrs[LABEL_OFFSETS_ATTR] == (-2, -1)
    assert out["aux:AU05"].isna().sum() == (X["turn"] == 1).sum()
    assert AuxiliaryTargets(families="").fit_transform(X, y).attrs[LABEL_OFFSETS_ATTR] == ()


def test_constant_feature_is_flagged_not_silently_nan(conversations):
    X, y = conversations
    X = X.assign(AU20_r=1.0)
    with pytest.warns(UserWarning, match="AU20_r"):
        aux = AuxiliaryTargets(families="a").fit(X, y)
    assert aux.constant_features_ == ["AU20_r"]
    assert "aux:AU20" not in aux.transform(X).columns


def test_auxiliary_errors_and_input_untouched(conversations):
    X, y = conversations
    before = X.copy()
    AuxiliaryTargets(families="aphf").fit_transform(X, y)
    pd.testing.assert_frame_equal(X, before)
    with pytest.raises(ValueError, match="families"):
        AuxiliaryTargets(families="az").fit(X, y)
    with pytest.raises(ValueError, match="AU05_r"):
        AuxiliaryTargets(families="a").fit(X.drop(columns="AU05_r"), y)
    with pytest.raises(ValueError, match="numeric"):
        AuxiliaryTargets(families="a").fit(X.assign(AU05_r="high"), y)


@pytest.mark.parametrize("assignment", ["random", "linear", "softmax"])
def test_loss_weights_sum_to_one_and_reach_the_frame(conversations, assignment):
    X, y = conversations
    frame = AuxiliaryTargets(families="aphf").fit_transform(X, y)
    weighting = MutualInfoLossWeights(assignment=assignment, primary_weight=0.7, random_state=0)
    out = weighting.fit_transform(frame, y)
    weights = weighting.loss_weights_
    assert weights.index[0] == "y" and np.isclose(weights["y"], 0.7)
    assert np.isclose(weights.sum(), 1.0) and (weights >= 0).all()
    assert list(weights.index[1:]) == list(weighting.mutual_info_.index)
    assert "y-1" in weights.index and "aux:AU05" in weights.index
    assert out.attrs[LOSS_WEIGHTS_ATTR] == weights.to_dict()
    if assignment == "linear":
        shares = weights.drop("y") / weights.drop("y").sum()
        np.testing.assert_allclose(shares, weighting.mutual_info_ / weighting.mutual_info_.sum())


def test_mutual_information_ranks_an_informative_target_first(conversations):
    X, y = conversations
    codes = pd.factorize(y)[0].astype(float)
    rng = np.random.default_rng(0)
    frame = X.assign(**{"aux:label_echo": np.where(codes >= 0, codes, np.nan),
                        "aux:noise": rng.random(len(X))})
    information = MutualInfoLossWeights(random_state=0).fit(frame, y).mutual_info_
    assert information["aux:label_echo"] > information["aux:noise"]


def test_weighting_is_searchable_and_clonable(conversations):
    X, y = conversations
    weighting = MutualInfoLossWeights(assignment="linear").set_params(assignment="softmax")
    assert clone(weighting).get_params()["assignment"] == "softmax"
    with pytest.raises(ValueError, match="assignment"):
        MutualInfoLossWeights(assignment="uniform").fit(X, y)
    with pytest.raises(ValueError, match="primary_weight"):
        MutualInfoLossWeights(primary_weight=1.5).fit(X, y)
    with pytest.raises(ValueError, match="no labelled row"):
        MutualInfoLossWeights().fit(X, [None] * len(X))


def test_weighting_leaves_the_callers_frame_and_attrs_alone(conversations):
    X, y = conversations
    frame = AuxiliaryTargets(families="ah").fit_transform(X, y)
    attrs_before, frame_before = dict(frame.attrs), frame.copy()
    out = MutualInfoLossWeights(random_state=0).fit_transform(frame, y)
    assert frame.attrs == attrs_before and LOSS_WEIGHTS_ATTR not in frame.attrs
    pd.testing.assert_frame_equal(frame, frame_before)
    assert LOSS_WEIGHTS_ATTR in out.attrs and out.attrs[LABEL_OFFSETS_ATTR] == (-4, -3, -2, -1)
