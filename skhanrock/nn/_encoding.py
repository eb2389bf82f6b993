"""The fitted encoding of talkturn frames: text, vocabulary, word vectors, tasks and loss weights.

Everything the estimators fit on the training frame *besides* the network's
weights and the target lives in one :class:`TalkturnEncoding`, so that
``predict``, ``explain``, saving and streaming read one object instead of a
dozen loose attributes.
"""

import numbers
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from .._utils.frame import (
    AUX_PREFIX,
    LABEL_OFFSETS_ATTR,
    LOSS_WEIGHTS_ATTR,
    check_numeric_columns,
    conversation_sort_order,
    pipeline_attr,
    text_as_strings,
)
from .._utils.labels import DEFAULT_LABEL_OFFSETS, check_label_offsets, label_offset_task_name
from .._utils.validation import check_number
from ._embeddings import (
    PACKAGED_MINILM,
    embedding_matrix,
    packaged_minilm_folder,
    packaged_minilm_path,
    word_encoder,
)
from ._features import SpeakerFeatureHistory, check_feature_columns, feature_inputs, feature_values
from ._fine_tuning import PieceTable
from ._lexical import NgramVocabulary
from ._pretrained import PretrainedWordEncoder, check_unknown_words
from ._text import SPECIAL_TOKENS, encode_texts, fit_vocabulary

__all__ = ["PIPELINE", "PRIMARY_TASK", "TalkturnEncoding"]

#: Name of the primary task among the task names and loss weights.
PRIMARY_TASK = "y"
#: Value of ``loss_weights`` / ``label_offsets`` that requires them from the pipeline.
PIPELINE = "pipeline"


