"""Streaming prediction: one talkturn at a time, as a conversation unfolds."""

import reprlib
import threading
import warnings
from collections import OrderedDict
from contextlib import contextmanager
from dataclasses import dataclass

import pandas as pd
from sklearn.pipeline import Pipeline
from sklearn.utils.validation import check_is_fitted

from ._utils.frame import check_flat_columns, python_value, turn_in_range
from ._utils.validation import check_number, is_finite_number
from .nn import ConversationState, HanRockClassifier, HanRockRegressor
from .preprocessing import (
    AuxiliaryTargets,
    AuxiliaryTaskSelector,
    MonahTranscriber,
    MutualInfoLossWeights,
)

__all__ = ["ConversationStream", "split_streamable"]

# Steps that only shape training (targets, loss weights, task choice): at
# prediction they leave the text alone, so a stream passes over them.
TRAINING_ONLY_STEPS = (AuxiliaryTargets, MutualInfoLossWeights, AuxiliaryTaskSelector)


def split_streamable(model):
    """The transcriber (or None) and the estimator of a fitted model or pipeline."""
    if isinstance(model, HanRockClassifier | HanRockRegressor):
        check_is_fitted(model)
        return None, model
    if not isinstance(model, Pipeline):
        raise TypeError(
            "ConversationStream: model must be a fitted HanRockClassifier, HanRockRegressor "
            f"or a Pipeline ending in one, got {type(model).__name__}.")
    *steps, (last_name, estimator) = model.steps
    if not isinstance(estimator, HanRockClassifier | HanRockRegressor):
        raise TypeError(f"ConversationStream: the pipeline's last step {last_name!r} must be a "
                        f"HanRockClassifier or HanRockRegressor, got {type(estimator).__name__}.")
    check_is_fitted(estimator)
    transcriber = None
    for name, step in steps:
        if step is None or step == "passthrough" or isinstance(step, TRAINING_ONLY_STEPS):
            continue
        if isinstance(step, MonahTranscriber) and transcriber is None:
            check_is_fitted(step)
            transcriber = step
            continue
        raise TypeError(
            f"ConversationStream: cannot stream the pipeline step {name!r} "
            f"({type(step).__name__}); it streams one MonahTranscriber and passes over "
            "the training-only steps (AuxiliaryTargets, MutualInfoLossWeights, "
            "AuxiliaryTaskSelector).")
    return transcriber, estimator


@contextmanager
def _prefixed_errors():
    """A ValueError of the estimator's talkturn checks, as the stream's ``add`` raising it."""
    try:
        yield
    except ValueError as error:
        raise ValueError(f"ConversationStream.add: {error}") from None


@dataclass
class _Conversation:
    """What a stream keeps of one conversation besides the estimator's cached encodings."""

    key: object
    narrator: object
    model: ConversationState   # what the estimator's predict_next reads and returns
    last_turn: object = None


