"""Speaker-disjoint cross-validation splits."""

import warnings

import numpy as np
import pandas as pd
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from sklearn.model_selection import GroupKFold
from sklearn.model_selection._split import _BaseKFold
from sklearn.utils import check_random_state

from .._utils.targets import check_labels, is_classification_target

__all__ = ["SpeakerGroupKFold", "check_split_classes", "speaker_groups", "check_key_columns",
           "check_talkturns", "shared_speaker_rows"]


def check_split_classes(y, train, where):
    """Raise when a class of ``y`` has no labelled row among the training rows.

    A model fitted on such a split cannot predict that class, and its
    ``predict_proba`` columns no longer line up across folds. Regression
    targets (floats, see
    :func:`~skhanrock.preprocessing.is_classification_target`) and ``y=None``
    pass; missing labels are ignored.

    Parameters
    ----------
    y : array-like or None
    train : ndarray of int
        Training row positions.
    where : str
        Names the split in the message.

    Returns
    -------
    None
        The check only raises.

    Raises
    ------
    ValueError
        Naming the split and the classes missing from its training rows.

    Examples
    --------
    >>> import numpy as np
    >>> check_split_classes(["a", "b", "a"], np.array([0, 2]), "fold 0")
    Traceback (most recent call last):
    ...
    ValueError: fold 0: class(es) ['b'] of y have no labelled row in the training rows...
    """
    if y is None:
        return
    labels = pd.Series(np.asarray(y))
    labelled = labels.notna()
    # The package's rule, not type_of_target: whole-number floats (rounded
    # valence) are regression targets, and a rare rating is no missing class.
    if not labelled.any() or not is_classification_target(y):
        return
    in_train = set(labels.iloc[train][labelled.iloc[train]])
    missing = sorted(set(labels[labelled]) - in_train, key=str)
    if missing:
        raise ValueError(
            f"{where}: class(es) {missing} of y have no labelled row in the training rows; a "
            "model fitted there cannot predict them. Use fewer folds, other partitions, or "
            "merge rare classes.")


def check_talkturns(X, y, owner):
    """Raise unless ``X`` is a talkturn frame with rows and ``y`` (if given) has one label per row.

    Checked before grouping, so that an empty frame or a short ``y`` is named
    here rather than failing deep inside numpy ("zero-size array") or pandas
    ("positional indexers are out-of-bounds").
    """
    if not isinstance(X, pd.DataFrame):
        raise TypeError(f"{owner}: X must be a talkturn DataFrame, got {type(X).__name__}.")
    if len(X) == 0:
        raise ValueError(f"{owner}: X has no rows; there is nothing to group or split.")
    check_labels(y, X, owner, required=False, need_labelled=False)


#: What ``None`` means for each key column, said when a named column is absent.
_NONE_MEANS = {"speaker_column": "skip the speaker check (groups are then conversations)",
               "conversation_column": "group by speakers only"}


def check_key_columns(X, owner, **columns):
    """Raise when a named key column (speaker, conversation) is not a column of ``X``.

    A misspelt speaker column used to be passed over, and the splits then kept
    only conversations apart: a speaker talking in several conversations ended
    up on both sides with no word. Leaving a key out must be said with None.
    """
    for parameter, column in columns.items():
        if column is not None and column not in X.columns:
            raise ValueError(
                f"{owner}: X has no {parameter.removesuffix('_column')} column {column!r} "
                f"({parameter}); its columns are {list(X.columns)}. Name the right column, "
                f"or pass {parameter}=None to {_NONE_MEANS[parameter]}.")


def shared_speaker_rows(X, speaker_column, shared_speakers, owner):
    """Mask of the rows spoken by a speaker allowed on both sides of a split.

    Interviewers, therapists, agents and the operators of SEMAINE talk in many
    conversations; counted as speakers to keep apart, they would make every
    conversation they join one group, and no split would be possible. Their
    rows stay in the data; only the disjointness rule passes over them.
    """
    if shared_speakers is None:
        return np.zeros(len(X), dtype=bool)
    if isinstance(shared_speakers, str) or not np.iterable(shared_speakers):
        raise TypeError(f"{owner}: shared_speakers must be a list of speaker ids, got "
                        f"{shared_speakers!r}; write [{shared_speakers!r}] for one speaker.")
    if speaker_column is None:
        raise ValueError(f"{owner}: shared_speakers needs the speaker column, but "
                         "speaker_column is None; name the column or drop shared_speakers.")
    if speaker_column not in X.columns:
        raise ValueError(f"{owner}: shared_speakers needs the speaker column "
                         f"{speaker_column!r}, which X does not have; its columns are "
                         f"{list(X.columns)}.")
    shared = list(shared_speakers)
    speakers = X[speaker_column]
    absent = [s for s in shared if not speakers.isin([s]).any()]
    if absent:
        # A warning, not an error: a fold of a nested search may lack an interviewer.
        warnings.warn(f"{owner}: shared_speakers {absent} have no row in "
                      f"X[{speaker_column!r}]; check their spelling.", UserWarning, stacklevel=3)
    return speakers.isin(shared).to_numpy()


