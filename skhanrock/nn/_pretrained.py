"""Contextual word vectors from a pretrained Hugging Face transformer (BERT, RoBERTa, ...).

:class:`PretrainedWordEncoder` runs a local transformer checkpoint over each
talkturn and pools its sub-word states back to the words of
:func:`~skhanrock.nn.tokenize`, so that the word attention of the network sees
one vector per word, exactly as with GloVe vectors. It needs the optional
``transformers`` package (``pip install skhanrock[transformers]``) and never
reaches the network: models are read from local folders only.
"""

import copy
import math
import numbers
import os
import warnings
from collections import Counter
from pathlib import Path

import numpy as np
import torch
from torch import nn
from tqdm.auto import tqdm

from .._utils.validation import check_number, is_finite_number
from ._fine_tuning import (
    REPLAY_CHECK_WORDS,
    TransformerTop,
    check_replay,
    layer_input,
    lower_entry,
    lower_outputs,
)
from ._pretrained_loading import (
    check_device,
    check_tokenizer,
    check_vocabulary,
    import_transformers,
    load_tokenizer,
    local_folder,
    quietly_loaded,
    resolve_max_length,
    tokenizer_identity,
    transformer_layers,
)
from ._text import surface_words, tokenize
from ._vector_cache import CacheInfo, VectorCache, model_fingerprint

__all__ = ["CacheInfo", "PretrainedWordEncoder", "check_unknown_words"]

# "auto" shows a progress bar from this many model batches on.
_PROGRESS_BATCHES = 20
# A fit warns when more than this share of the training words is read as the
# unknown token; a model's own tokenizer leaves well under 1% of English
# conversation unknown.
_MAX_UNKNOWN_SHARE = 0.2
# Texts tokenised at once by that check.
_UNKNOWN_CHECK_BATCH = 1024


