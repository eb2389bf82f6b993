"""The linear feature layer's share of a prediction, measurement by measurement."""

import numpy as np
import pandas as pd

from .._utils.frame import conversation_sort_order
from ._explain import check_frame, repeated_label, row_positions, split_pipeline
from ._wording import explained_output

__all__ = ["explain_features"]

_COLUMNS = ["row", "context", "talkturn", "feature", "input", "value", "coefficient",
            "contribution", "output", "prediction"]


def _feature_path(net):
    encoding = net.encoding_
    if not encoding.feature_columns_:
        raise ValueError(
            f"explain_features needs an estimator with a feature path; this "
            f"{type(net).__name__} was fitted with feature_columns=None.")
    return encoding, net.module_.feature_weights()


def _caller_inputs(encoding, frame, net):
    """The feature path's inputs of every row of ``frame``, in the caller's row order."""
    order = conversation_sort_order(frame, net.conversation_column, net.turn_column)
    inputs = np.empty((len(frame), 2 * len(encoding.feature_columns_)), dtype=np.float32)
    inputs[order] = encoding.feature_inputs(frame, order)
    return inputs


def explain_features(estimator, X, rows=None):
    """The linear feature layer's share of each prediction, as a tidy DataFrame.

    With ``feature_columns``, each talkturn's measurements enter the network
    twice: joined to the talkturn's vector before the talkturn-level GRU,
    and through a linear layer over the context window whose logits are added
    to the primary outputs. This table covers the linear layer: its share of
    a prediction is exactly the sum, over the talkturns of the window and
    their inputs, of each input's value times its learnt coefficient. It
    does not cover the talkturn-level entry, whose effect passes through the
    GRU and the attention (see :func:`~skhanrock.inspection.explain` and
    :func:`~skhanrock.inspection.permutation_importance` for that).

    Each measurement brings two inputs: ``"z"``, its value standardised
    against the same speaker's earlier talkturns of the conversation
    (clipped to [-5, 5]; 0 when it could not be standardised), and
    ``"missing"``, 1 when it could not be (missing value, fewer than two
    earlier values of the speaker, or no spread among them), else 0.

    For a classifier the explained output is the predicted class, in logits
    (a positive contribution pushes towards that class); for a regressor it
    is the prediction, in the target's units.

    Parameters
    ----------
    estimator : HanRockClassifier, HanRockRegressor or Pipeline ending in one
        A fitted estimator with a feature path.
    X : DataFrame
        Talkturn frame (no labels needed), with a unique index.
    rows : array-like of int or bool, default=None
        Positions (not index labels) of the talkturns to explain, or a boolean
        mask over the rows of ``X``; all talkturns when None.

    Returns
    -------
    DataFrame
        Columns ``row, context, talkturn, feature, input, value, coefficient,
        contribution, output, prediction``: ``row`` and ``talkturn`` are
        index labels of ``X`` (``talkturn`` is the one whose measurement it
        is); ``context`` is 0 for the explained talkturn and -k for the k-th
        one before it; ``feature`` is the column; ``input`` is ``"z"`` or
        ``"missing"``; ``contribution`` is ``value * coefficient``;
        ``output`` is the explained class (None for a regressor);
        ``prediction`` is the estimator's prediction for ``row``. Every input
        of every talkturn of the window is listed, including zeros, in the
        order of ``feature_columns``, so the contributions of a row sum to
        the layer's share of its output.

    Raises
    ------
    ValueError
        When the estimator has no feature path, or as :func:`explain` for
        ``X`` and ``rows``.

    See Also
    --------
    explain_wording : The lexical path's share, n-gram by n-gram.

    Examples
    --------
    >>> from skhanrock import HanRockClassifier
    >>> from skhanrock.datasets import make_conversations
    >>> from skhanrock.inspection import explain_features
    >>> X, y = make_conversations(n_conversations=6, random_state=0)
    >>> clf = HanRockClassifier(primary_units=4, context_size=3, max_epochs=2, random_state=0,
    ...                         feature_columns=["tone_happiness", "AU12_r"]).fit(X, y)
    >>> table = explain_features(clf, X, rows=[5])
    >>> table[["context", "feature", "input"]].head(3).to_dict("records")
    [{'context': 0, 'feature': 'tone_happiness', 'input': 'z'}, \
{'context': 0, 'feature': 'AU12_r', 'input': 'z'}, \
{'context': 0, 'feature': 'tone_happiness', 'input': 'missing'}]
    >>> [item] = clf.predict_attention(X, rows=[5])
    >>> k = list(clf.classes_).index(item.prediction)
    >>> bool(abs(table["contribution"].sum() - item.features[k]) < 1e-5)
    True
    """
    check_frame(X)
    net, frame = split_pipeline(estimator, X)
    encoding, weights = _feature_path(net)
    positions = row_positions(rows, len(frame))
    inputs = _caller_inputs(encoding, frame, net)
    columns = list(encoding.feature_columns_)
    feature = np.array(columns * 2, dtype=object)
    kind = np.array(["z"] * len(columns) + ["missing"] * len(columns), dtype=object)
    pieces = []
    for item in net.predict_attention(frame, rows=positions):
        output, output_name, factor = explained_output(net, item.prediction)
        for offset in range(min(weights.shape[1], len(item.context))):
            talkturn = item.context[-1 - offset]
            coefficient = weights[:, offset, output] * factor
            pieces.append(pd.DataFrame({
                "row": repeated_label(frame.index, item.row, len(feature)), "context": -offset,
                "talkturn": repeated_label(frame.index, talkturn, len(feature)),
                "feature": feature, "input": kind,
                "value": inputs[talkturn], "coefficient": coefficient,
                "contribution": inputs[talkturn] * coefficient, "output": output_name,
                "prediction": item.prediction}, columns=_COLUMNS))
    return pd.concat(pieces, ignore_index=True)
