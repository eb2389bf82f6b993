"""train_split="auto" (issue 28, item 2) and the speaker-disjoint ConversationValidSplit."""

import numpy as np
import pandas as pd
import pytest

from skhanrock import HanRockClassifier, HanRockRegressor, load_model, save_model
from skhanrock._testing import TINY
from skhanrock.datasets import make_conversations
from skhanrock.metrics import get_scorer
from skhanrock.nn import ConversationValidSplit, DevEarlyStopping
from skhanrock.nn._auto_split import AUTO_MIN_CONVERSATIONS, auto_held_out
from skhanrock.nn._data import speaker_groups

N_CONVERSATIONS = 24  # above AUTO_MIN_CONVERSATIONS, so that "auto" holds out round(2.4) = 2
# Patience 2 and a 20% relative threshold, so that this tiny fit stops before max_epochs.
# The lexical layer trained with the network, so that the held-out score moves from epoch
# to epoch (a stacked layer, frozen, holds two held-out conversations' score level).
AUTO = {**TINY, "train_split": "auto", "max_epochs": 8, "lexical_fit": "joint",
        "callbacks__early_stopping__patience": 2, "callbacks__early_stopping__threshold": 0.2}


def _own_speakers(X):
    """Every conversation its own pair of speakers, so whole groups are single conversations."""
    return X.assign(speaker=X["conversation"] + "/" + X["speaker"])


@pytest.fixture(scope="module")
def many():
    X, y = make_conversations(N_CONVERSATIONS, min_turns=5, max_turns=8, random_state=0)
    return _own_speakers(X), y


@pytest.fixture(scope="module")
def stopped(many):
    X, y = many
    return HanRockClassifier(**AUTO).fit(X, y)


def _held_out_rows(net, X):
    return X["conversation"].isin(net.valid_conversations_).to_numpy()


# -- the speaker-disjoint draw ----------------------------------------------------------------

def test_speaker_groups_follow_shared_speakers_transitively():
    conversations = np.array(["a", "a", "b", "b", "c", "c", "d", "e"])
    speakers = ["ann", "bo", "bo", "cy", "cy", "dee", None, None]
    groups = speaker_groups(conversations, speakers, np.array(["a", "b", "c", "d", "e"]))
    assert groups[0] == groups[1] == groups[2]  # a-b through Bo, b-c through Cy
    # A missing speaker links nothing.
    assert len({groups[0], groups[3], groups[4]}) == 3


def test_a_speaker_disjoint_draw_holds_out_whole_groups():
    rng = np.random.default_rng(0)
    conversations = np.repeat([f"c{i:02d}" for i in range(40)], 3)
    # Twenty pairs of conversations, each pair sharing one speaker.
    speakers = np.array([f"s{i // 2}" if j == 0 else f"own{i}-{j}"
                         for i in range(40) for j in range(3)])
    order = rng.permutation(len(conversations))
    split = ConversationValidSplit(0.2, random_state=3, speaker_disjoint=True)
    held = split.held_out(conversations[order], speakers=speakers[order])
    assert len(held) == 8
    out = np.isin(conversations, held)
    assert not set(speakers[out]) & set(speakers[~out])
    # The row order does not change the draw.
    assert split.held_out(conversations, speakers=speakers).tolist() == held.tolist()


def test_one_cast_everywhere_falls_back_to_the_conversation_draw():
    conversations = np.repeat([f"c{i}" for i in range(10)], 2)
    speakers = np.tile(["joey", "rachel"], 10)
    disjoint = ConversationValidSplit(0.3, random_state=5, speaker_disjoint=True)
    plain = ConversationValidSplit(0.3, random_state=5)
    assert (disjoint.held_out(conversations, speakers=speakers).tolist()
            == plain.held_out(conversations).tolist())


@pytest.mark.parametrize("split, speakers, message", [
    (ConversationValidSplit(speaker_disjoint=True), None, "needs the speaker of each"),
    (ConversationValidSplit(speaker_disjoint="yes"), ["a"] * 4, "speaker_disjoint must be"),
    (ConversationValidSplit(speaker_disjoint=True), ["a"] * 3, "speakers has 3 values for 4"),
])
def test_a_bad_speaker_draw_is_refused_by_name(split, speakers, message):
    with pytest.raises(ValueError, match=message):
        split.held_out(["a", "b", "c", "d"], speakers=speakers)


# -- train_split="auto" -------------------------------------------------------------------------

