import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone

from skhanrock import AuxiliaryTargets, MutualInfoLossWeights
from skhanrock._utils.frame import LABEL_OFFSETS_ATTR, LOSS_WEIGHTS_ATTR


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


def test_weighting_decides_the_target_type_by_the_same_rule(conversations):
    X, y = conversations
    codes = pd.Series(pd.factorize(y)[0], dtype=float).where(y.notna().to_numpy())
    with pytest.warns(UserWarning, match="whole numbers"):
        assert MutualInfoLossWeights(random_state=0).fit(X, codes).target_type_ == "regression"
    assert MutualInfoLossWeights(target_type="classification", random_state=0).fit(
        X, codes).target_type_ == "classification"
    assert MutualInfoLossWeights(random_state=0).fit(X, y).target_type_ == "classification"
    with pytest.raises(ValueError, match="target_type must be one of"):
        MutualInfoLossWeights(target_type="ordinal").fit(X, y)
    with pytest.raises(ValueError, match="y must be numeric"):
        MutualInfoLossWeights(target_type="regression").fit(X, y)


def test_weighting_needs_y_and_names_bad_attrs_and_parameters(conversations):
    X, y = conversations
    frame = AuxiliaryTargets(families="ah").fit_transform(X, y)
    with pytest.raises(ValueError, match="requires y to be passed, but the target y is None"):
        MutualInfoLossWeights().fit(frame, None)
    with pytest.raises(ValueError, match="n_neighbors must be an integer >= 1, got 'a'"):
        MutualInfoLossWeights(n_neighbors="a").fit(frame, y)
    broken = frame.copy()
    broken.attrs = {**frame.attrs, LABEL_OFFSETS_ATTR: ("a",)}
    with pytest.raises(TypeError, match=r"X\.attrs\['skhanrock\.label_offsets'\] must be"):
        MutualInfoLossWeights().fit(broken, y)
