import warnings

import pandas as pd
import pytest
from sklearn.model_selection import cross_validate

from skhanrock.datasets import make_conversations
from skhanrock.model_selection import (
    IEMOCAP_PARTITIONS,
    SEMAINE_PARTITIONS,
    PartitionSplit,
    train_dev_test_partition,
)


@pytest.mark.parametrize(("test", "expected"), [("dev", [12, 13, 14, 15]),
                                                ("test", [16, 17, 18, 19])])
def test_partition_split_reads_iemocap_sessions(iemocap_like, test, expected):
    X, y = iemocap_like
    splits = list(PartitionSplit("session", test=test, mapping=IEMOCAP_PARTITIONS).split(X, y))
    assert len(splits) == 1
    assert splits[0][0].tolist() == list(range(12)) and splits[0][1].tolist() == expected


def test_partition_split_works_as_cv(iemocap_like):
    from sklearn.dummy import DummyClassifier

    X, y = iemocap_like
    result = cross_validate(DummyClassifier(), X, y, return_indices=True,
                            cv=PartitionSplit("session", mapping=IEMOCAP_PARTITIONS))
    # One fold: sessions 1-3 train, session 4 (dev, the default) scores, session 5 is unused.
    assert result["indices"]["train"][0].tolist() == list(range(12))
    assert result["indices"]["test"][0].tolist() == [12, 13, 14, 15]
    # The four classes tie on the training rows: the dummy predicts the first, "ang",
    # which is one of session 4's four labels.
    assert result["test_score"].tolist() == [0.25]


def test_partition_split_refuses_a_shared_speaker(iemocap_like):
    X, y = iemocap_like
    X = X.assign(speaker=X["speaker"].where(X["session"] != 4, "Ses01_F"))
    with pytest.raises(ValueError, match=r"speaker\(s\) \['Ses01_F'\] on both sides"):
        next(PartitionSplit("session", mapping=IEMOCAP_PARTITIONS).split(X, y))


def test_partition_split_lets_only_shared_speakers_cross(iemocap_like):
    X, y = iemocap_like
    X = X.assign(speaker=X["speaker"].where(X.index % 4 != 0, "interviewer"))
    with pytest.raises(ValueError, match=r"\['interviewer'\] on both sides.*shared_speakers"):
        next(PartitionSplit("session", mapping=IEMOCAP_PARTITIONS).split(X, y))
    split = PartitionSplit("session", mapping=IEMOCAP_PARTITIONS, shared_speakers=["interviewer"])
    train, test = next(split.split(X, y))
    assert train.tolist() == list(range(12)) and test.tolist() == [12, 13, 14, 15]
    # anyone else on both sides is still refused
    X.loc[13, "speaker"] = "Ses01_M"
    with pytest.raises(ValueError, match=r"\['Ses01_M'\] on both sides"):
        next(split.split(X, y))


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"column": "fold"}, "no partition column 'fold'"),
    ({"column": "session", "test": "eval"}, r"no row of X is in test=\['eval'\]"),
    ({"column": "session", "test": ["train"]}, r"\['train'\] are both train and test"),
    ({"column": "session", "speaker_column": "actor"}, "no speaker column 'actor'"),
])
def test_partition_split_bad_arguments_are_named(iemocap_like, kwargs, message):
    X, y = iemocap_like
    with pytest.raises(ValueError, match=message):
        next(PartitionSplit(mapping=IEMOCAP_PARTITIONS, **kwargs).split(X, y))


def test_semaine_partitions_follow_the_paper_with_the_doubled_recording_in_test():
    counts = pd.Series(SEMAINE_PARTITIONS).value_counts().to_dict()
    assert counts == {"train": 12, "test": 5, "dev": 4}
    # listed under both dev and test in the paper: placed on one side only
    assert SEMAINE_PARTITIONS["2009.06.26.14.38.17"] == "test"


