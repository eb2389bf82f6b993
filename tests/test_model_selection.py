import warnings

import numpy as np
import pandas as pd
import pytest
from conftest import TINY
from scipy.stats import randint
from sklearn.model_selection import RandomizedSearchCV, cross_validate
from sklearn.pipeline import Pipeline

from skhanrock import HanRockClassifier, MutualInfoLossWeights
from skhanrock.datasets import make_conversations
from skhanrock.model_selection import (
    IEMOCAP_PARTITIONS,
    SEMAINE_PARTITIONS,
    PartitionSplit,
    SpeakerGroupKFold,
    ZeroOrLogUniform,
    check_search_space,
    paper_search_space,
    speaker_groups,
    train_dev_test_partition,
)


@pytest.fixture(scope="module")
def many_speakers():
    return make_conversations(n_conversations=24, min_turns=4, max_turns=6, n_speakers=40,
                              random_state=0)


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


def test_paper_search_space_draws_valid_parameters(many_speakers):
    X, y = many_speakers
    space = paper_search_space()
    assert space["han__primary_units"] == [1, 64, 128, 192, 256]
    assert set(space["weights__assignment"]) == {"random", "linear", "softmax"}
    rng = np.random.default_rng(0)
    learning_rates = space["han__lr"].rvs(size=500, random_state=0)
    assert learning_rates.min() >= 2 ** -10 and learning_rates.max() <= 2 ** -5
    decay = space["han__optimizer__weight_decay"].rvs(size=500, random_state=0)
    assert (decay == 0).any() and decay.max() <= 0.5 and rng is not None
    assert space["han__context_size"].rvs(size=200, random_state=0).min() >= 1
    pipe = Pipeline([("weights", MutualInfoLossWeights()), ("han", HanRockClassifier())])
    check_search_space(pipe, space)
    small = {"han__lr": space["han__lr"], "han__context_size": randint(1, 3),
             "han__optimizer__weight_decay": ZeroOrLogUniform(1e-4, 0.5),
             "weights__assignment": space["weights__assignment"]}
    pipe.set_params(han__primary_units=4, han__aux_units=2, han__max_epochs=1,
                    han__embedding_dim=8, han__random_state=0)
    RandomizedSearchCV(pipe, small, n_iter=2, cv=SpeakerGroupKFold(2), random_state=0).fit(X, y)


def test_successive_halving_spends_epochs_as_its_resource(many_speakers):
    from sklearn.experimental import enable_halving_search_cv  # noqa: F401
    from sklearn.model_selection import HalvingRandomSearchCV

    X, y = many_speakers
    pipe = Pipeline([("weights", MutualInfoLossWeights()),
                     ("han", HanRockClassifier(**{**TINY, "max_epochs": 1}))])
    search = HalvingRandomSearchCV(
        pipe, {"han__lr": [0.003, 0.01, 0.03, 0.1]}, resource="han__max_epochs",
        min_resources=1, max_resources=4, factor=2, n_candidates=4,
        cv=SpeakerGroupKFold(2), random_state=0).fit(X, y)
    assert search.n_resources_ == [1, 2, 4]
    assert search.n_candidates_ == [4, 2, 1]
    assert search.best_estimator_.named_steps["han"].max_epochs == 4
    assert len(search.best_estimator_.named_steps["han"].history) == 4


def test_successive_halving_on_a_bare_estimator(many_speakers):
    from sklearn.experimental import enable_halving_search_cv  # noqa: F401
    from sklearn.model_selection import HalvingRandomSearchCV

    X, y = many_speakers
    search = HalvingRandomSearchCV(
        HanRockClassifier(**{**TINY, "max_epochs": 1}), {"lr": [0.003, 0.01, 0.03, 0.1]},
        resource="max_epochs", min_resources=1, max_resources=4, factor=2, n_candidates=4,
        cv=SpeakerGroupKFold(2), random_state=0).fit(X, y)
    assert search.n_resources_ == [1, 2, 4]
    assert len(search.best_estimator_.history) == search.best_params_["max_epochs"] == 4


def test_unknown_search_key_is_named():
    with pytest.raises(ValueError, match="han__learning_rate"):
        check_search_space(Pipeline([("han", HanRockClassifier())]),
                           {"han__learning_rate": [0.1]})
    # a list of spaces, as RandomizedSearchCV and GridSearchCV take it
    pipe = Pipeline([("han", HanRockClassifier())])
    check_search_space(pipe, [{"han__lr": [0.1]}, {"han__context_size": [2]}])
    with pytest.raises(ValueError, match="'han__dropout'"):
        check_search_space(pipe, [{"han__lr": [0.1]}, {"han__dropout": [0.2]}])


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


@pytest.fixture(scope="module")
def iemocap_like():
    sessions = np.repeat([1, 2, 3, 4, 5], 4)
    X = pd.DataFrame({"session": sessions,
                      "speaker": [f"Ses0{s}_{g}" for s, g in zip(sessions, "FMFM" * 5, strict=True)],
                      "conversation": [f"Ses0{s}" for s in sessions]})
    y = pd.Series(["ang", "hap", "neu", "sad"] * 5)
    return X, y


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
    result = cross_validate(DummyClassifier(), X, y,
                            cv=PartitionSplit("session", mapping=IEMOCAP_PARTITIONS))
    assert result["test_score"].shape == (1,)


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


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"p_zero": 2}, r"p_zero must be a number in \[0, 1\], got 2"),
    ({"p_zero": float("nan")}, r"p_zero must be a number in \[0, 1\], got nan"),
    ({"p_zero": -1}, r"p_zero must be a number in \[0, 1\], got -1"),
    ({"low": 0}, r"needs 0 < low < high .* got low=0 and high=0.5"),
    ({"low": -1e-4}, r"needs 0 < low < high"),
    ({"low": 0.5, "high": 1e-4}, r"needs 0 < low < high .* got low=0.5 and high=0.0001"),
    ({"high": float("inf")}, r"ZeroOrLogUniform high must be a finite number, got inf"),
    ({"low": "1e-4"}, r"ZeroOrLogUniform low must be a finite number, got '1e-4'"),
])
def test_zero_or_log_uniform_checks_its_arguments_when_made(kwargs, message):
    # at construction, not at the first draw inside a search (scipy's "Domain error")
    with pytest.raises(ValueError, match=message):
        ZeroOrLogUniform(**{"low": 1e-4, "high": 0.5, **kwargs})
    always = ZeroOrLogUniform(1e-4, 0.5, p_zero=1).rvs(size=20, random_state=0)
    assert (always == 0).all()


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


def test_semaine_partitions_follow_the_paper_with_the_doubled_recording_in_test():
    counts = pd.Series(SEMAINE_PARTITIONS).value_counts().to_dict()
    assert counts == {"train": 12, "test": 5, "dev": 4}
    # listed under both dev and test in the paper: placed on one side only
    assert SEMAINE_PARTITIONS["2009.06.26.14.38.17"] == "test"


def test_semaine_partitions_split_a_semaine_layout(tmp_path):
    from test_corpora import write_semaine_session

    from skhanrock.datasets import load_semaine

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


# ---------------------------------------------------------------------------------------------
# Train/dev/test partitions (moved here from the experiments, issue 13, item 6)

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
