"""Reading a transformer checkpoint for :class:`~skhanrock.nn.PretrainedWordEncoder`, and checking it.

Everything here runs once, when an encoder is built: finding the local
folder, loading the model and its fast tokenizer, refusing a tokenizer that
cannot pool pieces to words or does not fit the model's vocabulary, and
settling the tokens read at once, the layer stack and the device.
"""

import json
import numbers
from pathlib import Path

import torch
from torch import nn

from .._utils.validation import check_number

__all__ = ["check_device", "check_tokenizer", "check_vocabulary", "import_transformers",
           "load_tokenizer", "local_folder", "quietly_loaded", "resolve_max_length",
           "tokenizer_identity", "transformer_layers"]

# Position embeddings of the RoBERTa family start after the padding index, so
# a checkpoint with 514 positions reads 512 tokens.
_POSITIONS_AFTER_PADDING = {"roberta", "xlm-roberta", "camembert", "longformer", "mpnet",
                            "data2vec-text", "xmod", "roberta-prelayernorm"}
# Tokenizers without a limit of their own report this huge sentinel.
_NO_LIMIT = 1_000_000
# A tokenizer with fewer tokens than this share of the model's vocabulary is not
# the model's: checkpoints pad their vocabulary by a few rows at most.
_MIN_VOCABULARY_SHARE = 0.5


def import_transformers():
    """The ``transformers`` package, or an ImportError that says how to install it."""
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


def local_folder(path, what):
    """The transformer's folder under ``path``, refusing anything but an existing local folder."""
    folder = Path(path)
    if not folder.is_dir():
        raise ValueError(
            f"{what}={str(path)!r} is not an existing local folder. PretrainedWordEncoder "
            "makes no network access and needs the local path of a downloaded checkpoint "
            "(e.g. `huggingface-cli download NAME --local-dir FOLDER`, or save_pretrained).")
    return _transformer_folder(folder)


def quietly_loaded(transformers, folder):
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


def load_tokenizer(transformers, folder):
    """The fast tokenizer of ``folder``, with the prefix space pre-split words need."""
    tokenizer = transformers.AutoTokenizer.from_pretrained(folder, local_files_only=True)
    if getattr(tokenizer, "is_fast", False) and _byte_level_without_prefix_space(tokenizer):
        # Byte-level BPE marks a word's start with a space: pre-split words need it.
        tokenizer = transformers.AutoTokenizer.from_pretrained(
            folder, local_files_only=True, add_prefix_space=True)
    return tokenizer


def check_tokenizer(tokenizer):
    """Refuse a tokenizer that cannot map pieces back to pre-split words."""
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


def check_vocabulary(tokenizer, model):
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


def tokenizer_identity(tokenizer):
    """The fast tokenizer's definition, without the padding and truncation of its last call.

    The backend keeps the padding and truncation settings of the last call in
    its serialised form; they say nothing about the pieces of a text, and
    would make an encoder's fingerprint depend on whether it has encoded yet.
    """
    definition = json.loads(tokenizer.backend_tokenizer.to_str())
    definition.pop("padding", None)
    definition.pop("truncation", None)
    return json.dumps(definition, sort_keys=True)


def resolve_max_length(model, tokenizer, max_length):
    """Tokens read at once: ``max_length``, checked against the model's limit, or that limit."""
    config = model.config
    limits = []
    tokenizer_limit = getattr(tokenizer, "model_max_length", None)
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
    if length <= tokenizer.num_special_tokens_to_add(pair=False):
        raise ValueError(f"max_length={length} leaves no room for a word piece.")
    return length


def transformer_layers(model):
    """The model's stack of transformer layers (``encoder.layer`` for BERT and RoBERTa)."""
    n_layers = getattr(model.config, "num_hidden_layers", None)
    stacks = [m for m in model.modules() if isinstance(m, nn.ModuleList)
              and len(m) > 0 and (n_layers is None or len(m) == n_layers)]
    if not stacks:
        return ()
    # A tuple, not a module attribute: the layers are registered once, in the model.
    return tuple(max(stacks, key=lambda m: sum(p.numel() for p in m.parameters())))


def check_device(device):
    """``device`` as a torch.device, refusing one torch does not know or this machine lacks."""
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
