"""``train_split="auto"``: hold out a share of the training conversations and stop on it.

Without being told when to stop, a fit trains a fixed number of epochs, and on
real corpora the test score swings by several points from one epoch to the
next (issue 28: IEMOCAP's learning curves). The automatic split keeps a small
share of the training conversations aside (whole conversations, whole speaker
groups where the speakers allow it), scores the primary task on them after
every epoch and restores the epoch that scored best.
"""

import numpy as np
import pandas as pd
from skorch.callbacks import EarlyStopping, EpochScoring

from ._data import ConversationValidSplit

__all__ = ["AUTO", "AUTO_MIN_CONVERSATIONS", "AUTO_PATIENCE", "AUTO_VALID_FRACTION",
           "DEV_SCORE", "DevEarlyStopping", "auto_held_out", "dev_callbacks"]

#: The value of ``train_split`` that asks for the automatic split.
AUTO = "auto"
#: Share of the labelled training conversations held out.
AUTO_VALID_FRACTION = 0.1
#: Fewest labelled training conversations with which anything is held out: with
#: fewer, 10% is one or two conversations, too few to choose an epoch on, and
#: the fit trains on everything for ``max_epochs``.
AUTO_MIN_CONVERSATIONS = 20
#: Epochs without a better dev score before training stops.
AUTO_PATIENCE = 5
#: Name of the dev score in the history (``net.history[:, DEV_SCORE]``).
DEV_SCORE = "valid_score"


def auto_held_out(frame, labels, *, conversation_column, speaker_column, seed):
    """The conversations ``train_split="auto"`` holds out of ``frame``.

    Drawn among the conversations with at least one label, so that neither
    side is left without one; speaker-disjoint where ``speaker_column`` is in
    the frame and its groups allow it (see
    :class:`~skhanrock.nn.ConversationValidSplit`).

    Parameters
    ----------
    frame : DataFrame
        The checked training talkturns.
    labels : Series
        Their labels (missing for unlabelled talkturns), indexed like ``frame``.
    conversation_column, speaker_column : str
        The estimator's column names.
    seed : int or None
        The estimator's seed: the same ``random_state``, the same draw.

    Returns
    -------
    ndarray
        Sorted conversation ids; empty with fewer than
        ``AUTO_MIN_CONVERSATIONS`` labelled conversations.
    """
    labelled = labels.notna().to_numpy()
    conversations = frame[conversation_column].to_numpy()
    if pd.unique(conversations[labelled]).size < AUTO_MIN_CONVERSATIONS:
        return conversations[:0]
    with_label = np.isin(conversations, conversations[labelled])
    speakers = (frame[speaker_column].to_numpy()[with_label]
                if speaker_column in frame.columns else None)
    split = ConversationValidSplit(AUTO_VALID_FRACTION, speaker_disjoint=speakers is not None)
    return split.held_out(conversations[with_label], default_random_state=seed,
                          speakers=speakers)


def dev_callbacks(scoring):
    """The dev scoring and early stopping that ``train_split="auto"`` adds to the callbacks.

    Parameters
    ----------
    scoring : str
        Scorer name of :func:`skhanrock.metrics.get_scorer` for the primary
        task (the target kind's ``dev_scoring``); higher is better, as for
        every scikit-learn scorer.

    Returns
    -------
    list of (str, Callback)
        ``("valid_score", EpochScoring)`` and ``("early_stopping", DevEarlyStopping)``;
        their parameters are set through ``callbacks__valid_score__*`` and
        ``callbacks__early_stopping__*`` (``patience``, ``threshold``, ...).
    """
    return [(DEV_SCORE, EpochScoring(scoring, lower_is_better=False, name=DEV_SCORE)),
            ("early_stopping", DevEarlyStopping(monitor=DEV_SCORE, patience=AUTO_PATIENCE,
                                                lower_is_better=False, load_best=True))]


class DevEarlyStopping(EarlyStopping):
    """skorch's ``EarlyStopping`` that waits when a training call has no dev score.

    ``train_split="auto"`` holds nothing out of small training data (fewer
    than ``AUTO_MIN_CONVERSATIONS`` labelled conversations); such a call
    trains ``max_epochs`` and keeps its last weights, where skorch's callback
    would fail on the missing score. With a dev score it stops after
    ``patience`` epochs without improvement and restores the best epoch's
    weights, whose number is ``best_epoch_``.

    Parameters
    ----------
    monitor : str, default="valid_loss"
        History key to watch (``"valid_score"`` in the estimators).
    patience : int, default=5
        Epochs without improvement before training stops.
    threshold : float, default=1e-4
        Smallest change that counts as an improvement.
    threshold_mode : {"rel", "abs"}, default="rel"
        Whether ``threshold`` is relative to the best score or absolute.
    lower_is_better : bool, default=True
        Whether a lower ``monitor`` is better (False for a score).
    sink : callable, default=print
        Where the stopping and restoring messages go (with ``verbose``).
    load_best : bool, default=False
        Restore the best epoch's weights when training ends (True in the
        estimators).

    Examples
    --------
    >>> from skhanrock import HanRockClassifier
    >>> net = HanRockClassifier(train_split="auto").initialize()
    >>> stopping = dict(net.callbacks_)["early_stopping"]
    >>> type(stopping).__name__, stopping.monitor, stopping.patience, stopping.load_best
    ('DevEarlyStopping', 'valid_score', 5, True)
    """

    def on_epoch_end(self, net, **kwargs):
        if self.monitor in net.history[-1]:
            super().on_epoch_end(net, **kwargs)

    def on_train_end(self, net, **kwargs):
        if self.monitor in net.history[-1]:
            super().on_train_end(net, **kwargs)
