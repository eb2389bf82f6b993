"""What the primary target is: classes or numbers, and how each is encoded for the network.

The estimators name one of these objects (``HanRockClassifier`` a
:class:`ClassificationTarget`, ``HanRockRegressor`` a :class:`RegressionTarget`)
instead of spreading ``if classification`` branches through the training code:
the target kind fits the target on the training rows, encodes labels for the
loss, builds the history/future targets, decodes the primary head's outputs and
weighs the rows of the primary loss.
"""

import numbers

import numpy as np
import pandas as pd
import torch
from sklearn.utils.multiclass import type_of_target

from .._utils.frame import as_float32
from .._utils.labels import label_offset_targets
from .._utils.validation import ReplacedName

__all__ = ["ClassificationTarget", "RegressionTarget"]


class ClassificationTarget:
    """Classes of a primary label, and their weights in the loss.

    Parameters
    ----------
    class_weight : None, "balanced" or dict, default=None
        Weight of each class in the primary loss, as in scikit-learn's
        classifiers: None weighs every labelled row 1; "balanced" weighs class
        ``c`` ``n_labelled / (n_classes * n_c)`` over the training rows; a dict
        maps classes to weights (classes it leaves out weigh 1).

    Attributes
    ----------
    classes_ : ndarray
        Sorted classes (insertion order where they cannot be sorted).
    class_weight_ : ndarray of float or None
        Weight of each class of ``classes_``; None without ``class_weight``.

    Examples
    --------
    >>> import pandas as pd
    >>> kind = ClassificationTarget("balanced").fit(pd.Series(["a", "b", "b", None]))
    >>> kind.classes_.tolist(), kind.class_weight_.tolist()
    (['a', 'b'], [1.5, 0.75])
    >>> kind.encode(pd.Series(["b", None, "a"])).tolist()
    [1, -1, 0]
    """

    target_type = "classification"
    task = ReplacedName("target_type")
    #: What ``train_split="auto"`` early-stops on: robust to a class the model stops predicting.
    dev_scoring = "f1_weighted"

    def __init__(self, class_weight=None):
        self.class_weight = class_weight

    def fit(self, labels, training=None):
        """Fit the classes on every labelled row and the class weights on ``training`` rows.

        Parameters
        ----------
        labels : Series
            Primary labels, missing values for unlabelled rows.
        training : ndarray of bool or None, default=None
            Rows the class weights are counted on (None: every row).

        Returns
        -------
        self
        """
        present = labels.dropna()
        classes = present.unique()
        infinite = [c for c in classes if isinstance(c, numbers.Real) and np.isinf(c)]
        if infinite:
            raise ValueError(f"y holds the class {infinite[0]!r}; class labels must be finite.")
        _check_label_types(present)
        try:
            self.classes_ = np.array(sorted(classes))
        except TypeError:
            self.classes_ = np.array(list(classes), dtype=object)
        if len(self.classes_) < 2:
            raise ValueError(
                f"y must hold at least 2 classes among its labelled rows, got "
                f"{list(self.classes_)}.")
        counted = labels if training is None else labels[np.asarray(training, dtype=bool)]
        self.class_weight_ = self._fit_class_weight(counted.dropna())
        return self

    def _fit_class_weight(self, labels):
        if self.class_weight is None:
            return None
        if isinstance(self.class_weight, str):
            if self.class_weight != "balanced":
                raise ValueError(f"class_weight must be None, 'balanced' or a dict, got "
                                 f"{self.class_weight!r}.")
            counts = labels.value_counts().reindex(self.classes_, fill_value=0).to_numpy()
            # A class absent from the training rows weighs nothing: it has no row to weigh.
            return np.where(counts > 0, len(labels) / (len(self.classes_) * np.maximum(counts, 1)),
                            0.0)
        if not isinstance(self.class_weight, dict):
            raise ValueError(f"class_weight must be None, 'balanced' or a dict, got "
                             f"{self.class_weight!r}.")
        unknown = [c for c in self.class_weight if c not in set(self.classes_.tolist())]
        if unknown:
            raise ValueError(f"class_weight names classes {unknown} that y does not hold; its "
                             f"classes are {self.classes_.tolist()}.")
        weights = np.array([self.class_weight.get(c, 1.0) for c in self.classes_.tolist()],
                           dtype=float)
        if not np.isfinite(weights).all() or (weights < 0).any():
            raise ValueError(f"class_weight values must be finite and non-negative, got "
                             f"{self.class_weight!r}.")
        return weights

    @property
    def n_outputs(self):
        """Outputs of the primary head: one logit per class."""
        return len(self.classes_)

    @property
    def n_offset_outputs(self):
        """Outputs of a history/future head: the classes and "no usable label"."""
        return len(self.classes_) + 1

    def criterion_kwargs(self):
        """Keyword arguments of :class:`~skhanrock.nn.MultiTaskLoss` for this target."""
        return {"target_type": self.target_type}

    def encode(self, labels):
        """Class codes of ``labels`` (a Series), -1 for unlabelled rows."""
        index = {label: i for i, label in enumerate(self.classes_.tolist())}
        codes = np.full(len(labels), -1, dtype=np.int64)
        for position, (row, label) in enumerate(labels.items()):
            if pd.isna(label):
                continue
            code = index.get(label.item() if isinstance(label, np.generic) else label)
            if code is None:
                raise ValueError(
                    f"y at row {row!r} has the class {label!r}, unseen when the classes were "
                    f"fitted ({self.classes_.tolist()}).")
            codes[position] = code
        return codes

    def offset_targets(self, primary, conversation_codes, labelled, offsets):
        """History/future targets: the code at each source row, or the "no label" class."""
        return label_offset_targets(primary, conversation_codes, labelled, offsets,
                                    fill=len(self.classes_))

    @staticmethod
    def labelled(primary):
        """Rows of encoded ``primary`` targets that carry a label (code >= 0)."""
        return np.asarray(primary) >= 0

    def row_weights(self, primary):
        """Class weight of each encoded row (None without class weights)."""
        if self.class_weight_ is None:
            return None
        return np.where(primary >= 0, self.class_weight_[np.clip(primary, 0, None)], 0.0)

    def decode(self, outputs):
        """The most probable class of each row of primary-head ``outputs`` (logits)."""
        return self.classes_[np.asarray(outputs).argmax(axis=1)]

    def probabilities(self, outputs):
        """Class probabilities of each row of primary-head ``outputs`` (the logits' softmax)."""
        return torch.softmax(torch.as_tensor(outputs), dim=-1).numpy()

    def decode_codes(self, codes):
        """Classes of encoded ``codes``; None where a row is unlabelled (-1)."""
        codes = np.asarray(codes)
        decoded = np.empty(len(codes), dtype=object)
        labelled = codes >= 0
        decoded[labelled] = self.classes_[codes[labelled]]
        return decoded

    def fitted_state(self):
        """The fitted state as JSON-ready values (see ``set_fitted_state``)."""
        return {"classes": _json_values(self.classes_),
                "class_weight": None if self.class_weight_ is None
                else self.class_weight_.tolist()}

    def set_fitted_state(self, state):
        """Restore what :meth:`fitted_state` returned."""
        self.classes_ = _values_from_json(state["classes"])
        self.class_weight_ = None if state["class_weight"] is None \
            else np.asarray(state["class_weight"], dtype=float)
        return self


