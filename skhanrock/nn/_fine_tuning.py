"""Fine-tuning the top layers of a pretrained word encoder inside the network.

A :class:`~skhanrock.nn.PretrainedWordEncoder` with ``fine_tune_layers=k``
splits its transformer in two. The frozen lower part (the embeddings and the
first ``n - k`` layers) runs once per distinct text, outside the network, and
its token states are cached as :class:`LowerStates`; :class:`PieceTable` holds
those of a frame's texts for :class:`~skhanrock.nn.TalkturnDataset`, which
gathers each batch's into a :class:`PieceBatch`. The top ``k`` layers are a
trained copy inside the network, :class:`TransformerTop`: on every batch it
runs them over the cached states and pools the pieces of each word into that
word's vector, as the frozen encoder pools its final states.
"""

import threading
from typing import NamedTuple

import numpy as np
import torch
from torch import nn

from ._buckets import length_buckets

__all__ = ["LowerStates", "PieceBatch", "PieceTable", "TransformerTop", "check_replay",
           "layer_input", "lower_entry", "lower_outputs", "REPLAY_CHECK_WORDS"]

# Length buckets of a batch's windows in the top layers, each one more call of them.
_MAX_BUCKETS = 4
# Words of the check that a fine-tuned encoder's top layers run on their own: two
# texts of different lengths, so that the check pads one of them.
REPLAY_CHECK_WORDS = [["hello", "world", ",", "the", "end"], ["a"]]


class LowerStates(NamedTuple):
    """What the frozen lower layers of a fine-tuned encoder make of one text.

    A text longer than the model reads at once is read in several windows of
    whole words; each window is one sequence of the model.

    Attributes
    ----------
    states : ndarray of float32, shape (n_pieces, hidden_size)
        The states entering the first fine-tuned layer, at the real tokens
        (special tokens included, padding left out) of each window, the
        windows one after another. The attention mask of a window is all
        ones over its tokens, so only their number is kept.
    words : ndarray of int64, shape (n_pieces,)
        The word (of the text's ``tokenize`` words) each token is a piece of;
        -1 for special tokens.
    window_lengths : ndarray of int64, shape (n_windows,)
        Tokens per window; no window for a text without words.
    n_words : int
        Word vectors the text gets: its number of words, or 1 (a zero
        vector) for a text without any.
    """

    states: np.ndarray
    words: np.ndarray
    window_lengths: np.ndarray
    n_words: int


class PieceBatch(NamedTuple):
    """The lower-layer states of a batch's talkturns, as :class:`TransformerTop` reads them.

    Attributes
    ----------
    states : FloatTensor (W, P, H)
        The W windows of the batch's talkturns, longest first, right-padded
        with zeros.
    mask : BoolTensor (W, P)
        Real tokens.
    words : LongTensor (W, P)
        Word of its talkturn each token is a piece of; -1 for special tokens
        and padding.
    talkturns : LongTensor (W,)
        Talkturn (row of the batch's talkturns) of each window.
    buckets : tuple of (int, int, int)
        ``(start, stop, tokens)``: slices of the windows that the top layers
        read apart, each padded to its own longest window only (see
        ``length_buckets``).
    """

    states: torch.Tensor
    mask: torch.Tensor
    words: torch.Tensor
    talkturns: torch.Tensor
    buckets: tuple

    def to(self, device):
        """The batch on ``device``."""
        return PieceBatch(*(part.to(device) for part in self[:4]), self.buckets)


