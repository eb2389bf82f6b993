"""Predicting a conversation one talkturn at a time, from the cached encodings of the earlier ones.

The estimators' ``predict_next`` (and through it
:class:`skhanrock.ConversationStream`) runs :func:`next_talkturn`: a
talkturn's vectors do not depend on its context, so each talkturn's words are
encoded once (:meth:`HanModule.encode_talkturns`) and its window is read from
the cached vectors of the last ``context_size`` talkturns
(:meth:`HanModule.read_windows`), with the inputs a batch of the conversation
so far would give it.
"""

from collections import deque
from collections.abc import Mapping

import numpy as np
import torch
from sklearn.base import is_classifier

from .._utils.frame import as_text, python_value
from ._attention_output import TalkturnAttention

__all__ = ["ConversationState", "next_talkturn"]


class ConversationState:
    """One conversation so far, as the estimators' ``predict_next`` reads it.

    Holds the cached encodings of the conversation's last ``context_size``
    talkturns, the feature path's per-speaker history and the newest
    talkturn's outputs. ``predict_next`` makes one (``state=None``) and adds
    each later talkturn to it; a state belongs to the fitted model that made it.

    Parameters
    ----------
    estimator : HanRockClassifier or HanRockRegressor
        The fitted estimator whose talkturns the state caches.

    Attributes
    ----------
    n_talkturns : int
        Talkturns added so far.
    outputs : ndarray or None
        The newest talkturn's primary-head outputs: a classifier's logits,
        shape (n_classes,), or a regressor's standardised value, shape ();
        None before the first talkturn.
    prediction : object
        The newest talkturn's predicted class or value (None before the first).
    probabilities : ndarray of shape (n_classes,) or None
        A classifier's class probabilities for the newest talkturn, in the
        order of ``classes_``; None for a regressor or before the first talkturn.

    Examples
    --------
    >>> from skhanrock import HanRockClassifier
    >>> from skhanrock.datasets import make_conversations
    >>> X, y = make_conversations(n_conversations=4, random_state=0)
    >>> clf = HanRockClassifier(primary_units=4, context_size=3, max_epochs=1,
    ...                         random_state=0).fit(X, y)
    >>> state = None
    >>> for talkturn in X.head(2).to_dict("records"):
    ...     state = clf.predict_next(talkturn, state)
    >>> state.n_talkturns, state.probabilities.shape
    (2, (4,))
    """

    def __init__(self, estimator):
        self._module = estimator.module_
        self._task_names = list(estimator.task_names_)
        self._classifier = is_classifier(estimator)
        encoding = estimator.encoding_
        self._text_column = encoding.text_column_
        self._lexical_column = encoding.lexical_column_
        self._speaker_column = encoding.speaker_column
        self._features = encoding.feature_history()
        self._vectors = deque(maxlen=int(estimator.context_size))
        self._word_attention = deque(maxlen=int(estimator.context_size))
        self._attention = {}
        self.n_talkturns = 0
        self.outputs = self.prediction = self.probabilities = None

    @property
    def columns(self):
        """list of str: What ``predict_next`` reads of a talkturn, the text column first."""
        columns = [self._text_column]
        if self._lexical_column != self._text_column:
            columns.append(self._lexical_column)
        if self._features is not None:
            columns += [self._speaker_column, *self._features.columns]
        return columns

    def check(self, talkturn, *, text=True):
        """Refuse the talkturn ``predict_next`` would refuse, changing nothing.

        Parameters
        ----------
        talkturn : mapping
            The talkturn, with every column of ``columns``.
        text : bool, default=True
            Whether to check its text too. False checks the rest before the
            text exists, as a stream does before a MONAH narrator (which
            remembers each talkturn) writes it; a lexical column the talkturn
            does not hold yet is then left for the narrator to write.

        Returns
        -------
        ndarray or None
            Its feature values, NaN where missing (None without a feature
            path): what ``predict_next`` reads of them.

        Raises
        ------
        ValueError
            If a column is missing, the text is not a str or a feature value
            is not a finite number or missing.
        TypeError
            If the lexical column (``lexical_column``) holds something other
            than text or a missing value.

        Examples
        --------
        >>> from skhanrock import HanRockClassifier
        >>> from skhanrock.datasets import make_conversations
        >>> X, y = make_conversations(n_conversations=4, random_state=0)
        >>> clf = HanRockClassifier(primary_units=4, context_size=3, max_epochs=1,
        ...                         random_state=0).fit(X, y)
        >>> state = clf.predict_next(X.iloc[0].to_dict())
        >>> state.check({"text": None})
        Traceback (most recent call last):
        ...
        ValueError: the talkturn's 'text' must be its text (str), got None.
        """
        if not isinstance(talkturn, Mapping):
            raise TypeError(f"predict_next takes a talkturn as a mapping (a dict) of its "
                            f"columns, got {type(talkturn).__name__}.")
        columns = self.columns if text else [
            c for c in self.columns[1:] if c != self._lexical_column or c in talkturn]
        missing = [column for column in columns if column not in talkturn]
        if missing:
            raise ValueError(f"the talkturn has no column(s) {missing}; the model reads "
                             f"{self.columns}.")
        if text and not isinstance(talkturn[self._text_column], str):
            raise ValueError(f"the talkturn's {self._text_column!r} must be its text (str), "
                             f"got {talkturn[self._text_column]!r}.")
        if self._lexical_column in columns:
            self._lexical_text(talkturn)
        return None if self._features is None else self._features.values(talkturn)

    def attention(self):
        """What the model attended to for the newest talkturn.

        Returns
        -------
        TalkturnAttention
            Positions count the conversation's talkturns in the order they
            were added (0 is its first).

        Raises
        ------
        ValueError
            If no talkturn has been added.

        Examples
        --------
        >>> from skhanrock import HanRockClassifier
        >>> from skhanrock.datasets import make_conversations
        >>> X, y = make_conversations(n_conversations=4, random_state=0)
        >>> clf = HanRockClassifier(primary_units=4, context_size=3, max_epochs=1,
        ...                         random_state=0).fit(X, y)
        >>> state = None
        >>> for talkturn in X.head(4).to_dict("records"):
        ...     state = clf.predict_next(talkturn, state)
        >>> state.attention().context.tolist()
        [1, 2, 3]
        """
        if self.n_talkturns == 0:
            raise ValueError("ConversationState.attention: no talkturn has been added.")
        n = len(self._vectors)
        words = [[a.float().cpu().numpy() for a in branch]
                 for branch in zip(*self._word_attention, strict=True)]
        return TalkturnAttention.of_window(
            {k: v.float().cpu() for k, v in self._attention.items()}, 0, n, self._task_names,
            row=self.n_talkturns - 1, prediction=self.prediction,
            context=np.arange(self.n_talkturns - n, self.n_talkturns), word=words)

    def _lexical_text(self, talkturn):
        """The text the lexical path reads; missing text reads as "", as ``predict`` reads it."""
        column = self._lexical_column
        # Per value: a one-row DataFrame per talkturn cost more than the check itself.
        return as_text(talkturn[column], column, self.n_talkturns, name="the talkturn")

    def _feature_inputs(self, talkturn, values, device):
        """The feature path's input (standardised on the speaker's history), which it keeps."""
        if values is None:
            return {}
        speaker = python_value(talkturn[self._speaker_column])
        inputs = self._features.add_values(speaker, values)
        return {"features": torch.as_tensor(inputs, device=device).unsqueeze(0)}

    def _read_window(self, module, device):
        """The module's primary outputs and attention for the window of cached talkturns."""
        n = len(self._vectors)
        window = [torch.stack(branch) for branch in zip(*self._vectors, strict=True)]
        primary, _, _, attention = module.read_windows(
            window, torch.arange(n, device=device).unsqueeze(0), torch.tensor([n], device=device))
        return primary[0].float().cpu().numpy(), attention


