"""The lexical path's share of a prediction, n-gram by n-gram (what the attention does not weigh)."""

import numpy as np
import pandas as pd

from .._utils.frame import text_as_strings
from ..nn import HanRockRegressor
from ._explain import check_frame, repeated_label, row_positions, split_pipeline

__all__ = ["explain_wording", "explained_output"]

_COLUMNS = ["row", "context", "talkturn", "ngram", "tfidf", "coefficient", "contribution",
            "output", "prediction"]


def _lexical_path(net):
    vocabulary = net.encoding_.lexical_
    if vocabulary is None:
        raise ValueError(
            f"explain_wording needs an estimator with a lexical path; this "
            f"{type(net).__name__} was fitted with lexical_ngrams=None, so its predictions "
            "are all in the attention: use explain().")
    return vocabulary, net.module_.lexical_weights()


def explained_output(net, prediction):
    """Which primary output to explain, its name, and the factor to the prediction's units."""
    if isinstance(net, HanRockRegressor):
        # The network learns the standardised target: undo the scale, not the mean.
        return 0, None, net.target_.scale_
    return list(net.classes_).index(prediction), prediction, 1.0


def _as_given(values, n=None):
    """``values`` (or ``n`` copies of one value) as an object column, every value as it is.

    An object dtype stops pandas from converting strings to Arrow strings,
    which cannot hold the lone surrogates a bad decode leaves in a text.
    """
    if n is not None:
        column = np.empty(n, dtype=object)
        column.fill(values)
        values = column
    return pd.Series(values, dtype=object)


def _talkturn_rows(vocabulary, ngrams, weights, text, offset, output, factor):
    ids, _, tfidf = vocabulary.bags([text])
    coefficient = weights[ids, offset, output] * factor
    return [ngrams[ids], tfidf, coefficient, tfidf * coefficient]


def explain_wording(estimator, X, rows=None):
    """The lexical path's share of each prediction, as a tidy DataFrame of n-grams.

    The estimators' lexical path (``lexical_ngrams``, on by default) adds a
    linear model over TF-IDF bags of word n-grams to the primary outputs,
    beside the attention that :func:`explain` shows. Its share of a
    talkturn's output is exactly the sum, over the n-grams of the talkturn
    (and of the ``lexical_context`` talkturns before it), of each n-gram's
    TF-IDF weight times its learnt coefficient; this table lists those terms.

    For a classifier the explained output is the predicted class, in logits
    (a positive contribution pushes towards that class); for a regressor it
    is the prediction, in the target's units.

    Parameters
    ----------
    estimator : HanRockClassifier, HanRockRegressor or Pipeline ending in one
        A fitted estimator with a lexical path; a pipeline's earlier steps
        transform ``X`` first, so the n-grams are those of the text the
        network read (e.g. the MONAH narrative).
    X : DataFrame
        Talkturn frame (no labels needed), with a unique index.
    rows : array-like of int or bool, default=None
        Positions (not index labels) of the talkturns to explain, or a boolean
        mask over the rows of ``X``; all talkturns when None.

    Returns
    -------
    DataFrame
        Columns ``row, context, talkturn, ngram, tfidf, coefficient,
        contribution, output, prediction``: ``row`` and ``talkturn`` are index
        labels of ``X``, in its index's dtype (a tuple for a MultiIndex;
        ``talkturn`` is the one whose words hold the n-gram); ``context`` is 0 for the explained talkturn and -k for the
        k-th one before it; ``contribution`` is ``tfidf * coefficient``;
        ``output`` is the explained class (None for a regressor);
        ``prediction`` is the estimator's prediction for ``row``. Within a
        row and context, the n-grams come by decreasing contribution. N-grams
        the model did not keep contribute nothing and are not listed, so a
        talkturn without a kept n-gram has no rows at all (its lexical share
        is 0), and grouping the table by ``row`` leaves such rows out. The
        n-grams are those of :func:`~skhanrock.nn.tokenize` words, which keep
        punctuation (``"fine ."``). The ``ngram``, ``output`` and
        ``prediction`` columns are of object dtype and hold the values as they
        are, lone surrogates of a badly decoded text included (Arrow strings
        could not hold them).

    Raises
    ------
    ValueError
        When the estimator has no lexical path (``lexical_ngrams=None``), or
        as :func:`explain` for ``X`` and ``rows``.

    See Also
    --------
    explain : The attention behind the rest of the prediction.

    Examples
    --------
    >>> from skhanrock import HanRockClassifier
    >>> from skhanrock.datasets import make_conversations
    >>> from skhanrock.inspection import explain_wording
    >>> X, y = make_conversations(n_conversations=6, scripted=0.6, random_state=0)
    >>> clf = HanRockClassifier(primary_units=4, context_size=3, max_epochs=2,
    ...                         random_state=0).fit(X, y)
    >>> table = explain_wording(clf, X, rows=[5])
    >>> list(table.columns[:4])
    ['row', 'context', 'talkturn', 'ngram']
    >>> [item] = clf.predict_attention(X, rows=[5])
    >>> k = list(clf.classes_).index(item.prediction)
    >>> bool(abs(table["contribution"].sum() - item.lexical[k]) < 1e-5)
    True
    """
    check_frame(X)
    net, frame = split_pipeline(estimator, X)
    vocabulary, weights = _lexical_path(net)
    positions = row_positions(rows, len(frame))
    texts = text_as_strings(frame, net.lexical_column_)
    ngrams = np.asarray(vocabulary.ngrams_, dtype=object)
    pieces = []
    for item in net.predict_attention(frame, rows=positions):
        output, output_name, factor = explained_output(net, item.prediction)
        for offset in range(min(weights.shape[1], len(item.context))):
            talkturn = item.context[-1 - offset]
            ngram, tfidf, coefficient, contribution = _talkturn_rows(
                vocabulary, ngrams, weights, texts[talkturn], offset, output, factor)
            order = np.argsort(-contribution, kind="stable")
            n = len(order)
            pieces.append(pd.DataFrame({
                "row": repeated_label(frame.index, item.row, n), "context": -offset,
                "talkturn": repeated_label(frame.index, talkturn, n),
                "ngram": _as_given(ngram[order]), "tfidf": tfidf[order],
                "coefficient": coefficient[order], "contribution": contribution[order],
                "output": _as_given(output_name, n),
                "prediction": _as_given(item.prediction, n)}, columns=_COLUMNS))
    # Every explained row has a piece for its own talkturn (context 0), so pieces is
    # never empty.
    return pd.concat(pieces, ignore_index=True)
