"""The caches of a :class:`~skhanrock.nn.PretrainedWordEncoder`: per text, in memory and on disk.

A :class:`VectorCache` holds what an encoder has computed per distinct text
(frozen word vectors, or a fine-tuned encoder's lower states) and counts how
it answered. Word vectors can also be kept in ``cache_dir``, one ``.npy``
file per text beside a ``.sha256`` file of its checksum, under a folder named
by the encoder's :func:`model_fingerprint`, so that encoders of another model
or other settings never read them.
"""

import contextlib
import hashlib
import io
import json
import os
import threading
import warnings
from collections import namedtuple
from pathlib import Path

import numpy as np
import torch

__all__ = ["CacheInfo", "VectorCache", "model_fingerprint"]

#: What :meth:`PretrainedWordEncoder.cache_info` reports.
CacheInfo = namedtuple("CacheInfo", ["hits", "disk_hits", "misses", "currsize"])

# Bumped whenever the vectors of a text would change for the same model, so that
# stale on-disk entries are never read.
_CACHE_FORMAT = "skhanrock-pretrained-words-1"


def model_fingerprint(model, tokenizer_identity, max_words, max_length):
    """SHA-256 hex digest of a model's identity and the settings that shape its vectors.

    It covers the configuration (not where it was loaded from), the
    tokenizer's definition (``tokenizer_identity``, a string), every weight,
    ``max_words`` and ``max_length``.
    """
    digest = hashlib.sha256(_CACHE_FORMAT.encode())
    config = {k: v for k, v in model.config.to_dict().items()
              if k not in ("_name_or_path", "transformers_version", "_commit_hash")}
    digest.update(json.dumps(config, sort_keys=True, default=str).encode())
    digest.update(tokenizer_identity.encode())
    digest.update(json.dumps([max_words, max_length]).encode())
    for name, tensor in sorted(model.state_dict().items()):
        digest.update(f"{name}:{tensor.dtype}:{tuple(tensor.shape)}".encode())
        raw = tensor.detach().cpu().contiguous().reshape(-1).view(torch.uint8)
        digest.update(raw.numpy().tobytes())
    return digest.hexdigest()


class VectorCache:
    """What an encoder computed per text, in memory and optionally on disk, with its counts.

    Parameters
    ----------
    cache_dir : str, path or None, default=None
        Folder of the on-disk cache of word vectors; None keeps them in
        memory only.

    Attributes
    ----------
    vectors : dict
        Text to its read-only word vectors (a frozen encoder).
    lower : dict
        Text to its :class:`~skhanrock.nn._fine_tuning.LowerStates` (a
        fine-tuned encoder).
    hits, disk_hits, misses : int
        Texts answered from memory (repeats within a call included), read
        from ``cache_dir``, and computed.

    Examples
    --------
    >>> cache = VectorCache()
    >>> cache.vectors["hello"] = np.zeros((1, 2), dtype=np.float32)
    >>> results, todo = cache.pending(["hello", "new", "new"], cache.vectors)
    >>> results[0].shape, todo
    ((1, 2), {'new': [1, 2]})
    >>> cache.info()
    CacheInfo(hits=2, disk_hits=0, misses=0, currsize=1)
    """

    def __init__(self, cache_dir=None):
        self.cache_dir = None if cache_dir is None else Path(cache_dir)
        self.vectors = {}
        self.lower = {}
        self.hits = self.disk_hits = self.misses = 0
        # Set at the first failed write to cache_dir: memory only from then on.
        self._unwritable = False

    def pending(self, texts, table):
        """What ``table`` already holds of ``texts``, and the positions of each text left.

        Returns the per-text results (None where still to compute) and, per
        distinct text missing from ``table``, its positions in ``texts``; a
        cached text and each repeat of a pending one count as a hit.
        """
        results = [None] * len(texts)
        todo = {}
        for k, text in enumerate(texts):
            if text in table:
                self.hits += 1
                results[k] = table[text]
            elif text in todo:
                self.hits += 1
                todo[text].append(k)
            else:
                todo[text] = [k]
        return results, todo

    def info(self):
        """The counts, and the texts held in memory, as a :data:`CacheInfo`."""
        return CacheInfo(self.hits, self.disk_hits, self.misses,
                         len(self.vectors) + len(self.lower))

    def clear(self):
        """Empty the memory and reset the counts; the files of ``cache_dir`` stay."""
        self.vectors.clear()
        self.lower.clear()
        self.hits = self.disk_hits = self.misses = 0

    def store(self, text, array, fingerprint=None):
        """Keep ``text``'s word vectors in memory, and in ``cache_dir`` under ``fingerprint``."""
        self.vectors[text] = array
        if fingerprint is not None:
            self._disk_put(self._disk_path(fingerprint, text), array)

    def disk_lookup(self, todo, results, fingerprint, shape_of):
        """Move the texts of ``todo`` that ``cache_dir`` holds into ``results``.

        ``shape_of(text)`` is the shape its vectors must have. A damaged entry
        (its checksum missing or not matching, or an array of another shape)
        stays in ``todo``, to be recomputed and rewritten, and is counted in a
        warning.
        """
        damaged = 0
        for text in list(todo):
            found = _disk_get(self._disk_path(fingerprint, text), shape_of(text))
            if found is _DAMAGED:
                damaged += 1
            elif found is not None:
                self.disk_hits += 1
                self.store(text, found)
                for k in todo.pop(text):
                    results[k] = found
        if damaged:
            warnings.warn(
                f"{damaged} text(s) cached in cache_dir={str(self.cache_dir)!r} failed their "
                "checksum (damaged on disk, or written without one); they were recomputed and "
                "rewritten.", UserWarning, stacklevel=3)

    def _disk_path(self, fingerprint, text):
        key = hashlib.sha256(text.encode("utf8", "surrogatepass")).hexdigest()
        return self.cache_dir / fingerprint[:32] / key[:2] / f"{key}.npy"

    def _disk_put(self, path, array):
        """Write an entry and its checksum; a cache_dir that refuses is left, once."""
        if self._unwritable:
            return
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
            self._unwritable = True
            warnings.warn(
                f"cache_dir={str(self.cache_dir)!r} cannot be written ({error}); this encoder "
                "keeps the word vectors it computes in memory only from now on.", UserWarning,
                stacklevel=4)


# What _disk_get returns for an entry that fails its checks.
_DAMAGED = object()


def _disk_get(path, shape):
    """The cached vectors at ``path``; None when absent, ``_DAMAGED`` when unusable."""
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
    if array.dtype != np.float32 or array.shape != shape:
        return _DAMAGED
    array.setflags(write=False)
    return array


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
