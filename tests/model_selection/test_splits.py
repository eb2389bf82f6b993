import numpy as np
import pandas as pd
import pytest
from sklearn.model_selection import cross_validate

from skhanrock import HanRockClassifier
from skhanrock._testing import TINY
from skhanrock.datasets import make_conversations
from skhanrock.model_selection import (
    IEMOCAP_PARTITIONS,
    PartitionSplit,
    SpeakerGroupKFold,
    speaker_groups,
)


def test_groups_are_connected_components_of_speakers_and_conversations():
    X = pd.DataFrame({"conversation": ["a", "a", "b", "b", "c", "d"],
                      "speaker": ["ann", "bob", "bob", "cy", "dee", "eve"]})
    assert speaker_groups(X).tolist() == [0, 0, 0, 0, 1, 2]
    # an extra grouping merges components that share a group value
    assert speaker_groups(X, groups=["s1"] * 5 + ["s1"]).tolist() == [0] * 6
    with pytest.raises(ValueError, match="groups has 2 values"):
        speaker_groups(X, groups=[1, 2])


def _with_a_host(X):
    """Every conversation opened by the same host, as in an interview series."""
    return X.assign(speaker=X["speaker"].where(X["turn"] != 0, "host"))


def test_a_shared_speaker_does_not_join_the_conversations_it_talks_in():
    X = pd.DataFrame({"conversation": ["a", "a", "b", "b", "c", "c"],
                      "speaker": ["host", "ann", "host", "bob", "host", "ann"]})
    assert speaker_groups(X).tolist() == [0] * 6
    # the host no longer links a, b and c; ann still links a and c
    assert speaker_groups(X, shared_speakers=["host"]).tolist() == [0, 0, 1, 1, 0, 0]
    with pytest.raises(TypeError, match=r"shared_speakers must be a list.*\['host'\]"):
        speaker_groups(X, shared_speakers="host")
    with pytest.warns(UserWarning, match=r"shared_speakers \['hots'\] have no row"):
        speaker_groups(X, shared_speakers=["hots"])
    with pytest.raises(ValueError, match="needs the speaker column 'speaker'"):
        speaker_groups(X.drop(columns="speaker"), shared_speakers=["host"])


def test_folds_keep_guests_apart_and_share_the_host(many_speakers):
    X, y = many_speakers
    X = _with_a_host(X)
    with pytest.raises(ValueError, match="only 1 connected component"):
        next(SpeakerGroupKFold(n_splits=3).split(X, y))
    cv = SpeakerGroupKFold(n_splits=3, shared_speakers=["host"])
    for train, test in cv.split(X, y):
        guests_train, guests_test = (set(X["speaker"].iloc[rows]) - {"host"}
                                     for rows in (train, test))
        assert guests_train and guests_test and not guests_train & guests_test
        assert "host" in set(X["speaker"].iloc[train]) & set(X["speaker"].iloc[test])
        assert not set(X["conversation"].iloc[train]) & set(X["conversation"].iloc[test])


def test_folds_never_share_a_speaker_or_a_conversation(many_speakers):
    X, y = many_speakers
    folds = list(SpeakerGroupKFold(n_splits=3, shuffle=True, random_state=0).split(X, y))
    assert len(folds) == 3
    covered = np.concatenate([test for _, test in folds])
    assert sorted(covered) == list(range(len(X)))
    for train, test in folds:
        for column in ("speaker", "conversation"):
            assert not set(X[column].iloc[train]) & set(X[column].iloc[test])


def _fold_of_each_row(cv, X):
    folds = np.empty(len(X), dtype=int)
    for fold, (_, test) in enumerate(cv.split(X)):
        folds[test] = fold
    return folds


