import re
import warnings

import numpy as np
import pandas as pd
import pytest

from skhanrock import AuxiliaryTargets
from skhanrock._utils.frame import LABEL_OFFSETS_ATTR
from skhanrock.preprocessing import is_classification_target

from ._shared import ROUNDED_VALENCE


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


@pytest.mark.parametrize("labels, params, task, target_range", [
    (["sad", None, "happy", "sad", "angry", None, "sad", "happy"], {}, "classification",
     (0.0, 1.0)),
    ([0, 1, None, 2, 1, 0, None, 2], {}, "classification", (0.0, 1.0)),     # ints, gaps
    (pd.Series([0, 1, None, 2, 1, 0, None, 2], dtype="Int64"), {}, "classification",
     (0.0, 1.0)),
    ([True, False, True, None, True, False, False, True], {}, "classification", (0.0, 1.0)),
    ([1.5, 2.25, np.nan, 3.0, 4.5, 1.75, 2.0, 3.5], {}, "regression", (1.5, 4.5)),
    (ROUNDED_VALENCE, {"target_type": "regression"}, "regression", (1.0, 5.0)),
    (ROUNDED_VALENCE, {"target_type": "regression", "target_range": "auto"}, "regression", (1.0, 5.0)),
    ([2.0, 3.0, np.nan, 3.0, 4.0, 3.0, 2.0, 4.0], {"target_range": "iemocap"}, "regression",
     (1.0, 5.0)),
    ([0.1, -0.3, np.nan, 0.2, 0.4, 0.0, -0.1, 0.3], {"target_range": "semaine"}, "regression",
     (-1.0, 1.0)),
    ([0.0, 1.0, np.nan, 2.0, 1.0, 0.0, 2.0, 1.0], {"target_type": "classification"},
     "classification", (0.0, 1.0)),                                  # float class codes
    (["sad"] * 8, {"target_range": (10, 20)}, "classification", (10.0, 20.0)),
    (None, {}, None, (0.0, 1.0)),
    (None, {"target_type": "regression", "target_range": "iemocap"}, "regression", (1.0, 5.0)),
])
def test_target_type_and_target_range_rule(labels, params, task, target_range):
    X = pd.DataFrame({"f": [0.1, 0.5, 0.3, 0.9, 0.7, 0.2, 0.4, 0.8]})
    with warnings.catch_warnings():
        warnings.simplefilter("error")            # none of these is a guess worth a warning
        aux = AuxiliaryTargets(families="", columns=["f"], **params).fit(X, labels)
    assert (aux.target_type_, aux.target_range_) == (task, target_range)
    targets = aux.transform(X)["aux:f"]
    assert targets.min() == target_range[0] and targets.max() == target_range[1]


def test_whole_number_floats_are_regression_with_a_warning():
    X = pd.DataFrame({"f": np.linspace(0.0, 1.0, 8)})
    with pytest.warns(UserWarning, match="whole numbers.*target_type='classification'"):
        aux = AuxiliaryTargets(families="", columns=["f"]).fit(X, ROUNDED_VALENCE)
    assert aux.target_type_ == "regression" and aux.target_range_ == (1.0, 5.0)
    assert is_classification_target(pd.Series(ROUNDED_VALENCE)) is False
    assert is_classification_target(pd.Categorical([1.0, 2.0, 1.0])) is True


@pytest.mark.parametrize("params, labels, message", [
    ({"target_type": "ordinal"}, ROUNDED_VALENCE, "target_type must be one of"),
    ({"target_type": "ordinal"}, None, "target_type must be one of"),
    ({"target_range": "meld"}, ROUNDED_VALENCE, "target_range must be 'auto', one of"),
    ({"target_range": (1, 1)}, ROUNDED_VALENCE, r"target_range must be \(low, high\)"),
    ({"target_range": (0, np.inf)}, ROUNDED_VALENCE, r"target_range must be \(low, high\)"),
    ({"target_range": "15"}, ROUNDED_VALENCE, "target_range must be 'auto', one of"),
    ({"target_type": "regression"}, ["sad"] * 8, "y must be numeric.*position 0 is 'sad'"),
    ({"target_type": "regression"}, None, "y=None.*target_range"),
    ({"target_type": "regression"}, [2.0] * 8, "two different values.*target_range"),
    ({}, [1.5, 2.5], "y has 2 values but X has 8 rows"),
])
def test_target_type_and_range_errors_name_the_parameter(params, labels, message):
    X = pd.DataFrame({"f": np.linspace(0.0, 1.0, 8)})
    with pytest.raises(ValueError, match=message):
        AuxiliaryTargets(families="", columns=["f"], **params).fit(X, labels)