class ConversationStream:
    """Predict each new talkturn of a conversation as it arrives.

    ``add`` appends one talkturn and returns its prediction, which equals
    what the model's ``predict`` returns for the last row of the conversation
    so far. Each talkturn's words are encoded once; its context window is
    read from the cached encodings of the last ``context_size`` talkturns, so
    a talkturn costs the same at the start of a conversation as after
    hundreds. A pipeline's :class:`~skhanrock.MonahTranscriber` narrates each
    talkturn from the speaker's earlier talkturns only, as it does in batch.

    One stream may follow several conversations at once (keyed by the
    conversation column). Several streams may share one model and run in
    threads; one stream's calls are serialised by a lock. A conversation's
    cached encodings are kept until :meth:`end` (or :meth:`reset`) forgets
    them, or, with ``max_conversations``, until it is the least recently
    added to of too many.

    Parameters
    ----------
    model : HanRockClassifier, HanRockRegressor or Pipeline
        A fitted estimator, or a fitted pipeline of a ``MonahTranscriber``
        and an estimator. Steps that only shape training
        (:class:`~skhanrock.AuxiliaryTargets`,
        :class:`~skhanrock.MutualInfoLossWeights`,
        :class:`~skhanrock.preprocessing.AuxiliaryTaskSelector`) are passed
        over; any other step is refused.
    max_conversations : int or None, default=None
        Most conversations followed at once. When a new conversation would
        exceed it, the one whose last talkturn is oldest is forgotten with a
        warning that counts the evictions; a later talkturn of it starts a new
        conversation without its context. None keeps every conversation until
        it is ended.

    Attributes
    ----------
    estimator : HanRockClassifier or HanRockRegressor
        The model's estimator.
    transcriber : MonahTranscriber or None
        The model's transcriber.
    columns : list of str
        Columns each talkturn must have.
    context_size : int
        Talkturns per context window (the estimator's).
    conversations : list
        Conversations with at least one talkturn, in the order they began.
    n_evicted : int
        Conversations forgotten so far because of ``max_conversations``.

    Examples
    --------
    >>> from skhanrock import ConversationStream, HanRockClassifier
    >>> from skhanrock.datasets import make_conversations
    >>> X, y = make_conversations(n_conversations=4, random_state=0)
    >>> clf = HanRockClassifier(primary_units=4, context_size=3, max_epochs=1,
    ...                         random_state=0).fit(X, y)
    >>> stream = ConversationStream(clf)
    >>> first = X[X["conversation"] == X["conversation"].iloc[0]]
    >>> live = [stream.add(talkturn) for talkturn in first.to_dict("records")]
    >>> bool(live[-1] == clf.predict(first)[-1]), stream.predict_proba().shape
    (True, (4,))
    """

    def __init__(self, model, *, max_conversations=None):
        self.transcriber, self.estimator = split_streamable(model)
        self.max_conversations = None if max_conversations is None else check_number(
            "ConversationStream: max_conversations", max_conversations, low=1, integer=True)
        estimator = self.estimator
        self.context_size = int(estimator.context_size)
        if self.context_size < 1:
            raise ValueError(f"ConversationStream: the estimator's context_size must be at "
                             f"least 1, got {estimator.context_size!r}.")
        self._conversation_column = estimator.conversation_column
        self._turn_column = estimator.turn_column
        self.columns = self._required_columns()
        self._lock = threading.Lock()
        self._conversations = {}   # in the order they began
        self._recency = OrderedDict()  # the same keys, least recently added to first
        self._newest = None
        self.n_evicted = 0

    def _required_columns(self):
        # What predict_next reads besides the text, less what a transcriber writes.
        written = None if self.transcriber is None else self.transcriber.output_column
        read = [c for c in ConversationState(self.estimator).columns[1:] if c != written]
        return list(dict.fromkeys(self._model_columns() + read))

    def _model_columns(self):
        roles = [self._conversation_column, self._turn_column]
        monah = self.transcriber
        if monah is None:
            return roles + [self.estimator.text_column_]
        for name in ("conversation_column", "turn_column"):
            if getattr(monah, name) != getattr(self.estimator, name):
                raise ValueError(
                    f"ConversationStream: the transcriber's {name}={getattr(monah, name)!r} "
                    f"differs from the estimator's {getattr(self.estimator, name)!r}.")
        if self.estimator.text_column_ not in (monah.output_column, monah.text_column):
            raise ValueError(
                f"ConversationStream: the estimator reads {self.estimator.text_column_!r}, "
                f"which the transcriber neither reads nor writes ({monah.output_column!r}).")
        return monah.columns_read()

    @property
    def conversations(self):
        return list(self._conversations)

    @property
    def classes_(self):
        """The classifier's classes (what ``predict_proba`` columns stand for)."""
        return self.estimator.classes_

    # ------------------------------------------------------------------ input
    def _talkturn_record(self, talkturn):
        """The talkturn's required columns as a dict, or a clear error."""
        if isinstance(talkturn, pd.DataFrame):
            check_flat_columns(talkturn, "ConversationStream.add: the talkturn")
            if len(talkturn) != 1:
                raise ValueError(f"ConversationStream.add takes one talkturn; the frame has "
                                 f"{len(talkturn)} rows.")
            record = talkturn.iloc[0].to_dict()
        elif isinstance(talkturn, dict):
            record = talkturn
        else:
            raise TypeError("ConversationStream.add takes a talkturn as a dict or a one-row "
                            f"DataFrame, got {type(talkturn).__name__}.")
        missing = [c for c in self.columns if c not in record]
        if missing:
            raise ValueError(f"ConversationStream.add: the talkturn has no column(s) {missing}; "
                             f"the model needs {self.columns}.")
        text_column = self.estimator.text_column_ if self.transcriber is None \
            else self.transcriber.text_column
        if not isinstance(record[text_column], str):
            raise ValueError(f"ConversationStream.add: the talkturn's {text_column!r} must be "
                             f"its text (str), got {record[text_column]!r}.")
        return {c: record[c] for c in self.columns}

    def _check_id(self, key, caller):
        """Refuse what cannot key a conversation: unhashable or missing ids, as batch does."""
        column = self._conversation_column
        try:
            hash(key)
        except TypeError:
            raise TypeError(f"ConversationStream.{caller}: the conversation id ({column!r}) "
                            f"must be a str or a number, got {type(key).__name__} "
                            f"{reprlib.repr(key)}.") from None
        # Each NaN is a new key to a dict: every talkturn would start a
        # conversation of its own and lose its context without a word.
        if pd.api.types.is_scalar(key) and pd.isna(key):
            raise ValueError(f"ConversationStream.{caller}: the conversation id ({column!r}) "
                             f"is missing ({key!r}); every talkturn needs one, as in predict.")

    def _check_turn(self, state, turn):
        if not is_finite_number(turn):
            raise ValueError(f"ConversationStream.add: the talkturn's {self._turn_column!r} "
                             f"must be a finite number, got {reprlib.repr(turn)}.")
        if not turn_in_range(turn):
            raise ValueError(
                f"ConversationStream.add: the talkturn's {self._turn_column!r} is "
                f"{reprlib.repr(turn)}, beyond the turns predict sorts exactly (integers "
                "of 64 bits, floats below 2**53 in magnitude).")
        if state.last_turn is not None and not turn > state.last_turn:
            raise ValueError(
                f"ConversationStream.add: turn {turn!r} does not follow turn "
                f"{state.last_turn!r} of conversation {state.key!r}; turns must increase.")

    def _new_conversation(self, key):
        narrator = None if self.transcriber is None else self.transcriber.narrator()
        return _Conversation(key, narrator, ConversationState(self.estimator))

    # -------------------------------------------------------------- the model
    def _narrated(self, state, record):
        """The talkturn with the narrator's output column written (as it is, without one)."""
        if state.narrator is None:
            return record
        # The narrator reads the transcriber's checks, which take frames.
        narrative = state.narrator.narrate(pd.DataFrame({c: [v] for c, v in record.items()}))
        return {**record, self.transcriber.output_column: narrative}

    @staticmethod
    def _check_for_model(state, record):
        """Refuse what the estimator would refuse (a feature value) before a narrator runs.

        The narrator remembers each talkturn it narrates, so a talkturn the
        estimator refuses must be refused first. Without one, predict_next's
        own check (before it keeps anything) is enough: the values are read once.
        """
        if state.narrator is not None:
            with _prefixed_errors():
                state.model.check(record, text=False)

    def _predict_next(self, state, talkturn):
        """The estimator's incremental prediction of the (narrated) talkturn."""
        with _prefixed_errors():
            self.estimator.predict_next(talkturn, state.model)

    # -------------------------------------------------------------- public API
    def add(self, talkturn):
        """Append the next talkturn of its conversation and predict it.

        Parameters
        ----------
        talkturn : dict or DataFrame of one row
            With the columns in ``columns``; other keys are ignored. Its
            turn number must be greater than the conversation's last.

        Returns
        -------
        object
            The predicted label (classifier) or value (regressor), equal to
            ``predict`` on the conversation so far, for its last row.

        Raises
        ------
        ValueError
            On a missing column, text or conversation id (None or NaN, which
            ``predict`` refuses too), a turn that is not a finite number that
            ``predict`` sorts exactly or that does not increase; the stream is
            left as it was.
        TypeError
            On a conversation id that cannot key a conversation (a list or a
            dict).
        """
        record = self._talkturn_record(talkturn)
        key = python_value(record[self._conversation_column])
        turn = python_value(record[self._turn_column])
        self._check_id(key, "add")
        with self._lock:
            state = self._conversations.get(key) or self._new_conversation(key)
            self._check_turn(state, turn)
            # Checked before anything is stored (the narrator remembers each
            # talkturn's cues): a refused talkturn leaves the conversation as it was.
            self._check_for_model(state, record)
            self._predict_next(state, self._narrated(state, record))
            state.last_turn = turn
            self._conversations.setdefault(key, state)
            self._recency[key] = None
            self._recency.move_to_end(key)
            self._newest = key
            self._evict()
            return state.model.prediction

    def _evict(self):
        """Forget the least recently added-to conversations beyond ``max_conversations``."""
        while self.max_conversations is not None and \
                len(self._conversations) > self.max_conversations:
            key = next(iter(self._recency))
            self._forget(key)
            self.n_evicted += 1
            warnings.warn(
                f"ConversationStream: more than max_conversations={self.max_conversations} "
                f"conversations; forgot {key!r}, the least recently added to "
                f"({self.n_evicted} evicted so far). A later talkturn of it starts a new "
                "conversation without its context.", UserWarning, stacklevel=3)

    def _forget(self, key):
        del self._conversations[key]
        del self._recency[key]
        if self._newest == key:
            self._newest = next(reversed(self._recency), None)

    def _state(self, conversation, caller):
        if conversation is None:
            if self._newest is None:
                raise ValueError(f"ConversationStream.{caller}: no talkturn has been added.")
            conversation = self._newest
        return self._conversations[self._known(conversation, caller)]

    def _known(self, conversation, caller):
        """``conversation`` if the stream follows it, else a clear error."""
        self._check_id(conversation, caller)
        if conversation not in self._conversations:
            raise ValueError(f"ConversationStream.{caller}: unknown conversation "
                             f"{conversation!r}; the stream follows "
                             f"{reprlib.repr(self.conversations)}.")
        return conversation

    def prediction(self, conversation=None):
        """The newest talkturn's prediction, without appending anything.

        Named as :meth:`attention` is (what the stream holds of the newest
        talkturn), not ``predict``, which in scikit-learn predicts the rows
        of a frame.

        Parameters
        ----------
        conversation : object or None, default=None
            Conversation id; None is the conversation of the last ``add``.

        Returns
        -------
        object
            What ``add`` returned for that talkturn.

        Examples
        --------
        >>> from skhanrock import ConversationStream, HanRockClassifier
        >>> from skhanrock.datasets import make_conversations
        >>> X, y = make_conversations(n_conversations=4, random_state=0)
        >>> clf = HanRockClassifier(primary_units=4, context_size=3, max_epochs=1,
        ...                         random_state=0).fit(X, y)
        >>> stream = ConversationStream(clf)
        >>> live = stream.add(X.iloc[0].to_dict())
        >>> stream.prediction() == live
        True
        """
        with self._lock:
            return self._state(conversation, "prediction").model.prediction

    @property
    def predict(self):
        """Renamed :meth:`prediction`; an AttributeError that says so."""
        raise AttributeError(
            "ConversationStream.predict(conversation) is now "
            "ConversationStream.prediction(conversation): the newest talkturn's prediction "
            "(scikit-learn's predict(X) predicts the rows of a frame; use the model's).")

    def predict_proba(self, conversation=None):
        """The newest talkturn's class probabilities, without appending anything.

        Parameters
        ----------
        conversation : object or None, default=None
            Conversation id; None is the conversation of the last ``add``.

        Returns
        -------
        ndarray of shape (n_classes,)
            In the order of ``classes_``.
        """
        if not isinstance(self.estimator, HanRockClassifier):
            raise AttributeError("ConversationStream.predict_proba needs a classifier; this "
                                 "stream's model is a HanRockRegressor.")
        with self._lock:
            return self._state(conversation, "predict_proba").model.probabilities.copy()

    def attention(self, conversation=None):
        """What the model attended to for the newest talkturn.

        Parameters
        ----------
        conversation : object or None, default=None
            Conversation id; None is the conversation of the last ``add``.

        Returns
        -------
        TalkturnAttention
            Positions count the conversation's talkturns in the order they
            were added (0 is its first).
        """
        with self._lock:
            return self._state(conversation, "attention").model.attention()

    def reset(self, conversation=None):
        """Forget one conversation, or all of them.

        Parameters
        ----------
        conversation : object or None, default=None
            Conversation id; None forgets every conversation.

        Returns
        -------
        self : ConversationStream
        """
        with self._lock:
            if conversation is None:
                self._conversations.clear()
                self._recency.clear()
                self._newest = None
                return self
            self._forget(self._known(conversation, "reset"))
            return self

    def end(self, conversation):
        """End a conversation: forget its cached talkturns, and say how many it had.

        What the JSON-lines protocol's end-of-conversation message calls. A
        later talkturn with the same id starts a new conversation.

        Parameters
        ----------
        conversation : object
            The id of a conversation the stream follows.

        Returns
        -------
        int
            Talkturns the conversation had.

        Raises
        ------
        ValueError
            If the stream does not follow ``conversation``.

        Examples
        --------
        >>> from skhanrock import ConversationStream, HanRockClassifier
        >>> from skhanrock.datasets import make_conversations
        >>> X, y = make_conversations(n_conversations=4, random_state=0)
        >>> clf = HanRockClassifier(primary_units=4, context_size=3, max_epochs=1,
        ...                         random_state=0).fit(X, y)
        >>> stream = ConversationStream(clf)
        >>> _ = [stream.add(t) for t in X.head(3).to_dict("records")]
        >>> stream.end(X["conversation"].iloc[0]), stream.conversations
        (3, [])
        """
        with self._lock:
            state = self._conversations[self._known(conversation, "end")]
            self._forget(conversation)
            return state.model.n_talkturns

