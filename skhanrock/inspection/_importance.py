"""Permutation importance of the columns of a talkturn frame, within conversations."""

import numpy as np
import pandas as pd
from sklearn.metrics import check_scoring
from sklearn.utils import Bunch, check_random_state
from sklearn.utils.parallel import Parallel, delayed

from .._utils.frame import AUX_PREFIX, check_talkturn_frame
from .._utils.validation import check_number
from ..metrics import get_scorer

__all__ = ["permutation_importance"]

_WITHIN = ("conversation", None)
# A talkturn's start and end (MonahTranscriber's defaults), shuffled together by default.
_TALKTURN_TIMES = ("start", "end")


def permutation_importance(estimator, X, y, *, columns=None, scoring=None, n_repeats=5,
                           within="conversation", conversation_column="conversation",
                           turn_column="turn", speaker_column="speaker", random_state=None,
                           n_jobs=None, sample_weight=None):
    """Permutation importance of the columns of a talkturn frame.

    Like :func:`sklearn.inspection.permutation_importance`: the importance of
    a column is the drop in score when its values are shuffled among the
    talkturns of ``X``. Unlike it, the talkturn ids are never shuffled, the
    values are shuffled within each conversation by default, and a scorer
    name scores the labelled talkturns only (see Notes).

    Parameters
    ----------
    estimator : estimator
        A fitted estimator or pipeline that takes a talkturn frame.
    X : DataFrame
        Talkturn frame to score on, unlabelled talkturns included: they are
        the context of the labelled ones, and their values are shuffled too.
        It is never modified.
    y : array-like of shape (n_talkturns,)
        Labels; a missing one (None or NaN) marks an unlabelled talkturn,
        which is not scored.
    columns : str or list, default=None
        The columns to permute, one entry at a time; an entry is a column
        name, or a tuple (or list) of names whose values are shuffled
        together, row by row (correlated features, or a start and an end).
        None: every column except the conversation, turn and speaker columns
        and the auxiliary-target columns (``aux:*``), which prediction never
        reads, each alone except ``("start", "end")``, shuffled together so
        that no talkturn ends before it starts. A named column that ``X``
        lacks is an error naming it; the conversation and turn columns cannot
        be permuted (they identify the talkturns), the speaker column can,
        when named.
    scoring : str, callable, list, tuple or dict, default=None
        None: the estimator's ``score``, which skips unlabelled talkturns. A
        name of :func:`sklearn.metrics.get_scorer_names` or a ``make_scorer``
        scorer goes through :func:`skhanrock.metrics.get_scorer`, so it scores
        the labelled talkturns only; another callable ``scorer(estimator, X,
        y)`` is used as is. A list or tuple of names, or a dict of ``{name:
        scorer}``, scores several metrics on the same predictions.
    n_repeats : int, default=5
        Number of permutations of each column.
    within : {"conversation", None}, default="conversation"
        "conversation": shuffle each column's values among the talkturns of
        the same conversation, so each conversation keeps its own values.
        None: shuffle them across the whole frame.
    conversation_column, turn_column, speaker_column : str
        Names of the id columns; ``speaker_column=None`` for a frame without
        speakers (a named speaker column that ``X`` lacks is an error, since
        a misspelt name would let the speakers be permuted).
    random_state : int, RandomState instance or None, default=None
        Seed of the permutations; an int gives the same importances at every
        call, whatever ``n_jobs``.
    n_jobs : int, default=None
        Number of columns scored in parallel with joblib (None: 1, unless in a
        :func:`joblib.parallel_config` context).
    sample_weight : array-like of shape (n_talkturns,), default=None
        Weights of the talkturns in the score.

    Returns
    -------
    Bunch or dict of Bunch
        ``importances`` (n_columns, n_repeats), the baseline score minus the
        score of each permutation; ``importances_mean`` and
        ``importances_std`` (n_columns,) over the repeats; and ``columns``,
        an object array of the permuted entries in the order of the rows (a
        column name, or a tuple of names for a group). For several
        metrics, a dict of such Bunches keyed by metric name.

    Raises
    ------
    ValueError
        For a column that ``X`` lacks, an id column in ``columns``, a named
        column repeated, an unknown ``within`` or ``n_repeats`` below 1.
    TypeError
        When ``X`` is not a DataFrame.

    See Also
    --------
    sklearn.inspection.permutation_importance : The same for feature matrices.

    Notes
    -----
    scikit-learn's ``permutation_importance`` shuffles every column: shuffled
    conversation or turn values give talkturns that repeat, which the
    estimators refuse, and ids are no features anyway. Its scorer names
    compare missing labels with predictions and give NaN.

    Shuffling within conversations (the default) asks how much the model
    relies on *which* talkturn of a conversation has a value, keeping each
    conversation's distribution (a loud speaker stays loud); shuffling across
    the frame also breaks the differences between conversations, so it
    measures more, and it is the one to use for a column that is constant
    within each conversation (a session or recording column), whose
    within-conversation importance is 0 by construction. A conversation of
    one talkturn keeps its value.

    As in scikit-learn, every column gets the same permutations (one seed is
    drawn from ``random_state``), so a column's importance does not depend
    on which other columns are named. There is no ``max_samples``: scoring
    a random subset of talkturns would cut conversations.

    Examples
    --------
    >>> from skhanrock import HanRockClassifier
    >>> from skhanrock.datasets import make_conversations
    >>> from skhanrock.inspection import permutation_importance
    >>> X, y = make_conversations(n_conversations=4, max_turns=8, random_state=0)
    >>> clf = HanRockClassifier(text_column="text", primary_units=6, aux_units=2,
    ...                         embedding_dim=8, context_size=3, max_epochs=2,
    ...                         random_state=0).fit(X, y)
    >>> result = permutation_importance(clf, X, y, columns=["text", "AU05_r"],
    ...                                 scoring="neg_log_loss", n_repeats=2, random_state=0)
    >>> list(result.columns)
    ['text', 'AU05_r']
    >>> float(result.importances_mean[1])  # the network alone reads no facial action unit
    0.0
    """
    X = check_talkturn_frame(X, conversation_column=conversation_column,
                             turn_column=turn_column)
    n_repeats = check_number("n_repeats", n_repeats, low=1, integer=True)
    groups = _permutation_groups(X, within, conversation_column)
    entries = _columns_to_permute(X, columns, (conversation_column, turn_column),
                                  speaker_column)
    scorer = _check_scorer(estimator, scoring)
    # One seed for every column, drawn before any job starts, as in scikit-learn:
    # the permutations then depend neither on n_jobs nor on the other columns.
    seed = check_random_state(random_state).randint(np.iinfo(np.int32).max + 1)
    baseline = _score(scorer, estimator, X, y, sample_weight)
    scores = Parallel(n_jobs=n_jobs)(
        delayed(_permuted_scores)(estimator, X, y, sample_weight, entry, groups, seed,
                                  n_repeats, scorer)
        for entry in entries)
    # Filled one by one: a list of groups of equal size would become a 2-d array.
    names = np.empty(len(entries), dtype=object)
    for position, entry in enumerate(entries):
        names[position] = _name(entry)
    if isinstance(baseline, dict):
        return {metric: _importances(value, [[s[metric] for s in column] for column in scores],
                                     names)
                for metric, value in baseline.items()}
    return _importances(baseline, scores, names)


