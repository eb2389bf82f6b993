"""Contextual word vectors from a pretrained Hugging Face transformer (BERT, RoBERTa, ...).

:class:`PretrainedWordEncoder` runs a local transformer checkpoint over each
talkturn and pools its sub-word states back to the words of
:func:`~skhanrock.nn.tokenize`, so that the word attention of the network sees
one vector per word, exactly as with GloVe vectors. It needs the optional
``transformers`` package (``pip install skhanrock[transformers]``) and never
reaches the network: models are read from local folders only.
"""

import contextlib
import copy
import hashlib
import io
import json
import math
import numbers
import os
import threading
import warnings
from collections import Counter, namedtuple
from pathlib import Path

import numpy as np
import torch
from torch import nn
from tqdm.auto import tqdm

from .._validation import check_number, is_finite_number
from ._fine_tuning import LowerStates, TransformerTop
from ._text import surface_words, tokenize

__all__ = ["CacheInfo", "PretrainedWordEncoder"]

#: What :meth:`PretrainedWordEncoder.cache_info` reports.
CacheInfo = namedtuple("CacheInfo", ["hits", "disk_hits", "misses", "currsize"])

# Bumped whenever the vectors of a text would change for the same model, so that
# stale on-disk entries are never read.
_CACHE_FORMAT = "skhanrock-pretrained-words-1"
# Position embeddings of the RoBERTa family start after the padding index, so
# a checkpoint with 514 positions reads 512 tokens.
_POSITIONS_AFTER_PADDING = {"roberta", "xlm-roberta", "camembert", "longformer", "mpnet",
                            "data2vec-text", "xmod", "roberta-prelayernorm"}
# Tokenizers without a limit of their own report this huge sentinel.
_NO_LIMIT = 1_000_000
# "auto" shows a progress bar from this many model batches on.
_PROGRESS_BATCHES = 20
# Words of the check that a fine-tuned encoder's top layers run on their own: two
# texts of different lengths, so that the check pads one of them.
_REPLAY_CHECK_WORDS = [["hello", "world", ",", "the", "end"], ["a"]]
# A tokenizer with fewer tokens than this share of the model's vocabulary is not
# the model's: checkpoints pad their vocabulary by a few rows at most.
_MIN_VOCABULARY_SHARE = 0.5
# A fit warns when more than this share of the training words is read as the
# unknown token; a model's own tokenizer leaves well under 1% of English
# conversation unknown.
_MAX_UNKNOWN_SHARE = 0.2
# Texts tokenised at once by that check.
_UNKNOWN_CHECK_BATCH = 1024


class _LowerLayersDone(Exception):
    """Raised by the hook that captures the input of the first fine-tuned layer."""


def _import_transformers():
    try:
        import transformers
    except ImportError as error:
        raise ImportError(
            "PretrainedWordEncoder needs the package transformers; install it with "
            "`pip install skhanrock[transformers]`."
        ) from error
    return transformers


def _transformer_folder(path):
    """The folder of the transformer itself; a sentence-transformers checkpoint may nest it."""
    if (path / "config.json").is_file() or not (path / "modules.json").is_file():
        return path
    modules = json.loads((path / "modules.json").read_text(encoding="utf8"))
    for module in modules:
        if str(module.get("type", "")).endswith("Transformer"):
            return path / module.get("path", "")
    return path


def _byte_level_without_prefix_space(tokenizer):
    """Whether a byte-level BPE tokenizer (RoBERTa, GPT-2) would glue pre-split words."""
    def search(node):
        if isinstance(node, dict):
            if node.get("type") == "ByteLevel" and node.get("add_prefix_space") is False:
                return True
            return any(search(v) for v in node.values())
        if isinstance(node, list):
            return any(search(v) for v in node)
        return False

    try:
        pre_tokenizer = json.loads(tokenizer.backend_tokenizer.to_str()).get("pre_tokenizer")
    except (AttributeError, ValueError):
        return False
    return search(pre_tokenizer)