def _node_codes(values, what, index, owner):
    """Integer codes of one key's values; a missing value would join unrelated rows."""
    codes = pd.factorize(pd.Series(values, dtype=object))[0]
    missing = np.flatnonzero(codes < 0)
    if len(missing):
        row = missing[0]
        label = index[row:row + 1].tolist()[0]
        raise ValueError(
            f"{owner}: {what} is missing at row {row} (index {label!r}; {len(missing)} "
            "row(s) lack it in all): rows without it would all be linked as if they shared one "
            "value. Fill it in or drop those rows.")
    return codes


def speaker_groups(X, speaker_column="speaker", conversation_column="conversation",
                   groups=None, shared_speakers=None):
    """Groups that keep every speaker and every conversation on one side of a split.

    Speakers and conversations are the nodes of a bipartite graph, linked when
    a speaker talks in a conversation (and, with ``groups``, when two rows share
    a group); a group is a connected component. Splitting by these groups
    never puts one speaker, or one conversation, on both sides.

    Parameters
    ----------
    X : DataFrame
        Talkturn frame.
    speaker_column, conversation_column : str or None, default="speaker" and "conversation"
        Columns of ``X``. A named column that ``X`` lacks is an error naming it
        (a misspelt speaker column would otherwise let speakers cross sides);
        None leaves that key out on purpose: ``speaker_column=None`` groups
        rows by conversation (and ``groups``) only, so a speaker may then be on
        both sides. A missing value in them is an error naming the column and
        the row.
    groups : array-like or None
        Extra grouping to respect (e.g. sessions), one value per row.
    shared_speakers : list-like or None, default=None
        Speakers allowed on both sides of a split, such as an interviewer, a
        therapist or the SEMAINE operators: they talk in many conversations,
        so linking through them would make one group of all those
        conversations. A listed speaker without a row gives a warning.

    Returns
    -------
    ndarray of int
        Component id per row.

    Examples
    --------
    >>> import pandas as pd
    >>> X = pd.DataFrame({"conversation": ["a", "a", "b", "b", "c"],
    ...                   "speaker": ["ann", "bob", "bob", "cy", "dee"]})
    >>> speaker_groups(X).tolist()
    [0, 0, 0, 0, 1]
    >>> speaker_groups(X, shared_speakers=["bob"]).tolist()
    [0, 0, 1, 1, 2]
    """
    check_talkturns(X, None, "speaker_groups")
    return _connected_groups(X, speaker_column, conversation_column, groups, shared_speakers,
                             "speaker_groups")


def _connected_groups(X, speaker_column, conversation_column, groups, shared_speakers, owner):
    """:func:`speaker_groups`, with errors that name ``owner``."""
    shared = shared_speaker_rows(X, speaker_column, shared_speakers, owner)
    check_key_columns(X, owner, speaker_column=speaker_column,
                       conversation_column=conversation_column)
    keys = {f"column {c!r}": X[c].to_numpy() for c in (speaker_column, conversation_column)
            if c is not None}
    if groups is not None:
        groups = np.asarray(groups)
        if len(groups) != len(X):
            raise ValueError(f"groups has {len(groups)} values but X has {len(X)} rows.")
        keys["groups"] = groups
    if not keys:
        raise ValueError(f"{owner}: speaker_column and conversation_column are both None and "
                         "no groups were passed; there is nothing to group rows by.")
    # One node per row and per distinct key value; rows link to their key values,
    # except a shared speaker's rows, which do not link through their speaker.
    codes = [_node_codes(values, what, X.index, owner) for what, values in keys.items()]
    linked = [~shared if what == f"column {speaker_column!r}" else np.ones(len(X), bool)
              for what in keys]
    offsets = np.cumsum([len(X)] + [c.max() + 1 for c in codes[:-1]])
    rows = np.concatenate([np.flatnonzero(keep) for keep in linked])
    nodes = np.concatenate([(c + o)[keep] for c, o, keep in zip(codes, offsets, linked,
                                                                 strict=True)])
    size = offsets[-1] + codes[-1].max() + 1
    graph = coo_matrix((np.ones(len(rows)), (rows, nodes)), shape=(size, size))
    _, labels = connected_components(graph, directed=False)
    return pd.factorize(labels[:len(X)])[0]