def _permutation_groups(X, within, conversation_column):
    """Group code of each row: values are shuffled within a group only."""
    if within is not None and (not isinstance(within, str) or within not in _WITHIN):
        raise ValueError(f"within must be 'conversation' (shuffle within each conversation) "
                         f"or None (across the frame), got {within!r}.")
    if within is None:
        return np.zeros(len(X), dtype=np.intp)
    return pd.factorize(X[conversation_column])[0]


def _columns_to_permute(X, columns, ids, speaker_column):
    """The checked entries to permute, each a tuple of columns shuffled together."""
    if speaker_column is not None and speaker_column not in X.columns:
        raise ValueError(f"speaker_column={speaker_column!r} is not a column of X (columns: "
                         f"{list(X.columns)}); pass speaker_column=None for a frame without "
                         "speakers.")
    entries = (_default_entries(X, {*ids, speaker_column}) if columns is None
               else _named_entries(X, columns, ids))
    named = [c for entry in entries for c in entry]
    doubled = [c for c in dict.fromkeys(named) if (X.columns == c).sum() > 1]
    if doubled:
        raise ValueError(f"X has several columns named {doubled}; rename them to permute them.")
    return entries


def _default_entries(X, left_out):
    """Every column but the ids and aux targets, alone, except a talkturn's times, together."""
    columns = [c for c in X.columns if c not in left_out and not str(c).startswith(AUX_PREFIX)]
    if not columns:
        raise ValueError(f"X has no column to permute besides the ids "
                         f"{sorted(str(c) for c in left_out - {None})} and auxiliary targets.")
    if not set(_TALKTURN_TIMES) <= set(columns):
        return [(c,) for c in columns]
    # Shuffled alone, a start or an end would make talkturns end before they start.
    return [_TALKTURN_TIMES if c == _TALKTURN_TIMES[0] else (c,)
            for c in columns if c != _TALKTURN_TIMES[1]]


