"""Choice of the auxiliary tasks that help the primary task."""

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.model_selection import GroupShuffleSplit
from sklearn.utils import check_random_state

from .._utils.frame import (
    AUX_PREFIX,
    LABEL_OFFSETS_ATTR,
    LOSS_WEIGHTS_ATTR,
    canonical_codes,
    check_talkturn_frame,
    pipeline_attr,
)
from .._utils.labels import check_label_offsets, label_offset_task_name
from .._utils.targets import check_labels, resolve_target_type
from .._utils.validation import check_number
from ._auxiliary import ACTION_TARGETS, OPEN_PROSODY_TARGETS, PROSODY_TARGETS, TIMING_TARGETS
from ._base import FrameTransformer
from ._weighting import MutualInfoLossWeights

__all__ = ["AuxiliaryTaskSelector"]

# The proxy networks are meant to rank tasks, not to be good: a few epochs of a
# small network, so that one greedy round costs seconds, not minutes. Their rate is
# pinned, so that the selection measured in benchmarks/aux_selection.py does not move
# when the estimators' default lr does; so is their word path, the HAN alone, since
# the transfer measured is through its shared layers, which the lexical path bypasses.
_PROXY_DEFAULTS = {"context_size": 4, "max_epochs": 3, "embedding_dim": 16,
                   "primary_units": 16, "aux_units": 16, "max_words": 32, "batch_size": 32,
                   "lr": 2 ** -8, "lexical_ngrams": None}
_FAMILY_OF_AUX = {**{f"{AUX_PREFIX}{name}": "a" for name in ACTION_TARGETS},
                  **{f"{AUX_PREFIX}{name}": "p" for name in PROSODY_TARGETS},
                  **{f"{AUX_PREFIX}{name}": "o" for name in OPEN_PROSODY_TARGETS},
                  **{f"{AUX_PREFIX}{name}": "t" for name in TIMING_TARGETS}}


def _task_family(task):
    """Family of a task: ``a``/``p``/``o``/``t`` for the built-in targets, ``h``/``f`` for labels."""
    if task.startswith(AUX_PREFIX):
        return _FAMILY_OF_AUX.get(task, task)
    return "h" if task.startswith("y-") else "f"