class RegressionTarget:
    """A numeric primary target, standardised on the training rows.

    The network learns ``(y - mean_) / scale_`` and predictions are mapped
    back, so targets in any unit (``y * 1e8``, ``y + 1e8``) train as well as
    targets near 0. The history/future targets are standardised the same way.

    Parameters
    ----------
    loss : {"l1", "l2"}, default="l1"
        Loss of the primary and history/future heads (passed to the criterion).

    Attributes
    ----------
    mean_, scale_ : float
        Mean and standard deviation of the labelled training targets (scale 1
        when they are all equal).
    target_range_ : tuple of float
        Smallest and largest labelled target.

    Examples
    --------
    >>> import pandas as pd
    >>> kind = RegressionTarget().fit(pd.Series([1.0, 3.0, None]))
    >>> kind.mean_, kind.scale_, kind.encode(pd.Series([3.0, None])).tolist()
    (2.0, 1.0, [1.0, nan])
    >>> kind.decode([[1.0]]).tolist()
    [3.0]
    """

    target_type = "regression"
    task = ReplacedName("target_type")
    #: What ``train_split="auto"`` early-stops on: the paper's regression metric.
    dev_scoring = "neg_mean_absolute_error"

    def __init__(self, loss="l1"):
        self.loss = loss

    def fit(self, labels, training=None):
        """Fit the range on every labelled row and the scaling on ``training`` rows.

        Returns
        -------
        self
        """
        values = self._numeric(labels)
        self.target_range_ = (float(np.nanmin(values)), float(np.nanmax(values)))
        counted = values if training is None else values[np.asarray(training, dtype=bool)]
        counted = counted[~np.isnan(counted)]
        if not len(counted):
            counted = values[~np.isnan(values)]
        self.mean_ = float(np.mean(counted))
        scale = float(np.std(counted))
        self.scale_ = scale if np.isfinite(scale) and scale > 0 else 1.0
        return self

    @staticmethod
    def _numeric(labels):
        values = pd.to_numeric(labels, errors="coerce")
        bad = (values.isna() & labels.notna()).to_numpy()
        if bad.any():
            # By position: under a duplicate index, .loc would return several values.
            position = np.flatnonzero(bad)[0]
            raise ValueError(
                f"y must be numeric for a regressor; y at row {labels.index[position]!r} is "
                f"{labels.iloc[position]!r}.")
        values = values.to_numpy(dtype=float)
        if np.isinf(values).any():
            row = labels.index[np.isinf(values)][0]
            raise ValueError(f"y is infinite at row {row!r}; regression targets must be finite.")
        return values

    n_outputs = 1
    n_offset_outputs = 1

    def criterion_kwargs(self):
        """Keyword arguments of :class:`~skhanrock.nn.MultiTaskLoss` for this target."""
        if self.loss not in ("l1", "l2"):
            raise ValueError(f"loss must be 'l1' or 'l2', got {self.loss!r}.")
        return {"target_type": self.target_type, "loss": self.loss}

    def encode(self, labels):
        """Standardised float32 targets of ``labels`` (a Series), NaN where unlabelled."""
        values = self._numeric(labels)
        with np.errstate(over="ignore", invalid="ignore"):
            standardised = (values - self.mean_) / self.scale_
        return as_float32(standardised[:, None], ["y (standardised)"], labels.index)[:, 0]

    def offset_targets(self, primary, conversation_codes, labelled, offsets):
        """History/future targets: the standardised value at each source row, or NaN."""
        return label_offset_targets(primary, conversation_codes, labelled, offsets,
                                    fill=np.nan).astype(np.float32)

    @staticmethod
    def labelled(primary):
        """Rows of encoded ``primary`` targets that carry a label (not NaN)."""
        return np.isfinite(np.asarray(primary))

    def row_weights(self, primary):
        """Regression rows carry no class weight."""
        return None

    def decode(self, outputs):
        """Primary-head ``outputs`` back in the target's own unit."""
        return np.asarray(outputs, dtype=np.float64).reshape(-1) * self.scale_ + self.mean_

    def decode_codes(self, codes):
        """Encoded targets back in the target's own unit (NaN where unlabelled)."""
        return self.decode(codes)

    def fitted_state(self):
        """The fitted state as JSON-ready values."""
        return {"mean": self.mean_, "scale": self.scale_, "range": list(self.target_range_)}

    def set_fitted_state(self, state):
        """Restore what :meth:`fitted_state` returned."""
        self.mean_, self.scale_ = float(state["mean"]), float(state["scale"])
        self.target_range_ = tuple(float(v) for v in state["range"])
        return self


