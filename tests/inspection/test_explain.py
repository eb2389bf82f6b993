import numpy as np
import pandas as pd
import pytest
from sklearn.dummy import DummyClassifier
from sklearn.exceptions import NotFittedError
from sklearn.pipeline import Pipeline

from skhanrock import AuxiliaryTargets, HanRockClassifier, MonahTranscriber
from skhanrock._testing import TINY
from skhanrock.inspection import BUCKETS, attention_buckets, explain
from skhanrock.inspection._explain import _standardise
from skhanrock.nn._text import tokenize


@pytest.fixture(scope="module")
def models(conversations):
    X, y = conversations
    X = X.assign(**{"aux:AU05": X["AU05_r"]})
    return X, {arch: HanRockClassifier(architecture=arch, label_offsets=(-1,), **TINY).fit(X, y)
               for arch in ("rock", "flat")}


def _task_attention(table, row):
    task = table[(table.level == "task") & (table.row == row)]
    return task.set_index("token")["attention"]


def test_rock_explanation_has_every_level_and_consistent_weights(models):
    X, fitted = models
    table = explain(fitted["rock"], X, rows=[0, 6])
    assert set(table["row"]) == {X.index[0], X.index[6]}
    assert list(_task_attention(table, X.index[6]).index) == ["y", "aux:AU05", "y-1"]
    for _, group in table.groupby(["row", "level", "task", "talkturn"], dropna=False):
        if group["level"].iloc[0] != "word":
            continue
        assert np.isclose(group["attention"].sum(), 1.0, atol=1e-5)
    talkturns = table[(table.level == "talkturn") & (table.task == "overall")]
    for _, group in talkturns.groupby("row"):
        assert np.isclose(group["attention"].sum(), 1.0, atol=1e-5)
        assert group["context"].max() == 0


@pytest.mark.parametrize("row_position", [2, 6])
def test_overall_attention_is_the_task_attention_weighted_average(models, row_position):
    X, fitted = models
    row = X.index[row_position]
    table = explain(fitted["rock"], X, rows=[row_position])
    alpha = _task_attention(table, row)
    assert np.isclose(alpha.sum(), 1.0, atol=1e-6)

    per_task = table[table.level == "talkturn"].pivot(index="context", columns="task",
                                                      values="attention")
    expected = sum(alpha[name] * per_task[name] for name in alpha.index)
    np.testing.assert_allclose(per_task["overall"], expected, atol=1e-6)

    # Words: the primary branch weighs alpha["y"], the auxiliary branch, shared by
    # every auxiliary task, the summed attention of those tasks.
    words = table[table.level == "word"].pivot(index=["talkturn", "position"], columns="task",
                                               values="attention")
    expected = alpha["y"] * words["y"] + alpha.drop("y").sum() * words["aux"]
    np.testing.assert_allclose(words["overall"], expected, atol=1e-6)


def test_z_scores_standardise_each_documented_group(models):
    X, fitted = models
    table = explain(fitted["rock"], X, rows=[4, 5])
    groups = {"word": ["row", "task", "talkturn"], "talkturn": ["row", "task"], "task": ["row"]}
    for level, keys in groups.items():
        for _, group in table[table.level == level].groupby(keys):
            attention = group["attention"].to_numpy()
            spread = attention.std()
            expected = (attention - attention.mean()) / spread if spread else 0.0
            np.testing.assert_allclose(group["z"], expected, atol=1e-6)
    assert (table["bucket"] == attention_buckets(table["z"])).all()


def test_buckets_follow_their_documented_bounds_and_nan_has_none():
    z = [-0.1, 0.0, 0.99, 1.0, 1.99, 2.0, 5.0, np.nan]
    expected = ["None", "Low", "Low", "Medium", "Medium", "High", "High", None]
    assert list(attention_buckets(z)) == expected
    assert BUCKETS == ("None", "Low", "Medium", "High")
    # a weight that is not a number is left out of its group's standardisation
    np.testing.assert_allclose(_standardise([0.2, np.nan, 0.8]), [-1.0, np.nan, 1.0])
    np.testing.assert_allclose(_standardise([0.5, 0.5]), [0.0, 0.0])


def test_context_never_crosses_the_conversation(models):
    X, fitted = models
    table = explain(fitted["flat"], X, rows=np.arange(len(X)))
    conversation_of = X["conversation"]
    talkturn_rows = table[table.level == "talkturn"]
    assert (conversation_of.loc[talkturn_rows["row"]].to_numpy()
            == conversation_of.loc[talkturn_rows["talkturn"]].to_numpy()).all()
    assert set(table["level"]) == {"word", "talkturn"}


