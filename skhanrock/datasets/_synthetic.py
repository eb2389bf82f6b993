"""Built-in conversations with planted, learnable structure."""

import numpy as np
import pandas as pd
from sklearn.utils import check_random_state

from .._utils.validation import replaced_parameters

__all__ = ["EMOTIONS", "PAPER_REGIME", "make_conversations"]

#: The four emotion classes of the generator (IEMOCAP's 4-class set).
EMOTIONS = ("angry", "happy", "neutral", "sad")

#: Keyword arguments of :func:`make_conversations` for the paper's regime, which
#: ``python -m skhanrock demo`` uses: annotators disagree with the hidden
#: emotion on 30% of the talkturns, half of the talkturns are unlabelled and the
#: words carry half the emotion they carry by default, while the nonverbal
#: features stay noisy views of the hidden emotion. Chosen from the generative
#: story, not from results. Use it as ``make_conversations(**PAPER_REGIME)``.
PAPER_REGIME = {"label_noise": 0.3, "unlabelled_fraction": 0.5, "signal_words": 0.15}

_LEXICON = {
    "angry": "angry furious hate annoyed ridiculous unbelievable stop shut damn stupid mad "
             "fault unfair yell enough",
    "happy": "great love wonderful happy amazing fantastic glad awesome laugh fun excited "
             "beautiful perfect yay celebrate",
    "neutral": "okay meeting tomorrow address office schedule number paper street thursday "
               "noted form report train lunch",
    "sad": "sorry miss lost alone cry sad tired hurt gone lonely never funeral sick broke "
           "terrible",
}
_FILLER_WORDS = ("i you the a and it that was is so we just really think know what well to of "
                 "my this about going there they he she like oh yeah but not all have do")
_FILLER = _FILLER_WORDS.split()
_WORDS = {emotion: words.split() for emotion, words in _LEXICON.items()}

# Mean intensity (0..5) of each action unit per emotion, in EMOTIONS order.
_AU_MEANS = {
    "AU05": (2.2, 1.0, 0.4, 0.3),
    "AU06": (0.3, 2.6, 0.4, 0.2),
    "AU12": (0.2, 3.0, 0.5, 0.2),
    "AU17": (1.8, 0.3, 0.4, 2.0),
    "AU20": (1.2, 0.4, 0.3, 1.4),
    "AU25": (1.6, 2.2, 0.6, 0.4),
}
_TONES = ("neutrality", "happiness", "sadness", "anger", "fear")
# Dirichlet concentration of the tone probabilities per emotion.
_TONE_ALPHA = {
    "angry": (1.0, 0.5, 0.5, 4.0, 0.6),
    "happy": (1.0, 4.0, 0.4, 0.5, 0.5),
    "neutral": (4.0, 0.8, 0.8, 0.6, 0.5),
    "sad": (1.0, 0.4, 4.0, 0.6, 0.8),
}
_RATE_FACTOR = {"angry": 1.2, "happy": 1.1, "neutral": 1.0, "sad": 0.75}
_PAUSE_FACTOR = {"angry": 0.7, "happy": 0.9, "neutral": 1.0, "sad": 1.8}
_VALENCE = {"angry": 1.8, "happy": 4.2, "neutral": 3.0, "sad": 2.0}