def _check_label_types(labels):
    """Refuse labels a classifier would read wrongly, as scikit-learn's classifiers do."""
    values = labels.to_numpy(dtype=object)
    if not len(values):
        return
    is_bool = np.array([isinstance(v, bool | np.bool_) for v in values])
    is_number = np.array([isinstance(v, numbers.Number) and not isinstance(v, bool | np.bool_)
                          for v in values])
    is_string = np.array([isinstance(v, str) for v in values])
    if is_bool.any() and is_number.any():
        raise ValueError(
            "y mixes booleans and numbers (True and 1, False and 0 would merge into one "
            "class each); give the classes in one type.")
    if is_string.any() and (is_number.any() or is_bool.any()):
        raise ValueError("Mix of label input types (string and number) in y; give the classes "
                         "in one type.")
    if is_number.all() and type_of_target(values.astype(float)) == "continuous":
        raise ValueError(
            "Unknown label type: continuous. HanRockClassifier expects discrete classes "
            "and y holds non-integer numbers; use HanRockRegressor for a numeric target.")


_JSON_KINDS = {"str": str, "int": int, "float": float, "bool": bool}


def _json_values(values):
    """Values with their type, so that 1, True and "1" come back as they were."""
    kinds = {type(v.item() if isinstance(v, np.generic) else v).__name__ for v in values}
    if len(kinds) != 1 or next(iter(kinds)) not in _JSON_KINDS:
        raise ValueError(f"classes of types {sorted(kinds)} cannot be saved; save() stores "
                         f"classes of one type among {sorted(_JSON_KINDS)}.")
    return {"type": next(iter(kinds)), "dtype": str(np.asarray(values).dtype),
            "values": [v.item() if isinstance(v, np.generic) else v for v in values]}


def _values_from_json(state):
    kind = _JSON_KINDS[state["type"]]
    values = [kind(v) for v in state["values"]]
    dtype = state["dtype"]
    return np.array(values, dtype=object if dtype == "object" else dtype)