def test_words_are_the_talkturn_tokens_and_predictions_those_of_predict(models):
    X, fitted = models
    rows = [3, 7]
    table = explain(fitted["rock"], X, rows=rows)
    words = table[(table.level == "word") & (table.task == "overall") & (table.context == 0)
                  & (table.row == X.index[3])]
    assert " ".join(words["token"]) in X["text"].iloc[3].lower().replace(".", " .")
    predicted = table.drop_duplicates("row").set_index("row")["prediction"]
    assert predicted.to_dict() == dict(zip(X.index[rows], fitted["rock"].predict(X)[rows],
                                           strict=True))


def test_a_pipeline_is_explained_on_what_its_network_reads(conversations):
    X, y = conversations
    pipe = Pipeline([("monah", MonahTranscriber()), ("aux", AuxiliaryTargets(families="a")),
                     ("han", HanRockClassifier(**TINY))]).fit(X, y)
    before = X.copy()
    table = explain(pipe, X, rows=[5])
    pd.testing.assert_frame_equal(X, before)
    narrative = pipe[:-1].transform(X)[pipe[-1].text_column_].iloc[5]
    current = table[(table.level == "word") & (table.task == "overall") & (table.context == 0)]
    assert list(current["token"]) == tokenize(narrative)
    assert len(current) > len(tokenize(X["text"].iloc[5]))  # the narrative, not the bare text
    assert table["prediction"].iloc[0] == pipe.predict(X)[5]
    assert set(_task_attention(table, X.index[5]).index) >= {"y", "aux:AU05"}


def test_rows_as_a_boolean_mask_match_their_positions(models):
    X, fitted = models
    mask = np.zeros(len(X), dtype=bool)
    mask[[1, 4]] = True
    by_position = explain(fitted["rock"], X, rows=[4, 1, 4])  # order and repeats do not matter
    pd.testing.assert_frame_equal(explain(fitted["rock"], X, rows=mask), by_position)
    pd.testing.assert_frame_equal(explain(fitted["rock"], X, rows=pd.Series(mask, index=X.index)),
                                  by_position)


@pytest.mark.parametrize(("rows", "error", "message"), [
    ([10_000], ValueError, "positions between 0 and"),
    ([-1], ValueError, "positions between 0 and"),
    ([0.5, 1.0], TypeError, "rows must be row positions .* got values of dtype float64"),
    (["a"], TypeError, "rows must be row positions"),
    ([True, False], ValueError, "one value per row of X"),
])
def test_bad_rows_are_reported(models, rows, error, message):
    X, fitted = models
    with pytest.raises(error, match=message):
        explain(fitted["rock"], X, rows=rows)


def test_duplicate_index_labels_are_refused_by_name(models):
    X, fitted = models
    duplicated = X.set_axis([*range(len(X) - 2), 3, 5])
    with pytest.raises(ValueError, match=r"duplicate index values \[3, 5\]"):
        explain(fitted["rock"], duplicated, rows=[0])


@pytest.mark.parametrize("make_x", [lambda X: X.to_numpy().tolist(), lambda X: X.to_numpy(),
                                    lambda X: None], ids=["list", "ndarray", "None"])
def test_x_that_is_not_a_frame_is_refused_by_name(models, make_x):
    X, fitted = models
    with pytest.raises(TypeError, match="X must be a talkturn DataFrame .* got"):
        explain(fitted["rock"], make_x(X))


@pytest.mark.parametrize("rows", [[], np.array([], dtype=int), "mask"],
                         ids=["empty list", "empty int array", "all-False mask"])
def test_rows_that_select_no_talkturn_are_refused(models, rows):
    X, fitted = models
    rows = np.zeros(len(X), dtype=bool) if isinstance(rows, str) else rows
    with pytest.raises(ValueError, match="rows selects no talkturn"):
        explain(fitted["rock"], X, rows=rows)


@pytest.mark.parametrize("estimator", [
    HanRockClassifier(**TINY),
    # Its transformer, unfitted too, must not be reached before the network is checked.
    Pipeline([("monah", MonahTranscriber()), ("han", HanRockClassifier(**TINY))]),
], ids=["estimator", "pipeline"])
def test_an_unfitted_estimator_is_reported_as_not_fitted(conversations, estimator):
    X, _ = conversations
    with pytest.raises(NotFittedError, match="HanRockClassifier instance is not fitted"):
        explain(estimator, X)


def test_an_estimator_without_attention_is_refused(conversations):
    X, _ = conversations
    with pytest.raises(TypeError, match="estimator must be a HanRockClassifier.* got "
                                        "DummyClassifier"):
        explain(Pipeline([("dummy", DummyClassifier())]), X)


@pytest.mark.parametrize(("z", "message"), [
    (0.5, "single value 0.5"), (None, "single value None"), (["high"], "not numbers"),
])
def test_buckets_need_an_array_of_numbers(z, message):
    with pytest.raises(TypeError, match=f"z must be an array-like .*{message}"):
        attention_buckets(z)