class TalkturnEncoding:
    """Text, vocabulary, embeddings, auxiliary columns, label offsets, tasks and loss weights.

    Fitted once per model (in the estimators' ``on_train_begin``) on the
    training conversations, then used to encode any talkturn frame the same
    way.

    Parameters
    ----------
    text_column : str
        Column read as text (already resolved, not "auto").
    conversation_column, turn_column : str
        Column roles of the talkturn frame.
    max_words, min_word_count : int
        Words kept per talkturn; words seen fewer times map to the unknown id.
    embeddings, embedding_dim
        Initial word vectors, as in :class:`~skhanrock.HanRockClassifier`; a
        :class:`~skhanrock.nn.PretrainedWordEncoder` or a local Hugging Face
        model folder gives contextual word vectors instead (see
        ``word_encoder_``).
    label_offsets : "auto", "pipeline" or collection of int
        History/future offsets; "pipeline" requires those of a preceding
        :class:`~skhanrock.AuxiliaryTargets` step (an error when absent),
        "auto" takes them when present, else -4..-1 and 1..4.
    loss_weights : None, "pipeline", float, dict or Series
        Task weights; "pipeline" requires those of a preceding
        :class:`~skhanrock.MutualInfoLossWeights` step (an error when absent),
        None takes them when present, else 0.5 for ``"y"``.
    device : str, default="cpu"
        Where a pretrained word encoder runs.
    lexical_ngrams : None or (int, int), default=None
        N-gram sizes of the lexical path's TF-IDF bags; None: no lexical path.
    lexical_min_count, lexical_max_features : int, default=2, 50000
        N-grams in fewer training talkturns are dropped; at most
        ``lexical_max_features`` of the most frequent are kept.
    feature_columns : None or list of str, default=None
        Numeric talkturn columns of the feature path, standardised per
        speaker against the speaker's earlier talkturns (nothing is fitted).
    speaker_column : str, default="speaker"
        Whose earlier talkturns standardise a feature value.
    lexical_column : str or None, default=None
        Column the lexical path reads; None: ``text_column``.

    Attributes
    ----------
    text_column_ : str
    lexical_column_ : str
        Column the lexical path's n-grams are read from.
    aux_columns_ : list of str
        The ``aux:*`` columns of the training frame.
    label_offsets_ : tuple of int
    vocabulary_ : dict
        Word to id, fitted on the training rows.
    embedding_init_ : ndarray or None
        Initial word vectors of the vocabulary; None with a word encoder.
    n_pretrained_words_ : int
        Words of the vocabulary found among pretrained vectors (every word
        with a word encoder, which gives any word a vector).
    pretrained_rows_ : ndarray of bool or None
        Which rows of ``embedding_init_`` hold a pretrained vector; None with
        a word encoder.
    word_encoder_ : PretrainedWordEncoder or None
        The transformer whose contextual word vectors the network reads in
        place of an embedding table; None for word vectors. Each distinct
        text runs through it once, then comes from its cache: its word
        vectors, or, with ``fine_tune_layers > 0``, the states of its frozen
        lower layers, which the network's copy of the top layers
        (:meth:`transformer_top`) reads.
    task_names_ : list of str
        ``"y"``, the auxiliary columns, then ``"y-1"``, ``"y+1"``, ...
    loss_weights_ : Series
        Normalised loss weight per task.
    lexical_ : NgramVocabulary or None
        The n-grams and idf of the lexical path, fitted on the training
        rows; None without one.
    feature_columns_ : list of str
        The feature path's columns; empty without one.

    Examples
    --------
    >>> import numpy as np
    >>> from skhanrock.datasets import make_conversations
    >>> X, _ = make_conversations(n_conversations=2, random_state=0)
    >>> encoding = TalkturnEncoding(text_column="text", label_offsets=(-1,)).fit(X)
    >>> encoding.task_names_, encoding.loss_weights_.tolist()
    (['y', 'y-1'], [0.5, 0.5])
    >>> order, ids, offsets, lengths = encoding.encode(X)
    >>> len(lengths) == len(X)
    True
    """

    def __init__(self, *, text_column="text", conversation_column="conversation",
                 turn_column="turn", max_words=64, min_word_count=1, embeddings="random",
                 embedding_dim=50, label_offsets="auto", loss_weights=None, device="cpu",
                 lexical_ngrams=None, lexical_min_count=2, lexical_max_features=50_000,
                 feature_columns=None, speaker_column="speaker", lexical_column=None):
        self.text_column = text_column
        self.conversation_column = conversation_column
        self.turn_column = turn_column
        self.max_words = max_words
        self.min_word_count = min_word_count
        self.embeddings = embeddings
        self.embedding_dim = embedding_dim
        self.label_offsets = label_offsets
        self.loss_weights = loss_weights
        self.device = device
        self.lexical_ngrams = lexical_ngrams
        self.lexical_min_count = lexical_min_count
        self.lexical_max_features = lexical_max_features
        self.feature_columns = feature_columns
        self.speaker_column = speaker_column
        self.lexical_column = lexical_column

    def fit(self, frame, training=None, seed=None):
        """Fit on ``frame``; the vocabulary and auxiliary checks see ``training`` rows only.

        Parameters
        ----------
        frame : DataFrame
            A checked talkturn frame.
        training : ndarray of bool or None, default=None
            Rows of the training conversations (None: every row).
        seed : int or None, default=None
            Seed of the random vectors of words without pretrained ones.

        Returns
        -------
        self
        """
        training_rows = frame if training is None else frame[np.asarray(training, dtype=bool)]
        self.text_column_ = self.text_column
        self.lexical_column_ = self.lexical_column or self.text_column_
        self.aux_columns_ = [c for c in frame.columns if str(c).startswith(AUX_PREFIX)]
        self._check_aux_targets(training_rows)
        self.label_offsets_ = self._resolve_label_offsets(frame)
        training_texts = text_as_strings(training_rows, self.text_column_)
        self.vocabulary_ = fit_vocabulary(training_texts, self.min_word_count)
        self.lexical_ = None if self.lexical_ngrams is None else NgramVocabulary(
            self.lexical_ngrams, self.lexical_min_count, self.lexical_max_features,
        ).fit(text_as_strings(training_rows, self.lexical_column_))
        self.feature_columns_ = check_feature_columns(self.feature_columns) or []
        if self.feature_columns_:
            # Read here, so that an absent or non-numeric column fails at fit, by name.
            feature_values(frame, self.feature_columns_, self.speaker_column)
        self.word_encoder_ = word_encoder(self.embeddings, self.max_words, self.device)
        if self.word_encoder_ is None:
            self.embedding_init_, self.pretrained_rows_ = embedding_matrix(
                self.vocabulary_, self.embeddings, self.embedding_dim,
                np.random.default_rng(seed))
            self.n_pretrained_words_ = int(self.pretrained_rows_.sum())
        else:
            check_unknown_words(self.word_encoder_, training_texts)
            self.embedding_init_ = self.pretrained_rows_ = None
            self.n_pretrained_words_ = len(self.vocabulary_) - len(SPECIAL_TOKENS)
        self.task_names_ = [PRIMARY_TASK, *self.aux_columns_,
                            *map(label_offset_task_name, self.label_offsets_)]
        self.loss_weights_ = self._resolve_loss_weights(frame)
        return self

    def _check_aux_targets(self, training):
        """Auxiliary targets are numbers; missing ones are left out of their loss.

        A column without a single value among the training rows would train a
        head with no loss at all, which is almost certainly a mistake upstream.
        """
        values = check_numeric_columns(training, self.aux_columns_)
        empty = [c for c, present in zip(self.aux_columns_, np.isfinite(values).any(0),
                                         strict=True) if not present]
        if empty:
            raise ValueError(
                f"X has no value in the auxiliary target column(s) {empty} among the "
                f"{len(training)} training rows; drop them or fill them in.")

    def _resolve_label_offsets(self, frame):
        offsets = self.label_offsets
        if isinstance(offsets, str):
            if offsets not in ("auto", PIPELINE):
                raise ValueError(
                    f"label_offsets must be 'auto', 'pipeline' or a collection of non-zero "
                    f"integers, got {offsets!r}.")
            offsets = pipeline_attr(frame, LABEL_OFFSETS_ATTR, "label_offsets",
                                    required=offsets == PIPELINE,
                                    default=DEFAULT_LABEL_OFFSETS)
        return check_label_offsets(offsets)

    def _resolve_loss_weights(self, frame):
        """Loss weights, primary first, summing to one."""
        weights, source = self.loss_weights, "loss_weights"
        if weights is None or weights == PIPELINE:
            found = pipeline_attr(frame, LOSS_WEIGHTS_ATTR, "loss_weights",
                                  required=weights == PIPELINE, default=None)
            if found is not None:
                weights = found
                source = (f"the loss weights in X.attrs[{LOSS_WEIGHTS_ATTR!r}] (left by "
                          "MutualInfoLossWeights; refit the pipeline after changing its steps)")
            else:
                weights = 0.5
        if isinstance(weights, bool) or not isinstance(weights, numbers.Real | dict | pd.Series):
            raise ValueError(f"{source} must be None, 'pipeline', a primary weight in [0, 1] or "
                             f"a {{task: weight}} dict or Series, got {weights!r}.")
        if isinstance(weights, numbers.Real):
            weights = self._split_primary_weight(check_number(
                f"{source} (the primary weight)", weights, low=0, high=1))
        return self._normalised(weights, source)

    def _split_primary_weight(self, primary):
        others = self.task_names_[1:]
        if not others:
            return {PRIMARY_TASK: 1.0}
        return {PRIMARY_TASK: primary, **dict.fromkeys(others, (1.0 - primary) / len(others))}

    def _normalised(self, weights, source):
        try:
            weights = pd.Series(dict(weights), dtype=float)
        except (TypeError, ValueError):
            raise ValueError(f"{source}: every weight must be a number, got "
                             f"{dict(weights)!r}.") from None
        unknown = sorted(set(weights.index) - set(self.task_names_))
        if unknown:
            raise ValueError(
                f"{source} names unknown task(s) {unknown}; the tasks of this fit are "
                f"{self.task_names_}.")
        weights = weights.reindex(self.task_names_, fill_value=0.0)
        if not np.isfinite(weights).all() or (weights < 0).any():
            raise ValueError(f"{source}: weights must be finite and non-negative, got "
                             f"{dict(weights)}.")
        if weights[PRIMARY_TASK] <= 0:
            raise ValueError(f"{source}: the primary task 'y' needs a positive weight.")
        return (weights / weights.sum()).rename("loss_weight")

    def encode(self, frame):
        """Sort ``frame`` by conversation and turn and encode its texts.

        Returns
        -------
        order : ndarray of int
            Caller row of each sorted position.
        token_ids, token_offsets, token_lengths : ndarray
            The encoded texts in sorted order (see ``encode_texts``). With a
            word encoder, ``token_ids`` is a float32 table of word vectors,
            shape (n_words, hidden_size), holding each distinct text once;
            the offsets of repeated texts point at the same rows. With a
            fine-tuned encoder it is a ``PieceTable`` of the distinct texts'
            lower-layer states, the offsets and lengths those of the word
            vectors the network makes of them.
        """
        order = conversation_sort_order(frame, self.conversation_column, self.turn_column)
        texts = text_as_strings(frame.iloc[order], self.text_column_)
        if self.word_encoder_ is None:
            ids, offsets, lengths = encode_texts(texts, self.vocabulary_, self.max_words)
            return order, ids, offsets, lengths
        codes, distinct = pd.factorize(np.asarray(texts, dtype=object))
        if self._fine_tuned:
            table = self._piece_table(distinct.tolist())
            return order, table, table.word_offsets[codes], table.n_words[codes]
        vectors = self.word_encoder_.encode(distinct.tolist())
        distinct_lengths = np.array([len(v) for v in vectors], dtype=np.int64)
        distinct_offsets = np.concatenate([[0], np.cumsum(distinct_lengths)[:-1]]).astype(np.int64)
        table = np.concatenate(vectors) if vectors else \
            np.zeros((0, self.word_encoder_.hidden_size), dtype=np.float32)
        return order, table, distinct_offsets[codes], distinct_lengths[codes]

    def word_inputs(self, text):
        """What the network's word level reads of one talkturn's text.

        The same rows as one talkturn of :meth:`encode`, so a caller that
        encodes talkturns one at a time (the estimators' ``predict_next``)
        gives the network what a batch would.

        Parameters
        ----------
        text : str

        Returns
        -------
        ndarray or PieceBatch
            Word ids, int64 of shape (n_words,) (an empty text is the one
            empty-talkturn token); with a word encoder, its word vectors, float32 of shape
            (n_words, hidden_size). ``n_words`` is at least 1. With a
            fine-tuned encoder, the lower-layer states of the text as a batch
            of one talkturn, from which the network's top layers make its
            word vectors.

        Examples
        --------
        >>> from skhanrock.datasets import make_conversations
        >>> X, _ = make_conversations(n_conversations=2, random_state=0)
        >>> encoding = TalkturnEncoding(text_column="text", label_offsets=(-1,)).fit(X)
        >>> encoding.word_inputs("hello world").shape
        (2,)
        """
        if self.word_encoder_ is None:
            ids, _, _ = encode_texts([text], self.vocabulary_, self.max_words)
            return ids
        if self._fine_tuned:
            return self._one_piece_batch(text)[0]
        # A copy: the cached array is read-only, which torch.as_tensor warns about.
        return self.word_encoder_.encode([text])[0].copy()

    def word_batch(self, text, device="cpu"):
        """The ``tokens`` and ``lengths`` inputs of the network for one talkturn's text.

        What :meth:`HanModule.encode_talkturns` reads of a batch holding
        this talkturn alone (see :meth:`word_inputs`).

        Returns
        -------
        tokens : Tensor (1, n_words, ...) or PieceBatch
        lengths : LongTensor (1,)
        """
        if self._fine_tuned:
            batch, n_words = self._one_piece_batch(text)
            return batch.to(device), torch.tensor([n_words], device=device)
        words = torch.as_tensor(self.word_inputs(text), device=device)
        return words.unsqueeze(0), torch.tensor([len(words)], device=device)

    @property
    def _fine_tuned(self):
        """Whether the word level reads a fine-tuned encoder's lower-layer states."""
        return self.word_encoder_ is not None and bool(self.word_encoder_.fine_tune_layers)

    def _piece_table(self, texts):
        encoder = self.word_encoder_
        return PieceTable(encoder.lower_states(texts), encoder.hidden_size)

    def _one_piece_batch(self, text):
        """The PieceBatch of one talkturn's text, and its number of words."""
        table = self._piece_table([text])
        return table.batch([0]), int(table.n_words[0])

    def transformer_top(self):
        """A fresh trainable copy of a fine-tuned word encoder's top layers, or None.

        Returns
        -------
        TransformerTop or None
            None without a word encoder or with a frozen one.
        """
        return self.word_encoder_.top_layers() if self._fine_tuned else None

    def lexical_bags(self, frame, order):
        """The lexical path's TF-IDF bags of ``frame``'s talkturns in sorted ``order``.

        Parameters
        ----------
        frame : DataFrame
        order : ndarray of int
            As :meth:`encode` returns it.

        Returns
        -------
        tuple of ndarray or None
            ``(ids, offsets, weights)`` of ``NgramVocabulary.bags``; None
            without a lexical path.
        """
        if self.lexical_ is None:
            return None
        return self.lexical_.bags(text_as_strings(frame.iloc[order], self.lexical_column_))

    def lexical_inputs(self, text, device="cpu"):
        """The lexical module input of one talkturn's ``lexical_column_`` text, as a batch gives it.

        Returns
        -------
        dict
            ``{"ngrams": (ids, offsets, weights)}`` as tensors on ``device``,
            the keyword argument of :meth:`HanModule.encode_talkturns`; empty
            without a lexical path.
        """
        if self.lexical_ is None:
            return {}
        return {"ngrams": tuple(torch.as_tensor(part, device=device)
                                for part in self.lexical_.bags([text]))}

    def feature_inputs(self, frame, order):
        """The feature path's inputs of ``frame``'s talkturns in sorted ``order``.

        Parameters
        ----------
        frame : DataFrame
        order : ndarray of int
            As :meth:`encode` returns it.

        Returns
        -------
        ndarray of float32, shape (n_rows, 2 * n_features) or None
            Per talkturn the standardised values, then the missing indicators
            (see ``skhanrock.nn._features``); None without a feature path.
        """
        if not self.feature_columns_:
            return None
        return feature_inputs(frame.iloc[order], self.feature_columns_,
                              self.conversation_column, self.speaker_column)

    def feature_history(self):
        """A fresh per-speaker history of one conversation's features, or None.

        Returns
        -------
        SpeakerFeatureHistory or None
            What a stream keeps to give each new talkturn the inputs of
            :meth:`feature_inputs`; None without a feature path.
        """
        return SpeakerFeatureHistory(self.feature_columns_) if self.feature_columns_ else None

    @property
    def n_talkturn_features(self):
        """int: Columns of the feature path, 0 without one."""
        return len(self.feature_columns_)

    @property
    def n_lexical_features(self):
        """int: N-grams of the lexical path, 0 without one."""
        return 0 if self.lexical_ is None else len(self.lexical_)

    @property
    def word_input_size(self):
        """int or None: Length of the word vectors :meth:`encode` gives, None for word ids."""
        return None if self.word_encoder_ is None else self.word_encoder_.hidden_size

    def fitted_state(self):
        """The fitted state as JSON-ready values (for saving)."""
        return {
            "text_column": self.text_column_,
            "lexical_column": self.lexical_column_,
            "aux_columns": [str(c) for c in self.aux_columns_],
            "label_offsets": [int(o) for o in self.label_offsets_],
            "vocabulary": self.vocabulary_,
            "task_names": list(self.task_names_),
            "loss_weights": {k: float(v) for k, v in self.loss_weights_.items()},
            "n_pretrained_words": int(self.n_pretrained_words_),
            "pretrained_rows": None if self.pretrained_rows_ is None
            else np.flatnonzero(self.pretrained_rows_).tolist(),
            "embedding_shape": None if self.embedding_init_ is None
            else list(self.embedding_init_.shape),
            "word_encoder": None if self.word_encoder_ is None
            else _encoder_reference(self.word_encoder_),
            "lexical": None if self.lexical_ is None else self.lexical_.fitted_state(),
            "feature_columns": [str(c) for c in self.feature_columns_],
            "speaker_column": self.speaker_column,
        }

    def set_fitted_state(self, state, embedding_init=None):
        """Restore what :meth:`fitted_state` returned (the vectors come with the weights).

        A word encoder is read again from its saved folder, on :attr:`device`.

        Raises
        ------
        ValueError
            If the word encoder's folder is missing, or holds another model
            than the one fitted (its fingerprint differs).
        """
        self.text_column_ = state["text_column"]
        # Files saved before lexical_column existed read the text column.
        self.lexical_column_ = state.get("lexical_column", self.text_column_)
        self.aux_columns_ = list(state["aux_columns"])
        self.label_offsets_ = tuple(state["label_offsets"])
        self.vocabulary_ = dict(state["vocabulary"])
        self.task_names_ = list(state["task_names"])
        self.loss_weights_ = pd.Series(state["loss_weights"], dtype=float).rename("loss_weight")
        self.n_pretrained_words_ = int(state["n_pretrained_words"])
        # Files saved before the lexical path existed have no "lexical" entry.
        self.lexical_ = None if state.get("lexical") is None else \
            NgramVocabulary.from_fitted_state(state["lexical"], self.lexical_min_count,
                                              self.lexical_max_features)
        # Files saved before the feature path existed have no feature columns.
        self.feature_columns_ = list(state.get("feature_columns", []))
        self.speaker_column = state.get("speaker_column", self.speaker_column)
        self.word_encoder_ = None if state.get("word_encoder") is None \
            else _rebuild_encoder(state["word_encoder"], self.max_words, self.device)
        self.pretrained_rows_ = None
        if self.word_encoder_ is None and state.get("pretrained_rows") is not None:
            self.pretrained_rows_ = np.zeros(len(self.vocabulary_), dtype=bool)
            self.pretrained_rows_[np.asarray(state["pretrained_rows"], dtype=int)] = True
        if self.word_encoder_ is not None:
            self.embedding_init_ = None
        elif embedding_init is not None:
            self.embedding_init_ = embedding_init
        else:
            self.embedding_init_ = np.zeros(state["embedding_shape"], dtype=np.float32)
        return self