def next_talkturn(estimator, talkturn, state=None):
    """Add ``talkturn`` to ``state`` (a new one when None) and predict it.

    What ``predict_next`` runs, in the estimator's evaluation mode and
    precision. The talkturn is checked before anything is kept, so a refused
    one leaves ``state`` as it was.

    Parameters
    ----------
    estimator : HanRockClassifier or HanRockRegressor
        Fitted.
    talkturn : mapping
        See ``ConversationState.check``.
    state : ConversationState or None, default=None
        The conversation so far.

    Returns
    -------
    ConversationState
        ``state`` (or the new one), with the talkturn added.
    """
    if state is None:
        state = ConversationState(estimator)
    elif not isinstance(state, ConversationState):
        raise TypeError(f"predict_next: state must be a ConversationState (what an earlier "
                        f"predict_next returned) or None, got {type(state).__name__}.")
    elif state._module is not estimator.module_:
        raise ValueError("predict_next: this state was made by another fitted model (or "
                         "before this one was fitted again); start the conversation again "
                         "with state=None.")
    values = state.check(talkturn)
    text = talkturn[state._text_column]
    module, device, encoding = estimator.module_, estimator.device, estimator.encoding_
    tokens, lengths = encoding.word_batch(text, device)
    with torch.no_grad():
        # The lexical and feature logits (with those paths) come back as
        # more entries of the talkturn's vectors and are cached with them.
        vectors, word_attention = module.encode_talkturns(
            tokens, lengths, **encoding.lexical_inputs(state._lexical_text(talkturn), device),
            **state._feature_inputs(talkturn, values, device))
        state._vectors.append([v[0] for v in vectors])
        state._word_attention.append([a[0] for a in word_attention])
        state.outputs, state._attention = state._read_window(module, device)
    state.n_talkturns += 1
    state.prediction = estimator.target_.decode(state.outputs[None])[0]
    if state._classifier:
        state.probabilities = estimator.target_.probabilities(state.outputs)
    return state