class PieceTable:
    """The :class:`LowerStates` of distinct texts, in place of a word-vector table.

    A frame encoded for a fine-tuned encoder gives each talkturn the word
    offset and length it would have in a table of word vectors (each text
    ``n_words`` rows, the texts one after another); :meth:`batch` turns those
    back into the texts' lower states.

    Parameters
    ----------
    lower : list of LowerStates
        One per distinct text, in the order of the virtual word table.
    hidden_size : int
        Width of the states.
    """

    def __init__(self, lower, hidden_size):
        self.hidden_size = int(hidden_size)
        states = [part.states for part in lower]
        self.states = torch.from_numpy(np.concatenate(states) if states
                                       else np.zeros((0, self.hidden_size), dtype=np.float32))
        self.words = np.concatenate([part.words for part in lower] or [np.zeros(0, np.int64)])
        self.window_lengths = np.concatenate([part.window_lengths for part in lower]
                                             or [np.zeros(0, np.int64)]).astype(np.int64)
        self.window_starts = np.concatenate([[0], np.cumsum(self.window_lengths)[:-1]]).astype(
            np.int64)
        n_windows = np.array([len(part.window_lengths) for part in lower], dtype=np.int64)
        self.first_window = np.concatenate([[0], np.cumsum(n_windows)[:-1]]).astype(np.int64)
        self.n_windows = n_windows
        self.n_words = np.array([part.n_words for part in lower], dtype=np.int64)
        self.word_offsets = np.concatenate([[0], np.cumsum(self.n_words)[:-1]]).astype(np.int64)

    def __len__(self):
        """Texts held."""
        return len(self.n_words)

    def batch(self, word_offsets, lengths=None):
        """The :class:`PieceBatch` of the talkturns whose words start at ``word_offsets``.

        Called as ``WordTable.batch`` is, so that a dataset gathers either alike.

        Parameters
        ----------
        word_offsets : ndarray of int
            Per talkturn of the batch, the offset of its text's words in the
            virtual word table.
        lengths : ndarray of int or None, default=None
            Words per talkturn; unused, since each text's lower states hold
            its words.

        Returns
        -------
        PieceBatch
        """
        texts = np.searchsorted(self.word_offsets, np.asarray(word_offsets, dtype=np.int64))
        n_windows = self.n_windows[texts]
        talkturns = np.repeat(np.arange(len(texts)), n_windows)
        # Each text's windows are consecutive: its first one plus their rank.
        firsts = np.repeat(self.first_window[texts], n_windows)
        ranks = np.arange(len(talkturns)) - np.repeat(np.cumsum(n_windows) - n_windows, n_windows)
        windows = firsts + ranks
        # Longest windows first, so that length buckets are contiguous slices.
        by_length = np.argsort(-self.window_lengths[windows], kind="stable")
        windows, talkturns = windows[by_length], talkturns[by_length]
        lengths = self.window_lengths[windows]
        steps = np.arange(int(lengths.max()) if len(lengths) else 0)
        real = steps < lengths[:, None]
        flat = np.where(real, self.window_starts[windows][:, None] + steps, 0)
        mask = torch.from_numpy(real)
        states = self.states[torch.from_numpy(flat)].masked_fill(~mask.unsqueeze(-1), 0)
        words = torch.from_numpy(np.where(real, self.words[flat], -1))
        bounds = length_buckets(lengths, max_buckets=_MAX_BUCKETS) if len(lengths) else (0, 0)
        buckets = tuple((a, b, int(lengths[a])) for a, b in zip(bounds[:-1], bounds[1:],
                                                                  strict=True) if b > a)
        return PieceBatch(states, mask, words, torch.from_numpy(talkturns), buckets)


def pool_pieces(states, pieces, n_talkturns, width):
    """Mean of the states of each word's pieces: word vectors (n_talkturns, width, H), float32.

    Rows of words without a piece (the padding, and the one empty-talkturn
    word) are zero, as in a batch of frozen word vectors.
    """
    hidden = states.shape[-1]
    real = pieces.words >= 0
    slots = (pieces.talkturns.unsqueeze(1) * width + pieces.words)[real]
    vectors = states[real].to(torch.float32)
    sums = torch.zeros(n_talkturns * width, hidden, dtype=torch.float32,
                       device=states.device).index_add(0, slots, vectors)
    counts = torch.bincount(slots, minlength=n_talkturns * width).clamp(min=1)
    return (sums / counts.unsqueeze(1).to(torch.float32)).view(n_talkturns, width, hidden)


