"""The lexical path fitted first (``lexical_fit="stacked"``).

Trained jointly from zero, the lexical layer and the deep path share every
Adam step; on IEMOCAP's long one-emotion conversations the result fell below
a TF-IDF + logistic regression fitted in seconds on the same bags. Stacked,
the linear model is fitted first, in closed form (scikit-learn's
``LogisticRegression`` or ``Ridge``), and frozen in the lexical layer; the
network then learns what it gets wrong. The network must see the linear
model's *held-out* logits while it trains: the training rows' own logits
are near-perfect (a linear model over tens of thousands of n-grams fits its
training talkturns almost exactly), and a network trained on top of them
would have nothing left to learn. The held-out logits come from grouped
folds of the training conversations, and the same folds choose the
regularisation strength.
"""

import numpy as np
import scipy.sparse as sp
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.model_selection import GroupKFold

__all__ = ["LINEAR_STRENGTHS", "StackedLexical", "choose_context", "context_bag_matrix",
           "fit_stacked_lexical"]

#: Candidate strengths: ``C`` of the logistic regression (classes), ``alpha`` of the
#: ridge (regression); the held-out folds choose one.
LINEAR_STRENGTHS = {"classification": (0.3, 1.0, 3.0, 10.0),
                    "regression": (0.3, 1.0, 3.0, 10.0, 30.0)}
#: Folds of the training conversations that give the held-out logits.
N_FOLDS = 5


def context_bag_matrix(bags, conversation_codes, n_ngrams, lexical_context):
    """One sparse row per talkturn: its bag, then those of up to ``lexical_context`` earlier ones.

    Column ``k * n_ngrams + j`` holds n-gram ``j`` of the talkturn ``k``
    places earlier in the same conversation, the layout of the lexical
    layer's per-offset weights; a conversation's first talkturns have fewer
    earlier ones (those blocks stay empty), as their windows do.

    Parameters
    ----------
    bags : tuple of ndarray
        ``(ids, offsets, weights)`` of the talkturns, sorted by conversation
        and turn (``NgramVocabulary.bags``).
    conversation_codes : ndarray of int, shape (n,)
        Conversation of each talkturn, consecutive.
    n_ngrams : int
    lexical_context : int

    Returns
    -------
    scipy.sparse.csr_matrix of shape (n, (1 + lexical_context) * n_ngrams)

    Examples
    --------
    >>> import numpy as np
    >>> bags = (np.array([0, 1, 1]), np.array([0, 2, 2]), np.array([0.6, 0.8, 1.0]))
    >>> context_bag_matrix(bags, np.array([0, 0, 1]), 2, 1).toarray().tolist()
    [[0.6, 0.8, 0.0, 0.0], [0.0, 0.0, 0.6, 0.8], [0.0, 1.0, 0.0, 0.0]]
    """
    ids, offsets, weights = (np.asarray(part) for part in bags)
    codes = np.asarray(conversation_codes)
    n = len(offsets)
    current = sp.csr_matrix((weights, ids, np.r_[offsets, len(ids)]), shape=(n, n_ngrams))
    blocks = [current]
    positions = np.arange(n)
    for k in range(1, lexical_context + 1):
        source = positions - k
        same = (source >= 0) & (codes[np.clip(source, 0, None)] == codes)
        # Row r of the shift picks row r - k, or nothing across a conversation start.
        shift = sp.csr_matrix((np.ones(same.sum()), (positions[same], source[same])),
                              shape=(n, n))
        blocks.append(shift @ current)
    return sp.hstack(blocks, format="csr")


class StackedLexical:
    """The fitted linear model of a stacked lexical path.

    Attributes
    ----------
    coef : ndarray of shape (n_columns, n_outputs)
        Weight of each column of :func:`context_bag_matrix` per primary output.
    intercept : ndarray of shape (n_outputs,)
    held_out_logits : ndarray of float32, shape (n, n_outputs)
        Each training talkturn's logits from the fold that did not fit on its
        conversation (without the intercept, which the primary head's bias
        starts from).
    strength : float
        The chosen ``C`` (classes) or ``alpha`` (regression).
    held_out_scores : dict
        Per candidate strength, the held-out log-loss (classes) or mean
        absolute error (regression) of the labelled training rows.
    """

    def __init__(self, coef, intercept, held_out_logits, strength, held_out_scores):
        self.coef = coef
        self.intercept = intercept
        self.held_out_logits = held_out_logits
        self.strength = strength
        self.held_out_scores = held_out_scores

    def layer_weights(self, n_ngrams, lexical_context):
        """``coef`` laid out as the lexical layer's weight, (n_ngrams, (1 + context) * outputs)."""
        n_outputs = self.coef.shape[1]
        per_offset = self.coef.reshape(1 + lexical_context, n_ngrams, n_outputs)
        return per_offset.transpose(1, 0, 2).reshape(n_ngrams, -1)