def _named_entries(X, columns, ids):
    """``columns`` as tuples: a name alone, or a tuple or list of names shuffled together."""
    columns = [columns] if isinstance(columns, str) else list(columns)
    if not columns:
        raise ValueError("columns is empty: name at least one column to permute, or pass None.")
    # A tuple that names a column (of MultiIndex columns) is that column, not a group.
    entries = [tuple(c) if isinstance(c, (tuple, list)) and not _is_column(X, c) else (c,)
               for c in columns]
    if not all(entries):
        raise ValueError("columns holds an empty group: a group names one column or more.")
    named = [c for entry in entries for c in entry]
    missing = [c for c in dict.fromkeys(named) if c not in X.columns]
    if missing:
        raise ValueError(f"columns {missing} are not in X; its columns are {list(X.columns)}.")
    named_ids = [c for c in dict.fromkeys(named) if c in ids]
    if named_ids:
        raise ValueError(f"columns {named_ids} identify the talkturns and cannot be permuted: "
                         "shuffled ids would make talkturns repeat.")
    repeated = [_name(e) for e in dict.fromkeys(entries) if entries.count(e) > 1]
    if repeated:
        raise ValueError(f"columns names a column more than once: {repeated}.")
    return entries


def _is_column(X, name):
    try:
        return name in X.columns
    except TypeError:  # a list is no column name
        return False


def _name(entry):
    """How an entry is named in the result: its column, or the tuple of a group."""
    return entry[0] if len(entry) == 1 else entry


def _check_scorer(estimator, scoring):
    """The scorer of ``scoring``, with scorer names skipping unlabelled talkturns."""
    if scoring is None:
        return check_scoring(estimator)
    if isinstance(scoring, (list, tuple)):
        if len(set(scoring)) != len(scoring):
            raise ValueError(f"scoring lists a metric more than once: {list(scoring)}.")
        scoring = {name: name for name in scoring}
    if isinstance(scoring, dict):
        return check_scoring(estimator, {name: get_scorer(s) for name, s in scoring.items()})
    return get_scorer(scoring)


def _score(scorer, estimator, X, y, sample_weight):
    if sample_weight is None:
        return scorer(estimator, X, y)
    return scorer(estimator, X, y, sample_weight=sample_weight)


def _permuted_scores(estimator, X, y, sample_weight, entry, groups, seed, n_repeats, scorer):
    """The score of each of ``n_repeats`` permutations of the columns of ``entry``."""
    random_state = check_random_state(seed)
    # A copy of its own per job: the caller's X is never written, whatever the backend.
    permuted = X.copy()
    values = {column: X[column].array for column in entry}
    by_group = np.argsort(groups, kind="stable")
    scores = []
    for _ in range(n_repeats):
        # Each row takes the value of a random row of its own group: both orders list
        # the groups in the same order, by_group in row order and shuffled at random.
        shuffled = np.lexsort((random_state.random_sample(len(groups)), groups))
        source = np.empty(len(groups), dtype=np.intp)
        source[by_group] = shuffled
        for column, array in values.items():
            # The array keeps the column's dtype and does not align on a (non-unique) index.
            permuted[column] = array.take(source)
        scores.append(_score(scorer, estimator, permuted, y, sample_weight))
    return scores


def _importances(baseline, scores, columns):
    importances = baseline - np.asarray(scores, dtype=float).reshape(len(columns), -1)
    return Bunch(importances_mean=importances.mean(axis=1),
                 importances_std=importances.std(axis=1), importances=importances,
                 columns=columns)