def test_shuffle_randomises_folds_of_groups_of_different_sizes():
    # 12 conversations of 2 to 13 rows, one speaker each: GroupKFold's folds are fixed by size
    sizes = np.arange(2, 14)
    X = pd.DataFrame({"conversation": np.repeat([f"c{i}" for i in sizes], sizes)})
    X["speaker"] = X["conversation"] + "-speaker"
    fixed = _fold_of_each_row(SpeakerGroupKFold(3), X)
    draws = [_fold_of_each_row(SpeakerGroupKFold(3, shuffle=True, random_state=seed), X)
             for seed in range(5)]
    partitions = {tuple(pd.factorize(folds)[0]) for folds in [fixed, *draws]}
    assert len(partitions) == 6  # every seed deals the conversations differently
    np.testing.assert_array_equal(
        draws[0], _fold_of_each_row(SpeakerGroupKFold(3, shuffle=True, random_state=0), X))
    for folds in draws:
        rows = np.bincount(folds)
        assert rows.max() - rows.min() <= sizes.max()  # balanced up to one conversation
        for _, fold in pd.Series(folds).groupby(X["conversation"].to_numpy()):
            assert fold.nunique() == 1


@pytest.mark.parametrize("column", ["speaker", "conversation"])
def test_a_missing_speaker_or_conversation_names_the_column_and_row(column):
    X = pd.DataFrame({"conversation": ["a", "a", "b", "b", "c", "d"],
                      "speaker": ["ann", "bob", "cy", "dee", "eve", "fay"]},
                     index=[10, 11, 12, 13, 14, 15])
    X.loc[13, column] = None
    with pytest.raises(ValueError, match=rf"column '{column}' is missing at row 3 \(index 13;"):
        speaker_groups(X)
    with pytest.raises(ValueError, match=rf"column '{column}' is missing"):
        list(SpeakerGroupKFold(2).split(X))
    with pytest.raises(ValueError, match=r"groups is missing at row 0"):
        speaker_groups(X.fillna("x"), groups=[None, 1, 1, 2, 2, 3])


def test_too_few_components_is_a_clear_error():
    X, y = make_conversations(n_conversations=6, n_speakers=2, random_state=0)
    with pytest.raises(ValueError, match="connected component"):
        list(SpeakerGroupKFold(n_splits=3).split(X, y))


def test_works_as_cv_with_groups(many_speakers):
    X, y = many_speakers
    scores = cross_validate(HanRockClassifier(**{**TINY, "max_epochs": 1}), X, y,
                            groups=X["speaker"], cv=SpeakerGroupKFold(n_splits=2))
    assert len(scores["test_score"]) == 2


def test_a_rare_rating_of_a_regression_target_is_no_missing_class(iemocap_like):
    X, _ = iemocap_like
    # whole-number valence ratings: floats, hence regression, whatever their values
    ratings = pd.Series(np.resize([1.0, 2.0, 3.0, 4.0], len(X)))
    ratings.iloc[-1] = 5.0
    assert len(list(SpeakerGroupKFold(n_splits=5).split(X, ratings))) == 5
    assert len(list(PartitionSplit("session", mapping=IEMOCAP_PARTITIONS,
                                   test="test").split(X, ratings))) == 1
    with pytest.raises(ValueError, match=r"class\(es\) \[5\] of y"):
        next(PartitionSplit("session", mapping=IEMOCAP_PARTITIONS, test="test").split(
            X, ratings.astype(int)))


def test_a_class_missing_from_training_is_an_error(iemocap_like, many_speakers):
    X, y = iemocap_like
    y = y.where(X["session"] >= 4, y.replace("sad", "neu"))
    with pytest.raises(ValueError, match=r"class\(es\) \['sad'\] of y have no labelled row"):
        next(PartitionSplit("session", mapping=IEMOCAP_PARTITIONS).split(X, y))
    X, y = many_speakers
    rare = y.copy()
    rare.iloc[0] = "only-once"
    with pytest.raises(ValueError, match="SpeakerGroupKFold fold 0: class"):
        list(SpeakerGroupKFold(n_splits=3).split(X, rare))
    # regression targets and missing labels are not classes
    list(SpeakerGroupKFold(n_splits=3).split(X, np.linspace(0, 1, len(X))))
    list(SpeakerGroupKFold(n_splits=3).split(X, y.where(y.index % 5 > 0)))