def test_percentiles_are_exact_and_reproducible_beyond_ten_thousand_rows():
    # scikit-learn's default subsamples 10,000 rows at random: two fits would differ.
    rng = np.random.default_rng(0)
    X = pd.DataFrame({"f": rng.lognormal(size=12_000)})
    fits = [AuxiliaryTargets(families="", columns=["f"]).fit(X) for _ in range(2)]
    assert fits[0].quantiles_.subsample is None
    np.testing.assert_array_equal(fits[0].quantiles_.quantiles_, fits[1].quantiles_.quantiles_)
    np.testing.assert_allclose(fits[0].quantiles_.quantiles_[[0, -1], 0],
                               [X["f"].min(), X["f"].max()])


def test_user_columns_history_future_and_missing_values(conversations):
    X, y = conversations
    X = X.assign(AU05_r=X["AU05_r"].where(X["turn"] != 1))
    out = AuxiliaryTargets(families="ah", columns={"pause": "start"},
                           label_offsets=(-2, -1)).fit_transform(X, y)
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


@pytest.mark.parametrize("params, message", [
    ({"families": "h", "label_offsets": (-10 ** 5,)},
     r"label_offsets reach at most 64 talkturns away, got \[-100000\]"),
    ({"families": "f", "label_offsets": (1, 65)}, r"at most 64 talkturns away, got \[65\]"),
    ({"families": "h", "label_offsets": (-2.5,)}, r"label_offsets must hold non-zero integers"),
    ({"families": "h", "label_offsets": (-1, 0)}, r"label_offsets must hold non-zero integers"),
    ({"families": "h", "label_offsets": (-1, -1)}, r"label_offsets has repeated offsets"),
    ({"families": "h", "label_offsets": "a"}, r"label_offsets must be 'auto' or a collection"),
    ({"families": "hf", "label_offsets": (-1,)},
     r"family 'f' \(future labels\) is requested but label_offsets=\(-1,\) has no positive"),
    ({"families": "h", "label_offsets": (-1, 2)},
     r"label_offsets=\(-1, 2\) has the future offsets \[2\], but families='h' does not "
     r"request 'f'"),
    ({"columns": "AU05_r"}, r"columns must be None, a list .*columns=\['AU05_r'\]"),
    ({"columns": 5}, "columns must be None, a list"),
    ({"n_quantiles": 0}, "n_quantiles must be an integer >= 2, got 0"),
    ({"n_quantiles": -5}, "n_quantiles must be an integer >= 2, got -5"),
    ({"n_quantiles": 1}, "n_quantiles must be an integer >= 2, got 1"),
    ({"n_quantiles": 2.5}, "n_quantiles must be an integer >= 2, got 2.5"),
])
def test_auxiliary_parameters_are_refused_by_name(conversations, params, message):
    X, y = conversations
    with pytest.raises(ValueError, match=message):
        AuxiliaryTargets(**params).fit(X, y)


def test_auxiliary_parameter_bounds_are_inclusive(conversations):
    X, y = conversations
    aux = AuxiliaryTargets(families="hf", label_offsets=[1, *range(-64, 0)],
                           n_quantiles=2).fit(X, y)
    assert aux.label_offsets_ == (*range(-64, 0), 1)
    assert AuxiliaryTargets(families="fh", label_offsets=np.array([-1, 3])).fit(
        X, y).label_offsets_ == (-1, 3)
    # "auto" is the paper's four on each requested side, nothing without h or f.
    assert AuxiliaryTargets(families="hf").fit(X, y).label_offsets_ == (-4, -3, -2, -1, 1, 2, 3, 4)
    assert AuxiliaryTargets(families="f").fit(X, y).label_offsets_ == (1, 2, 3, 4)
    assert AuxiliaryTargets(families="a").fit(X, y).label_offsets_ == ()
    assert AuxiliaryTargets(families="", columns=("AU05_r",)).fit(X, y).target_columns_ == \
        {"aux:AU05_r": "AU05_r"}