def test_semaine_partitions_split_a_semaine_layout(tmp_path):
    from skhanrock.datasets import load_semaine
    from tests.datasets.test_corpora import write_semaine_session

    recordings = {"2008.12.05.16.03.15": "train", "2009.01.30.12.00.35": "train",
                  "2008.12.19.11.03.11": "dev", "2009.06.26.14.38.17": "test",
                  "2009.06.26.14.09.45": "test", "2001.01.01.00.00.00": None}
    for session, (recording, character) in enumerate(
            [(r, c) for r in recordings for c in ("Spike", "Poppy")], start=1):
        write_semaine_session(tmp_path, session, recording, character=character)
    with warnings.catch_warnings():
        # the loader warns about the recording the paper lists twice; tested in test_corpora
        warnings.simplefilter("ignore", UserWarning)
        X = load_semaine(tmp_path)
    y = X["valence"]
    operators = X.loc[X["role"] == "operator", "speaker"].unique()
    for held_out in ("dev", "test"):
        split = PartitionSplit("recording", mapping=SEMAINE_PARTITIONS, test=held_out,
                               shared_speakers=operators)
        train, test = next(split.split(X, y))
        for rows, side in ((train, "train"), (test, held_out)):
            assert set(X["recording"].iloc[rows]) == {
                r for r, partition in recordings.items() if partition == side}
    # a recording the table does not list belongs to no partition
    assert split.partition(X)[X["recording"] == "2001.01.01.00.00.00"].isna().all()


@pytest.fixture(scope="module")
def fifteen_conversations():
    return make_conversations(n_conversations=15, min_turns=4, max_turns=7, n_speakers=45,
                              random_state=0)


def test_a_random_partition_keeps_speakers_and_conversations_whole(fifteen_conversations):
    X, y = fifteen_conversations
    labels = train_dev_test_partition(X, y, random_state=0)
    assert labels.index.equals(X.index) and set(labels) == {"train", "dev", "test"}
    for key in ("speaker", "conversation"):
        assert (X.assign(p=labels).groupby(key)["p"].nunique() == 1).all()
    assert train_dev_test_partition(X, y, random_state=0).equals(labels)


def test_a_random_partition_follows_the_conversation_column(fifteen_conversations):
    X, y = fifteen_conversations
    renamed = X.rename(columns={"conversation": "dialogue"})
    with pytest.raises(ValueError, match="no conversation column 'conversation'"):
        train_dev_test_partition(renamed, y, random_state=0)
    labels = train_dev_test_partition(renamed, y, random_state=0, conversation_column="dialogue")
    assert labels.equals(train_dev_test_partition(X, y, random_state=0))


@pytest.mark.parametrize(("fractions", "message"), [
    ((0.5, 0.5), "three numbers"),
    ((0.6, 0.2, 0.3), r"must add up to 1, got \(0.6, 0.2, 0.3\)"),
    ((1.0, 0.0, 0.0), r"fractions \(dev\) must be a number in \(0, 1\], got 0.0"),
    ((0.6, float("nan"), 0.4), r"fractions \(dev\) must be a number"),
])
def test_partition_fractions_are_checked(fifteen_conversations, fractions, message):
    X, y = fifteen_conversations
    with pytest.raises(ValueError, match=message):
        train_dev_test_partition(X, y, fractions=fractions, random_state=0)


def test_a_partition_needs_a_talkturn_frame_and_matching_labels(fifteen_conversations):
    X, y = fifteen_conversations
    with pytest.raises(TypeError, match="train_dev_test_partition: X must be a talkturn"):
        train_dev_test_partition(X.to_numpy(), y)
    with pytest.raises(ValueError, match=rf"y has {len(X) - 1} values but X has {len(X)}"):
        train_dev_test_partition(X, y[:-1], random_state=0)
    with pytest.raises(ValueError, match="partition has 3 values but X has"):
        train_dev_test_partition(X, y, ["train", "dev", "test"])
    # y is optional, as for the splitters
    assert train_dev_test_partition(X, random_state=0).notna().all()