def test_an_empty_frame_or_a_short_y_is_named(iemocap_like):
    X, y = iemocap_like
    with pytest.raises(ValueError, match="speaker_groups: X has no rows"):
        speaker_groups(X.iloc[:0])
    with pytest.raises(ValueError, match="SpeakerGroupKFold: X has no rows"):
        next(SpeakerGroupKFold(2).split(X.iloc[:0]))
    split = PartitionSplit("session", mapping=IEMOCAP_PARTITIONS)
    for cv, owner in ((split, "PartitionSplit"), (SpeakerGroupKFold(2), "SpeakerGroupKFold")):
        with pytest.raises(ValueError, match=rf"{owner}: y has 3 values but X has 20 rows"):
            next(cv.split(X, y[:3]))


def test_an_absent_speaker_column_is_an_error_naming_it(many_speakers):
    # a misspelt column used to fall back on conversations and share speakers across folds
    X, y = many_speakers
    listed = r"'Speaker'.*columns are \[.*'speaker'"
    with pytest.raises(ValueError, match=rf"SpeakerGroupKFold: .*{listed}.*speaker_column=None"):
        next(SpeakerGroupKFold(3, speaker_column="Speaker").split(X, y))
    with pytest.raises(ValueError, match=rf"speaker_groups: .*{listed}"):
        speaker_groups(X, speaker_column="Speaker")
    with pytest.raises(ValueError, match=rf"PartitionSplit: .*{listed}"):
        next(PartitionSplit("conversation", train=["conv000", "conv001"], test=["conv002"],
                            speaker_column="Speaker").split(X))
    with pytest.raises(ValueError, match=r"'Conversation'.*columns are"):
        speaker_groups(X, conversation_column="Conversation")


def test_speaker_column_none_groups_by_conversation_only():
    X = pd.DataFrame({"conversation": ["a", "a", "b", "b", "c"],
                      "speaker": ["ann", "bob", "bob", "cy", "dee"]})
    assert speaker_groups(X, speaker_column=None).tolist() == [0, 0, 1, 1, 2]
    assert speaker_groups(X.drop(columns="speaker"), speaker_column=None).tolist() == [
        0, 0, 1, 1, 2]
    assert speaker_groups(X, conversation_column=None).tolist() == [0, 1, 1, 2, 3]
    folds = list(SpeakerGroupKFold(3, speaker_column=None).split(X))
    assert sorted(sorted(set(X["conversation"].iloc[test])) for _, test in folds) == [
        ["a"], ["b"], ["c"]]
    with pytest.raises(ValueError, match="speaker_column and conversation_column are both None"):
        speaker_groups(X, speaker_column=None, conversation_column=None)
    assert speaker_groups(X, speaker_column=None, conversation_column=None,
                          groups=[1, 1, 1, 2, 2]).tolist() == [0, 0, 0, 1, 1]
    with pytest.raises(ValueError, match="shared_speakers needs the speaker column"):
        speaker_groups(X, speaker_column=None, shared_speakers=["bob"])


def test_metadata_routing_sends_groups_to_speaker_group_kfold():
    import sklearn
    from sklearn.dummy import DummyClassifier
    from sklearn.model_selection import cross_validate

    X, y = make_conversations(n_conversations=12, n_speakers=40, random_state=0)
    # Groups that join conversations in pairs: the folds must keep each pair together.
    groups = pd.factorize(X["conversation"])[0] // 2
    cv = SpeakerGroupKFold(3)
    expected = [test for _, test in cv.split(X, y, groups)]
    with sklearn.config_context(enable_metadata_routing=True):
        routed = cross_validate(DummyClassifier(), X, y.fillna("none"), cv=cv,
                                params={"groups": groups}, return_indices=True)
    for got, want in zip(routed["indices"]["test"], expected, strict=True):
        np.testing.assert_array_equal(np.sort(got), np.sort(want))
