"""Loss weights of the primary and auxiliary tasks from mutual information."""


import numpy as np
import pandas as pd
from sklearn.feature_selection import mutual_info_classif, mutual_info_regression
from sklearn.utils import check_random_state

from .._utils.frame import (
    AUX_PREFIX,
    LABEL_OFFSETS_ATTR,
    LOSS_WEIGHTS_ATTR,
    check_numeric_columns,
    check_talkturn_frame,
    conversation_sort_order,
    pipeline_attr,
)
from .._utils.labels import check_label_offsets, label_offset_targets, label_offset_task_name
from .._utils.targets import check_labels, regression_labels
from .._utils.validation import check_number
from ._base import FrameTransformer, TargetTypeMixin, replaced_parameters

__all__ = ["MutualInfoLossWeights"]

PRIMARY_TASK = "y"


class MutualInfoLossWeights(TargetTypeMixin, FrameTransformer):
    """Split the loss weight between the primary task and the auxiliary tasks.

    The primary task gets ``primary_weight``; the rest, ``1 - primary_weight``,
    is split over the auxiliary tasks (every ``aux:*`` column, and the
    history/future labels requested by a preceding
    :class:`~skhanrock.AuxiliaryTargets`):

    - ``"random"``: a draw from a flat Dirichlet distribution;
    - ``"linear"``: in proportion to each task's mutual information with the
      primary target;
    - ``"softmax"``: by the softmax of the mutual information.

    Mutual information comes from scikit-learn's ``mutual_info_classif``
    (class labels) or ``mutual_info_regression`` (regression targets), on the
    training rows where both the primary label and the task's target exist.
    ``target_type="auto"`` tells them apart by the rule of
    :func:`~skhanrock.preprocessing.is_classification_target`, as :class:`~skhanrock.AuxiliaryTargets`
    does.
    History/future targets are built from ``y`` with the estimator's rule
    (nearest labelled talkturn in that direction, within the conversation).

    ``transform`` hands the fitted weights to the estimator of a pipeline
    through the frame's ``attrs``; nothing else changes.

    Parameters
    ----------
    assignment : {"random", "linear", "softmax"}, default="softmax"
        How the auxiliary share of the loss is split over the auxiliary tasks.
    primary_weight : float in (0, 1], default=0.5
        Weight of the primary task; the paper searches [0.50, 0.99].
    n_neighbors : int, default=3
        Neighbours of scikit-learn's mutual information estimator; at least 1.
    target_type : {"auto", "classification", "regression"}, default="auto"
        Kind of primary target, which picks the mutual information estimator.
    conversation_column, turn_column : str, default="conversation", "turn"
        Column roles of the talkturn frame (history/future labels never cross
        a conversation).
    random_state : int, RandomState or None, default=None
        Seeds the random assignment and the mutual information estimators.

    Attributes
    ----------
    target_type_ : {"classification", "regression"}
        The kind of primary target the mutual information was computed for.
    mutual_info_ : Series
        Mutual information of each auxiliary task with the primary target.
    loss_weights_ : Series
        Weight per task, ``"y"`` first; sums to one.
    feature_names_in_ : ndarray of str
        Columns of the frame seen in ``fit``; ``transform`` accepts these.
    n_features_in_ : int
        Number of those columns.

    Examples
    --------
    >>> from skhanrock import AuxiliaryTargets, MutualInfoLossWeights
    >>> from skhanrock.datasets import make_conversations
    >>> X, y = make_conversations(n_conversations=6, random_state=0)
    >>> X = AuxiliaryTargets(families="ph").fit_transform(X, y)
    >>> weights = MutualInfoLossWeights(random_state=0).fit(X, y).loss_weights_
    >>> weights.index[:3].tolist(), float(round(weights.sum(), 6))
    (['y', 'aux:happy', 'aux:sad'], 1.0)
    """

    @replaced_parameters(task="target_type")
    def __init__(self, assignment="softmax", primary_weight=0.5, n_neighbors=3,
                 target_type="auto", conversation_column="conversation", turn_column="turn",
                 random_state=None):
        self.assignment = assignment
        self.primary_weight = primary_weight
        self.n_neighbors = n_neighbors
        self.target_type = target_type
        self.conversation_column = conversation_column
        self.turn_column = turn_column
        self.random_state = random_state

    def _check_parameters(self):
        if self.assignment not in ("random", "linear", "softmax"):
            raise ValueError(f"assignment must be 'random', 'linear' or 'softmax', "
                             f"got {self.assignment!r}.")
        weight = self.primary_weight
        if isinstance(weight, bool) or not isinstance(weight, (int, float, np.floating)) \
                or not 0.0 < weight <= 1.0:
            raise ValueError(f"primary_weight must be a number in (0, 1], got {weight!r}.")
        check_number("n_neighbors", self.n_neighbors, low=1, integer=True)

    def fit(self, X, y):
        """Compute the mutual information and the loss weights on the training rows.

        Parameters
        ----------
        X : DataFrame
            Talkturn frame with ``aux:*`` columns (and, optionally, the label
            offsets requested by ``AuxiliaryTargets`` in ``X.attrs``).
        y : array-like
            Primary labels; missing values mark unlabelled talkturns.

        Returns
        -------
        self : MutualInfoLossWeights
            The fitted transformer.
        """
        self._check_parameters()
        frame = check_talkturn_frame(X, conversation_column=self.conversation_column,
                                     turn_column=self.turn_column)
        # The loss weights come from each auxiliary task's mutual information with y.
        labels = check_labels(y, frame, "MutualInfoLossWeights").reset_index(drop=True)
        self.target_type_ = self._fit_target_type(y)
        if self.target_type_ == "regression":
            regression_labels(labels, "MutualInfoLossWeights")
        # Sorted once: the history/future targets follow the turns, and the estimators
        # add noise row by row, so rows in one canonical order make the information,
        # hence the weights, independent of the caller's row order.
        order = conversation_sort_order(frame, self.conversation_column, self.turn_column)
        tasks = self._task_targets(frame, labels, order)
        self.mutual_info_ = self._mutual_information(tasks.iloc[order], labels.iloc[order])
        self.loss_weights_ = self._weights(self.mutual_info_)
        return self._fit_columns(frame)

    def _task_targets(self, frame, labels, order):
        """Each auxiliary task's target per row (caller order), NaN where missing.

        ``order`` sorts the rows by conversation, then turn.
        """
        aux_columns = [c for c in frame.columns if str(c).startswith(AUX_PREFIX)]
        targets = pd.DataFrame(check_numeric_columns(frame, aux_columns),
                               columns=aux_columns, index=frame.index)
        offsets = check_label_offsets(
            pipeline_attr(frame, LABEL_OFFSETS_ATTR, "label_offsets", default=()),
            name=f"X.attrs[{LABEL_OFFSETS_ATTR!r}]")
        if offsets:
            codes = pd.factorize(frame[self.conversation_column].iloc[order], sort=False)[0]
            sorted_labels = labels.iloc[order].to_numpy()
            sorted_targets = label_offset_targets(sorted_labels, codes, pd.notna(sorted_labels),
                                                  offsets, fill=None)
            for j, offset in enumerate(offsets):
                values = np.empty(len(frame), dtype=object)
                values[order] = sorted_targets[:, j]
                targets[label_offset_task_name(offset)] = values
        return targets

    def _mutual_information(self, tasks, labels):
        classification = self.target_type_ == "classification"
        codes, classes = pd.factorize(labels)
        code_of = {label: code for code, label in enumerate(classes)}
        information = {}
        rng = check_random_state(self.random_state)
        for name, column in tasks.items():
            present = labels.notna().to_numpy() & pd.notna(column).to_numpy()
            if present.sum() <= self.n_neighbors:
                information[name] = 0.0
                continue
            feature = column.to_numpy()[present]
            # History/future targets of a classifier are labels too: discrete codes.
            discrete = classification and not str(name).startswith(AUX_PREFIX)
            if discrete:
                feature = [code_of[label] for label in feature]
            feature = np.asarray(feature, dtype=float).reshape(-1, 1)
            seed = rng.randint(2 ** 31 - 1)
            if classification:
                value = mutual_info_classif(feature, codes[present], discrete_features=discrete,
                                            n_neighbors=self.n_neighbors, random_state=seed)
            else:
                target = pd.to_numeric(labels[present]).to_numpy(dtype=float)
                value = mutual_info_regression(feature, target, n_neighbors=self.n_neighbors,
                                               random_state=seed)
            information[name] = float(value[0])
        return pd.Series(information, dtype=float, name="mutual_info")

    def _weights(self, information):
        rest = 1.0 - float(self.primary_weight)
        n_tasks = len(information)
        if n_tasks == 0:
            return pd.Series({PRIMARY_TASK: 1.0}, name="loss_weight")
        if self.assignment == "random":
            shares = check_random_state(self.random_state).dirichlet(np.ones(n_tasks))
        elif self.assignment == "linear":
            total = information.sum()
            shares = information / total if total > 0 else np.full(n_tasks, 1.0 / n_tasks)
        else:
            exponent = np.exp(information - information.max())
            shares = exponent / exponent.sum()
        weights = pd.Series(np.asarray(shares, dtype=float) * rest, index=information.index)
        return pd.concat([pd.Series({PRIMARY_TASK: float(self.primary_weight)}),
                          weights]).rename("loss_weight")

    def _transform(self, X):
        # The weights travel in attrs: the columns are X's own, unchanged.
        return X.copy(deep=False)

    def _handed_on(self):
        return {LOSS_WEIGHTS_ATTR: self.loss_weights_.to_dict()}

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.required = True
        return tags