class PretrainedWordEncoder(nn.Module):
    """Contextual word vectors from a pretrained transformer, one per word of a talkturn.

    Each text is split into words by :func:`~skhanrock.nn.tokenize`; the words
    are given to the model's fast tokenizer as pre-split words
    (``is_split_into_words=True``), the model reads the whole talkturn, and the
    final hidden states of the sub-word pieces of each word are averaged into
    that word's vector. Words are read with their letter case as typed (an
    uncased tokenizer lower-cases them itself); a word that the tokenizer
    reduces to no piece at all (a zero-width space, say) is read as its unknown
    token.

    Nothing is downloaded: ``model`` is a local folder, or a model already
    loaded in memory.

    Parameters
    ----------
    model : str, path or transformers model
        A local folder holding a Hugging Face checkpoint (BERT, RoBERTa, a
        sentence-transformers model, ...) read with ``AutoTokenizer`` and
        ``AutoModel`` and ``local_files_only=True``; or a loaded base model
        (``transformers.AutoModel``, whose output has ``last_hidden_state``),
        which is used as is: moved to ``device`` and frozen in place.
    tokenizer : transformers tokenizer, str, path or None, default=None
        The model's *fast* tokenizer, or a local folder holding it. None reads
        it from ``model``'s folder (required when ``model`` is a loaded model).
        A tokenizer with fewer than half the model's ``vocab_size`` tokens
        (what transformers builds for a folder without tokenizer files), or
        with more, is a ValueError that gives both sizes.
    max_words : int or None, default=64
        Words kept per text: the *first* ``max_words``, as
        :func:`~skhanrock.nn.tokenize` and the estimators' ``max_words`` keep
        them. None keeps every word.
    fine_tune_layers : int, default=0
        0 freezes the whole model: no parameter requires a gradient, the model
        stays in evaluation mode, and vectors are cached. ``k > 0`` trains the
        top ``k`` transformer layers. Under the estimators the lower layers
        run once per distinct text (:meth:`lower_states`, cached) and a
        trained copy of the top ``k`` (:meth:`top_layers`) runs inside the
        network on every batch of every epoch, which is meant for a GPU (see
        "Choosing the word encoder" in the user guide for the CPU cost). On
        its own, the encoder trains its top layers through :meth:`forward`
        (nothing is cached then).
    fine_tune_lr : float or None, default=3e-5
        Learning rate the estimators give the fine-tuned top layers (their
        own parameter group), unless ``optimizer__param_groups`` already names
        them: pretrained layers want a rate far below the network's (2**-8 by
        default), which would undo their training. None trains them at the
        network's ``lr``. Unused with ``fine_tune_layers=0``.
    batch_size : int, default=32
        Texts (or windows of long texts) per model call. Texts are sorted by
        their number of pieces first, so each batch pads little.
    device : str or torch.device, default="cpu"
        Where the model runs ("cpu", "cuda", "cuda:1", ...); a device that
        torch does not know or that this machine lacks is a ValueError.
    cache_dir : str, path or None, default=None
        Folder of an on-disk cache shared by encoders of the same model and
        settings: one ``.npy`` file per text, under a sub-folder named by the
        model's identity (a hash of its configuration, tokenizer and weights).
        Files are read with ``allow_pickle=False``; a ``.sha256`` file beside
        each holds its checksum, and an entry that fails it is recomputed,
        with a warning. A folder that cannot be written gives one warning, and
        the encoder caches in memory from then on. None caches in memory only.
    progress : bool or "auto", default="auto"
        Show a progress bar over model batches; "auto" shows it when there are
        at least 20 batches to run.
    max_length : int or None, default=None
        Tokens (pieces plus special tokens) the model reads at once; None takes
        the model's limit (its tokenizer's ``model_max_length``, else its
        position embeddings).

    Attributes
    ----------
    model : torch.nn.Module
        The transformer.
    tokenizer : transformers tokenizer
        Its fast tokenizer.
    model_path : Path or None
        The local folder the model was read from (None for a model given in
        memory); a saved estimator reads its word encoder from there again.
    hidden_size : int
        Length of each word vector.
    max_length : int
        Tokens read at once. A text with more pieces than fit is read in
        consecutive windows of whole words, each word seeing the context of its
        window only, with a warning that counts such texts; every word still
        gets a vector, so the number of vectors always equals the number of
        words that ``encode_texts`` keeps. A single word longer than a window
        keeps its first pieces.
    n_layers : int
        Transformer layers of the model.
    device : torch.device
        Where the model runs.

    See Also
    --------
    skhanrock.nn.tokenize : The words that get a vector each.

    Notes
    -----
    The in-memory cache maps each text to its vectors, so each distinct text
    runs through the model once per encoder; with ``fine_tune_layers > 0`` it
    maps each text to its :meth:`lower_states` instead. Both caches assume the
    frozen weights do not change; call :meth:`cache_clear` after editing them.

    Examples
    --------
    A tiny random BERT stands in for a real checkpoint here:

    >>> import tempfile
    >>> from pathlib import Path
    >>> import torch
    >>> import transformers
    >>> vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "the", "cat", "sat", ".",
    ...          "un", "##believ", "##able"]
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     vocab_file = Path(folder) / "vocab.txt"
    ...     _ = vocab_file.write_text("\\n".join(vocab))
    ...     tokenizer = transformers.BertTokenizerFast(str(vocab_file))
    >>> config = transformers.BertConfig(vocab_size=len(vocab), hidden_size=8,
    ...                                  num_hidden_layers=2, num_attention_heads=2,
    ...                                  intermediate_size=16)
    >>> _ = torch.manual_seed(0)
    >>> encoder = PretrainedWordEncoder(transformers.BertModel(config), tokenizer)
    >>> vectors = encoder.encode(["The cat sat.", "Unbelievable!", ""])
    >>> [v.shape for v in vectors]
    [(4, 8), (2, 8), (1, 8)]
    >>> vectors[0].dtype, encoder.hidden_size
    (dtype('float32'), 8)
    >>> _ = encoder.encode(["The cat sat."])
    >>> encoder.cache_info()
    CacheInfo(hits=1, disk_hits=0, misses=3, currsize=3)

    Saving a model and its tokenizer with ``save_pretrained`` to one folder
    gives a folder that ``PretrainedWordEncoder(folder)`` reads.
    """

    def __init__(self, model, tokenizer=None, *, max_words=64, fine_tune_layers=0,
                 fine_tune_lr=3e-5, batch_size=32, device="cpu", cache_dir=None,
                 progress="auto", max_length=None):
        super().__init__()
        transformers = import_transformers()
        self.max_words = None if max_words is None else check_number(
            "max_words", max_words, low=1, integer=True)
        self.batch_size = check_number("batch_size", batch_size, low=1, integer=True)
        if progress not in (True, False, "auto"):
            raise ValueError(f"progress must be True, False or 'auto', got {progress!r}.")
        self.progress = progress
        folder = None
        if isinstance(model, str | os.PathLike):
            folder = local_folder(model, "model")
            model = quietly_loaded(transformers, folder)
        elif not (isinstance(model, nn.Module) and hasattr(model, "config")):
            raise TypeError("model must be a local model folder or a loaded transformers model, "
                            f"got {type(model).__name__}.")
        if tokenizer is None:
            if folder is None:
                raise ValueError("tokenizer is required when model is a loaded model; pass the "
                                 "model's fast tokenizer or the folder that holds it.")
            tokenizer = folder
        if isinstance(tokenizer, str | os.PathLike):
            tokenizer = load_tokenizer(transformers, local_folder(tokenizer, "tokenizer"))
        check_tokenizer(tokenizer)
        check_vocabulary(tokenizer, model)
        self.model = model
        self.tokenizer = tokenizer
        self.model_path = None if folder is None else folder.resolve()
        self.max_length = resolve_max_length(model, tokenizer, max_length)
        self._layers = transformer_layers(model)
        self.n_layers = len(self._layers)
        self.fine_tune_layers = self._freeze(fine_tune_layers)
        if fine_tune_lr is not None and not (is_finite_number(fine_tune_lr)
                                             and fine_tune_lr > 0):
            raise ValueError(f"fine_tune_lr must be a positive number or None, "
                             f"got {fine_tune_lr!r}.")
        self.fine_tune_lr = None if fine_tune_lr is None else float(fine_tune_lr)
        self.model.to(check_device(device))
        self.train(False)
        self._cache = VectorCache(cache_dir)
        self._fingerprint = None
        self._replay_checked = False

    # -- construction -------------------------------------------------------------------------

    def _freeze(self, fine_tune_layers):
        if isinstance(fine_tune_layers, bool) or not isinstance(fine_tune_layers, numbers.Integral) \
                or not 0 <= fine_tune_layers <= len(self._layers):
            raise ValueError(f"fine_tune_layers must be an integer from 0 to the model's "
                             f"{len(self._layers)} transformer layers, got {fine_tune_layers!r}.")
        fine_tune_layers = int(fine_tune_layers)
        self.model.requires_grad_(False)
        for layer in self._trainable_layers(fine_tune_layers):
            layer.requires_grad_(True)
        return fine_tune_layers

    def _trainable_layers(self, k):
        return self._layers[len(self._layers) - k:] if k else ()

    @property
    def cache_dir(self):
        """Path or None: Folder of the on-disk cache of word vectors."""
        return self._cache.cache_dir

    @cache_dir.setter
    def cache_dir(self, folder):
        self._cache.cache_dir = None if folder is None else Path(folder)

    @property
    def device(self):
        """torch.device: Where the model runs (``encoder.to(...)`` moves it)."""
        return next(self.model.parameters()).device

    @property
    def hidden_size(self):
        """int: Length of each word vector (the model's hidden size)."""
        return int(self.model.config.hidden_size)

    def train(self, mode=True):
        """Set training mode; frozen parts of the model always stay in evaluation mode.

        Parameters
        ----------
        mode : bool, default=True
            Training (dropout on in the fine-tuned layers) or evaluation.

        Returns
        -------
        self : PretrainedWordEncoder
            This encoder.
        """
        super().train(mode)
        if hasattr(self, "model"):
            self.model.eval()
            for layer in self._trainable_layers(getattr(self, "fine_tune_layers", 0)):
                layer.train(mode)
        return self

    # -- encoding ------------------------------------------------------------------------------

    def _words(self, text):
        words = surface_words(text)
        return words if self.max_words is None else words[:self.max_words]

    def _piece_counts(self, word_lists):
        """Pieces per word; words without a piece are replaced by the unknown token."""
        encoded = self.tokenizer(word_lists, is_split_into_words=True, add_special_tokens=False)
        counts = []
        for i, words in enumerate(word_lists):
            ids = [w for w in encoded.word_ids(i) if w is not None]
            count = np.bincount(np.asarray(ids, dtype=np.int64), minlength=len(words))
            unknown = self.tokenizer.unk_token
            if unknown is not None and not count.all():
                for j in np.flatnonzero(count == 0):
                    words[j] = unknown
                    count[j] = 1
            counts.append(count)
        return counts

    def _windows(self, i, count):
        """(text, first word, end word, pieces) of consecutive windows of text ``i``'s words."""
        room = self.max_length - self.tokenizer.num_special_tokens_to_add(pair=False)
        windows, start, total = [], 0, 0
        for j, c in enumerate(count.tolist()):
            if total + c > room and j > start:
                windows.append((i, start, j, total))
                start, total = j, 0
            total += c
        windows.append((i, start, len(count), total))
        return windows

    def _show_progress(self, n_batches):
        return self.progress is True or (self.progress == "auto"
                                         and n_batches >= _PROGRESS_BATCHES)

    def _read_windows(self, texts, read_batch, stacklevel):
        """``read_batch`` over the windows of ``texts``' words, batch by batch.

        Returns, per text, None for a text without words, else its windows'
        results as ``(first word, result)`` pairs in the order of the words.
        """
        word_lists = [self._words(t) for t in texts]
        results = [None] * len(texts)
        full = [i for i, words in enumerate(word_lists) if words]
        if not full:
            return results
        counts = self._piece_counts([word_lists[i] for i in full])
        windows = [w for i, count in zip(full, counts, strict=True) for w in self._windows(i, count)]
        long_texts = len(windows) - len(full)
        if long_texts:
            warnings.warn(
                f"{long_texts} text(s) have more word pieces than the {self.max_length} tokens "
                "the model reads at once; they were read in consecutive windows of whole words, "
                "each word seeing the context of its window only.", UserWarning,
                stacklevel=stacklevel + 1)
        windows.sort(key=lambda w: w[3])
        n_batches = math.ceil(len(windows) / self.batch_size)
        for b in tqdm(range(n_batches), desc="encoding words", unit="batch",
                      disable=not self._show_progress(n_batches)):
            batch = windows[b * self.batch_size:(b + 1) * self.batch_size]
            outputs = read_batch([word_lists[i][s:e] for i, s, e, _ in batch])
            for (i, s, _, _), output in zip(batch, outputs, strict=True):
                if results[i] is None:
                    results[i] = []
                results[i].append((s, output))
        for parts in results:
            if parts is not None:
                parts.sort(key=lambda p: p[0])
        return results

    def _run(self, texts):
        """Word vectors of ``texts`` as float32 tensors on the device (gradients as enabled)."""
        vectors = []
        for parts in self._read_windows(texts, self._pool_batch, stacklevel=3):
            if parts is None:
                vectors.append(torch.zeros(1, self.hidden_size, dtype=torch.float32,
                                           device=self.device))
            else:
                vectors.append(parts[0][1] if len(parts) == 1
                               else torch.cat([p[1] for p in parts]))
        return vectors

    def _tokenized(self, word_lists):
        return self.tokenizer(word_lists, is_split_into_words=True, padding=True,
                              truncation=True, max_length=self.max_length,
                              return_attention_mask=True, return_tensors="pt")

    def _model_inputs(self, inputs):
        return {k: v.to(self.device) for k, v in inputs.items()
                if k in self.tokenizer.model_input_names}

    def _pool_batch(self, word_lists):
        """Mean of the final states of each word's pieces, for a batch of word lists."""
        inputs = self._tokenized(word_lists)
        rows, positions, slots, starts = [], [], [], [0]
        for row, words in enumerate(word_lists):
            for position, word in enumerate(inputs.word_ids(row)):
                if word is not None:
                    rows.append(row)
                    positions.append(position)
                    slots.append(starts[-1] + word)
            starts.append(starts[-1] + len(words))
        device = self.device
        states = self.model(**self._model_inputs(inputs)).last_hidden_state
        index = torch.as_tensor(slots, dtype=torch.long, device=device)
        pieces = states[torch.as_tensor(rows, device=device),
                        torch.as_tensor(positions, device=device)].to(torch.float32)
        sums = torch.zeros(starts[-1], states.shape[-1], dtype=torch.float32,
                           device=device).index_add(0, index, pieces)
        n_pieces = torch.bincount(index, minlength=starts[-1]).clamp(min=1)
        means = sums / n_pieces.unsqueeze(1).to(torch.float32)
        return [means[a:b] for a, b in zip(starts[:-1], starts[1:], strict=True)]

    @staticmethod
    def _check_texts(texts):
        if isinstance(texts, str):
            raise TypeError("texts must be a list of texts, not one string; wrap it in a list.")
        texts = list(texts)
        wrong = [type(t).__name__ for t in texts if not isinstance(t, str)]
        if wrong:
            raise TypeError(f"every text must be a str, got {sorted(set(wrong))}.")
        return texts

    @property
    def _caching(self):
        return self.fine_tune_layers == 0

    def encode(self, texts):
        """Word vectors of each text, without gradients.

        Parameters
        ----------
        texts : iterable of str
            Talkturn texts (or MONAH narratives).

        Returns
        -------
        list of ndarray of float32
            Per text, an array of shape ``(n_words, hidden_size)``: one row per
            word of ``tokenize(text)[:max_words]``; an empty text (no word) is
            one zero row, like the single empty token of ``encode_texts``. While
            the model is frozen the arrays are the cached ones, read-only; a
            fine-tuned encoder runs in its current mode (call ``eval()`` first
            for vectors without dropout).
        """
        texts = self._check_texts(texts)
        results, todo = self._cache.pending(texts, self._cache.vectors if self._caching else {})
        if self._caching and self.cache_dir is not None:
            self._cache.disk_lookup(todo, results, self.fingerprint(), self._vector_shape)
        self._cache.misses += len(todo)
        with torch.no_grad():
            computed = self._run(list(todo))
        for (text, positions), vector in zip(todo.items(), computed, strict=True):
            array = vector.cpu().numpy()
            array.setflags(write=False)
            if self._caching:
                self._cache.store(text, array,
                                  None if self.cache_dir is None else self.fingerprint())
            for k in positions:
                results[k] = array
        return results

    def forward(self, texts):
        """Word vectors of each text as tensors on the device, for training the network.

        With ``fine_tune_layers > 0`` gradients flow into the top layers (when
        gradients are enabled) and nothing is cached; a frozen encoder returns
        copies of :meth:`encode`'s cached vectors.

        Parameters
        ----------
        texts : iterable of str
            Talkturn texts.

        Returns
        -------
        list of torch.Tensor
            Per text, a float32 tensor of shape ``(n_words, hidden_size)`` on
            ``device`` (see :meth:`encode`).
        """
        if self._caching:
            return [torch.tensor(a, device=self.device) for a in self.encode(texts)]
        texts = self._check_texts(texts)
        self._cache.misses += len(texts)
        return self._run(texts)

    # -- fine-tuning ---------------------------------------------------------------------------

    def _first_tuned_layer(self):
        return self._layers[self.n_layers - self.fine_tune_layers]

    def _lower_batch(self, word_lists):
        """Per word list, the lower states at its real tokens and the word of each token."""
        inputs = self._tokenized(word_lists)
        return lower_outputs(inputs, layer_input(self.model, self._first_tuned_layer(),
                                                 self._model_inputs(inputs)))

    def lower_states(self, texts):
        """What the frozen lower layers make of each text, cached: the input of the top layers.

        The embeddings and the layers below the top ``fine_tune_layers`` run
        without gradients, once per distinct text (later calls read the
        in-memory cache; ``cache_dir`` caches the frozen vectors of
        :meth:`encode` only). The top layers do not run.

        Parameters
        ----------
        texts : iterable of str
            Talkturn texts.

        Returns
        -------
        list of LowerStates
            Per text, the states of its real tokens (read-only float32 arrays),
            the word of each token and the tokens per window of the model.

        Raises
        ------
        ValueError
            If the encoder is frozen (``fine_tune_layers=0``).
        """
        if not self.fine_tune_layers:
            raise ValueError("lower_states needs fine_tune_layers > 0; a frozen encoder gives "
                             "its word vectors with encode().")
        texts = self._check_texts(texts)
        results, todo = self._cache.pending(texts, self._cache.lower)
        self._cache.misses += len(todo)
        with torch.no_grad():
            computed = self._read_windows(list(todo), self._lower_batch, stacklevel=2)
        for (text, positions), parts in zip(todo.items(), computed, strict=True):
            entry = self._cache.lower[text] = lower_entry(parts, len(self._words(text)) or 1,
                                                          self.hidden_size)
            for k in positions:
                results[k] = entry
        return results

    def top_layers(self):
        """A trainable copy of the top ``fine_tune_layers`` layers, to train inside a network.

        The copy starts from the checkpoint's weights and leaves the encoder's
        own layers untouched, so that the encoder's caches and fingerprint
        stay valid however the copy is trained. Before the first copy is
        returned, the layers are checked to reproduce the model's output when
        run on :meth:`lower_states`.

        Returns
        -------
        TransformerTop
            In evaluation mode; every parameter requires a gradient.

        Raises
        ------
        ValueError
            If the encoder is frozen, or its top layers cannot run on their own
            (layers that read more than the hidden states and the padding
            mask, such as MPNet's and DeBERTa's relative positions).
        """
        if not self.fine_tune_layers:
            raise ValueError("top_layers needs fine_tune_layers > 0.")
        top = TransformerTop([copy.deepcopy(layer)
                              for layer in self._trainable_layers(self.fine_tune_layers)],
                             self.model.config).to(self.device)
        top.requires_grad_(True)
        top.train(False)
        if not self._replay_checked:
            self._check_replay(top)
            self._replay_checked = True
        return top

    def _check_replay(self, top):
        """Refuse a model whose top layers, run on the lower states, miss its output."""
        inputs = self._tokenized([list(words) for words in REPLAY_CHECK_WORDS])
        training = self.training
        self.train(False)
        try:
            check_replay(self.model, self._first_tuned_layer(), top, self._model_inputs(inputs),
                         inputs["attention_mask"].bool().to(self.device), self.fine_tune_layers)
        finally:
            self.train(training)

    # -- caches --------------------------------------------------------------------------------

    def cache_info(self):
        """How the caches have answered so far.

        Returns
        -------
        CacheInfo
            A named tuple: ``hits`` (texts answered from memory, including
            repeats within one call), ``disk_hits`` (texts read from
            ``cache_dir``), ``misses`` (texts run through the model) and
            ``currsize`` (texts held in memory: their word vectors, or the
            :meth:`lower_states` of a fine-tuned encoder).
        """
        return self._cache.info()

    def cache_clear(self):
        """Empty the in-memory cache and reset the counts (the on-disk cache stays).

        Returns
        -------
        self : PretrainedWordEncoder
            This encoder.
        """
        self._cache.clear()
        self._fingerprint = None
        return self

    def fingerprint(self, *, fresh=False):
        """Hash of the model's identity and the settings that shape the vectors.

        It covers the model's configuration (not where it was loaded from), its
        tokenizer, every weight, ``max_words`` and ``max_length``; the on-disk
        cache files its entries under it.

        Parameters
        ----------
        fresh : bool, default=False
            The hash is computed once and kept; True hashes the weights as
            they are now (edited in memory since, say), without changing the
            kept hash or the cache entries filed under it.

        Returns
        -------
        str
            A SHA-256 hex digest.
        """
        if fresh:
            return model_fingerprint(self.model, tokenizer_identity(self.tokenizer),
                                     self.max_words, self.max_length)
        if self._fingerprint is None:
            self._fingerprint = self.fingerprint(fresh=True)
        return self._fingerprint

    def _vector_shape(self, text):
        """The shape of the word vectors of ``text`` (what a disk entry must have)."""
        return (len(tokenize(text)[:self.max_words]) or 1, self.hidden_size)


