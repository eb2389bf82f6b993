import numpy as np
import pytest
from conftest import TINY

from skhanrock import HanRockClassifier
from skhanrock.inspection import attention_buckets, explain


@pytest.fixture(scope="module")
def models(conversations):
    X, y = conversations
    X = X.assign(**{"aux:AU05": X["AU05_r"]})
    return X, {arch: HanRockClassifier(architecture=arch, label_offsets=(-1,), **TINY).fit(X, y)
               for arch in ("rock", "flat")}


def test_rock_explanation_has_every_level_and_consistent_weights(models):
    X, fitted = models
    table = explain(fitted["rock"], X, rows=[0, 6])
    assert set(table["row"]) == {X.index[0], X.index[6]}
    task = table[table.level == "task"]
    assert list(task[task.row == X.index[6]]["token"]) == ["y", "aux:AU05", "y-1"]
    for _, group in table.groupby(["row", "level", "task", "talkturn"], dropna=False):
        if group["level"].iloc[0] != "word":
            continue
        assert np.isclose(group["attention"].sum(), 1.0, atol=1e-5)
    talkturns = table[(table.level == "talkturn") & (table.task == "overall")]
    for _, group in talkturns.groupby("row"):
        assert np.isclose(group["attention"].sum(), 1.0, atol=1e-5)
        assert group["context"].max() == 0
    # the overall talkturn attention is the task-weighted average of the per-task ones
    row = X.index[6]
    alpha = task[task.row == row].set_index("token")["attention"]
    per_task = table[(table.level == "talkturn") & (table.row == row)].pivot(
        index="context", columns="task", values="attention")
    expected = sum(alpha[name] * per_task[name] for name in alpha.index)
    np.testing.assert_allclose(per_task["overall"], expected, atol=1e-6)


def test_context_never_crosses_the_conversation(models):
    X, fitted = models
    table = explain(fitted["flat"], X, rows=np.arange(len(X)))
    conversation_of = X["conversation"]
    talkturn_rows = table[table.level == "talkturn"]
    assert (conversation_of.loc[talkturn_rows["row"]].to_numpy()
            == conversation_of.loc[talkturn_rows["talkturn"]].to_numpy()).all()
    assert set(table["level"]) == {"word", "talkturn"}


def test_words_are_the_talkturn_tokens_and_buckets_follow_z(models):
    X, fitted = models
    table = explain(fitted["rock"], X, rows=[3])
    words = table[(table.level == "word") & (table.task == "overall") & (table.context == 0)]
    assert " ".join(words["token"]) in X["text"].iloc[3].lower().replace(".", " .")
    assert list(attention_buckets([-1, 0.5, 1.0, 2.5])) == ["None", "Low", "Medium", "High"]
    assert (table["bucket"] == attention_buckets(table["z"])).all()


def test_bad_rows_are_reported(models):
    X, fitted = models
    with pytest.raises(ValueError, match="positions between"):
        explain(fitted["rock"], X, rows=[len(X)])
