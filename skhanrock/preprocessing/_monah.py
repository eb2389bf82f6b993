"""MONAH: nonverbal cues woven into the transcript as narratives."""

from collections.abc import Mapping

import numpy as np
import pandas as pd
from sklearn.utils.validation import check_is_fitted

from .._utils.frame import (
    check_numeric_columns,
    check_talkturn_frame,
    conversation_sort_order,
    refuse_rows,
    text_as_strings,
)
from .._utils.validation import check_number, is_finite_number
from .._utils.zscores import earlier_speaker_z, earlier_z
from ._base import FrameTransformer, replaced_parameters

__all__ = ["DEFAULT_ACTIONS", "MEASUREMENT_MEANINGS", "MonahNarrator", "MonahTranscriber",
           "hundreds_in_words"]

#: Action units and the words MONAH uses for them.
DEFAULT_ACTIONS = {
    "AU05": "raised upper lid",
    "AU17": "raised chin",
    "AU20": "stretched lip",
    "AU25": "dropped jaw",
}
# Tones in order of precedence when several fire: sad over angry over happy.
_TONES = (("tone_sadness", "sadly"), ("tone_anger", "angrily"), ("tone_happiness", "happily"))
# Open prosody cues (columns of skhanrock.datasets.extract_prosody): the column, the
# threshold parameter its z-score is held against, the word above +threshold and the
# word below -threshold. Loudness is a manner of saying; pitch level and contour
# make the "in a ... pitch" phrase.
_OPEN_PROSODY = (("intensity_db", "loudness_threshold", "loudly", "softly"),
                 ("pitch_median_hz", "pitch_threshold", "high", "low"),
                 ("pitch_slope", "pitch_threshold", "rising", "falling"))
#: What a column may mean in ``MonahTranscriber(measurements=...)``, and the column read
#: for it when none is named (None: not voiced then; a speech rate is computed from the
#: times and words instead).
MEASUREMENT_MEANINGS = {"loudness": "intensity_db", "pitch": "pitch_median_hz",
                        "pitch_spread": None, "speech_rate": None, "voice_quality": None}
# Manner cues voiced only from a column the user names: meaning, threshold parameter,
# word above +threshold, word below -threshold.
_NAMED_CUES = (("pitch_spread", "pitch_threshold", "expressively", "monotonously"),
               ("voice_quality", "voice_threshold", "clearly", "hoarsely"))
# Flags narrated whatever ``actions`` says: a smile, and AU12 alone.
_EXPRESSIONS = (("smile", "smiled"), ("AU12_c", "displayed a positive expression"))
_ROLE_PARAMETERS = ("conversation_column", "turn_column", "speaker_column",
                    "speaker_label_column", "text_column", "start_column", "end_column")
_RATE_WORDS = ("very slowly", "slowly", None, "quickly", "very quickly")
_DELAY_WORDS = (None, "a short delay", "a slightly long delay", "a long delay",
                "a significantly long delay")
_NUMBER_WORDS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine",
                 "ten", "eleven", "twelve"]


def hundreds_in_words(milliseconds, largest=12):
    """Spoken length of a pause: ``"after N hundred milliseconds"``.

    N is the number of whole hundreds, in words; above ``largest`` hundred
    milliseconds it is ``"more than twelve"``.

    Parameters
    ----------
    milliseconds : float
        Length of the pause, at least 0.
    largest : int, default=12
        Most hundreds spelled out (at most twelve); longer pauses read
        "more than <largest>".

    Returns
    -------
    str
        The phrase MONAH writes before the speaker.

    Examples
    --------
    >>> hundreds_in_words(250)
    'after two hundred milliseconds'
    >>> hundreds_in_words(1200), hundreds_in_words(1201)
    ('after twelve hundred milliseconds', 'after more than twelve hundred milliseconds')
    """
    if isinstance(largest, bool) or not isinstance(largest, (int, np.integer)) \
            or not 0 <= largest < len(_NUMBER_WORDS):
        raise ValueError(f"largest must be an integer in [0, {len(_NUMBER_WORDS) - 1}], "
                         f"got {largest!r}.")
    if not milliseconds >= 0:
        raise ValueError(f"milliseconds must be a non-negative number, got {milliseconds!r}.")
    if milliseconds > largest * 100:
        return f"after more than {_NUMBER_WORDS[largest]} hundred milliseconds"
    return f"after {_NUMBER_WORDS[int(milliseconds // 100)]} hundred milliseconds"


