"""Preprocessed features reused as auxiliary training targets."""

import warnings
from collections.abc import Mapping

import numpy as np
from sklearn.preprocessing import QuantileTransformer

from .._utils.frame import (
    AUX_PREFIX,
    LABEL_OFFSETS_ATTR,
    canonical_codes,
    check_dataframe,
    check_numeric_columns,
    check_talkturn_frame,
    conversation_sort_order,
    text_as_strings,
)
from .._utils.labels import DEFAULT_LABEL_OFFSETS, check_label_offsets
from .._utils.targets import check_labels, regression_labels
from .._utils.validation import check_number
from ._base import FrameTransformer, TargetTypeMixin, replaced_parameters

__all__ = ["ACTION_TARGETS", "OPEN_PROSODY_TARGETS", "PROSODY_TARGETS", "TIMING_TARGETS",
           "AuxiliaryTargets"]

#: Family ``a``: target name to feature column (mean action unit intensities).
ACTION_TARGETS = {"AU05": "AU05_r", "AU17": "AU17_r", "AU20": "AU20_r", "AU25": "AU25_r"}
#: Family ``p``: target name to feature column (Vokaturi tone probabilities).
PROSODY_TARGETS = {"happy": "tone_happiness", "sad": "tone_sadness", "angry": "tone_anger",
                   "fear": "tone_fear"}
#: Family ``o``: target name to feature column (open prosody measured from the audio by
#: :func:`skhanrock.datasets.extract_prosody`): the paper's prosody family without Vokaturi.
OPEN_PROSODY_TARGETS = {"pitch": "pitch_median_semitones_speaker",
                        "pitch_range": "pitch_range_semitones", "pitch_slope": "pitch_slope",
                        "loudness": "intensity_db", "voicing": "voiced_fraction",
                        "harmonicity": "hnr_db"}
_FAMILIES = {"a": ACTION_TARGETS, "p": PROSODY_TARGETS, "o": OPEN_PROSODY_TARGETS}
#: Family ``t``: timing quantities computed from the start/end times and the text,
#: not read from a column; their targets are named after them (``aux:pause``).
TIMING_TARGETS = ("duration", "speech_rate", "pause", "overlap")
# Label scales of the paper's regression corpora: IEMOCAP rates 1..5, SEMAINE -1..1.
_RANGE_PRESETS = {"iemocap": (1.0, 5.0), "semaine": (-1.0, 1.0)}
# Farthest past or future label one family may request. The paper uses 4; every offset
# adds an output head and a loss term to the network and a mutual-information estimate,
# so a mistyped offset (10**5) is refused instead of building that many tasks.
_MAX_LABEL_OFFSET = 64


def _offsets_of_counts(given):
    """The ``label_offsets`` that the removed ``history``/``future`` counts in ``given`` meant."""
    counts = {name: given.get(name, 4) for name in ("history", "future")}
    if not all(isinstance(c, int) and 0 <= c <= _MAX_LABEL_OFFSET for c in counts.values()):
        return DEFAULT_LABEL_OFFSETS
    families = given.get("families", "hf")
    past = range(-counts["history"], 0) if "h" in families else ()
    return (*past, *(range(1, counts["future"] + 1) if "f" in families else ()))