def _linear_model(target_type):
    if target_type == "classification":
        return LogisticRegression(max_iter=3000, warm_start=True)
    return Ridge()


def _coefficients(model, n_outputs):
    """``(coef (n_columns, n_outputs), intercept (n_outputs,))`` over all ``n_outputs`` codes.

    A class missing from a fold's rows gets zero weights; a binary logistic
    regression's single score is split evenly between the two logits, which
    gives the same softmax.
    """
    if isinstance(model, Ridge):
        return np.asarray(model.coef_, dtype=np.float64).reshape(-1, 1), \
            np.atleast_1d(np.asarray(model.intercept_, dtype=np.float64))
    coef = np.zeros((model.coef_.shape[1], n_outputs))
    intercept = np.zeros(n_outputs)
    classes = model.classes_.astype(int)
    if len(classes) == 2:
        coef[:, classes[1]], coef[:, classes[0]] = model.coef_[0] / 2, -model.coef_[0] / 2
        intercept[classes[1]], intercept[classes[0]] = model.intercept_[0] / 2, \
            -model.intercept_[0] / 2
    else:
        coef[:, classes] = model.coef_.T
        intercept[classes] = model.intercept_
    return coef, intercept


def _held_out_score(scores, targets, weights, target_type):
    """Log-loss (classes) or mean absolute error (regression) of held-out predictions."""
    if target_type == "regression":
        return float(np.average(np.abs(scores[:, 0] - targets), weights=weights))
    scores = scores - scores.max(axis=1, keepdims=True)
    log_probabilities = scores - np.log(np.exp(scores).sum(axis=1, keepdims=True))
    return float(-np.average(log_probabilities[np.arange(len(targets)), targets],
                             weights=weights))


def _fit(model, strength, matrix, targets, weights, n_outputs):
    """Fit ``model`` at ``strength`` (its ``C`` or ``alpha``); its coefficients over all outputs."""
    model.set_params(**{"C" if isinstance(model, LogisticRegression) else "alpha": strength})
    model.fit(matrix, targets, sample_weight=weights)
    return _coefficients(model, n_outputs)