def _encoder_folder(encoder):
    """The local folder a word encoder can be read again from, or None."""
    if encoder.model_path is not None:
        return encoder.model_path
    # A model loaded by from_pretrained remembers its folder; an in-memory one does not.
    name = getattr(encoder.model.config, "_name_or_path", "") or ""
    return Path(name).resolve() if name and (Path(name) / "config.json").is_file() else None


def _encoder_reference(encoder):
    """What a saved model keeps of its word encoder: where it lives and what it was."""
    folder = _encoder_folder(encoder)
    if folder is None:
        raise ValueError(
            "save() keeps the word encoder's local folder, not its weights, and this "
            "PretrainedWordEncoder was built from a model in memory: write the model and its "
            "tokenizer with save_pretrained(FOLDER), fit with embeddings=FOLDER (or "
            "PretrainedWordEncoder(FOLDER)), then save.")
    # load reads the folder again: the model in memory must be the one it holds.
    fingerprint = PretrainedWordEncoder(folder, max_words=encoder.max_words,
                                        max_length=encoder.max_length).fingerprint()
    if encoder.fingerprint(fresh=True) != fingerprint:
        raise ValueError(
            "save() keeps the word encoder's local folder, not its weights, and this "
            f"PretrainedWordEncoder's model is not the one in {str(folder)!r}: its weights, "
            "configuration or tokenizer differ (built or edited in memory). Write the model "
            "and its tokenizer with save_pretrained(FOLDER), fit with embeddings=FOLDER, then "
            "save.")
    return {"path": str(folder), "fingerprint": fingerprint,
            "max_length": int(encoder.max_length), "batch_size": int(encoder.batch_size),
            "fine_tune_layers": int(encoder.fine_tune_layers),
            "fine_tune_lr": encoder.fine_tune_lr,
            # The packaged checkpoint is found again by name, wherever its cache lies.
            "packaged": PACKAGED_MINILM if folder == packaged_minilm_path().resolve() else None}


def _rebuild_encoder(reference, max_words, device):
    """The word encoder of a saved model, read from its folder and checked against it."""
    folder = packaged_minilm_folder() if reference.get("packaged") == PACKAGED_MINILM \
        else Path(reference["path"])
    if not folder.is_dir():
        raise ValueError(
            f"The saved model reads its word vectors from the transformer in {str(folder)!r}, "
            "which does not exist here; the transformer's weights are not in the saved file. "
            "Put the same checkpoint at that path to load it.")
    # The trained top layers of a fine-tuned encoder come with the network's weights.
    # Files saved before fine-tuning existed lack its keys: the encoder's defaults apply.
    fine_tuning = {key: reference[key] for key in ("fine_tune_layers", "fine_tune_lr")
                   if key in reference}
    encoder = PretrainedWordEncoder(folder, max_words=max_words, device=device or "cpu",
                                    max_length=reference["max_length"],
                                    batch_size=reference["batch_size"], **fine_tuning)
    if encoder.fingerprint() != reference["fingerprint"]:
        raise ValueError(
            f"The transformer in {str(folder)!r} is not the one this model was fitted with: "
            "its fingerprint (configuration, tokenizer and weights) differs. Restore the "
            "original checkpoint there, or refit the model.")
    return encoder