class TransformerTop(nn.Module):
    """The fine-tuned top layers of a transformer, turning lower states into word vectors.

    Built by :meth:`PretrainedWordEncoder.top_layers` from copies of the
    encoder's top ``fine_tune_layers`` layers, so that training them leaves
    the encoder (its cache and its fingerprint) as it was; a
    :class:`~skhanrock.nn.HanModule` holds it as ``transformer_top``, where
    the optimizer trains it and ``state_dict`` saves it. Its dropout is on in
    training mode only, like every other layer of the network.

    Parameters
    ----------
    layers : list of torch.nn.Module
        The layers, each called as ``layer(hidden_states, attention_mask=mask)``
        with the mask that ``transformers``' ``create_bidirectional_mask``
        builds from the padding (BERT, RoBERTa, XLM-R, ELECTRA, DistilBERT
        and their distillations such as MiniLM).
    config : transformers configuration
        The model's configuration (attention implementation, for the mask).
    """

    def __init__(self, layers, config):
        super().__init__()
        self.layers = nn.ModuleList(layers)
        # A plain attribute: the configuration holds no weights.
        self.config = config
        self.hidden_size = int(config.hidden_size)

    def run(self, states, mask):
        """The final states of padded sequences of lower states ``states`` (N, P, H)."""
        from transformers.masking_utils import create_bidirectional_mask

        attention_mask = create_bidirectional_mask(config=self.config, inputs_embeds=states,
                                                   attention_mask=mask.to(torch.long))
        for layer in self.layers:
            output = layer(states, attention_mask=attention_mask)
            states = output[0] if isinstance(output, tuple) else output
        return states

    def forward(self, pieces, lengths):
        """Word vectors (U, max(lengths), H) of a batch's talkturns.

        Parameters
        ----------
        pieces : PieceBatch
            The lower states of the batch's U talkturns.
        lengths : LongTensor (U,)
            Words per talkturn.
        """
        if not isinstance(pieces, PieceBatch):
            raise TypeError("HanModule: a module with transformer_top reads the lower-layer "
                            "states of a fine-tuned encoder (a PieceBatch) in place of tokens, "
                            f"got {type(pieces).__name__}.")
        width = int(lengths.max()) if len(lengths) else 0
        states, mask = pieces.states, pieces.mask
        if pieces.buckets:
            n_tokens = states.shape[1]
            states = torch.cat([
                nn.functional.pad(self.run(states[a:b, :tokens], mask[a:b, :tokens]),
                                  (0, 0, 0, n_tokens - tokens))
                for a, b, tokens in pieces.buckets])
        return pool_pieces(states, pieces, len(lengths), width)


# -- the encoder's side: lower states, and the check that the top layers replay ----------------


class _LowerLayersDone(Exception):
    """Raised by the hook that captures the input of the first fine-tuned layer."""


def layer_input(model, first_tuned, model_inputs):
    """The hidden states entering layer ``first_tuned`` of ``model``; the layers above do not run."""
    captured = []
    # Streams in other threads may run the same model meanwhile, with hooks of their own.
    caller = threading.get_ident()

    def capture(module, args, kwargs):
        if threading.get_ident() != caller:
            return None
        captured.append(args[0] if args else kwargs["hidden_states"])
        raise _LowerLayersDone

    handle = first_tuned.register_forward_pre_hook(capture, with_kwargs=True)
    try:
        model(**model_inputs)
    except _LowerLayersDone:
        pass
    finally:
        handle.remove()
    if not captured:
        raise RuntimeError("the model never called its first fine-tuned layer.")
    return captured[0]


def lower_outputs(inputs, states):
    """Per row of tokenizer output ``inputs``, its lower ``states`` at real tokens and their words."""
    real = inputs["attention_mask"].bool()
    outputs = []
    for row in range(len(real)):
        positions = torch.nonzero(real[row]).squeeze(1)
        word_ids = inputs.word_ids(row)
        words = np.array([-1 if word_ids[p] is None else word_ids[p]
                          for p in positions.tolist()], dtype=np.int64)
        outputs.append((states[row, positions.to(states.device)].to(torch.float32).cpu()
                        .numpy(), words))
    return outputs


def lower_entry(parts, n_words, hidden_size):
    """The read-only :class:`LowerStates` of a text from its windows' ``(first word, output)``.

    ``parts`` is None for a text without words.
    """
    if parts is None:
        entry = LowerStates(np.zeros((0, hidden_size), dtype=np.float32),
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


def check_replay(model, first_tuned, top, model_inputs, real, fine_tune_layers):
    """Refuse a model whose ``top`` layers, run on the lower states, miss its output.

    Run in evaluation mode, on the tokens of :data:`REPLAY_CHECK_WORDS`
    (``model_inputs``, with ``real`` marking the tokens that are not padding).
    """
    try:
        with torch.no_grad():
            expected = model(**model_inputs).last_hidden_state[real]
            got = top.run(layer_input(model, first_tuned, model_inputs), real)[real]
        same = got.shape == expected.shape and torch.allclose(got, expected, rtol=1e-4,
                                                              atol=1e-5)
        reason = "they give other states than the whole model"
    except (TypeError, ValueError, RuntimeError, KeyError, IndexError, AttributeError) as error:
        same, reason = False, f"{type(error).__name__}: {error}"
    if not same:
        model_type = getattr(model.config, "model_type", type(model).__name__)
        raise ValueError(
            f"fine_tune_layers={fine_tune_layers}: the top layers of this "
            f"{model_type!r} model cannot be run on their own over the cached states of "
            f"its lower layers ({reason}). Fine-tuning in the estimators needs layers "
            "that read the hidden states and the padding mask only (BERT, RoBERTa, "
            "XLM-R, ELECTRA, DistilBERT, MiniLM), not relative positions computed outside "
            "them (MPNet, DeBERTa) or rotary ones (ModernBERT); use fine_tune_layers=0.")