def check_unknown_words(encoder, texts):
    """Warn when ``encoder``'s tokenizer reads many of the words of ``texts`` as unknown.

    A word is unknown when one of its pieces is the tokenizer's unknown token
    (or it has no piece at all); all such words get nearly the same vector, so
    a fit on them learns little from the wording. The estimators check their
    training texts with it.

    Parameters
    ----------
    encoder : PretrainedWordEncoder
    texts : list of str

    Returns
    -------
    float
        The share of the words (of ``tokenize``, the first ``max_words`` of
        each text) that are unknown; 0.0 for texts without words.
    """
    word_lists = [words for words in map(encoder._words, texts) if words]
    unknown, total = Counter(), sum(map(len, word_lists))
    unknown_id = encoder.tokenizer.unk_token_id
    for start in range(0, len(word_lists), _UNKNOWN_CHECK_BATCH):
        batch = word_lists[start:start + _UNKNOWN_CHECK_BATCH]
        encoded = encoder.tokenizer(batch, is_split_into_words=True, add_special_tokens=False)
        for i, words in enumerate(batch):
            pieces = list(zip(encoded["input_ids"][i], encoded.word_ids(i), strict=True))
            with_piece = {word for _, word in pieces if word is not None}
            bad = {word for piece, word in pieces if word is not None and piece == unknown_id}
            unknown.update(words[j] for j in bad | (set(range(len(words))) - with_piece))
    share = unknown.total() / total if total else 0.0
    if share > _MAX_UNKNOWN_SHARE:
        examples = ", ".join(repr(word) for word, _ in unknown.most_common(5))
        warnings.warn(
            f"{share:.0%} of the {total} words of the training texts ({unknown.total()}) are "
            f"read as the tokenizer's unknown token {encoder.tokenizer.unk_token!r} (most "
            f"often {examples}), so the word vectors cannot tell them apart. Check that the "
            "tokenizer is the model's own and suits the language of the texts.", UserWarning,
            stacklevel=2)
    return share