def _tokenizer_identity(tokenizer):
    """The fast tokenizer's definition, without the padding and truncation of its last call.

    The backend keeps the padding and truncation settings of the last call in
    its serialised form; they say nothing about the pieces of a text, and
    would make an encoder's fingerprint depend on whether it has encoded yet.
    """
    definition = json.loads(tokenizer.backend_tokenizer.to_str())
    definition.pop("padding", None)
    definition.pop("truncation", None)
    return json.dumps(definition, sort_keys=True)


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
        transformers = _import_transformers()
        self.max_words = None if max_words is None else check_number(
            "max_words", max_words, low=1, integer=True)
        self.batch_size = check_number("batch_size", batch_size, low=1, integer=True)
        if progress not in (True, False, "auto"):
            raise ValueError(f"progress must be True, False or 'auto', got {progress!r}.")
        self.progress = progress
        folder = None
        if isinstance(model, str | os.PathLike):
            folder = self._local_folder(model, "model")
            model = _quietly_loaded(transformers, folder)
        elif not (isinstance(model, nn.Module) and hasattr(model, "config")):
            raise TypeError("model must be a local model folder or a loaded transformers model, "
                            f"got {type(model).__name__}.")
        if tokenizer is None:
            if folder is None:
                raise ValueError("tokenizer is required when model is a loaded model; pass the "
                                 "model's fast tokenizer or the folder that holds it.")
            tokenizer = folder
        if isinstance(tokenizer, str | os.PathLike):
            tokenizer = self._load_tokenizer(transformers,
                                             self._local_folder(tokenizer, "tokenizer"))
        self._check_tokenizer(tokenizer)
        self._check_vocabulary(tokenizer, model)
        self.model = model
        self.tokenizer = tokenizer
        self.model_path = None if folder is None else folder.resolve()
        self.max_length = self._resolve_max_length(max_length)
        self._layers = self._transformer_layers()
        self.n_layers = len(self._layers)
        self.fine_tune_layers = self._freeze(fine_tune_layers)
        if fine_tune_lr is not None and not (is_finite_number(fine_tune_lr)
                                             and fine_tune_lr > 0):
            raise ValueError(f"fine_tune_lr must be a positive number or None, "
                             f"got {fine_tune_lr!r}.")
        self.fine_tune_lr = None if fine_tune_lr is None else float(fine_tune_lr)
        self.model.to(self._check_device(device))
        self.train(False)
        self.cache_dir = None if cache_dir is None else Path(cache_dir)
        self._memory = {}
        # Set at the first failed write to cache_dir: memory only from then on.
        self._disk_unwritable = False
        # Lower-layer states of a fine-tuned encoder, per text.
        self._lower = {}
        self._hits = self._disk_hits = self._misses = 0
        self._fingerprint = None
        self._replay_checked = False

    # -- construction -------------------------------------------------------------------------

    @staticmethod
    def _local_folder(path, what):
        folder = Path(path)
        if not folder.is_dir():
            raise ValueError(
                f"{what}={str(path)!r} is not an existing local folder. PretrainedWordEncoder "
                "makes no network access and needs the local path of a downloaded checkpoint "
                "(e.g. `huggingface-cli download NAME --local-dir FOLDER`, or save_pretrained).")
        return _transformer_folder(folder)

    @staticmethod
    def _load_tokenizer(transformers, folder):
        tokenizer = transformers.AutoTokenizer.from_pretrained(folder, local_files_only=True)
        if getattr(tokenizer, "is_fast", False) and _byte_level_without_prefix_space(tokenizer):
            # Byte-level BPE marks a word's start with a space: pre-split words need it.
            tokenizer = transformers.AutoTokenizer.from_pretrained(
                folder, local_files_only=True, add_prefix_space=True)
        return tokenizer

    @staticmethod
    def _check_tokenizer(tokenizer):
        if not getattr(tokenizer, "is_fast", False):
            raise ValueError(
                f"tokenizer {type(tokenizer).__name__} is a slow (Python) tokenizer; pooling "
                "pieces to words needs a fast (Rust, `tokenizers`) one for word_ids(). Load it "
                "with AutoTokenizer.from_pretrained(..., use_fast=True), or pass the model folder.")
        if _byte_level_without_prefix_space(tokenizer):
            raise ValueError(
                f"tokenizer {type(tokenizer).__name__} is byte-level BPE without "
                "add_prefix_space: it would read the pre-split words as one glued word. Load it "
                "with add_prefix_space=True, or pass the model folder.")

    @staticmethod
    def _check_vocabulary(tokenizer, model):
        """Refuse a tokenizer whose token ids do not fit the model's vocabulary."""
        vocab_size = getattr(model.config, "vocab_size", None)
        if not isinstance(vocab_size, numbers.Integral) or vocab_size <= 0:
            return
        n_tokens = len(tokenizer)
        where = getattr(tokenizer, "name_or_path", "") or "the tokenizer given"
        if n_tokens > vocab_size:
            raise ValueError(
                f"tokenizer ({where}) has {n_tokens} tokens but the model's vocabulary "
                f"(config vocab_size) has {vocab_size}: its ids past {vocab_size - 1} have no "
                "embedding. Pass the model's own tokenizer.")
        if n_tokens < _MIN_VOCABULARY_SHARE * vocab_size:
            raise ValueError(
                f"tokenizer ({where}) has {n_tokens} tokens but the model's vocabulary "
                f"(config vocab_size) has {vocab_size}: it is not this model's tokenizer, "
                "and would read most words as its unknown token. A model folder without its "
                "tokenizer files (tokenizer.json, vocab.txt, vocab.json and merges.txt, ...) "
                "gives such a tokenizer of special tokens only: copy the tokenizer files "
                "into the folder, or pass tokenizer=.")

    def _resolve_max_length(self, max_length):
        config = self.model.config
        limits = []
        tokenizer_limit = getattr(self.tokenizer, "model_max_length", None)
        if isinstance(tokenizer_limit, numbers.Integral) and 0 < tokenizer_limit < _NO_LIMIT:
            limits.append(int(tokenizer_limit))
        positions = getattr(config, "max_position_embeddings", None)
        if isinstance(positions, numbers.Integral) and positions > 0:
            if getattr(config, "model_type", None) in _POSITIONS_AFTER_PADDING:
                positions -= (getattr(config, "pad_token_id", None) or 0) + 1
            limits.append(int(positions))
        if max_length is not None:
            max_length = check_number("max_length", max_length, low=1, integer=True)
            if limits and max_length > min(limits):
                raise ValueError(f"max_length={max_length} exceeds the model's limit of "
                                 f"{min(limits)} tokens.")
            limits = [max_length]
        if not limits:
            raise ValueError("the model states no maximum length; pass max_length.")
        length = min(limits)
        if length <= self.tokenizer.num_special_tokens_to_add(pair=False):
            raise ValueError(f"max_length={length} leaves no room for a word piece.")
        return length

    def _transformer_layers(self):
        """The model's stack of transformer layers (``encoder.layer`` for BERT and RoBERTa)."""
        n_layers = getattr(self.model.config, "num_hidden_layers", None)
        stacks = [m for m in self.model.modules() if isinstance(m, nn.ModuleList)
                  and len(m) > 0 and (n_layers is None or len(m) == n_layers)]
        if not stacks:
            return ()
        # A tuple, not a module attribute: the layers are registered once, in the model.
        return tuple(max(stacks, key=lambda m: sum(p.numel() for p in m.parameters())))

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

    @staticmethod
    def _check_device(device):
        try:
            device = torch.device(device)
        except (RuntimeError, TypeError):
            raise ValueError(f"device must be a torch device or a string such as 'cpu', "
                             f"'cuda' or 'cuda:1', got {device!r}.") from None
        if device.type == "cuda" and not torch.cuda.is_available():
            raise ValueError(f"device={str(device)!r} but no CUDA GPU is available; use 'cpu'.")
        # torch.cuda, torch.mps, torch.xpu, ... say whether their devices exist; a type
        # without such a module (meta, lazy, ...) holds no weights to compute with.
        backend = getattr(torch, device.type, None)
        if device.type != "cpu" and not (callable(getattr(backend, "is_available", None))
                                         and backend.is_available()):
            raise ValueError(f"device={str(device)!r}: no {device.type!r} device is available "
                             "to run the model on; use 'cpu' or 'cuda'.")
        count = getattr(backend, "device_count", None)
        if device.index is not None and callable(count) and device.index >= count():
            raise ValueError(f"device={str(device)!r} but there are only {count()} "
                             f"{device.type!r} device(s).")
        return device

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

    def _cached_and_pending(self, texts, cache):
        """What ``cache`` already holds of ``texts``, and the positions of each text left.

        Returns the per-text results (None where still to compute) and, per
        distinct text missing from ``cache``, its positions in ``texts``; a
        cached text and each repeat of a pending one count as a hit.
        """
        results = [None] * len(texts)
        todo = {}
        for k, text in enumerate(texts):
            if text in cache:
                self._hits += 1
                results[k] = cache[text]
            elif text in todo:
                self._hits += 1
                todo[text].append(k)
            else:
                todo[text] = [k]
        return results, todo

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
        results, todo = self._cached_and_pending(texts, self._memory if self._caching else {})
        if self._caching and self.cache_dir is not None:
            self._disk_lookup(todo, results)
        self._misses += len(todo)
        with torch.no_grad():
            computed = self._run(list(todo))
        for (text, positions), vector in zip(todo.items(), computed, strict=True):
            array = vector.cpu().numpy()
            array.setflags(write=False)
            if self._caching:
                self._store(text, array, disk=self.cache_dir is not None)
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
        self._misses += len(texts)
        return self._run(texts)

    # -- fine-tuning ---------------------------------------------------------------------------

    def _layer_input(self, model_inputs):
        """The hidden states entering the first fine-tuned layer; the layers above do not run."""
        captured = []
        # Streams in other threads may run the same model meanwhile, with hooks of their own.
        caller = threading.get_ident()

        def capture(module, args, kwargs):
            if threading.get_ident() != caller:
                return None
            captured.append(args[0] if args else kwargs["hidden_states"])
            raise _LowerLayersDone

        first = self._layers[self.n_layers - self.fine_tune_layers]
        handle = first.register_forward_pre_hook(capture, with_kwargs=True)
        try:
            self.model(**model_inputs)
        except _LowerLayersDone:
            pass
        finally:
            handle.remove()
        if not captured:
            raise RuntimeError("the model never called its first fine-tuned layer.")
        return captured[0]

    def _lower_batch(self, word_lists):
        """Per word list, the lower states at its real tokens and the word of each token."""
        inputs = self._tokenized(word_lists)
        states = self._layer_input(self._model_inputs(inputs))
        real = inputs["attention_mask"].bool()
        outputs = []
        for row in range(len(word_lists)):
            positions = torch.nonzero(real[row]).squeeze(1)
            word_ids = inputs.word_ids(row)
            words = np.array([-1 if word_ids[p] is None else word_ids[p]
                              for p in positions.tolist()], dtype=np.int64)
            outputs.append((states[row, positions.to(states.device)].to(torch.float32).cpu()
                            .numpy(), words))
        return outputs

    def _lower_entry(self, text, parts):
        n_words = len(self._words(text)) or 1
        if parts is None:
            entry = LowerStates(np.zeros((0, self.hidden_size), dtype=np.float32),
                                np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64), 1)
        else:
            # Window words count from the window's first word; the text's from its first.
            entry = LowerStates(
                np.concatenate([states for _, (states, _) in parts]),
                np.concatenate([np.where(words >= 0, words + start, -1)
                                for start, (_, words) in parts]),
                np.array([len(words) for _, (_, words) in parts], dtype=np.int64), n_words)
        for array in entry[:3]:
            array.setflags(write=False)
        return entry

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
        results, todo = self._cached_and_pending(texts, self._lower)
        self._misses += len(todo)
        with torch.no_grad():
            computed = self._read_windows(list(todo), self._lower_batch, stacklevel=2)
        for (text, positions), parts in zip(todo.items(), computed, strict=True):
            entry = self._lower[text] = self._lower_entry(text, parts)
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
        inputs = self._tokenized([list(words) for words in _REPLAY_CHECK_WORDS])
        model_inputs = self._model_inputs(inputs)
        real = inputs["attention_mask"].bool().to(self.device)
        training = self.training
        self.train(False)
        try:
            with torch.no_grad():
                expected = self.model(**model_inputs).last_hidden_state[real]
                got = top.run(self._layer_input(model_inputs), real)[real]
            same = got.shape == expected.shape and torch.allclose(got, expected, rtol=1e-4,
                                                                  atol=1e-5)
            reason = "they give other states than the whole model"
        except (TypeError, ValueError, RuntimeError, KeyError, IndexError, AttributeError) \
                as error:
            same, reason = False, f"{type(error).__name__}: {error}"
        finally:
            self.train(training)
        if not same:
            model_type = getattr(self.model.config, "model_type", type(self.model).__name__)
            raise ValueError(
                f"fine_tune_layers={self.fine_tune_layers}: the top layers of this "
                f"{model_type!r} model cannot be run on their own over the cached states of "
                f"its lower layers ({reason}). Fine-tuning in the estimators needs layers "
                "that read the hidden states and the padding mask only (BERT, RoBERTa, "
                "XLM-R, ELECTRA, DistilBERT, MiniLM), not relative positions computed outside "
                "them (MPNet, DeBERTa) or rotary ones (ModernBERT); use fine_tune_layers=0.")

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
        return CacheInfo(self._hits, self._disk_hits, self._misses,
                         len(self._memory) + len(self._lower))

    def cache_clear(self):
        """Empty the in-memory cache and reset the counts (the on-disk cache stays).

        Returns
        -------
        self : PretrainedWordEncoder
            This encoder.
        """
        self._memory.clear()
        self._lower.clear()
        self._hits = self._disk_hits = self._misses = 0
        self._fingerprint = None
        return self

    def _store(self, text, array, disk):
        self._memory[text] = array
        if disk:
            self._disk_put(text, array)

    def fingerprint(self):
        """Hash of the model's identity and the settings that shape the vectors.

        It covers the model's configuration (not where it was loaded from), its
        tokenizer, every weight, ``max_words`` and ``max_length``; the on-disk
        cache files its entries under it.

        Returns
        -------
        str
            A SHA-256 hex digest.
        """
        if self._fingerprint is None:
            digest = hashlib.sha256(_CACHE_FORMAT.encode())
            config = {k: v for k, v in self.model.config.to_dict().items()
                      if k not in ("_name_or_path", "transformers_version", "_commit_hash")}
            digest.update(json.dumps(config, sort_keys=True, default=str).encode())
            digest.update(_tokenizer_identity(self.tokenizer).encode())
            digest.update(json.dumps([self.max_words, self.max_length]).encode())
            for name, tensor in sorted(self.model.state_dict().items()):
                digest.update(f"{name}:{tensor.dtype}:{tuple(tensor.shape)}".encode())
                raw = tensor.detach().cpu().contiguous().reshape(-1).view(torch.uint8)
                digest.update(raw.numpy().tobytes())
            self._fingerprint = digest.hexdigest()
        return self._fingerprint

    def _disk_path(self, text):
        key = hashlib.sha256(text.encode("utf8", "surrogatepass")).hexdigest()
        return self.cache_dir / self.fingerprint()[:32] / key[:2] / f"{key}.npy"

    def _disk_lookup(self, todo, results):
        """Move the texts of ``todo`` that ``cache_dir`` holds into ``results``.

        A damaged entry (its checksum missing or not matching, or an array of
        another shape) stays in ``todo``, to be recomputed and rewritten, and
        is counted in a warning.
        """
        damaged = 0
        for text in list(todo):
            found = self._disk_get(text)
            if found is _DAMAGED:
                damaged += 1
            elif found is not None:
                self._disk_hits += 1
                self._store(text, found, disk=False)
                for k in todo.pop(text):
                    results[k] = found
        if damaged:
            warnings.warn(
                f"{damaged} text(s) cached in cache_dir={str(self.cache_dir)!r} failed their "
                "checksum (damaged on disk, or written without one); they were recomputed and "
                "rewritten.", UserWarning, stacklevel=3)

    def _disk_get(self, text):
        """The cached vectors of ``text``; None when absent, ``_DAMAGED`` when unusable."""
        path = self._disk_path(text)
        if not path.is_file():
            return None
        try:
            raw = path.read_bytes()
            expected = _checksum_path(path).read_text(encoding="ascii").strip()
        except (OSError, ValueError):
            return _DAMAGED
        if hashlib.sha256(raw).hexdigest() != expected:
            return _DAMAGED
        try:
            array = np.load(io.BytesIO(raw), allow_pickle=False)
        except (OSError, ValueError):
            return _DAMAGED
        n_words = len(tokenize(text)[:self.max_words]) or 1
        if array.dtype != np.float32 or array.shape != (n_words, self.hidden_size):
            return _DAMAGED
        array.setflags(write=False)
        return array

    def _disk_put(self, text, array):
        """Write ``text``'s entry and its checksum; a cache_dir that refuses is left, once."""
        if self._disk_unwritable:
            return
        path = self._disk_path(text)
        buffer = io.BytesIO()
        np.save(buffer, array, allow_pickle=False)
        raw = buffer.getvalue()
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            # The checksum first: a reader between the two sees a mismatch, never a
            # new checksum vouching for an old array.
            _write_atomically(_checksum_path(path), hashlib.sha256(raw).hexdigest().encode())
            _write_atomically(path, raw)
        except OSError as error:
            self._disk_unwritable = True
            warnings.warn(
                f"cache_dir={str(self.cache_dir)!r} cannot be written ({error}); this encoder "
                "keeps the word vectors it computes in memory only from now on.", UserWarning,
                stacklevel=4)


# What PretrainedWordEncoder._disk_get returns for an entry that fails its checks.
_DAMAGED = object()


def _checksum_path(path):
    """The file beside a cache entry that holds the SHA-256 of its bytes."""
    return path.with_suffix(".sha256")


def _write_atomically(path, data):
    """Write ``data`` to ``path`` through a temporary file, removed if the write fails."""
    partial = path.with_name(f"{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    try:
        partial.write_bytes(data)
        os.replace(partial, path)
    finally:
        with contextlib.suppress(OSError):
            partial.unlink(missing_ok=True)


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


def _quietly_loaded(transformers, folder):
    """``AutoModel.from_pretrained`` without the progress bar transformers draws for it.

    transformers 5 draws a bar while it reads the weights; each estimator fit and
    load reads them, so the bar would clutter every fit's output.
    """
    logging = transformers.utils.logging
    shown = logging.is_progress_bar_enabled()
    logging.disable_progress_bar()
    try:
        return transformers.AutoModel.from_pretrained(folder, local_files_only=True)
    finally:
        if shown:
            logging.enable_progress_bar()