def test_label_offsets_that_are_not_integers_are_refused_by_name(conversations):
    X, y = conversations
    with pytest.raises(TypeError, match="label_offsets must be a collection of non-zero "
                                        "integers, got None"):
        AuxiliaryTargets(families="h", label_offsets=None).fit(X, y)


@pytest.mark.parametrize("params, replacement", [
    ({"families": "hf", "history": 2}, "label_offsets=(-2, -1, 1, 2, 3, 4)"),
    ({"families": "ahf", "history": 1, "future": 2}, "label_offsets=(-1, 1, 2)"),
    ({"families": "ah", "future": 3}, "label_offsets=(-4, -3, -2, -1)"),
    ({"future": 1}, "label_offsets=(-4, -3, -2, -1, 1)"),
])
def test_history_and_future_counts_name_their_replacement(params, replacement):
    # The counts became the estimator's vocabulary, the offsets themselves.
    old = min(params.keys() & {"history", "future"})  # the first named, alphabetically
    with pytest.raises(TypeError, match=rf"AuxiliaryTargets got {old}=\d: the parameter is now "
                                        rf"label_offsets; pass {re.escape(replacement)}\."):
        AuxiliaryTargets(**params)


def test_auxiliary_refuses_an_empty_frame(conversations):
    X, y = conversations
    with pytest.raises(ValueError, match="X is empty"):
        AuxiliaryTargets().fit(X.iloc[:0])


# Two conversations, rows out of turn order: conversation "b" starts right after "a"
# ends in the frame, and its times are later, so a pause across the boundary would be
# a plausible 5.7 s instead of missing.
TIMED = pd.DataFrame({
    "conversation": ["a", "a", "b", "a", "b"],
    "turn": [2, 0, 0, 1, 1],
    "text": ["well well", "hi there", "one two three four", "oh", ""],
    "start": [2.8, 0.0, 10.0, 2.5, 11.0],
    "end": [4.3, 2.0, 12.0, 3.0, 13.0],
}, index=[40, 10, 50, 20, 60])
# Per row of TIMED: duration, words per second, pause, overlap.
TIMED_VALUES = {"duration": [1.5, 2.0, 2.0, 0.5, 2.0],
                "speech_rate": [2 / 1.5, 1.0, 2.0, 2.0, np.nan],     # "" has no words
                "pause": [-0.2, np.nan, np.nan, 0.5, -1.0],
                "overlap": [0.2, np.nan, np.nan, 0.0, 1.0]}


def test_timing_values_follow_turn_order_within_each_conversation():
    aux = AuxiliaryTargets(families="t")
    for name, expected in TIMED_VALUES.items():
        np.testing.assert_allclose(aux._timing(TIMED)[name], expected, err_msg=name)
    out = aux.fit_transform(TIMED)
    assert aux.timing_targets_ == ["aux:duration", "aux:speech_rate", "aux:pause",
                                   "aux:overlap"]
    assert list(out.index) == list(TIMED.index)
    # The first talkturn of each conversation has no pause and no overlap.
    first = TIMED["turn"].to_numpy() == 0
    assert out.loc[first, ["aux:pause", "aux:overlap"]].isna().all().all()
    assert out.loc[~first, ["aux:pause", "aux:overlap"]].notna().all().all()
    # Percentile ranks keep the order of the values: the longest overlap ranks highest.
    assert out["aux:overlap"].idxmax() == 60 and out["aux:pause"].idxmax() == 20


