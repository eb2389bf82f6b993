"""The skeleton the talkturn-frame transformers share.

:class:`FrameTransformer` owns what every step of the paper's pipeline does
the same way: ``transform`` refuses an unfitted step and columns other than
those of ``fit``, carries the caller's ``DataFrame.attrs`` (deep-copied) plus
what the step hands on, ``get_feature_names_out`` names the output columns,
and the tags say "a 2-D frame with text and gaps". A subclass writes ``fit``
(ending with :meth:`FrameTransformer._fit_columns`) and ``_transform``, and
says which columns it adds and what it hands on; nothing else.
"""

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from .._utils.frame import carry_attrs, check_fitted_columns, columns_with, talkturn_frame_tags
from .._utils.targets import TARGET_TYPES, resolve_target_type
from .._utils.validation import replaced_parameters  # re-exported for the transformers' modules

__all__ = ["FrameTransformer", "TargetTypeMixin", "replaced_parameters"]


class FrameTransformer(TransformerMixin, BaseEstimator):
    """Base of the transformers from a talkturn frame to a talkturn frame.

    Subclasses implement ``fit`` (ending with :meth:`_fit_columns`),
    :meth:`_transform`, and, when they add columns or hand values to later
    steps, :meth:`_added_columns` and :meth:`_handed_on`.
    """

    def _fit_columns(self, X):
        """Record the columns ``fit`` saw: ``transform`` accepts exactly these."""
        self.feature_names_in_ = np.asarray(X.columns, dtype=object)
        self.n_features_in_ = len(X.columns)
        return self

    def _transform(self, X):
        """The output frame: a copy of ``X`` (never ``X`` itself) with the step's columns."""
        raise NotImplementedError

    def _added_columns(self):
        """Names of the columns ``_transform`` adds, in order (none by default)."""
        return ()

    def _removed_columns(self):
        """Names of the input columns ``_transform`` drops (none by default)."""
        return ()

    def _handed_on(self):
        """``{attrs key: value}`` the output carries to later steps (none by default)."""
        return {}

    def transform(self, X):
        """Return a copy of ``X`` with this step's output added.

        What is added (columns, or entries of ``attrs`` for a later step) is
        described in the class documentation.

        Parameters
        ----------
        X : DataFrame
            Talkturn frame with the columns seen in ``fit``, in their order.

        Returns
        -------
        DataFrame
            A copy of ``X`` in the caller's row order, with the step's columns
            (see :meth:`get_feature_names_out`) and a deep copy of ``X.attrs``
            plus what the step hands on.
        """
        # feature_names_in_ is set last in fit: a fit that failed half-way is not fitted.
        check_is_fitted(self, "feature_names_in_")
        check_fitted_columns(X, self.feature_names_in_, type(self).__name__)
        return carry_attrs(self._transform(X), X, **self._handed_on())

    def get_feature_names_out(self, input_features=None):
        """Input column names, less those this step drops, plus those it adds.

        Parameters
        ----------
        input_features : ignored
            Present for scikit-learn's API; the names seen in ``fit`` are used.

        Returns
        -------
        ndarray of str
            The columns of the transformed frame.
        """
        check_is_fitted(self, "feature_names_in_")
        removed = set(self._removed_columns())
        kept = [c for c in self.feature_names_in_ if c not in removed]
        return columns_with(kept, self._added_columns())

    def __sklearn_tags__(self):
        tags = talkturn_frame_tags(super().__sklearn_tags__())
        # Honest about what fit takes (a 2-D table, as a talkturn DataFrame), so that
        # scikit-learn's common checks run; tests/preprocessing/test_common.py lists
        # those that cannot pass, with the reason of each.
        return tags


class TargetTypeMixin:
    """The ``target_type`` parameter of a transformer that looks at ``y``.

    A transformer cannot see the pipeline's estimator, so it is told, or
    infers, whether ``y`` holds classes or numbers. It is not called
    ``task``, a word the estimators use for a loss head.
    """

    def _fit_target_type(self, y, *, warn=True):
        """``"classification"`` or ``"regression"``, or None for "auto" without ``y``.

        ``warn`` says whether an "auto" guess from whole-number floats deserves a
        warning (it does not when the guess changes nothing).
        """
        target_type = self.target_type
        owner = type(self).__name__
        if not (isinstance(target_type, str) and target_type in TARGET_TYPES):
            raise ValueError(f"{owner}: target_type must be one of {TARGET_TYPES}, "
                             f"got {target_type!r}.")
        if y is None and target_type == "auto":
            return None
        return resolve_target_type(target_type, y, owner, warn=warn)

    @property
    def task_(self):
        """Gone: the fitted attribute is ``target_type_``."""
        # An error naming the replacement, not Python's bare "no attribute 'task_'".
        raise AttributeError(f"{type(self).__name__} has no attribute 'task_': the fitted "
                             "target kind is target_type_.")