def _check_edges(name, edges):
    """Refuse bin edges that are not 4 finite, strictly increasing numbers."""
    items = None if isinstance(edges, (str, bytes)) or not np.iterable(edges) else list(edges)
    if items is None or len(items) != 4 or not all(map(is_finite_number, items)) \
            or np.any(np.diff(np.asarray(items, dtype=float)) <= 0):
        raise ValueError(f"{name} must be 4 finite, strictly increasing numbers, got {edges!r}.")


def _check_actions(actions):
    """Refuse ``actions`` unless it is None or a dict from action unit name to words."""
    if actions is None:
        return
    if not isinstance(actions, Mapping):
        raise ValueError(
            "actions must be None or a dict from action unit name (e.g. 'AU05', read from "
            f"the column 'AU05_c') to the words narrated for it, got {actions!r}.")
    for unit, words in actions.items():
        if not isinstance(unit, str) or not unit:
            raise ValueError(f"actions keys must be action unit names (non-empty str, e.g. "
                             f"'AU05'), got {unit!r}.")
        if not isinstance(words, str) or not words.strip():
            raise ValueError(f"actions[{unit!r}] must be the words narrated for {unit} "
                             f"(non-empty str), got {words!r}.")


def _tone_probabilities(X, column):
    """The tone column as floats, refused outside [0, 1] (NaN is a missing tone).

    Vokaturi's tones are probabilities; percentages (50 for 0.5) would be
    z-scored all the same, and the narratives would silently change.
    """
    values = check_numeric_columns(X, [column])[:, 0]
    refuse_rows(X, column, "X", (values < 0) | (values > 1),
                "outside [0, 1]: Vokaturi tones are probabilities (divide percentages by 100).")
    return values


def _bin_word(z, edges, words):
    """Word of the half-open bin ``[edge_i, edge_i+1)`` that ``z`` falls in; None if NaN."""
    if np.isnan(z):
        return None
    return words[int(np.searchsorted(edges, z, side="right"))]