def test_timing_percentiles_are_fitted_on_training_rows_only():
    train = TIMED
    test = pd.DataFrame({"conversation": ["c", "c"], "turn": [0, 1], "text": ["a b", "c"],
                         "start": [0.0, 100.0], "end": [1.0, 101.0]})
    aux = AuxiliaryTargets(families="t").fit(train)
    out = aux.transform(test)
    assert out.loc[1, "aux:pause"] == 1.0          # 99 s: beyond every training pause
    assert np.isnan(out.loc[0, "aux:pause"])       # a new conversation's first talkturn
    train_ranks = aux.transform(train)["aux:pause"]
    assert train_ranks.min() == 0.0 and train_ranks.max() == 1.0
    # Refitting on other rows moves the ranks: they come from the rows of fit.
    refit = AuxiliaryTargets(families="t").fit(pd.concat([train, test], ignore_index=True))
    assert refit.transform(test).loc[1, "aux:pause"] == 1.0
    assert not np.allclose(refit.transform(train)["aux:pause"], train_ranks, equal_nan=True)


def test_missing_times_give_missing_timing_targets():
    X = TIMED.assign(end=TIMED["end"].where(TIMED.index != 20))   # a's turn 1 has no end
    out = AuxiliaryTargets(families="t").fit_transform(X)
    assert out.loc[20, ["aux:duration", "aux:speech_rate"]].isna().all()
    assert not np.isnan(out.loc[20, "aux:pause"])  # its start and the previous end are known
    assert out.loc[40, ["aux:pause", "aux:overlap"]].isna().all()   # previous end unknown
    assert out.loc[40, ["aux:duration", "aux:speech_rate"]].notna().all()


def test_timing_targets_scale_to_the_primary_range_and_need_times():
    valence = pd.Series([1.0, 2.5, 3.0, 4.0, 5.0], index=TIMED.index)
    out = AuxiliaryTargets(families="t", target_type="regression").fit_transform(TIMED, valence)
    assert out["aux:duration"].min() == 1.0 and out["aux:duration"].max() == 5.0
    renamed = TIMED.rename(columns={"start": "begin", "end": "stop"})
    aux = AuxiliaryTargets(families="t", start_column="begin", end_column="stop")
    pd.testing.assert_frame_equal(
        aux.fit_transform(renamed).filter(like="aux:"),
        AuxiliaryTargets(families="t").fit_transform(TIMED).filter(like="aux:"))
    with pytest.raises(ValueError, match=r"missing the column\(s\) \['start', 'end'\]"):
        AuxiliaryTargets(families="t").fit(TIMED.drop(columns=["start", "end"]))
    with pytest.raises(ValueError, match="row 20 ends .* 'end' must be >= 'start'"):
        AuxiliaryTargets(families="t").fit(TIMED.assign(end=TIMED["end"].where(
            TIMED.index != 20, 1.0)))
    with pytest.raises(ValueError, match="columns names the target.*'pause'.*timing"):
        AuxiliaryTargets(families="t", columns=["pause"]).fit(TIMED.assign(pause=1.0))
    # Without the timing family, a column called "pause" is an ordinary feature.
    plain = AuxiliaryTargets(families="", columns=["pause"]).fit(
        TIMED.assign(pause=np.arange(5.0)))
    assert plain.timing_targets_ == [] and plain.target_columns_ == {"aux:pause": "pause"}


def test_open_prosody_family_reuses_the_extracted_columns(conversations):
    from skhanrock.preprocessing import OPEN_PROSODY_TARGETS
    X, y = conversations
    rng = np.random.default_rng(0)
    X = X.assign(**{column: rng.normal(size=len(X)) for column in OPEN_PROSODY_TARGETS.values()})
    X.loc[X.index[:3], "hnr_db"] = np.nan
    out = AuxiliaryTargets(families="o").fit_transform(X, y)
    names = [f"aux:{name}" for name in OPEN_PROSODY_TARGETS]
    assert [c for c in out.columns if c.startswith("aux:")] == names
    values = out[names].to_numpy()
    assert np.nanmin(values) >= 0 and np.nanmax(values) <= 1
    assert out["aux:harmonicity"].isna().sum() == 3
    # Percentile ranks keep the order of the feature.
    assert out["aux:loudness"].rank().equals(X["intensity_db"].rank())
    with pytest.raises(ValueError, match=r"needs the feature column\(s\)"):
        AuxiliaryTargets(families="o").fit(X.drop(columns="pitch_slope"), y)
