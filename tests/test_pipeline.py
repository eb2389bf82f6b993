import numpy as np
import pandas as pd
import pytest
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
from skhanrock._testing import TINY


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
    assert pipe.named_steps["aux"].target_type_ == pipe.named_steps["weights"].target_type_ == "regression"
    assert pipe.named_steps["aux"].target_range_ == (y.min(), y.max())
    assert np.isfinite(pipe.predict(X)).all()


def test_every_step_is_searchable_and_clonable(conversations):
    X, y = conversations
    pipe = paper_pipeline(HanRockClassifier(**{**TINY, "max_epochs": 1}))
    search = RandomizedSearchCV(
        pipe, {"weights__assignment": ["random", "linear", "softmax"],
               "weights__primary_weight": [0.5, 0.9], "aux__families": ["ap", "aphf"],
               "monah__cues": ["v", "vpa"], "han__architecture": ["rock", "flat"],
               "han__primary_units": [4, 6]},
        n_iter=2, cv=GroupKFold(2), random_state=0)
    search.fit(X, y, groups=X["conversation"])
    assert len(search.cv_results_["params"]) == 2
    assert clone(pipe).get_params()["weights__assignment"] == "softmax"


def _fitted_steps(X, y):
    """Each transformer with the frame it was fitted on."""
    with_targets = AuxiliaryTargets().fit_transform(X, y)
    return [(MonahTranscriber().fit(X), X), (AuxiliaryTargets(families="ap").fit(X, y), X),
            (MutualInfoLossWeights(random_state=0).fit(with_targets, y), with_targets)]


def test_pandas_output_keeps_every_column_under_its_own_name(conversations):
    X, y = conversations
    pipe = paper_pipeline(HanRockClassifier(**{**TINY, "max_epochs": 1}))
    pipe.set_output(transform="pandas").fit(X, y)
    steps = pipe[:-1]
    transformed = steps.transform(X)
    assert list(transformed.columns) == list(steps.get_feature_names_out())
    pd.testing.assert_frame_equal(transformed[X.columns], X)
    # refitted on its own output, a step overwrites its columns rather than naming them twice
    for step in (MonahTranscriber(), AuxiliaryTargets()):
        again = step.set_output(transform="pandas").fit(transformed, y)
        assert list(again.transform(transformed).columns) == list(transformed.columns)


@pytest.mark.parametrize(("change", "message"), [
    (lambda X: X[X.columns[::-1]], r"the same columns in another order"),
    (lambda X: X.assign(extra=1), r"not seen in fit \['extra'\]"),
    (lambda X: X.drop(columns="AU05_r"), r"missing \['AU05_r'\]"),
])
def test_transform_refuses_columns_other_than_those_of_fit(conversations, change, message):
    X, y = conversations
    for step, fitted_on in _fitted_steps(X, y):
        with pytest.raises(ValueError, match=f"{type(step).__name__}: the columns of X differ "
                                             f"from those seen in fit.*{message}"):
            step.transform(change(fitted_on))


@pytest.mark.parametrize("step", [MonahTranscriber(), AuxiliaryTargets(),
                                  MutualInfoLossWeights()], ids=type)
def test_unfitted_steps_raise_not_fitted_error(conversations, step):
    # Imported here: additions to this shared file go at its end.
    from sklearn.exceptions import NotFittedError

    X, _ = conversations
    # transform compares the columns of X with fit's, so every step needs fit first.
    with pytest.raises(NotFittedError):
        step.transform(X)
    with pytest.raises(NotFittedError):
        step.get_feature_names_out()


def test_output_attrs_do_not_share_the_callers_mutable_values(conversations):
    X, y = conversations
    for step, fitted_on in _fitted_steps(X, y):
        frame = fitted_on.copy()
        frame.attrs = {**fitted_on.attrs, "notes": {"kept": [1, 2]}}
        output = step.transform(frame)
        output.attrs["notes"]["kept"].append(3)
        assert frame.attrs["notes"] == {"kept": [1, 2]}, type(step).__name__


def test_loss_weights_do_not_depend_on_the_row_order(conversations):
    X, y = conversations
    with_targets = AuxiliaryTargets().fit_transform(X, y)
    shuffled = np.random.default_rng(0).permutation(len(X))
    given = MutualInfoLossWeights(random_state=0).fit(with_targets, y)
    reordered = MutualInfoLossWeights(random_state=0).fit(with_targets.iloc[shuffled],
                                                          y.iloc[shuffled])
    pd.testing.assert_series_equal(given.mutual_info_, reordered.mutual_info_)


def test_paper_pipeline_refuses_a_step_that_loses_the_fitted_weights(conversations):
    from sklearn.preprocessing import FunctionTransformer

    from skhanrock import make_paper_pipeline

    X, y = conversations
    pipe = make_paper_pipeline("ap", primary_units=6, aux_units=2, context_size=3,
                               max_epochs=1, embedding_dim=8, random_state=0)
    rebuild = FunctionTransformer(lambda frame: pd.DataFrame(frame.to_dict("list")))
    pipe.steps.insert(3, ("rebuild", rebuild))
    with pytest.raises(ValueError, match="='pipeline' takes the value .* but X has none"):
        pipe.fit(X, y)
    keeps = FunctionTransformer(lambda frame: frame.assign(extra=1))  # pandas keeps attrs
    pipe.steps[3] = ("keeps", keeps)
    pipe.fit(X, y)
    fitted = pipe.named_steps["weights"].loss_weights_
    np.testing.assert_allclose(pipe.named_steps["han"].loss_weights_[fitted.index], fitted)


def test_paper_pipeline_takes_the_column_roles_once(conversations):
    from skhanrock import make_paper_pipeline

    X, y = conversations
    roles = {"conversation": "dialogue", "turn": "utterance", "speaker": "who", "text": "words"}
    settings = {**TINY, "max_epochs": 1}
    expected = make_paper_pipeline("aphf", **settings).fit(X, y).predict_proba(X)
    # Renamed once, for the transcriber, the auxiliary targets, the weights and the network.
    renamed = make_paper_pipeline("aphf", **settings,
                                  **{f"{role}_column": name for role, name in roles.items()})
    X_renamed = X.rename(columns=roles)
    np.testing.assert_allclose(renamed.fit(X_renamed, y).predict_proba(X_renamed), expected,
                               rtol=1e-5, atol=1e-6)
    # The timing family counts the words of the renamed text column too.
    timing = make_paper_pipeline("t", **settings, conversation_column="dialogue",
                                 turn_column="utterance", speaker_column="who", text_column="words")
    with pytest.warns(UserWarning, match="overlap"):  # these generated talkturns never overlap
        assert "aux:speech_rate" in timing[:-1].fit_transform(X_renamed, y).columns