class AuxiliaryTargets(TargetTypeMixin, FrameTransformer):
    """Turn preprocessed features into auxiliary targets (``aux:<name>`` columns).

    Each feature becomes its percentile rank among the *training* rows
    (scikit-learn's :class:`~sklearn.preprocessing.QuantileTransformer`, with
    exact quantiles so that a fit is reproducible), scaled to the primary
    target's range, so that every auxiliary loss lives on the primary task's
    scale. Missing features give missing targets, which the estimator leaves
    out of the loss.

    The timing family (``t``) is computed, not read from a column: per
    talkturn, from the ``start``/``end`` times (seconds) and the text, in the
    order of the turns within each conversation,

    - ``aux:duration``: ``end - start``;
    - ``aux:speech_rate``: words (whitespace-separated) per second; missing
      for a talkturn without words or of zero duration;
    - ``aux:pause``: ``start`` minus the previous talkturn's ``end`` in the
      same conversation (negative when the two overlap); missing for the first
      talkturn of a conversation;
    - ``aux:overlap``: ``max(0, previous end - start)``, missing where the
      pause is.

    A talkturn without times (or next to one, for the pause and overlap) gets
    missing timing targets. Like the other families, each quantity becomes its
    percentile rank among the training rows.

    The range (``target_range_``) is, in order of precedence:

    1. ``target_range`` when it is ``(low, high)`` or a preset:
       ``"iemocap"`` is (1, 5) (IEMOCAP valence, activation, dominance:
       ``p * 4 + 1``), ``"semaine"`` is (-1, 1) (SEMAINE traces: ``p * 2 - 1``);
    2. (0, 1), the percentiles themselves, for a classification target or when
       ``fit`` gets no ``y``;
    3. for a regression target, the smallest and largest labelled ``y`` among
       the training rows. A preset or an explicit range is the principled
       choice when the label scale is known, since a training sample need not
       reach the ends of the scale.

    The transformer cannot see the pipeline's estimator, so ``target_type="auto"``
    decides from ``y`` by the rule of
    :func:`~skhanrock.preprocessing.is_classification_target`: floats are
    regression targets (with a warning when they are all whole numbers, as
    class codes with ``NaN`` for unlabelled rows would be); strings, booleans,
    categoricals and integers are classes. Pass ``target_type`` to decide
    yourself.

    The history and future families (``h``, ``f``) need the labels, which a
    transformer does not see at prediction time: this step only records the
    requested ``label_offsets`` in the frame's ``attrs``, and the estimator
    (whose ``label_offsets`` parameter speaks the same vocabulary) builds those
    targets from ``y`` in ``fit``.

    Parameters
    ----------
    families : str, default="ap"
        Letters among ``a`` (actions: AU05, AU17, AU20, AU25 intensities),
        ``p`` (prosody: happy, sad, angry, fear tone), ``o`` (open prosody
        from the audio: pitch against the speaker, pitch range and slope,
        loudness, voicing, harmonicity; see
        :func:`~skhanrock.datasets.extract_prosody`), ``t`` (timing:
        duration, speech rate, pause, overlap; see above), ``h`` (past labels)
        and ``f`` (future labels); ``""`` for none.
    columns : dict, list or None, default=None
        Further feature columns to reuse as targets: a list of column names,
        or a dict from target name to column (a bare string is refused: write
        ``["AU05_r"]``).
    target_range : "auto", "iemocap", "semaine" or (low, high), default="auto"
        Range the percentiles are scaled to (see above).
    target_type : {"auto", "classification", "regression"}, default="auto"
        Kind of primary target; only used to choose the range when
        ``target_range="auto"``.
    label_offsets : "auto" or collection of int, default="auto"
        The past (< 0) and future (> 0) labels the ``h`` and ``f`` families
        request, written as the estimator's ``label_offsets``: ``-1`` is the
        previous talkturn's label. "auto" is the paper's -4..-1 for ``h`` and
        1..4 for ``f``; a collection such as ``(-2, -1, 1)`` names them, with
        negative offsets only when ``h`` is requested, positive ones only
        with ``f``, and at least one for each of them. At most 64 talkturns
        away: each offset adds an output head, a loss term and a
        mutual-information estimate. (It replaces the counts ``history`` and
        ``future``: ``history=2, future=2`` is ``(-2, -1, 1, 2)``.)
    n_quantiles : int, default=1000
        Resolution of the percentile ranks, at least 2 (the lowest and the
        highest value); capped by the number of rows.
    conversation_column, turn_column, text_column, start_column, end_column : str
        Column roles read by the timing family ``t`` (and only by it): the
        conversation id, the integer turn that orders talkturns within it, the
        text whose words are counted and the start and end times in seconds.

    Attributes
    ----------
    target_columns_ : dict
        Target column (``aux:<name>``) to its source: a feature column, or for
        the timing family the quantity computed (``"duration"``,
        ``"speech_rate"``, ``"pause"``, ``"overlap"``).
    timing_targets_ : list of str
        The target columns of the timing family, computed from the times.
    constant_features_ : list of str
        Feature columns (or timing quantities) that were constant on the
        training rows; their targets carry no information and are not produced
        (a warning names them).
    target_type_ : {"classification", "regression"} or None
        The kind of target the range was chosen for; None when fitted without
        ``y`` and with ``target_type="auto"``.
    target_range_ : tuple of float
        ``(low, high)``: a percentile ``p`` becomes ``low + p * (high - low)``.
    label_offsets_ : tuple of int
        History/future label offsets handed to the estimator.
    quantiles_ : QuantileTransformer or None
        The fitted percentile ranks; None when no target is produced.
    feature_names_in_ : ndarray of str
        Columns of the frame seen in ``fit``; ``transform`` accepts these.
    n_features_in_ : int
        Number of those columns.

    Examples
    --------
    >>> from skhanrock import AuxiliaryTargets
    >>> from skhanrock.datasets import make_conversations
    >>> X, y = make_conversations(n_conversations=4, random_state=0)
    >>> out = AuxiliaryTargets(families="aphf").fit_transform(X, y)
    >>> [c for c in out.columns if c.startswith("aux:")]
    ['aux:AU05', 'aux:AU17', 'aux:AU20', 'aux:AU25', 'aux:happy', 'aux:sad', 'aux:angry', \
'aux:fear']
    >>> out.attrs["skhanrock.label_offsets"]
    (-4, -3, -2, -1, 1, 2, 3, 4)

    Valence on IEMOCAP's 1..5 scale, rounded to whole numbers:

    >>> valence = y.map({"sad": 1.0, "angry": 2.0, "neutral": 3.0, "happy": 5.0})
    >>> aux = AuxiliaryTargets(target_type="regression", target_range="iemocap").fit(X, valence)
    >>> aux.target_type_, aux.target_range_
    ('regression', (1.0, 5.0))

    Timing targets from start and end times (seconds): durations 2, 0.5 and
    1.5 s, rates 1, 2 and 1.33 words per second, pauses 0.5 and -0.2 s after
    the first talkturn, which has none; each becomes its percentile rank:

    >>> import pandas as pd
    >>> turns = pd.DataFrame({"conversation": [1, 1, 1], "turn": [0, 1, 2],
    ...                       "text": ["hi there", "oh", "well well"],
    ...                       "start": [0.0, 2.5, 2.8], "end": [2.0, 3.0, 4.3]})
    >>> timing = AuxiliaryTargets(families="t").fit_transform(turns)
    >>> timing.filter(like="aux:").round(2).to_dict("list")
    {'aux:duration': [1.0, 0.0, 0.5], 'aux:speech_rate': [0.0, 1.0, 0.5], 'aux:pause': [nan, 1.0, 0.0], 'aux:overlap': [nan, 0.0, 1.0]}
    """

    @replaced_parameters(task="target_type", history=("label_offsets", _offsets_of_counts),
                         future=("label_offsets", _offsets_of_counts))
    def __init__(self, families="ap", columns=None, target_range="auto", target_type="auto",
                 label_offsets="auto", n_quantiles=1000,
                 conversation_column="conversation", turn_column="turn", text_column="text",
                 start_column="start", end_column="end"):
        self.families = families
        self.columns = columns
        self.target_range = target_range
        self.target_type = target_type
        self.label_offsets = label_offsets
        self.n_quantiles = n_quantiles
        self.conversation_column = conversation_column
        self.turn_column = turn_column
        self.text_column = text_column
        self.start_column = start_column
        self.end_column = end_column

    def _check_parameters(self):
        if not isinstance(self.families, str) or set(self.families) - set("apothf"):
            raise ValueError(
                f"families must be letters among 'a' (actions), 'p' (prosody), 'o' (open "
                f"prosody), 't' (timing), 'h' (history) and 'f' (future), "
                f"got {self.families!r}.")
        if isinstance(self.columns, (str, bytes)) or not (
                self.columns is None or np.iterable(self.columns)):
            # A string is iterable too: it would be read as one column per character.
            raise ValueError(
                "columns must be None, a list of feature column names or a dict from target "
                f"name to column, got {self.columns!r}; a single column is written "
                f"columns=[{self.columns!r}].")
        check_number("n_quantiles", self.n_quantiles, low=2, integer=True)

    def _requested_targets(self):
        """``{target column: source}`` in output order, and the timing target columns."""
        targets = {}
        for letter in "apo":
            if letter in self.families:
                targets.update(_FAMILIES[letter])
        timing = {name: name for name in TIMING_TARGETS} if "t" in self.families else {}
        targets.update(timing)
        if isinstance(self.columns, Mapping):
            named = dict(self.columns)
        elif self.columns is not None:
            named = {str(column): column for column in self.columns}
        else:
            named = {}
        clash = [name for name in named if name in timing]
        if clash:
            # One target name cannot hold both the computed quantity and the column.
            raise ValueError(
                f"columns names the target(s) {clash}, which the timing family 't' computes "
                "from the times; give them other names, e.g. columns={'my_pause': 'pause'}.")
        targets.update(named)
        return ({f"{AUX_PREFIX}{name}": column for name, column in targets.items()},
                [f"{AUX_PREFIX}{name}" for name in timing])

    def _timing(self, X):
        """Duration, speech rate, pause and overlap of every row of ``X`` (its order).

        The pause and overlap look at the previous talkturn in turn order within
        the same conversation, whatever order the rows come in.
        """
        frame = check_talkturn_frame(
            X, conversation_column=self.conversation_column, turn_column=self.turn_column,
            required=[self.text_column, self.start_column, self.end_column])
        times = check_numeric_columns(frame, [self.start_column, self.end_column])
        start, end = times.T
        backwards = end < start
        if backwards.any():
            i = int(np.flatnonzero(backwards)[0])
            raise ValueError(
                f"AuxiliaryTargets: the talkturn at row {frame.index.tolist()[i]!r} ends "
                f"({end[i]}) before it starts ({start[i]}): {self.end_column!r} must be "
                f">= {self.start_column!r}.")
        # Rounded to the microsecond, so that 1.2 s - 1.0 s is the 0.2 s it means
        # and touching talkturns have a pause of exactly 0 (no overlap).
        duration = np.round(end - start, 6)
        words = np.array([len(t.split()) for t in text_as_strings(frame, self.text_column)],
                         dtype=float)
        measurable = (duration > 0) & (words > 0)
        rate = np.where(measurable, words / np.where(measurable, duration, 1.0), np.nan)
        order = conversation_sort_order(frame, self.conversation_column, self.turn_column)
        conversation = canonical_codes(frame[self.conversation_column])[order]
        gap = np.full(len(frame), np.nan)
        gap[1:] = np.round(start[order][1:] - end[order][:-1], 6)
        gap[1:][conversation[1:] != conversation[:-1]] = np.nan
        pause = np.empty(len(frame))
        pause[order] = gap
        overlap = np.where(np.isnan(pause), np.nan, np.maximum(0.0, -pause))
        return dict(zip(TIMING_TARGETS, (duration, rate, pause, overlap), strict=True))

    def _source_values(self, X, sources, timing):
        """The feature values of ``sources`` (``{target: source}``) as an (n, k) array."""
        read = [source for target, source in sources.items() if target not in timing]
        values = check_numeric_columns(X, read)
        computed = self._timing(X) if timing else {}
        columns = iter(values.T)
        output = np.empty((len(X), len(sources)))
        for j, (target, source) in enumerate(sources.items()):
            output[:, j] = computed[source] if target in timing else next(columns)
        return output

    def _label_offsets(self):
        """The offsets the ``h`` and ``f`` families request, sorted, checked against them."""
        sides = (("h", "history", "negative", -1), ("f", "future", "positive", 1))
        if isinstance(self.label_offsets, str) and self.label_offsets == "auto":
            return tuple(o for o in DEFAULT_LABEL_OFFSETS
                         if any(letter in self.families and o * sign > 0
                                for letter, _, _, sign in sides))
        if isinstance(self.label_offsets, str):
            raise ValueError("label_offsets must be 'auto' or a collection of non-zero integers "
                             f"such as (-2, -1, 1, 2), got {self.label_offsets!r}.")
        offsets = check_label_offsets(self.label_offsets)
        far = [o for o in offsets if abs(o) > _MAX_LABEL_OFFSET]
        if far:
            raise ValueError(f"label_offsets reach at most {_MAX_LABEL_OFFSET} talkturns away, "
                             f"got {far}.")
        for letter, name, kind, sign in sides:
            on_side = [o for o in offsets if o * sign > 0]
            if letter in self.families and not on_side:
                raise ValueError(
                    f"family {letter!r} ({name} labels) is requested but label_offsets="
                    f"{offsets} has no {kind} offset; add some or drop {letter!r} from families.")
            if on_side and letter not in self.families:
                raise ValueError(
                    f"label_offsets={offsets} has the {name} offsets {on_side}, but families="
                    f"{self.families!r} does not request {letter!r}; add it or drop them.")
        return offsets

    def _explicit_range(self):
        """The range ``target_range`` names, or None for "auto"."""
        if isinstance(self.target_range, str):
            if self.target_range == "auto":
                return None
            if self.target_range in _RANGE_PRESETS:
                return _RANGE_PRESETS[self.target_range]
            raise ValueError(
                f"target_range must be 'auto', one of {sorted(_RANGE_PRESETS)} or "
                f"(low, high), got {self.target_range!r}.")
        try:
            low, high = (float(v) for v in self.target_range)
        except (TypeError, ValueError):
            low = high = np.nan
        if not low < high or not np.isfinite([low, high]).all():
            raise ValueError(f"target_range must be (low, high) with finite low < high, "
                             f"got {self.target_range!r}.")
        return low, high

    def _fit_target_range(self, y):
        explicit = self._explicit_range()
        if explicit is not None:
            return explicit
        if self.target_type_ != "regression":
            return 0.0, 1.0
        if y is None:
            raise ValueError("AuxiliaryTargets(target_type='regression', target_range='auto') "
                             "takes the range of y, but fit got y=None; pass y or "
                             "target_range=(low, high).")
        labels = regression_labels(y, "AuxiliaryTargets")
        if len(labels) == 0 or labels.min() == labels.max():
            raise ValueError(
                "AuxiliaryTargets(target_range='auto') takes a regression target's range "
                "from the labelled y, which needs two different values; pass "
                "target_range=(low, high) or a preset such as 'iemocap'.")
        return float(labels.min()), float(labels.max())

    def fit(self, X, y=None):
        """Fit the percentile ranks on the rows of ``X`` (the training rows).

        Parameters
        ----------
        X : DataFrame
            Talkturn frame with the feature columns of the requested families.
        y : array-like or None, default=None
            Primary labels, one per row of ``X``; only used to choose the target type
            and the range when ``target_range="auto"``.

        Returns
        -------
        self : AuxiliaryTargets
            The fitted transformer.
        """
        self._check_parameters()
        targets, timing = self._requested_targets()
        self.label_offsets_ = self._label_offsets()
        self._check_columns(X, {t: c for t, c in targets.items() if t not in timing})
        check_labels(y, X, "AuxiliaryTargets", required=False, need_labelled=False)
        values = self._source_values(X, targets, timing)
        # By position, not by source name: a timing quantity and a column may share one.
        dropped = [np.nanmin(v, initial=np.inf) == np.nanmax(v, initial=-np.inf)
                   for v in values.T]
        constant = list(dict.fromkeys(
            c for c, drop in zip(targets.values(), dropped, strict=True) if drop))
        if constant:
            warnings.warn(
                f"AuxiliaryTargets: feature column(s) {constant} are constant (or all missing) "
                "on the training rows; their percentile targets carry no information and are "
                "left out.", UserWarning, stacklevel=2)
        self.constant_features_ = constant
        keep = [i for i, drop in enumerate(dropped) if not drop]
        names = list(targets)
        self.target_columns_ = {names[i]: targets[names[i]] for i in keep}
        self.timing_targets_ = [t for t in timing if t in self.target_columns_]
        # An explicit target type is taken without reading y; with an explicit range
        # the type changes nothing, so a guess from y needs no warning.
        self.target_type_ = self._fit_target_type(y, warn=self._explicit_range() is None)
        self.target_range_ = self._fit_target_range(y)
        self.quantiles_ = None
        if keep:
            # subsample=None: exact quantiles of every training row, so that fits
            # on more than 10,000 rows do not depend on a random subsample. A kept
            # feature is not constant, so there are at least two rows.
            self.quantiles_ = QuantileTransformer(
                n_quantiles=min(self.n_quantiles, len(X)),
                output_distribution="uniform", subsample=None).fit(values[:, keep])
        return self._fit_columns(X)

    def _check_columns(self, X, targets):
        check_dataframe(X)
        if len(X) == 0:
            raise ValueError("X is empty: at least one talkturn row is needed to fit the "
                             "percentile ranks.")
        missing = [c for c in targets.values() if c not in X.columns]
        if missing:
            raise ValueError(
                f"AuxiliaryTargets(families={self.families!r}) needs the feature column(s) "
                f"{missing}, which X does not have.")

    def _transform(self, X):
        output = X.copy()
        if self.target_columns_:
            values = self._source_values(X, self.target_columns_, self.timing_targets_)
            low, high = self.target_range_
            ranks = self.quantiles_.transform(values) * (high - low) + low
            for j, target in enumerate(self.target_columns_):
                output[target] = ranks[:, j]
        return output

    def _added_columns(self):
        return self.target_columns_

    def _handed_on(self):
        return {LABEL_OFFSETS_ATTR: self.label_offsets_}