def fit_stacked_lexical(matrix, targets, labelled, conversation_codes, target_type, n_outputs,
                        weights=None):
    """Fit the closed-form linear model and the held-out logits of every training talkturn.

    Parameters
    ----------
    matrix : sparse matrix of shape (n, n_columns)
        :func:`context_bag_matrix` of the training talkturns.
    targets : ndarray of shape (n,)
        Encoded primary targets (class codes, or standardised values).
    labelled : ndarray of bool, shape (n,)
        Rows with a primary label; the others are context and only get logits.
    conversation_codes : ndarray of int, shape (n,)
        The folds keep each conversation whole.
    target_type : {"classification", "regression"}
    n_outputs : int
        Primary outputs (classes; 1 for regression).
    weights : ndarray of shape (n,) or None
        Weight of each row in the fit (class and sample weights).

    Returns
    -------
    StackedLexical

    Raises
    ------
    ValueError
        With fewer than two labelled training conversations: no fold could
        give held-out logits.

    Examples
    --------
    >>> import numpy as np, scipy.sparse as sp
    >>> rng = np.random.default_rng(0)
    >>> matrix = sp.csr_matrix(rng.random((40, 6)))
    >>> targets = (matrix.toarray()[:, 0] > 0.5).astype(int)
    >>> fitted = fit_stacked_lexical(matrix, targets, np.ones(40, bool), np.arange(40) // 4,
    ...                              "classification", 2)
    >>> fitted.coef.shape, fitted.held_out_logits.shape
    ((6, 2), (40, 2))
    """
    conversation_codes = np.asarray(conversation_codes)
    labelled = np.asarray(labelled, dtype=bool)
    groups = np.unique(conversation_codes[labelled])
    if len(groups) < 2:
        raise ValueError(
            f"lexical_fit='stacked' needs labelled talkturns in at least two training "
            f"conversations, to give the network held-out logits; got {len(groups)}.")
    weights = np.ones(len(targets)) if weights is None else np.asarray(weights, dtype=float)
    folds = list(GroupKFold(n_splits=min(N_FOLDS, len(groups))).split(
        np.zeros(labelled.sum()), groups=conversation_codes[labelled]))
    fold_of_conversation = {}
    for k, (_, held) in enumerate(folds):
        fold_of_conversation.update(dict.fromkeys(conversation_codes[labelled][held], k))
    # Conversations without a label go to the first fold: any fold has not seen them.
    row_fold = np.array([fold_of_conversation.get(code, 0) for code in conversation_codes])
    fit_rows = np.flatnonzero(labelled)
    label_fit = targets[labelled].astype(int if target_type == "classification" else float)
    strengths = LINEAR_STRENGTHS[target_type]
    logits = np.zeros((len(strengths), len(targets), n_outputs))
    intercepts = np.zeros_like(logits)
    for k, (train, _) in enumerate(folds):
        rows = row_fold == k
        # One model per fold, its strengths in increasing order, each fit starting
        # from the last one's solution (a logistic regression's warm start).
        model = _linear_model(target_type)
        part = matrix[fit_rows[train]]
        for i, strength in enumerate(strengths):
            coef, intercept = _fit(model, strength, part, label_fit[train],
                                   weights[fit_rows[train]], n_outputs)
            logits[i, rows] = matrix[rows] @ coef
            intercepts[i, rows] = intercept
    scores = {strength: _held_out_score((logits[i] + intercepts[i])[labelled], label_fit,
                                        weights[labelled], target_type)
              for i, strength in enumerate(strengths)}
    best = min(scores, key=scores.get)
    coef, intercept = _fit(_linear_model(target_type), best, matrix[fit_rows], label_fit,
                           weights[fit_rows], n_outputs)
    return StackedLexical(coef, intercept, logits[strengths.index(best)].astype(np.float32),
                          best, scores)


def choose_context(matrix, n_ngrams, candidates, targets, labelled, conversation_codes,
                   target_type, n_outputs, weights=None):
    """The candidate context whose linear model scores best on the held-out folds.

    Column blocks come current talkturn first (:func:`context_bag_matrix`),
    so the matrix of ``max(candidates)`` holds every smaller context as its
    first columns; each candidate is fitted as :func:`fit_stacked_lexical`
    does (strength chosen on the same folds) and scored by its best
    held-out log-loss (MAE); a tie goes to the smaller context.

    Parameters
    ----------
    matrix : sparse matrix of shape (n, (1 + max(candidates)) * n_ngrams)
    n_ngrams : int
    candidates : tuple of int
    targets, labelled, conversation_codes, target_type, n_outputs, weights
        As in :func:`fit_stacked_lexical`.

    Returns
    -------
    context : int
    scores : dict
        Best held-out score of each candidate.

    Examples
    --------
    >>> import numpy as np, scipy.sparse as sp
    >>> rng = np.random.default_rng(0)
    >>> current = rng.random((40, 3))
    >>> targets = (current[:, 0] > 0.5).astype(int)
    >>> codes = np.arange(40) // 4
    >>> bags = sp.csr_matrix(current)
    >>> matrix = context_bag_matrix((bags.indices, bags.indptr[:-1], bags.data), codes, 3, 1)
    >>> choose_context(matrix, 3, (0, 1), targets, np.ones(40, bool), codes,
    ...                "classification", 2)[0]
    0
    """
    scores = {}
    for context in sorted(candidates):
        fitted = fit_stacked_lexical(matrix[:, :(1 + context) * n_ngrams], targets, labelled,
                                     conversation_codes, target_type, n_outputs, weights)
        scores[context] = min(fitted.held_out_scores.values())
    return min(scores, key=lambda context: (scores[context], context)), scores