@replaced_parameters(task="target_type")
def make_conversations(n_conversations=40, *, min_turns=8, max_turns=20, n_speakers=None,
                       target_type="classification", signal_words=0.3, persistence=0.75,
                       unlabelled_fraction=0.15, label_noise=0.0, planted_features=False,
                       scripted=0.0, random_state=None):
    """Generate conversations whose emotions can be learnt from text and nonverbal cues.

    The generative story, per conversation:

    1. Two speakers are drawn from a pool of ``n_speakers``. Each speaker has a
       description (``"woman"`` or ``"man"``), a speaking rate, a typical pause,
       a tone baseline and a valence bias of their own.
    2. A hidden emotion (angry, happy, neutral, sad) evolves along the
       talkturns as a Markov chain that keeps its state with probability
       ``persistence``, so past and future labels are informative.
    3. Each talkturn's words are filler words, except that each word is, with
       probability ``signal_words``, drawn from an emotion lexicon: in four cases
       out of five the hidden emotion's, otherwise another one's.
    4. Nonverbal features are noisy views of the hidden emotion: mean action
       unit intensities ``AUxx_r`` and "present in every frame" flags ``AUxx_c``
       (OpenFace style), a smile flag, Vokaturi-style tone probabilities
       ``tone_*`` drawn from an emotion-dependent Dirichlet mixed with the
       speaker's baseline, and talkturn times whose speech rate and pauses
       depend on emotion and speaker.
    5. The label is the emotion (``target_type="classification"``) or a valence in
       [1, 5] (``target_type="regression"``): the emotion's valence plus the speaker's
       bias plus noise. A fraction ``unlabelled_fraction`` of the talkturns get
       a missing label (None or NaN), as in IEMOCAP. With ``label_noise``, the
       annotator disagrees with the hidden emotion: each label is, with that
       probability, one of the three other emotions (drawn uniformly; for
       ``target_type="regression"``, the valence of that other emotion). The
       nonverbal features still follow the hidden emotion, so they stay noisy
       but honest views of it while the labels are noisy views too: the
       paper's regime, where auxiliary supervision from the features can help
       a primary model that would otherwise fit the annotators' noise.
    6. With ``planted_features=True``, three more feature columns, drawn after
       everything else (so the rest of the data is unchanged), test the choice
       of auxiliary tasks (:class:`~skhanrock.preprocessing.AuxiliaryTaskSelector`):
       ``noise_a`` and ``noise_b`` are pure noise, independent of everything,
       hence useless targets; ``conflict`` is a harmful one, driven by a
       hidden variable that conflicts with the primary task. Each
       conversation gets a hidden shift ``s`` in {0, 1, 2, 3} (each shift
       equally often), and
       ``conflict`` is the emotion's code (angry 0, happy 1, neutral 2, sad 3)
       shifted by ``s`` modulo 4, plus noise: within a conversation it tracks
       the emotion closely, but the same emotion asks for a different target in
       each conversation, so learning it pulls the shared representation of an
       emotion in conflicting directions, while over all conversations it
       carries no information about the label.
    7. With ``scripted``, conversations are partly performed from a script,
       as actors' sessions are: a shared pool of script lines, three per
       emotion and length (4 to 14 words), is drawn after everything else,
       and each talkturn is, with probability ``scripted``, replaced by a line
       of its hidden emotion and its length (so its times still fit its
       words). Script lines are filler words only: what tells their emotion
       is the exact wording, which recurs word for word across conversations
       (and between training and test), not the emotion lexicon.

    Parameters
    ----------
    n_conversations : int, default=40
        Number of conversations.
    min_turns, max_turns : int, default=8, 20
        Range of the number of talkturns per conversation (inclusive).
    n_speakers : int or None, default=None
        Size of the speaker pool; ``max(2, n_conversations // 2)`` when None.
        Speakers recur across conversations, so the default pool links all
        conversations into one speaker group; speaker-disjoint splits
        (:class:`~skhanrock.model_selection.SpeakerGroupKFold`) need a larger
        pool, such as ``3 * n_conversations``.
    target_type : {"classification", "regression"}, default="classification"
        Kind of label returned in ``y``. (``task``, its name before any release,
        is refused with an error naming ``target_type``.)
    signal_words : float in [0, 1], default=0.3
        Probability that a word carries emotion; lower makes the text harder.
    persistence : float in [0, 1), default=0.75
        Probability that the hidden emotion stays the same from one talkturn
        to the next.
    unlabelled_fraction : float in [0, 1), default=0.15
        Fraction of talkturns whose label is missing.
    label_noise : float in [0, 1), default=0.0
        Probability that a label names another emotion than the hidden one
        (annotator disagreement, step 5).
    planted_features : bool, default=False
        Add the useless (``noise_a``, ``noise_b``) and harmful (``conflict``)
        feature columns of step 6; the other columns and ``y`` are the same
        as without them.
    scripted : float in [0, 1], default=0.0
        Probability that a talkturn's words are a script line (step 7); the
        other columns and ``y`` are the same as without it.
    random_state : int, RandomState instance or None, default=None
        Seed of the generator.

    Returns
    -------
    X : DataFrame
        The talkturn frame: ``conversation, turn, speaker, speaker_label, text,
        start, end``, the action unit columns ``AU05_r ... AU25_c``, ``smile``
        and the tone columns ``tone_neutrality ... tone_fear``; then
        ``noise_a, noise_b, conflict`` with ``planted_features=True``.
    y : Series
        One label per row of ``X``, named ``"emotion"`` or ``"valence"``.

    See Also
    --------
    make_feature_files : Write the nonverbal features of ``X`` as OpenFace
        frame files and a Vokaturi table, to run the readers and the aligner.

    Examples
    --------
    >>> from skhanrock.datasets import make_conversations
    >>> X, y = make_conversations(n_conversations=20, random_state=0)
    >>> X[["conversation", "turn", "speaker", "text"]].head(2).shape
    (2, 4)
    >>> sorted(y.dropna().unique())
    ['angry', 'happy', 'neutral', 'sad']

    Planted useless and harmful features, to test the choice of auxiliary tasks:

    >>> planted, same_y = make_conversations(n_conversations=20, planted_features=True,
    ...                                      random_state=0)
    >>> list(planted.columns[-3:]), bool(same_y.equals(y))
    (['noise_a', 'noise_b', 'conflict'], True)
    """
    _check_generator_arguments(n_conversations, min_turns, max_turns, target_type, signal_words,
                               persistence, unlabelled_fraction, label_noise)
    if not 0.0 <= scripted <= 1.0:
        raise ValueError(f"scripted must lie in [0, 1], got {scripted}.")
    rng = check_random_state(random_state)
    n_speakers = max(2, n_conversations // 2) if n_speakers is None else int(n_speakers)
    if n_speakers < 2:
        raise ValueError(f"n_speakers must be at least 2, got {n_speakers}.")
    speakers = _draw_speakers(n_speakers, rng)
    frames = [
        _one_conversation(f"conv{c:03d}", speakers, rng, min_turns, max_turns,
                          signal_words, persistence)
        for c in range(n_conversations)
    ]
    X = pd.concat(frames, ignore_index=True)
    emotion = X.pop("_emotion")
    valence_bias = X.pop("_valence_bias")
    unlabelled = rng.random_sample(len(X)) < unlabelled_fraction
    # Drawn only when asked for, so that the default data stay as they were.
    annotated = _disagreeing_annotator(emotion, label_noise, rng) if label_noise else emotion
    if target_type == "classification":
        y = annotated.astype(object).where(~unlabelled, None).rename("emotion")
    else:
        valence = annotated.map(_VALENCE).to_numpy() + valence_bias.to_numpy()
        valence = np.clip(valence + rng.normal(0.0, 0.3, len(X)), 1.0, 5.0)
        y = pd.Series(np.where(unlabelled, np.nan, valence), name="valence")
    if planted_features:
        # Drawn last, so that the other columns and y do not depend on the option.
        _add_planted_features(X, emotion, rng)
    if scripted:
        # Drawn after everything else, for the same reason.
        _perform_script(X, emotion, scripted, rng)
    return X, y


_SCRIPT_LENGTHS = range(4, 15)  # the word counts of _talkturn_text
_LINES_PER_EMOTION_AND_LENGTH = 3


def _perform_script(X, emotion, scripted, rng):
    """Replace a fraction ``scripted`` of the texts by script lines of their emotion and length."""
    pool = {(e, n): [_sentence(list(rng.choice(_FILLER, n))) for _ in
                     range(_LINES_PER_EMOTION_AND_LENGTH)]
            for e in EMOTIONS for n in _SCRIPT_LENGTHS}
    performed = np.flatnonzero(rng.random_sample(len(X)) < scripted)
    picks = rng.randint(_LINES_PER_EMOTION_AND_LENGTH, size=len(performed))
    texts = X["text"].to_numpy(dtype=object).copy()
    for row, pick in zip(performed, picks, strict=True):
        n_words = len(texts[row].split())
        texts[row] = pool[(emotion.iloc[row], n_words)][pick]
    X["text"] = texts


def _sentence(words):
    text = " ".join(words)
    return text[0].upper() + text[1:] + "."


def _disagreeing_annotator(emotion, label_noise, rng):
    """The annotated emotion: the hidden one, or with ``label_noise`` one of the others."""
    codes = pd.Categorical(emotion, categories=EMOTIONS).codes
    disagrees = rng.random_sample(len(codes)) < label_noise
    # An offset of 1-3 lands on each of the other three emotions with equal chance.
    offsets = rng.randint(1, len(EMOTIONS), len(codes))
    annotated = np.where(disagrees, (codes + offsets) % len(EMOTIONS), codes)
    return pd.Series(np.asarray(EMOTIONS)[annotated], index=emotion.index)


def _add_planted_features(X, emotion, rng):
    """Add the useless (``noise_*``) and harmful (``conflict``) columns in place."""
    n_rows = len(X)
    for name in ("noise_a", "noise_b"):
        X[name] = np.round(rng.normal(0.0, 1.0, n_rows), 4)
    conversations = pd.factorize(X["conversation"])[0]
    # Each shift serves as many conversations as the others (up to one), so that over
    # all conversations the target says as little about the emotion as it can.
    shifts = rng.permutation(np.arange(conversations.max() + 1) % len(EMOTIONS))
    shift = shifts[conversations]
    code = pd.Categorical(emotion, categories=EMOTIONS).codes
    X["conflict"] = np.round((code + shift) % len(EMOTIONS) + rng.normal(0.0, 0.3, n_rows), 4)


def _check_generator_arguments(n_conversations, min_turns, max_turns, target_type, signal_words,
                               persistence, unlabelled_fraction, label_noise=0.0):
    if int(n_conversations) < 1:
        raise ValueError(f"n_conversations must be at least 1, got {n_conversations}.")
    if not 1 <= min_turns <= max_turns:
        raise ValueError(
            f"min_turns and max_turns must satisfy 1 <= min_turns <= max_turns, "
            f"got {min_turns} and {max_turns}."
        )
    if target_type not in ("classification", "regression"):
        raise ValueError(f"target_type must be 'classification' or 'regression', got "
                         f"{target_type!r}.")
    for name, value, upper_open in (("signal_words", signal_words, False),
                                    ("persistence", persistence, True),
                                    ("unlabelled_fraction", unlabelled_fraction, True),
                                    ("label_noise", label_noise, True)):
        if not (0.0 <= value < 1.0 if upper_open else 0.0 <= value <= 1.0):
            raise ValueError(f"{name} must lie in [0, 1{')' if upper_open else ']'}, got {value}.")


def _draw_speakers(n_speakers, rng):
    return pd.DataFrame({
        "speaker": [f"spk{s:03d}" for s in range(n_speakers)],
        "speaker_label": rng.choice(["woman", "man"], n_speakers),
        "words_per_minute": rng.uniform(130, 190, n_speakers),
        "pause": rng.uniform(0.2, 0.6, n_speakers),
        "valence_bias": rng.normal(0.0, 0.3, n_speakers),
        "tone_weight": rng.uniform(0.1, 0.4, n_speakers),
        "tone_baseline": list(rng.dirichlet(np.ones(len(_TONES)) * 2.0, n_speakers)),
    })


def _emotion_chain(n_turns, persistence, rng):
    states = np.empty(n_turns, dtype=np.int64)
    states[0] = rng.randint(len(EMOTIONS))
    switches = rng.random_sample(n_turns) >= persistence
    for t in range(1, n_turns):
        states[t] = rng.randint(len(EMOTIONS)) if switches[t] else states[t - 1]
    return states


def _one_conversation(conversation, speakers, rng, min_turns, max_turns, signal_words,
                      persistence):
    n_turns = rng.randint(min_turns, max_turns + 1)
    pair = speakers.iloc[rng.choice(len(speakers), 2, replace=False)].reset_index(drop=True)
    who = np.arange(n_turns) % 2
    if rng.random_sample() < 0.5:
        who = 1 - who
    people = pair.iloc[who].reset_index(drop=True)
    states = _emotion_chain(n_turns, persistence, rng)
    emotions = np.asarray(EMOTIONS)[states]

    texts, n_words = zip(*(_talkturn_text(e, signal_words, rng) for e in emotions), strict=True)
    rate = people["words_per_minute"].to_numpy() * np.array([_RATE_FACTOR[e] for e in emotions])
    rate *= rng.lognormal(0.0, 0.08, n_turns)
    duration = np.asarray(n_words) / rate * 60.0
    pause = people["pause"].to_numpy() * np.array([_PAUSE_FACTOR[e] for e in emotions])
    pause *= rng.lognormal(0.0, 0.3, n_turns)
    start = np.cumsum(pause) + np.r_[0.0, np.cumsum(duration)[:-1]]

    frame = pd.DataFrame({
        "conversation": conversation,
        "turn": np.arange(n_turns),
        "speaker": people["speaker"],
        "speaker_label": people["speaker_label"],
        "text": texts,
        "start": np.round(start, 3),
        "end": np.round(start + duration, 3),
    })
    for au, means in _AU_MEANS.items():
        intensity = np.asarray(means)[states] + rng.normal(0.0, 0.6, n_turns)
        frame[f"{au}_r"] = np.round(np.clip(intensity, 0.0, 5.0), 3)
        always_present = intensity + rng.normal(0.0, 0.5, n_turns) > 1.8
        frame[f"{au}_c"] = always_present.astype(float)
    smile_run = (frame["AU06_r"] + frame["AU12_r"] + rng.normal(0.0, 0.7, n_turns)) > 3.5
    frame["smile"] = smile_run.astype(float)
    baseline = np.vstack(people["tone_baseline"])
    weight = people["tone_weight"].to_numpy()[:, None]
    emotional = np.vstack([rng.dirichlet(_TONE_ALPHA[e]) for e in emotions])
    tones = weight * baseline + (1.0 - weight) * emotional
    for j, tone in enumerate(_TONES):
        frame[f"tone_{tone}"] = np.round(tones[:, j], 4)
    frame["_emotion"] = emotions
    frame["_valence_bias"] = people["valence_bias"].to_numpy()
    return frame


def _talkturn_text(emotion, signal_words, rng):
    n_words = rng.randint(4, 15)
    words = []
    for _ in range(n_words):
        if rng.random_sample() < signal_words:
            source = emotion if rng.random_sample() < 0.8 else EMOTIONS[rng.randint(4)]
            words.append(_WORDS[source][rng.randint(len(_WORDS[source]))])
        else:
            words.append(_FILLER[rng.randint(len(_FILLER))])
    return _sentence(words), n_words