class MonahTranscriber(FrameTransformer):
    """Weave nonverbal cues into each talkturn's text (the MONAH narrative).

    Adds a ``narrative`` column following the MONAH rules; the template is
    ``"the <speaker> <actions> <delay> the <speaker> <tone> and <loudness> and
    <rate> said <pitch> <text>."`` where each part appears only when its cue
    fired:

    - actions (cue ``a``): an action unit whose ``AUxx_c`` flag is 1 (present
      in every frame of the talkturn), ``smiled`` when the ``smile`` flag is 1
      (AU06 and AU12 together for at least 0.5 s), ``displayed a positive
      expression`` when ``AU12_c`` is 1;
    - tone (cue ``p``): a Vokaturi probability whose z-score against the
      same speaker's earlier talkturns exceeds ``tone_threshold`` gives
      ``happily``, ``angrily`` or ``sadly`` (sad wins over angry over happy);
      a tone outside [0, 1] is an error naming the column and the row (NaN
      is a missing tone);
    - speech rate (cue ``p``): words per minute, z-scored the same way, in
      the bins ``rate_edges``: very slowly, slowly, (nothing), quickly, very
      quickly; a talkturn without words or without a positive duration has no
      rate, and is left out of the speaker's statistics too;
    - delay (cue ``p``): a pause of at least ``min_delay`` seconds before a
      change of speaker, attached to the talkturn after the pause: ``after N
      hundred milliseconds`` followed by a short / slightly long / long /
      significantly long delay for the pause's z-score in the bins
      ``delay_edges`` (nothing below the first edge);
    - loudness and pitch (cue ``p``, when the frame has the open prosody
      columns of :func:`~skhanrock.datasets.extract_prosody`): ``intensity_db``
      z-scored the same way gives ``loudly`` above ``loudness_threshold`` and
      ``softly`` below its negative; ``pitch_median_hz`` and ``pitch_slope``
      against ``pitch_threshold`` give ``in a high`` / ``low`` and ``rising`` /
      ``falling`` ``pitch`` after "said" (``in a high and rising pitch``);
    - your own measurements (cue ``p``, ``measurements``): columns named for
      ``loudness`` or ``pitch`` replace ``intensity_db`` or
      ``pitch_median_hz`` above; one named for ``speech_rate`` replaces the
      words per minute (and needs no times); ``pitch_spread`` against
      ``pitch_threshold`` gives ``expressively`` / ``monotonously`` and
      ``voice_quality`` (for example a harmonics-to-noise ratio) against
      ``voice_threshold`` gives ``clearly`` / ``hoarsely``, beside
      ``loudly`` / ``softly``.

    z-scores use only the *earlier* talkturns of the same speaker in the same
    conversation, at least ``min_history`` of them with a non-zero spread, so
    the narrative of a row never depends on later rows. Missing features leave
    their cue out. The transformer learns nothing from data, but it must be
    fitted: ``transform`` refuses a frame whose columns are not those of ``fit``.

    Parameters
    ----------
    cues : str, default="vpa"
        The MONAH cues to narrate: ``v`` verbatim words, ``p`` prosody (tone,
        rate, delay; loudness and pitch from open prosody columns), ``a``
        actions. The verbatim words are always included.
    actions : dict or None, default=None
        Action unit name (str; its flag is the column ``<name>_c``) to the
        words narrated for it (non-empty str); None uses
        :data:`~skhanrock.preprocessing.DEFAULT_ACTIONS`.
    tone_threshold : float, default=2.0
        A tone is voiced when its z-score is strictly above this; finite.
    rate_edges : tuple of 4 floats, default=(-2, -1, 1, 2)
        Edges of the speech-rate z bins ``[-inf, e0)`` very slowly, ``[e0, e1)``
        slowly, ``[e2, e3)`` quickly, ``[e3, inf)`` very quickly; finite and
        strictly increasing.
    min_delay : float, default=0.2
        Shortest pause, in seconds, that is narrated; finite and at least 0
        (overlapping talkturns have no pause to narrate).
    delay_edges : tuple of 4 floats, default=(-1, 0, 1, 2)
        Edges of the pause z bins: a short, slightly long, long and
        significantly long delay from ``e0`` on; no qualifier below ``e0``;
        finite and strictly increasing.
    min_history : int, default=2
        Earlier talkturns of the speaker needed for a z-score; an integer of
        at least 1.
    conversation_column, turn_column, speaker_column, speaker_label_column, \
text_column, start_column, end_column : str
        Column roles. Without ``speaker_label`` the speaker is "the speaker";
        without times there is no rate or delay.
    output_column : str, default="narrative"
        Column the narratives are written to. It may not be a column the
        transcriber reads (a column role above, an ``actions`` flag,
        ``smile``, ``AU12_c`` or a tone), which the narratives would overwrite.
    loudness_threshold : float, default=3.0
        ``loudly`` when the intensity's z-score is strictly above this,
        ``softly`` when strictly below its negative; finite and positive.
        3, not the tone cue's 2: on IEMOCAP's real measurements 2 voiced
        loudness or pitch in about a fifth of the talkturns, most often where
        the speaker's history was shortest, and made the narrative a worse
        input (user guide, "Nonverbal measurements"); 2.0 gives the rule of
        earlier versions.
    pitch_threshold : float, default=3.0
        The same for the pitch level (high, low) and contour (rising,
        falling), and for ``pitch_spread``; finite and positive.
    measurements : dict or None, default=None
        Which of your columns means what: ``{meaning: column}`` with meanings
        among ``"loudness"``, ``"pitch"`` (level), ``"pitch_spread"``,
        ``"speech_rate"`` and ``"voice_quality"``
        (:data:`~skhanrock.preprocessing.MEASUREMENT_MEANINGS`), so that
        measurements from any tool are voiced under their own names. The same dict given to
        :class:`~skhanrock.AuxiliaryTargets` as ``columns=`` makes them
        auxiliary targets named by their meaning. A named column must be in
        the frame at ``fit``. None: the default columns above.
    voice_threshold : float, default=3.0
        The threshold of the ``voice_quality`` cue; finite and positive.

    Attributes
    ----------
    feature_names_in_ : ndarray of str
        Columns of the frame seen in ``fit``; ``transform`` accepts these.
    n_features_in_ : int
        Number of those columns.

    Examples
    --------
    >>> import pandas as pd
    >>> from skhanrock import MonahTranscriber
    >>> X = pd.DataFrame({"conversation": [1, 1], "turn": [0, 1],
    ...                   "speaker": ["a", "b"], "speaker_label": ["man", "woman"],
    ...                   "text": ["Hello there.", "no."], "start": [0.0, 2.5],
    ...                   "end": [2.0, 3.0], "AU17_c": [0.0, 1.0]})
    >>> MonahTranscriber().fit_transform(X)["narrative"].tolist()
    ['the man said hello there.', 'the woman raised chin after five hundred milliseconds \
the woman said no.']
    """

    # "families" names the auxiliary target families of AuxiliaryTargets.
    @replaced_parameters(families="cues")
    def __init__(self, cues="vpa", actions=None, tone_threshold=2.0,
                 rate_edges=(-2.0, -1.0, 1.0, 2.0), min_delay=0.2,
                 delay_edges=(-1.0, 0.0, 1.0, 2.0), min_history=2,
                 conversation_column="conversation", turn_column="turn",
                 speaker_column="speaker", speaker_label_column="speaker_label",
                 text_column="text", start_column="start", end_column="end",
                 output_column="narrative", loudness_threshold=3.0, pitch_threshold=3.0,
                 measurements=None, voice_threshold=3.0):
        self.cues = cues
        self.actions = actions
        self.tone_threshold = tone_threshold
        self.rate_edges = rate_edges
        self.min_delay = min_delay
        self.delay_edges = delay_edges
        self.min_history = min_history
        self.conversation_column = conversation_column
        self.turn_column = turn_column
        self.speaker_column = speaker_column
        self.speaker_label_column = speaker_label_column
        self.text_column = text_column
        self.start_column = start_column
        self.end_column = end_column
        self.output_column = output_column
        self.loudness_threshold = loudness_threshold
        self.pitch_threshold = pitch_threshold
        self.measurements = measurements
        self.voice_threshold = voice_threshold

    def _check_parameters(self):
        """Check the parameters; return the cues."""
        cues = self.cues
        if not isinstance(cues, str) or set(cues) - set("vpa"):
            raise ValueError(
                f"cues must be letters among 'v' (verbatim), 'p' (prosody) and 'a' "
                f"(actions), got {cues!r}.")
        _check_actions(self.actions)
        check_number("tone_threshold", self.tone_threshold)
        self._named_measurements()
        for name in ("loudness_threshold", "pitch_threshold", "voice_threshold"):
            check_number(name, getattr(self, name), low=0, low_open=True)
        for name in ("rate_edges", "delay_edges"):
            _check_edges(name, getattr(self, name))
        # A negative threshold would narrate overlaps as negative pauses.
        check_number("min_delay", self.min_delay, low=0)
        check_number("min_history", self.min_history, low=1, integer=True)
        self._check_output_column()
        return cues

    def _check_output_column(self):
        """Refuse an output column that would overwrite a column the transcriber reads."""
        if not isinstance(self.output_column, str):
            raise ValueError(f"output_column must be a column name (str), "
                             f"got {self.output_column!r}.")
        read = {column: "an action flag" for column, _ in self._action_cues()}
        read.update({column: "a tone feature" for column, _ in _TONES})
        read.update({column: "an open prosody feature" for column, *_ in _OPEN_PROSODY})
        read.update({column: f"measurements[{meaning!r}]"
                     for meaning, column in self._named_measurements().items()})
        read.update({getattr(self, name): name for name in _ROLE_PARAMETERS})
        if self.output_column in read:
            raise ValueError(
                f"output_column={self.output_column!r} names a column the transcriber reads "
                f"({read[self.output_column]}), which the narratives would overwrite; choose "
                "another name, e.g. 'narrative'.")

    def _check_frame(self, X):
        return check_talkturn_frame(
            X, conversation_column=self.conversation_column, turn_column=self.turn_column,
            required=[self.speaker_column, self.text_column])

    def fit(self, X, y=None):
        """Check the parameters and the frame; nothing is learnt.

        Parameters
        ----------
        X : DataFrame
            Talkturn frame.
        y : ignored
            Present for the pipeline API.

        Returns
        -------
        self : MonahTranscriber
            The transformer, with ``feature_names_in_`` set.
        """
        self._check_parameters()
        frame = self._check_frame(X)
        absent = {m: c for m, c in self._named_measurements().items() if c not in frame.columns}
        if absent:
            raise ValueError(f"measurements names column(s) {absent} that X does not have.")
        return self._fit_columns(frame)

    def _named_measurements(self):
        """``measurements`` checked: ``{meaning: column}``, empty for None."""
        if self.measurements is None:
            return {}
        if not isinstance(self.measurements, Mapping):
            raise ValueError(f"measurements must be None or a dict {{meaning: column}}, got "
                             f"{self.measurements!r}.")
        unknown = [m for m in self.measurements if m not in MEASUREMENT_MEANINGS]
        if unknown:
            raise ValueError(f"measurements: unknown meaning(s) {unknown}; the meanings are "
                             f"{list(MEASUREMENT_MEANINGS)}.")
        return dict(self.measurements)

    def _open_prosody_cues(self):
        """``(key, column, threshold, above, below)`` of every open prosody cue.

        ``key`` names the cue's words and history whatever column it reads.
        """
        named = self._named_measurements()
        defaults = {column: meaning for meaning, column in MEASUREMENT_MEANINGS.items()
                    if column}
        cues = [(key, named.get(defaults.get(key), key), *rest)
                for key, *rest in _OPEN_PROSODY]
        return cues + [(meaning, named[meaning], *rest) for meaning, *rest in _NAMED_CUES
                       if meaning in named]

    def _measured_rates(self, ordered):
        """The speech rates of the column named ``speech_rate``, or None without one."""
        column = self._named_measurements().get("speech_rate")
        return None if column is None else check_numeric_columns(ordered, [column])[:, 0]

    def _transform(self, X):
        # Nothing is learnt: the parameters as they are now (set_params after fit) decide.
        cues = self._check_parameters()
        frame = self._check_frame(X)
        order = conversation_sort_order(frame, self.conversation_column, self.turn_column)
        narratives = np.empty(len(frame), dtype=object)
        narratives[order] = self._narratives(frame.iloc[order], cues)
        output = frame.copy()
        output[self.output_column] = narratives
        return output

    def _added_columns(self):
        return [self.output_column]

    # ------------------------------------------------------------- the cues
    def _earlier_z(self, ordered, values):
        """z-score of each value against the same speaker's earlier values in the conversation."""
        return earlier_speaker_z(np.asarray(values, dtype=float)[:, None],
                                 ordered[self.conversation_column].to_numpy(),
                                 ordered[self.speaker_column].to_numpy(), self.min_history)[:, 0]

    def _action_cues(self):
        """(flag column, words) of every action cue, in narration order."""
        actions = DEFAULT_ACTIONS if self.actions is None else self.actions
        return [(f"{au}_c", words) for au, words in actions.items()] + list(_EXPRESSIONS)

    def _actions(self, ordered):
        present = [(column, words) for column, words in self._action_cues()
                   if column in ordered.columns]
        if not present:
            return [[] for _ in range(len(ordered))]
        flags = check_numeric_columns(ordered, [c for c, _ in present]) == 1
        return [[words for (_, words), on in zip(present, row, strict=True) if on]
                for row in flags]

    def _tones(self, ordered):
        tones = [[] for _ in range(len(ordered))]
        for column, word in _TONES:
            if column not in ordered.columns:
                continue
            z = self._earlier_z(ordered, _tone_probabilities(ordered, column))
            for i in np.flatnonzero(z > self.tone_threshold):
                tones[i].append(word)
        return [t[0] if t else None for t in tones]

    def _open_prosody(self, ordered):
        """Per row, the loudness word and the pitch phrase (None where no cue fired)."""
        words = {}
        for key, column, threshold, above, below in self._open_prosody_cues():
            if column in ordered.columns:
                z = self._earlier_z(ordered, check_numeric_columns(ordered, [column])[:, 0])
                words[key] = [_signed_word(v, getattr(self, threshold), above, below)
                                 for v in z]
        return _open_prosody_words(words, len(ordered))

    def _times(self, ordered):
        if self.start_column not in ordered.columns or self.end_column not in ordered.columns:
            return None
        times = check_numeric_columns(ordered, [self.start_column, self.end_column])
        backwards = times[:, 1] < times[:, 0]
        if backwards.any():
            row = ordered.index[np.flatnonzero(backwards)[0]]
            raise ValueError(
                f"Talkturn at row {row!r} ends ({times[backwards][0, 1]}) before it starts "
                f"({times[backwards][0, 0]}): {self.end_column!r} must be >= "
                f"{self.start_column!r}.")
        return times

    def _rates(self, ordered, texts, times):
        rates = self._measured_rates(ordered)
        if rates is None and times is None:
            return [None] * len(ordered)
        z = self._earlier_z(ordered, _words_per_minute(texts, times) if rates is None else rates)
        return [self._rate_word(v) for v in z]

    def _rate_word(self, z):
        return _bin_word(z, np.asarray(self.rate_edges, dtype=float), _RATE_WORDS)

    def _delays(self, ordered, times):
        if times is None:
            return [None] * len(ordered)
        conversation = ordered[self.conversation_column].to_numpy()
        speaker = ordered[self.speaker_column].to_numpy()
        follows_other = np.r_[False, (conversation[1:] == conversation[:-1])
                              & (speaker[1:] != speaker[:-1])]
        pause = np.full(len(ordered), np.nan)
        pause[1:] = _pause(times[:-1, 1], times[1:, 0])
        pause[~follows_other] = np.nan
        z = self._earlier_z(ordered, pause)
        return [self._delay_words(seconds, z_value)
                for seconds, z_value in zip(pause, z, strict=True)]

    def _delay_words(self, seconds, z):
        """The narrated delay of a pause of ``seconds`` with z-score ``z``; None below ``min_delay``."""
        if np.isnan(seconds) or seconds < self.min_delay:
            return None
        words = hundreds_in_words(round(seconds * 1000, 3))
        qualifier = _bin_word(z, np.asarray(self.delay_edges, dtype=float), _DELAY_WORDS)
        return f"{words} {qualifier}" if qualifier else words

    def _speaker_labels(self, ordered):
        if self.speaker_label_column not in ordered.columns:
            return ["speaker"] * len(ordered)
        return [s if s else "speaker"
                for s in text_as_strings(ordered, self.speaker_label_column)]

    def columns_read(self):
        """The columns of the fitted frame that the narratives read, roles first.

        Returns
        -------
        list of str
            The conversation, turn, speaker and text columns, then those of the
            speaker label, times, action flags, tones and open prosody features
            that were in the frame seen by ``fit``.

        Examples
        --------
        >>> import pandas as pd
        >>> from skhanrock import MonahTranscriber
        >>> X = pd.DataFrame({"conversation": [1], "turn": [0], "speaker": ["a"],
        ...                   "text": ["hi"], "AU17_c": [1.0], "notes": ["x"]})
        >>> MonahTranscriber().fit(X).columns_read()
        ['conversation', 'turn', 'speaker', 'text', 'AU17_c']
        """
        check_is_fitted(self, "feature_names_in_")
        seen = {str(c) for c in self.feature_names_in_}
        roles = [self.conversation_column, self.turn_column, self.speaker_column,
                 self.text_column]
        optional = [self.speaker_label_column, self.start_column, self.end_column,
                    *(column for column, _ in self._action_cues()),
                    *(column for column, _ in _TONES),
                    *(column for column, *_ in _OPEN_PROSODY),
                    *self._named_measurements().values()]
        return roles + [c for c in dict.fromkeys(optional) if c in seen and c not in roles]

    def narrator(self):
        """A :class:`MonahNarrator` that narrates one conversation talkturn by talkturn.

        Returns
        -------
        MonahNarrator
            Its narratives equal those of :meth:`transform` on every prefix
            of the conversation.

        Examples
        --------
        >>> import pandas as pd
        >>> from skhanrock import MonahTranscriber
        >>> X = pd.DataFrame({"conversation": [1, 1], "turn": [0, 1],
        ...                   "speaker": ["a", "b"], "text": ["Hello there.", "no."],
        ...                   "start": [0.0, 2.5], "end": [2.0, 3.0]})
        >>> monah = MonahTranscriber().fit(X)
        >>> narrator = monah.narrator()
        >>> [narrator.narrate(X.iloc[[i]]) for i in range(2)]
        ['the speaker said hello there.', 'after five hundred milliseconds the speaker said no.']
        """
        check_is_fitted(self, "feature_names_in_")
        return MonahNarrator(self, self._check_parameters())

    def _narratives(self, ordered, cues):
        texts = text_as_strings(ordered, self.text_column)
        n = len(ordered)
        times = self._times(ordered)
        actions = self._actions(ordered) if "a" in cues else [[]] * n
        prosody = "p" in cues
        tones = self._tones(ordered) if prosody else [None] * n
        rates = self._rates(ordered, texts, times) if prosody else [None] * n
        delays = self._delays(ordered, times) if prosody else [None] * n
        loudness, pitch = self._open_prosody(ordered) if prosody else ([None] * n, [None] * n)
        return [_narrative(*parts) for parts in
                zip(self._speaker_labels(ordered), actions, delays, tones, rates, texts,
                    loudness, pitch, strict=True)]


