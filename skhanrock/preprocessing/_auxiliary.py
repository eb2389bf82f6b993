"""Preprocessed features reused as auxiliary training targets."""

import warnings
from collections.abc import Mapping

import numpy as np
from sklearn.preprocessing import QuantileTransformer

from .._frame import AUX_PREFIX, LABEL_OFFSETS_ATTR, check_dataframe, check_numeric_columns
from .._targets import check_labels, regression_labels
from .._validation import check_number
from ._base import DEPRECATED, FrameTransformer, TargetTypeMixin

__all__ = ["ACTION_TARGETS", "PROSODY_TARGETS", "AuxiliaryTargets"]

#: Family ``a``: target name to feature column (mean action unit intensities).
ACTION_TARGETS = {"AU05": "AU05_r", "AU17": "AU17_r", "AU20": "AU20_r", "AU25": "AU25_r"}
#: Family ``p``: target name to feature column (Vokaturi tone probabilities).
PROSODY_TARGETS = {"happy": "tone_happiness", "sad": "tone_sadness", "angry": "tone_anger",
                   "fear": "tone_fear"}
_FAMILIES = {"a": ACTION_TARGETS, "p": PROSODY_TARGETS}
# Label scales of the paper's regression corpora: IEMOCAP rates 1..5, SEMAINE -1..1.
_RANGE_PRESETS = {"iemocap": (1.0, 5.0), "semaine": (-1.0, 1.0)}
# Most past or future labels one family may request. The paper uses 4; every offset
# adds an output head and a loss term to the network and a mutual-information estimate,
# so a mistyped count (10**5) is refused instead of building that many tasks.
_MAX_LABEL_OFFSET = 64


class AuxiliaryTargets(TargetTypeMixin, FrameTransformer):
    """Turn preprocessed features into auxiliary targets (``aux:<name>`` columns).

    Each feature becomes its percentile rank among the *training* rows
    (scikit-learn's :class:`~sklearn.preprocessing.QuantileTransformer`, with
    exact quantiles so that a fit is reproducible), scaled to the primary
    target's range, so that every auxiliary loss lives on the primary task's
    scale. Missing features give missing targets, which the estimator leaves
    out of the loss.

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
    requested offsets (``-history..-1`` and ``1..future``) in the frame's
    ``attrs``, and the estimator builds those targets from ``y`` in ``fit``.

    Parameters
    ----------
    families : str, default="ap"
        Letters among ``a`` (actions: AU05, AU17, AU20, AU25 intensities),
        ``p`` (prosody: happy, sad, angry, fear tone), ``h`` (past labels) and
        ``f`` (future labels); ``""`` for none.
    columns : dict, list or None, default=None
        Further feature columns to reuse as targets: a list of column names,
        or a dict from target name to column (a bare string is refused: write
        ``["AU05_r"]``).
    target_range : "auto", "iemocap", "semaine" or (low, high), default="auto"
        Range the percentiles are scaled to (see above).
    target_type : {"auto", "classification", "regression"}, default="auto"
        Kind of primary target; only used to choose the range when
        ``target_range="auto"``.
    history, future : int, default=4
        How many past and future labels the ``h`` and ``f`` families request:
        an integer in [0, 64], at least 1 when its family is requested. The
        paper uses 4; each offset adds an output head, a loss term and a
        mutual-information estimate, hence the bound.
    n_quantiles : int, default=1000
        Resolution of the percentile ranks, at least 2 (the lowest and the
        highest value); capped by the number of rows.
    task : str, default="deprecated"
        Deprecated alias of ``target_type`` (a FutureWarning at ``fit``;
        removed in 0.4): the estimators' "tasks" are loss heads.

        .. deprecated:: 0.2
           Use ``target_type``.

    Attributes
    ----------
    target_columns_ : dict
        Target column (``aux:<name>``) to feature column.
    constant_features_ : list of str
        Feature columns that were constant on the training rows; their
        targets carry no information and are not produced (a warning names
        them).
    target_type_ : {"classification", "regression"} or None
        The kind of target the range was chosen for; None when fitted without
        ``y`` and with ``target_type="auto"``. (``task_``, its deprecated
        alias, is removed in 0.4.)
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
    """

    def __init__(self, families="ap", columns=None, target_range="auto", target_type="auto",
                 history=4, future=4, n_quantiles=1000, task=DEPRECATED):
        self.families = families
        self.columns = columns
        self.target_range = target_range
        self.target_type = target_type
        self.history = history
        self.future = future
        self.n_quantiles = n_quantiles
        self.task = task

    def _check_parameters(self):
        if not isinstance(self.families, str) or set(self.families) - set("aphf"):
            raise ValueError(
                f"families must be letters among 'a' (actions), 'p' (prosody), 'h' (history) "
                f"and 'f' (future), got {self.families!r}.")
        if isinstance(self.columns, (str, bytes)) or not (
                self.columns is None or np.iterable(self.columns)):
            # A string is iterable too: it would be read as one column per character.
            raise ValueError(
                "columns must be None, a list of feature column names or a dict from target "
                f"name to column, got {self.columns!r}; a single column is written "
                f"columns=[{self.columns!r}].")
        for name in ("history", "future"):
            check_number(name, getattr(self, name), low=0, high=_MAX_LABEL_OFFSET,
                         integer=True)
        check_number("n_quantiles", self.n_quantiles, low=2, integer=True)

    def _requested_targets(self):
        targets = {}
        for letter in "ap":
            if letter in self.families:
                targets.update(_FAMILIES[letter])
        if isinstance(self.columns, Mapping):
            targets.update(self.columns)
        elif self.columns is not None:
            targets.update({str(column): column for column in self.columns})
        return {f"{AUX_PREFIX}{name}": column for name, column in targets.items()}

    def _label_offsets(self):
        offsets = []
        for letter, name, sign in (("h", "history", -1), ("f", "future", 1)):
            count = getattr(self, name)
            if letter in self.families:
                if count < 1:
                    raise ValueError(f"{name} must be at least 1 when family {letter!r} is "
                                     f"requested, got {count}.")
                offsets += [sign * k for k in range(1, count + 1)]
        return tuple(sorted(offsets))

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
        targets = self._requested_targets()
        self.label_offsets_ = self._label_offsets()
        self._check_columns(X, targets)
        check_labels(y, X, "AuxiliaryTargets", required=False, need_labelled=False)
        values = check_numeric_columns(X, list(targets.values()))
        constant = [column for column, v in zip(targets.values(), values.T, strict=True)
                    if np.nanmin(v, initial=np.inf) == np.nanmax(v, initial=-np.inf)
                    or np.isnan(v).all()]
        if constant:
            warnings.warn(
                f"AuxiliaryTargets: feature column(s) {constant} are constant (or all missing) "
                "on the training rows; their percentile targets carry no information and are "
                "left out.", UserWarning, stacklevel=2)
        self.constant_features_ = constant
        self.target_columns_ = {t: c for t, c in targets.items() if c not in constant}
        keep = [i for i, c in enumerate(targets.values()) if c not in constant]
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
            values = check_numeric_columns(X, list(self.target_columns_.values()))
            low, high = self.target_range_
            ranks = self.quantiles_.transform(values) * (high - low) + low
            for j, target in enumerate(self.target_columns_):
                output[target] = ranks[:, j]
        return output

    def _added_columns(self):
        return self.target_columns_

    def _handed_on(self):
        return {LABEL_OFFSETS_ATTR: self.label_offsets_}