def _random_balanced_folds(sizes, n_splits, rng):
    """Fold of each group: groups in random order, each to the fold with fewest rows so far.

    GroupKFold deals groups by decreasing size, so relabelling groups only
    changes ties; a random order makes the folds random while fold sizes
    still differ by at most one group's size.
    """
    fold_rows = np.zeros(n_splits)
    folds = np.empty(len(sizes), dtype=int)
    for group in rng.permutation(len(sizes)):
        folds[group] = np.argmin(fold_rows)
        fold_rows[folds[group]] += sizes[group]
    return folds


class SpeakerGroupKFold(_BaseKFold):
    """K-fold splits where no speaker and no conversation is on both sides.

    Rows are grouped with :func:`speaker_groups` (the connected components of
    the speaker/conversation graph, merged with any ``groups`` passed to
    ``split``), and the groups are dealt into folds of balanced size like
    scikit-learn's :class:`~sklearn.model_selection.GroupKFold`. Works as
    ``cv=`` in ``cross_validate``, ``GridSearchCV`` and ``RandomizedSearchCV``
    (pass ``groups=X["speaker"]`` or nothing: the frame's own columns are used).

    Parameters
    ----------
    n_splits : int, default=5
    shuffle : bool, default=False
        False deals the groups like ``GroupKFold`` (largest first, to the
        smallest fold), the same folds at every call; True deals them in a
        random order to the smallest fold, so folds are random and their sizes
        differ by at most one group's size.
    random_state : int, RandomState or None, default=None
        Seeds the order when ``shuffle=True``.
    speaker_column, conversation_column : str or None, default="speaker" and "conversation"
        Columns of ``X`` to keep apart. A named column that ``X`` lacks is an
        error naming it; ``speaker_column=None`` skips the speaker rule on
        purpose, so the folds keep only conversations (and ``groups``) apart.
    shared_speakers : list-like or None, default=None
        Speakers allowed in several folds (an interviewer, a therapist, the
        SEMAINE operators); see :func:`speaker_groups`.

    Examples
    --------
    >>> from skhanrock.datasets import make_conversations
    >>> from skhanrock.model_selection import SpeakerGroupKFold
    >>> X, y = make_conversations(n_conversations=30, n_speakers=90, random_state=0)
    >>> train, test = next(SpeakerGroupKFold(n_splits=3).split(X, y))
    >>> set(X["speaker"].iloc[train]) & set(X["speaker"].iloc[test])
    set()
    """

    # Under scikit-learn's metadata routing, searches and cross_validate route
    # ``groups`` to the splitters that request it, as GroupKFold does.
    __metadata_request__split = {"groups": True}

    def __init__(self, n_splits=5, *, shuffle=False, random_state=None,
                 speaker_column="speaker", conversation_column="conversation",
                 shared_speakers=None):
        super().__init__(n_splits=n_splits, shuffle=shuffle, random_state=random_state)
        self.speaker_column = speaker_column
        self.conversation_column = conversation_column
        self.shared_speakers = shared_speakers

    def _components(self, X, groups):
        components = _connected_groups(X, self.speaker_column, self.conversation_column,
                                       groups, self.shared_speakers, "SpeakerGroupKFold")
        n_components = components.max() + 1
        if n_components < self.n_splits:
            raise ValueError(
                f"SpeakerGroupKFold(n_splits={self.n_splits}) needs at least {self.n_splits} "
                f"speaker-disjoint groups, but the speaker/conversation graph of X has only "
                f"{n_components} connected component(s). Speakers who talk in many "
                "conversations link them all: list interviewers and the like in "
                "shared_speakers, or give X more speakers.")
        return components

    def _iter_test_indices(self, X, y=None, groups=None):
        components = self._components(X, groups)
        if not self.shuffle:
            folds = GroupKFold(n_splits=self.n_splits)
            yield from (test for _, test in folds.split(np.zeros(len(components)),
                                                         groups=components))
            return
        folds = _random_balanced_folds(np.bincount(components), self.n_splits,
                                       check_random_state(self.random_state))[components]
        for fold in range(self.n_splits):
            yield np.flatnonzero(folds == fold)

    def split(self, X, y=None, groups=None):
        """Yield train and test row positions of each fold.

        Parameters
        ----------
        X : DataFrame
            Talkturn frame with speaker and/or conversation columns.
        y : ignored
        groups : array-like or None
            Extra grouping, merged with the speaker/conversation graph.

        Raises
        ------
        ValueError
            When ``X`` is empty, ``y`` has another length than ``X``, or a
            class of ``y`` has no labelled row in a fold's training rows.
        """
        check_talkturns(X, y, "SpeakerGroupKFold")
        for fold, (train, test) in enumerate(super().split(X, y, groups)):
            check_split_classes(y, train, f"SpeakerGroupKFold fold {fold}")
            yield train, test