class MonahNarrator:
    """MONAH narratives of one conversation, one talkturn at a time.

    Made by :meth:`MonahTranscriber.narrator`. It keeps, per speaker, the
    tone probabilities, speech rates and pauses of the earlier talkturns, so
    that each narrative costs the same however long the conversation has run
    and equals what the transcriber writes for the last row of the prefix.

    Parameters
    ----------
    transcriber : MonahTranscriber
        A fitted transcriber, whose rules are used.
    cues : str
        Its checked cues.

    Examples
    --------
    See :meth:`MonahTranscriber.narrator`.
    """

    def __init__(self, transcriber, cues):
        self.transcriber = transcriber
        self.cues = cues
        # speaker -> feature name -> earlier values (NaN where not measurable)
        self._history = {}
        self._previous = None  # (speaker, end time) of the last talkturn

    def narrate(self, talkturn):
        """Narrate the next talkturn of the conversation and remember its cues.

        Parameters
        ----------
        talkturn : DataFrame of one row
            With the columns the transcriber reads.

        Returns
        -------
        str
        """
        monah = self.transcriber
        [text] = text_as_strings(talkturn, monah.text_column)
        [speaker] = talkturn[monah.speaker_column].to_numpy()
        if isinstance(speaker, (list, dict, set, tuple, np.ndarray)):
            # The narrator keys each speaker's cue history by this value.
            raise TypeError(
                f"The speaker column {monah.speaker_column!r} holds a {type(speaker).__name__}; "
                "expected one speaker id (a string or a number).")
        times = monah._times(talkturn)
        history = {} if pd.isna(speaker) else self._history.setdefault(speaker, {})
        prosody = "p" in self.cues
        tone = rate = delay = None
        values, open_words = {}, {}
        if prosody:
            for column, _ in _TONES:
                if column in talkturn.columns:
                    values[column] = _tone_probabilities(talkturn, column)[0]
            voiced = [word for column, word in _TONES if column in values
                      and self._z(history, column, values[column]) > monah.tone_threshold]
            tone = voiced[0] if voiced else None
            for key, column, threshold, above, below in monah._open_prosody_cues():
                if column in talkturn.columns:
                    values[key] = check_numeric_columns(talkturn, [column])[0, 0]
                    open_words[key] = [_signed_word(
                        self._z(history, key, values[key]),
                        getattr(monah, threshold), above, below)]
        [loudness], [pitch] = _open_prosody_words(open_words, 1)
        measured = monah._measured_rates(talkturn)
        if prosody and (times is not None or measured is not None):
            values["rate"] = (_words_per_minute([text], times) if measured is None
                              else measured)[0]
            rate = monah._rate_word(self._z(history, "rate", values["rate"]))
        if prosody and times is not None:
            pause = np.nan
            if self._previous is not None and self._previous[0] != speaker:
                pause = float(_pause(self._previous[1], times[0, 0]))
            values["pause"] = pause
            delay = monah._delay_words(pause, self._z(history, "pause", pause))
        actions = monah._actions(talkturn)[0] if "a" in self.cues else []
        for name, value in values.items():
            history.setdefault(name, []).append(value)
        if times is not None:
            self._previous = (speaker, times[0, 1])
        return _narrative(monah._speaker_labels(talkturn)[0], actions, delay, tone, rate, text,
                          loudness, pitch)

    def _z(self, history, name, value):
        """z of ``value`` against the speaker's earlier values, as ``_earlier_z`` computes it."""
        earlier = np.asarray(history.get(name, ()), dtype=float)[:, None]
        return earlier_z(earlier, [value], self.transcriber.min_history)[0]