class AuxiliaryTaskSelector(FrameTransformer):
    """Keep the auxiliary tasks that help the primary task; drop the rest.

    Placed after :class:`~skhanrock.AuxiliaryTargets` (and before
    :class:`~skhanrock.MutualInfoLossWeights`) in a pipeline, it scores every
    auxiliary task, each ``aux:*`` column and each history/future label
    (``"y-1"``, ``"y+1"``, ...) that ``AuxiliaryTargets`` requested, on the
    rows ``fit`` gets (the training rows), then ``transform`` drops the
    ``aux:*`` columns of the tasks left out and hands on only the selected
    label offsets in ``X.attrs``. Prediction needs no labels: ``transform``
    only removes columns.

    Two methods:

    - ``"mutual_info"``, a cheap filter: each task's mutual information with
      the primary target (computed as :class:`~skhanrock.MutualInfoLossWeights`
      does); tasks scoring above ``threshold`` are kept, at most the ``k``
      best. It sees each task alone and cannot see negative transfer: a task
      that carries information about the label may still hurt the network.
    - ``"proxy"``, which measures transfer directly: a small network
      (:class:`~skhanrock.HanRockClassifier` or
      :class:`~skhanrock.HanRockRegressor` with ``proxy_params``) is fitted on
      the training conversations minus a held-out fraction and scored on the
      primary task of the held-out conversations. Greedy forward selection
      starts from no auxiliary task and adds, round by round, the candidate
      (a family or a task, ``grouping``) that improves the held-out score most;
      it stops when no candidate improves it by more than ``min_gain``, or
      after ``k`` candidates. A task's score is the held-out gain of its
      candidate alone over no auxiliary task.

    Parameters
    ----------
    method : {"mutual_info", "proxy"}, default="mutual_info"
        How tasks are scored and chosen (see above).
    threshold : float, default=0.1
        ``"mutual_info"``: smallest mutual information (nats) a kept task
        has; tasks at or below it are dropped. The estimator of a task
        independent of the label scores about 0.0 to 0.05 on a few hundred
        rows, hence the default. Ignored by ``"proxy"``.
    k : int or None, default=None
        At most this many tasks (``"mutual_info"``, the best) or candidates
        (``"proxy"``, the first chosen) are kept; None for no limit.
    min_gain : float, default=0.005
        ``"proxy"``: smallest improvement of the held-out score a candidate
        must bring to be added.
    grouping : {"family", "task"}, default="family"
        ``"proxy"``: candidates of the greedy search. ``"family"`` groups the
        action (``a``) and prosody (``p``) targets of ``AuxiliaryTargets``,
        the history (``h``) and the future (``f``) labels, and leaves any
        other ``aux:*`` column a candidate of its own; ``"task"`` tries every
        task alone (more fits, finer choice).
    proxy_params : dict or None, default=None
        Parameters of the proxy network, over small defaults
        (``context_size=4, max_epochs=3, embedding_dim=16, primary_units=16,
        aux_units=16, max_words=32, batch_size=32, lr=2**-8,
        lexical_ngrams=None``).
    holdout_fraction : float in (0, 1), default=0.25
        ``"proxy"``: fraction of the conversations held out for scoring.
    n_splits : int, default=1
        ``"proxy"``: conversation-held-out splits whose held-out scores are
        averaged; more splits make the scores less noisy and cost as many
        fits.
    scoring : str, callable or None, default=None
        ``"proxy"``: how the held-out primary task is scored, a name for
        :func:`skhanrock.metrics.get_scorer` or a scorer; None uses the
        network's ``score`` (accuracy, or R² for regression).
    n_neighbors : int, default=3
        ``"mutual_info"``: neighbours of the mutual information estimator.
    target_type : {"auto", "classification", "regression"}, default="auto"
        Kind of primary target (see :class:`~skhanrock.MutualInfoLossWeights`);
        it picks the mutual information estimator and the proxy network.
    conversation_column, turn_column : str, default="conversation", "turn"
        Column roles of the talkturn frame; held-out splits keep each
        conversation whole.
    random_state : int, RandomState or None, default=None
        Seeds the mutual information estimator, the held-out split and the
        proxy networks (every proxy fit of one selector gets the same seed,
        so candidates are compared on equal terms).

    Attributes
    ----------
    scores_ : Series
        Score of every auxiliary task, by task name (``"aux:<name>"``,
        ``"y-1"``, ``"y+1"``, ...): mutual information, or held-out gain of
        its candidate alone.
    selected_tasks_ : list of str
        The tasks kept, in the order of ``scores_``.
    selected_columns_ : list of str
        The ``aux:*`` columns kept.
    selected_offsets_ : tuple of int
        The history/future label offsets kept.
    target_type_ : {"classification", "regression"}
        Kind of primary target.
    baseline_score_ : float or None
        ``"proxy"``: held-out score with no auxiliary task; None otherwise.
    path_ : list of tuple
        ``"proxy"``: ``(candidate, held-out score)`` for each candidate added,
        in order; empty otherwise.

    See Also
    --------
    skhanrock.MutualInfoLossWeights : Loss weights from the same mutual information.

    Examples
    --------
    >>> from skhanrock import AuxiliaryTargets
    >>> from skhanrock.datasets import make_conversations
    >>> from skhanrock.preprocessing import AuxiliaryTaskSelector
    >>> X, y = make_conversations(n_conversations=40, planted_features=True, random_state=0)
    >>> aux = AuxiliaryTargets(families="ah", label_offsets=(-1,), columns=["noise_a", "conflict"])
    >>> X = aux.fit_transform(X, y)
    >>> selector = AuxiliaryTaskSelector(random_state=0).fit(X, y)
    >>> selector.selected_tasks_
    ['aux:AU05', 'aux:AU17', 'aux:AU20', 'aux:AU25', 'y-1']
    >>> out = selector.transform(X)
    >>> [c for c in out.columns if c.startswith("aux:")], out.attrs["skhanrock.label_offsets"]
    (['aux:AU05', 'aux:AU17', 'aux:AU20', 'aux:AU25'], (-1,))
    """

    def __init__(self, method="mutual_info", threshold=0.1, k=None, min_gain=0.005,
                 grouping="family", proxy_params=None, holdout_fraction=0.25, n_splits=1,
                 scoring=None, n_neighbors=3, target_type="auto", conversation_column="conversation",
                 turn_column="turn", random_state=None):
        self.method = method
        self.threshold = threshold
        self.k = k
        self.min_gain = min_gain
        self.grouping = grouping
        self.proxy_params = proxy_params
        self.holdout_fraction = holdout_fraction
        self.n_splits = n_splits
        self.scoring = scoring
        self.n_neighbors = n_neighbors
        self.target_type = target_type
        self.conversation_column = conversation_column
        self.turn_column = turn_column
        self.random_state = random_state

    def _check_parameters(self):
        for name, allowed in (("method", ("mutual_info", "proxy")),
                              ("grouping", ("family", "task")),
                              ("target_type", ("auto", "classification", "regression"))):
            if getattr(self, name) not in allowed:
                raise ValueError(f"{name} must be one of {list(allowed)}, "
                                 f"got {getattr(self, name)!r}.")
        check_number("threshold", self.threshold)
        check_number("min_gain", self.min_gain)
        if self.k is not None:
            check_number("k", self.k, low=1, integer=True)
        check_number("holdout_fraction", self.holdout_fraction, low=0, high=1,
                     low_open=True, high_open=True)
        check_number("n_splits", self.n_splits, low=1, integer=True)
        if not (self.proxy_params is None or isinstance(self.proxy_params, dict)):
            raise ValueError(f"proxy_params must be a dict of network parameters or None, "
                             f"got {self.proxy_params!r}.")

    def fit(self, X, y):
        """Score every auxiliary task on the training rows and choose the ones to keep.

        Parameters
        ----------
        X : DataFrame
            Talkturn frame with ``aux:*`` columns and, optionally, the label
            offsets requested by ``AuxiliaryTargets`` in ``X.attrs``.
        y : array-like
            Primary labels; missing values mark unlabelled talkturns.

        Returns
        -------
        self : AuxiliaryTaskSelector
            The fitted selector.
        """
        self._check_parameters()
        frame = check_talkturn_frame(X, conversation_column=self.conversation_column,
                                     turn_column=self.turn_column)
        labels = check_labels(y, frame, type(self).__name__)
        self.target_type_ = resolve_target_type(self.target_type, y, type(self).__name__)
        columns = [str(c) for c in frame.columns if str(c).startswith(AUX_PREFIX)]
        offsets = check_label_offsets(
            pipeline_attr(frame, LABEL_OFFSETS_ATTR, "label_offsets", default=()),
            name=f"X.attrs[{LABEL_OFFSETS_ATTR!r}]")
        self._offset_of = {label_offset_task_name(o): o for o in offsets}
        tasks = [*columns, *self._offset_of]
        self.baseline_score_, self.path_ = None, []
        if not tasks:
            selected, self.scores_ = [], pd.Series(dtype=float, name="score")
        elif self.method == "mutual_info":
            selected = self._fit_mutual_info(frame, labels)
        else:
            selected = self._fit_proxy(frame, labels, tasks)
        chosen = set(selected)
        self.selected_tasks_ = [t for t in self.scores_.index if t in chosen]
        self.selected_columns_ = [t for t in columns if t in chosen]
        self.selected_offsets_ = tuple(o for name, o in self._offset_of.items() if name in chosen)
        self._fit_columns(frame)
        return self

    # ------------------------------------------------------------ mutual info
    def _fit_mutual_info(self, frame, labels):
        weighting = MutualInfoLossWeights(
            n_neighbors=self.n_neighbors, target_type=self.target_type_,
            conversation_column=self.conversation_column, turn_column=self.turn_column,
            random_state=self.random_state).fit(frame, labels)
        self.scores_ = weighting.mutual_info_.rename("score")
        passing = self.scores_[self.scores_ > self.threshold]
        # A stable sort keeps ties in the order of the columns, so the choice is reproducible.
        best = passing.sort_values(ascending=False, kind="stable")
        return list(best.index[:self.k])

    # ------------------------------------------------------------------ proxy
    def _candidates(self, tasks):
        """Candidate name to its tasks, in the order the tasks come."""
        candidates = {}
        for task in tasks:
            key = _task_family(task) if self.grouping == "family" else task
            candidates.setdefault(key, []).append(task)
        return candidates

    def _fit_proxy(self, frame, labels, tasks):
        rng = check_random_state(self.random_state)
        split_seed, model_seed = (int(v) for v in rng.randint(2 ** 31 - 1, size=2))
        splits = list(GroupShuffleSplit(
            n_splits=self.n_splits, test_size=self.holdout_fraction,
            random_state=split_seed).split(frame, groups=canonical_codes(
                frame[self.conversation_column])))
        # Attrs of earlier steps describe every task; each proxy frame gets its own.
        frame.attrs = {k: v for k, v in frame.attrs.items()
                       if k not in (LABEL_OFFSETS_ATTR, LOSS_WEIGHTS_ATTR)}
        network = self._proxy_network(model_seed)

        def held_out(chosen):
            return self._held_out_score(network, frame, labels, splits, chosen)

        candidates = self._candidates(tasks)
        self.baseline_score_ = current = held_out([])
        alone = {name: held_out(members) - current for name, members in candidates.items()}
        self.scores_ = pd.Series({t: alone[name] for name, members in candidates.items()
                                  for t in members}, dtype=float, name="score")
        chosen, remaining = [], dict(candidates)
        gains = alone
        while remaining and (self.k is None or len(self.path_) < self.k):
            best = max(remaining, key=lambda name: gains[name])  # first of equals wins
            if not gains[best] > self.min_gain:
                break
            chosen += remaining.pop(best)
            current += gains[best]
            self.path_.append((best, current))
            gains = {name: held_out(chosen + members) - current
                     for name, members in remaining.items()}
        return chosen

    def _proxy_network(self, seed):
        from ..nn import HanRockClassifier, HanRockRegressor

        kind = HanRockClassifier if self.target_type_ == "classification" else HanRockRegressor
        params = {**_PROXY_DEFAULTS, "random_state": seed, "verbose": 0,
                  "conversation_column": self.conversation_column,
                  "turn_column": self.turn_column, **(self.proxy_params or {})}
        return kind(**params)

    def _held_out_score(self, network, frame, labels, splits, chosen):
        """Mean held-out primary score of ``network`` trained with the ``chosen`` tasks."""
        drop = [c for c in frame.columns
                if str(c).startswith(AUX_PREFIX) and c not in set(chosen)]
        data = frame.drop(columns=drop)
        offsets = tuple(self._offset_of[t] for t in chosen if t in self._offset_of)
        scorer = None
        if self.scoring is not None:
            from ..metrics import get_scorer

            scorer = get_scorer(self.scoring)
        scores = []
        for train, test in splits:
            model = clone(network).set_params(label_offsets=offsets)
            model.fit(data.iloc[train], labels.iloc[train])
            test_X, test_y = data.iloc[test], labels.iloc[test]
            scores.append(model.score(test_X, test_y) if scorer is None
                          else scorer(model, test_X, test_y))
        return float(np.mean(scores))

    # -------------------------------------------------------------- transform
    def _transform(self, X):
        """A copy of ``X`` without the ``aux:*`` columns of the tasks left out."""
        return X.drop(columns=self._removed_columns())

    def _handed_on(self):
        # The selected history/future offsets replace those AuxiliaryTargets requested.
        return {LABEL_OFFSETS_ATTR: self.selected_offsets_}

    def _removed_columns(self):
        kept = set(self.selected_columns_)
        return [c for c in self.feature_names_in_
                if str(c).startswith(AUX_PREFIX) and c not in kept]


    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.required = True
        return tags
