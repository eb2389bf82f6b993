import numpy as np
import pandas as pd
import pytest

from skhanrock.datasets import EMOTIONS, PAPER_REGIME, make_conversations
from skhanrock.datasets._synthetic import _WORDS


@pytest.fixture(scope="module")
def generated():
    return make_conversations(n_conversations=80, random_state=3)


def test_same_random_state_same_data_other_state_other_data():
    first = make_conversations(n_conversations=5, random_state=7)
    second = make_conversations(n_conversations=5, random_state=7)
    pd.testing.assert_frame_equal(first[0], second[0])
    pd.testing.assert_series_equal(first[1], second[1])
    other = make_conversations(n_conversations=5, random_state=8)[0]
    assert not first[0]["text"].equals(other["text"])


def test_frame_is_a_valid_talkturn_frame_with_some_unlabelled_rows(generated):
    X, y = generated
    assert not X.duplicated(["conversation", "turn"]).any()
    assert (X["end"] > X["start"]).all()
    assert set(y.dropna()) == set(EMOTIONS)
    assert 0.08 < y.isna().mean() < 0.22  # unlabelled_fraction=0.15
    two_speakers = X.groupby("conversation")["speaker"].nunique()
    assert (two_speakers == 2).all()


def test_emotions_persist_so_neighbouring_labels_are_informative(generated):
    X, y = generated
    previous = y.groupby(X["conversation"]).shift(1)
    both = y.notna() & previous.notna()
    same = (y[both] == previous[both]).mean()
    assert same > 0.65  # persistence=0.75 plus chance agreement, against 0.25 by chance


def test_nonverbal_features_are_noisy_views_of_the_emotion(generated):
    X, y = generated
    means = X.groupby(y).mean(numeric_only=True)
    assert means["AU12_r"].idxmax() == "happy"
    assert means["tone_happiness"].idxmax() == "happy"
    assert means["tone_sadness"].idxmax() == "sad"
    assert means["tone_anger"].idxmax() == "angry"
    words_per_minute = X["text"].str.split().str.len() / (X["end"] - X["start"]) * 60
    assert words_per_minute.groupby(y).mean().idxmin() == "sad"


def test_emotion_words_carry_the_label(generated):
    X, y = generated
    labelled = y.notna()
    happy_words = X["text"].str.contains(r"\b(?:great|love|wonderful|amazing)\b")
    rate = happy_words[labelled].groupby(y[labelled]).mean()
    assert rate.idxmax() == "happy" and rate["happy"] > 2 * rate.drop("happy").max()


def test_regression_labels_are_valences_in_range():
    X, y = make_conversations(n_conversations=10, target_type="regression", random_state=0)
    assert y.name == "valence" and y.isna().any()
    assert y.dropna().between(1, 5).all()


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"n_conversations": 0}, "n_conversations"), ({"min_turns": 5, "max_turns": 2}, "min_turns"),
    ({"target_type": "ranking"}, "target_type"), ({"persistence": 1.0}, "persistence"),
    ({"n_speakers": 1}, "n_speakers")])
def test_bad_generator_arguments_are_named(kwargs, message):
    with pytest.raises(ValueError, match=message):
        make_conversations(**kwargs)


def test_the_old_task_keyword_names_target_type():
    with pytest.raises(TypeError, match="make_conversations got task='regression': the "
                                        "parameter is now target_type"):
        make_conversations(n_conversations=2, task="regression")


def test_speakers_keep_their_tone_baseline_across_conversations():
    X, _ = make_conversations(n_conversations=120, n_speakers=8, random_state=0)
    tones = [c for c in X.columns if c.startswith("tone_")]
    even = X["conversation"].str[4:].astype(int) % 2 == 0
    halves = [X[part].groupby("speaker")[tones].mean() for part in (even, ~even)]
    centred = [(h - h.mean()).to_numpy().ravel() for h in halves]
    # A speaker's tone profile in one half of the conversations predicts the other
    # half (0.77 here; about 0 when baselines were drawn per conversation).
    assert np.corrcoef(*centred)[0, 1] > 0.4


def test_label_noise_makes_annotators_disagree_and_leaves_the_features_alone():
    X, y = make_conversations(n_conversations=60, random_state=3)
    X_noisy, y_noisy = make_conversations(n_conversations=60, label_noise=0.3, random_state=3)
    pd.testing.assert_frame_equal(X, X_noisy)
    labelled = y.notna()
    assert labelled.equals(y_noisy.notna())
    disagreement = (y[labelled] != y_noisy[labelled]).mean()
    assert 0.25 < disagreement < 0.35
    # Every disagreement names another emotion, each about equally often.
    changed = y_noisy[labelled][y[labelled] != y_noisy[labelled]]
    assert set(changed) <= set(EMOTIONS)
    regression, valence = make_conversations(n_conversations=20, target_type="regression",
                                             label_noise=0.5, random_state=0)
    assert valence.dropna().between(1, 5).all()
    with pytest.raises(ValueError, match="label_noise"):
        make_conversations(label_noise=1.0)


def test_scripted_talkturns_recur_word_for_word_and_leave_the_rest_alone():
    X, y = make_conversations(n_conversations=60, random_state=4)
    S, same_y = make_conversations(n_conversations=60, scripted=0.5, random_state=4)
    assert same_y.equals(y)
    assert S.drop(columns="text").equals(X.drop(columns="text"))
    changed = S["text"] != X["text"]
    assert 0.4 < changed.mean() < 0.6
    # Same word count, so the times still fit the words.
    assert (S["text"].str.split().str.len() == X["text"].str.split().str.len()).all()
    scripted = S[changed]
    lexicon = {w for e in EMOTIONS for w in _WORDS[e]}
    assert not any(set(t.lower().rstrip(".").split()) & lexicon for t in scripted["text"])
    # A script line recurs in several conversations, always with one hidden emotion
    # (here the label, where the annotator agrees: label_noise is 0).
    recurring = scripted.groupby("text")["conversation"].nunique()
    assert recurring.max() >= 3
    labels = same_y[changed].dropna().groupby(scripted["text"]).nunique()
    assert (labels == 1).all()


def test_scripted_out_of_range_is_refused():
    with pytest.raises(ValueError, match=r"scripted must lie in \[0, 1\]"):
        make_conversations(n_conversations=2, scripted=1.5)


def test_paper_regime_is_the_demos():
    # A public name for what the README cites, so it need not point at skhanrock._commands.demo.
    from skhanrock._commands import demo

    assert demo.PAPER_REGIME is PAPER_REGIME
    X, y = make_conversations(n_conversations=40, random_state=0, **PAPER_REGIME)
    assert 0.4 < y.isna().mean() < 0.6          # half of the talkturns unlabelled