def test_auto_holds_out_a_tenth_of_the_conversations_speaker_disjoint(many, stopped):
    X, _ = many
    assert len(stopped.valid_conversations_) == round(0.1 * N_CONVERSATIONS)
    out = _held_out_rows(stopped, X)
    assert not set(X["speaker"][out]) & set(X["speaker"][~out])
    # Nothing is fitted on them: their words are unknown to the vocabulary unless training
    # has them too.
    held_words = set(" ".join(X["text"][out]).lower().split())
    trained_words = set(" ".join(X["text"][~out]).lower().split())
    assert not (held_words - trained_words) & set(stopped.vocabulary_)


def test_auto_restores_the_epoch_that_scored_best_on_the_held_out_conversations(many, stopped):
    X, y = many
    history = stopped.history
    scores = history[:, "valid_score"]
    stopping = dict(stopped.callbacks_)["early_stopping"]
    assert isinstance(stopping, DevEarlyStopping)
    best = stopping.best_epoch_
    # Stopped before max_epochs, two epochs without a better score after the best one.
    assert len(history) == best + 2 < AUTO["max_epochs"]
    assert scores[best - 1] * 1.2 >= max(scores)
    out = _held_out_rows(stopped, X)
    # The weights predicting now are the best epoch's: they give its score again.
    assert get_scorer("f1_weighted")(stopped, X[out], y[out]) == pytest.approx(scores[best - 1])
    assert scores[-1] != pytest.approx(scores[best - 1])


def test_auto_draws_only_among_labelled_conversations():
    # 60 conversations, 20 of them labelled: a draw of 2 among all 60 would
    # pick an unlabelled one in nine draws out of ten.
    frame = pd.DataFrame({"conversation": np.repeat([f"c{i:02d}" for i in range(60)], 2),
                          "speaker": [f"s{i}" for i in range(120)]})
    labels = pd.Series(np.where(np.repeat(np.arange(60) % 3 == 0, 2), "happy", None))
    for seed in range(5):
        held = auto_held_out(frame, labels, conversation_column="conversation",
                             speaker_column="speaker", seed=seed)
        assert len(held) == 2
        assert labels[frame["conversation"].isin(held).to_numpy()].notna().all()


def test_auto_with_few_conversations_trains_on_everything(conversations):
    X, y = conversations
    assert X["conversation"].nunique() < AUTO_MIN_CONVERSATIONS
    net = HanRockClassifier(**{**AUTO, "max_epochs": 3}).fit(X, y)
    assert len(net.valid_conversations_) == 0
    assert len(net.history) == 3
    assert "valid_score" not in net.history[-1] and "valid_loss" not in net.history[-1]
    assert dict(net.callbacks_)["early_stopping"].best_epoch_ == 0  # skorch's "none yet"


def test_auto_is_reproducible(many, stopped):
    X, y = many
    again = HanRockClassifier(**AUTO).fit(X, y)
    assert again.valid_conversations_.tolist() == stopped.valid_conversations_.tolist()
    np.testing.assert_array_equal(again.predict_proba(X), stopped.predict_proba(X))


def test_the_regressor_stops_on_the_mean_absolute_error(many):
    X, _ = many
    _, y = make_conversations(N_CONVERSATIONS, min_turns=5, max_turns=8,
                              target_type="regression", random_state=0)
    net = HanRockRegressor(**AUTO).fit(X, y)
    scores = net.history[:, "valid_score"]
    best = dict(net.callbacks_)["early_stopping"].best_epoch_
    out = _held_out_rows(net, X)
    assert all(score < 0 for score in scores)
    assert get_scorer("neg_mean_absolute_error")(net, X[out], y[out]) == pytest.approx(
        scores[best - 1])


def test_a_saved_auto_model_predicts_the_same(many, stopped, tmp_path):
    X, _ = many
    loaded = load_model(save_model(stopped, tmp_path / "auto.skhanrock"))
    np.testing.assert_array_equal(loaded.predict_proba(X), stopped.predict_proba(X))


def test_none_adds_no_dev_callbacks():
    names = [name for name, _ in HanRockClassifier(train_split=None).initialize().callbacks_]
    assert "early_stopping" not in names and "valid_score" not in names


def test_auto_and_weight_averaging_are_refused_together(conversations):
    X, y = conversations
    with pytest.raises(ValueError, match="average_weights=0.5 averages .* train_split='auto'"):
        HanRockClassifier(**{**TINY, "train_split": "auto", "average_weights": 0.5}).fit(X, y)


def test_an_unknown_split_lists_auto(conversations):
    X, y = conversations
    with pytest.raises(ValueError, match="train_split must be 'auto', None, a Conversation"):
        HanRockClassifier(**{**TINY, "train_split": "dev"}).fit(X, y)