def _words_per_minute(texts, times):
    """Words per minute of each talkturn; NaN without words or a positive duration.

    A talkturn without words (no transcript, or silence) has no measurable
    rate: NaN keeps it out of the narrative and out of the speaker's running
    mean and spread.
    """
    words = np.array([len(t.split()) for t in texts], dtype=float)
    duration = times[:, 1] - times[:, 0]
    measurable = (duration > 0) & (words > 0)
    return np.where(measurable, words / np.where(measurable, duration, 1) * 60, np.nan)


def _pause(previous_end, start):
    # Rounded to the microsecond, so that 1.2 s - 1.0 s counts as the 200 ms it is.
    return np.round(start - previous_end, 6)


def _signed_word(z, threshold, above, below):
    """``above`` for z > threshold, ``below`` for z < -threshold, else None (NaN too)."""
    if z > threshold:
        return above
    if z < -threshold:
        return below
    return None


def _open_prosody_words(words, n):
    """The manner words (loudness, pitch spread, voice quality) and pitch phrases of ``n`` rows."""
    manners = zip(*(words.get(key, [None] * n)
                    for key in ("intensity_db", "pitch_spread", "voice_quality")), strict=True)
    loudness = [" and ".join(w for w in manner if w) or None for manner in manners]
    levels = words.get("pitch_median_hz", [None] * n)
    contours = words.get("pitch_slope", [None] * n)
    pitch = []
    for level, contour in zip(levels, contours, strict=True):
        described = " and ".join(w for w in (level, contour) if w)
        pitch.append(f"in a {described} pitch" if described else None)
    return loudness, pitch


def _narrative(speaker, actions, delay, tone, rate, text, loudness=None, pitch=None):
    parts = []
    if actions:
        parts.append(f"the {speaker} " + " and ".join(actions))
    if delay:
        parts.append(delay)
    manner = " and ".join(w for w in (tone, loudness, rate) if w)
    parts.append(f"the {speaker} {manner} said" if manner else f"the {speaker} said")
    if pitch:
        parts.append(pitch)
    spoken = text.strip().lower()
    if spoken:
        parts.append(spoken)
    sentence = " ".join(parts)
    return sentence if sentence.endswith((".", "!", "?")) else sentence + "."
