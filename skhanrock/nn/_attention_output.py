"""What the network attended to for one talkturn: the public result of ``predict_attention``."""

from dataclasses import dataclass

import numpy as np

__all__ = ["TalkturnAttention", "unpack_attention"]


@dataclass(frozen=True)
class TalkturnAttention:
    """Prediction and word, talkturn and task attention of one talkturn.

    Returned by the estimators' ``predict_attention``; every position is a
    row position of the frame passed to it.

    Parameters
    ----------
    row : int
        Position of the talkturn.
    prediction : object
        The estimator's prediction for it, from the same forward pass.
    context : ndarray of int
        Positions of the talkturns of its context window, oldest first, the
        talkturn itself last.
    task_names : list of str or None
        Tasks weighed by the task attention (HAN-ROCK); None for flat MTL.
    task : ndarray or None
        Task-level attention over ``task_names`` (HAN-ROCK only).
    talkturn : list of ndarray
        Attention over ``context``: the primary task's first, then one per
        auxiliary task (HAN-ROCK); flat MTL has only the one.
    word : list of list of ndarray
        Per word branch (the primary one, then the auxiliary one of HAN-ROCK),
        per talkturn of ``context``, the attention over its words (the first
        ``max_words`` tokens).
    lexical : ndarray or None, default=None
        With a lexical path (``lexical_ngrams``), its logits for the talkturn
        (one per class, or one value before the regressor's target scaling
        is undone): the part of the primary outputs that the attention does
        not weigh. None without one.
    features : ndarray or None, default=None
        With a feature path (``feature_columns``), the logits of its linear
        layer for the talkturn, in the same units as ``lexical``; None
        without one.

    Examples
    --------
    >>> import numpy as np
    >>> item = TalkturnAttention(row=1, prediction="sad", context=np.array([0, 1]),
    ...                          task_names=None, task=None,
    ...                          talkturn=[np.array([0.3, 0.7])],
    ...                          word=[[np.array([1.0]), np.array([0.5, 0.5])]])
    >>> item.context.tolist(), item.talkturn[0].sum()
    ([0, 1], np.float64(1.0))
    """

    row: int
    prediction: object
    context: np.ndarray
    task_names: list | None
    task: np.ndarray | None
    talkturn: list
    word: list
    lexical: np.ndarray | None = None
    features: np.ndarray | None = None

    @classmethod
    def of_window(cls, attention, b, n_context, task_names, *, row, prediction, context, word):
        """The talkturn of window ``b`` from the module's window-level attention.

        Parameters
        ----------
        attention : dict of Tensor
            The module's ``talkturn`` (B, L), ``aux_talkturn`` (B, L, K),
            ``task`` (B, 1 + K), ``lexical`` and ``features`` attention, on the CPU.
        b : int
            The window.
        n_context : int
            Its real talkturns.
        task_names : list of str
            The estimator's task names (the task attention weighs the first).
        row, prediction, context, word
            As in the class.

        Returns
        -------
        TalkturnAttention
        """
        per_task = [attention["talkturn"][b, :n_context].numpy()]
        if "aux_talkturn" in attention:
            per_task += list(attention["aux_talkturn"][b, :n_context].numpy().T)
        task = attention["task"][b].numpy() if "task" in attention else None
        return cls(
            row=row, prediction=prediction, context=context,
            task_names=None if task is None else list(task_names[:len(task)]), task=task,
            talkturn=per_task, word=word,
            lexical=attention["lexical"][b].numpy() if "lexical" in attention else None,
            features=attention["features"][b].numpy() if "features" in attention else None)


def unpack_attention(batch, attention, predictions, caller_of, task_names):
    """One :class:`TalkturnAttention` per sample of a batch (module outputs on the CPU)."""
    items = []
    for b in range(len(batch)):
        n_context = int(batch.window_lengths[b])
        distinct = batch.windows[b, :n_context].numpy()
        words = [[branch[u, :int(batch.lengths[u])].numpy() for u in distinct]
                 for branch in attention["word"]]
        items.append(TalkturnAttention.of_window(
            attention, b, n_context, task_names, row=int(caller_of[batch.rows[b]]),
            prediction=predictions[b], context=caller_of[batch.talkturns[distinct]],
            word=words))
    return items
