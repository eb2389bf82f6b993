"""The hierarchical attention networks: flat multi-task HAN and HAN-ROCK."""

import math

import numpy as np
import torch
from torch import nn

from ._attention import AdditiveAttention
from ._gru import MaskedBiGRU, check_dropouts, check_sizes
from ._window_gru import WindowBiGRU

__all__ = ["HanModule"]

_ARCHITECTURES = ("rock", "flat")


class _TaskHeads(nn.Module):
    """One small linear head per task, computed as one batched product.

    ``vectors`` holds one input vector per task (N, K, D); each task has its
    own weights, mapping its vector to ``outputs`` values.
    """

    def __init__(self, n_tasks, input_size, outputs):
        super().__init__()
        bound = 1.0 / math.sqrt(max(input_size, 1))
        self.weight = nn.Parameter(torch.empty(n_tasks, input_size, outputs).uniform_(-bound, bound))
        self.bias = nn.Parameter(torch.zeros(n_tasks, outputs))

    def forward(self, vectors):
        return torch.einsum("nkd,kdo->nko", vectors, self.weight) + self.bias


def _both_directions(forward, backward, start, stop):
    return torch.cat([forward[..., start:stop], backward[..., start:stop]], dim=-1)


class _WindowReader(nn.Module):
    """Talkturn-level encoder: bi-GRUs over the windows, then talkturn attention.

    With ``grouped`` it holds one GRU and one attention per auxiliary task and
    keeps the task axis in its output.
    """

    def __init__(self, input_size, units, n_groups, dropout, recurrent_dropout, grouped=False):
        super().__init__()
        self.grouped = grouped
        self.gru = WindowBiGRU(input_size, units, n_groups, dropout, recurrent_dropout)
        self.attention = AdditiveAttention(2 * units, 2 * units, groups=n_groups)

    def forward(self, talkturn_vectors, windows, window_lengths, window_mask):
        forward, backward = self.gru(talkturn_vectors, windows, window_lengths)
        encoded = torch.cat([forward, backward], dim=-1).permute(1, 2, 0, 3)  # (B, L, G, 2H)
        if not self.grouped:
            return self.attention(encoded.squeeze(2), window_mask)
        return self.attention(encoded, window_mask)


def _check_options(architecture, aux_units, n_aux_tasks, freeze_embeddings, gru_dropout,
                   recurrent_dropout):
    """Refuse the non-size parameters of :class:`HanModule` that it cannot use."""
    if not isinstance(architecture, str) or architecture not in _ARCHITECTURES:
        raise ValueError(f"HanModule: architecture must be one of {_ARCHITECTURES}, "
                         f"got {architecture!r}.")
    # Only HAN-ROCK gives the auxiliary tasks a branch of their own; flat adds
    # aux_units to the single branch, and without auxiliary tasks it is unused.
    if architecture == "rock" and n_aux_tasks and aux_units < 1:
        raise ValueError(
            f"HanModule: aux_units must be at least 1 when architecture='rock' has auxiliary "
            f"or history/future tasks (n_aux_targets + n_label_offsets = {n_aux_tasks}), "
            f"got {aux_units!r}.")
    if not isinstance(freeze_embeddings, bool | np.bool_):
        raise ValueError("HanModule: freeze_embeddings must be True or False, "
                         f"got {freeze_embeddings!r}.")
    check_dropouts("HanModule", gru_dropout=gru_dropout, recurrent_dropout=recurrent_dropout)


def _embedding_tensor(weights, vocabulary_size, embedding_dim):
    """``weights`` as a tensor, refusing a shape that copy_ would silently broadcast."""
    tensor = torch.as_tensor(weights)
    if tuple(tensor.shape) != (vocabulary_size, embedding_dim):
        raise ValueError(
            "HanModule: embedding_weights must have shape (vocabulary_size, embedding_dim) = "
            f"({vocabulary_size}, {embedding_dim}), got {tuple(tensor.shape)}.")
    return tensor


def _word_input_sizes(vocabulary_size, embedding_dim, embedding_weights, input_size):
    """``(vocabulary_size, embedding_dim)`` of the embedding table, or ``input_size`` without one."""
    if input_size is None:
        return check_sizes("HanModule", vocabulary_size=vocabulary_size,
                           embedding_dim=embedding_dim)
    given = [name for name, value in (("vocabulary_size", vocabulary_size),
                                      ("embedding_dim", embedding_dim),
                                      ("embedding_weights", embedding_weights))
             if value is not None]
    if given:
        raise ValueError(f"HanModule: input_size={input_size!r} reads word vectors given to "
                         f"it, so it has no embedding table; {given} must be None.")
    (input_size,) = check_sizes("HanModule", input_size=input_size)
    return input_size


class HanModule(nn.Module):
    """Hierarchical attention network with auxiliary task heads.

    ``architecture="flat"`` is the flat multi-task HAN: one word encoder, one
    talkturn encoder, every head on the same conversation vector.
    ``architecture="rock"`` is HAN-ROCK: a primary branch (``primary_units``)
    and an auxiliary branch (``aux_units``) whose shared word encoder feeds one
    talkturn encoder per auxiliary task; the primary vector and the task vectors
    are projected to a common size and pooled by task-level attention, and the
    pooled vector plus the projected primary vector feeds the primary head. Auxiliary losses therefore train only
    the auxiliary branch; the primary loss reaches both through the fusion.

    Parameters
    ----------
    vocabulary_size : int or None
    embedding_dim : int or None
        Size of the embedding table; both required unless ``input_size`` is given.
    embedding_weights : ndarray of shape (vocabulary_size, embedding_dim) or None
        Initial word vectors; random when None.
    freeze_embeddings : bool
        Keep the table fixed (but see ``trainable_rows``).
    architecture : {"rock", "flat"}
    primary_units, aux_units : int
        GRU units per direction of the primary and auxiliary branches (flat
        uses ``primary_units + aux_units`` in its single branch).
        ``primary_units`` is at least 1; ``aux_units`` may be 0 unless
        HAN-ROCK has auxiliary or history/future tasks.
    n_primary_outputs : int
        Classes of the primary task, or 1 for regression.
    n_aux_targets : int
        Regression auxiliary tasks (the ``aux:*`` columns).
    n_label_offsets : int
        History/future label tasks.
    n_offset_outputs : int
        Outputs of each history/future head (classes + 1, or 1).
    gru_dropout, recurrent_dropout : float in [0, 1)
    input_size : int or None, default=None
        Length of word vectors computed outside the module (the contextual
        states of a :class:`~skhanrock.nn.PretrainedWordEncoder`). The module
        then has no embedding table, and ``tokens`` are those float vectors
        instead of word ids; ``vocabulary_size``, ``embedding_dim`` and
        ``embedding_weights`` must be None.
    lexical_features : int, default=0
        Size of the lexical path's n-gram vocabulary; 0: no lexical path. A
        linear layer (``lexical``, an ``EmbeddingBag`` without bias,
        zero-initialised so that training starts from the deep model alone)
        maps each talkturn's TF-IDF bag (the ``ngrams`` input) to
        ``n_primary_outputs`` logits, added to the primary head's outputs for
        each window's current talkturn ("wide and deep"). The attention does
        not weigh them; ``attention["lexical"]`` holds them.
    lexical_context : int, default=0
        Earlier talkturns of the window whose bags the lexical path reads
        too, each offset with weights of its own (the layer then has
        ``(1 + lexical_context) * n_primary_outputs`` outputs per n-gram);
        a window shorter than that adds nothing for the missing talkturns.
    transformer_top : TransformerTop or None, default=None
        The trained copy of a fine-tuned
        :class:`~skhanrock.nn.PretrainedWordEncoder`'s top layers
        (:meth:`~skhanrock.nn.PretrainedWordEncoder.top_layers`), held as
        ``transformer_top``, so that the optimizer trains it and
        ``state_dict`` holds it. ``tokens`` are then the lower-layer states
        of the talkturns' pieces (a ``PieceBatch``), which it turns into word
        vectors on every call; ``input_size`` must be its ``hidden_size``.
    trainable_rows : ndarray of bool of shape (vocabulary_size,) or None, default=None
        With ``freeze_embeddings=True``, the rows of the table that train all
        the same (the words without a pretrained vector): they are read from
        a trainable copy of the table, ``unseen_table``, and the other rows
        from the frozen one. Ignored when the table trains.
    talkturn_features : int, default=0
        Numeric measurements per talkturn (the feature path); 0: none. Each
        talkturn then brings ``2 * talkturn_features`` inputs (the
        ``features`` input: standardised values, then missing indicators),
        which enter twice: concatenated to the talkturn's primary vector
        before the talkturn-level GRU (so context talkturns carry theirs),
        and through a linear layer (``features``, without bias,
        zero-initialised) whose logits are added to the primary outputs as
        the lexical path's are, per window offset; ``attention["features"]``
        holds them.
    feature_context : int, default=0
        Earlier talkturns of the window whose inputs the linear feature
        layer reads too, each offset with weights of its own.

    Examples
    --------
    >>> import torch
    >>> module = HanModule(vocabulary_size=10, embedding_dim=4, primary_units=3, aux_units=1,
    ...                    n_primary_outputs=2, n_aux_targets=2, n_label_offsets=1,
    ...                    n_offset_outputs=3)
    >>> tokens = torch.tensor([[3, 4, 0], [5, 0, 0]])
    >>> outputs = module(tokens, torch.tensor([2, 1]), torch.tensor([[0, 0], [0, 1]]),
    ...                  torch.tensor([1, 2]))
    >>> [tuple(o.shape) for o in outputs[:3]]
    [(2, 2), (2, 2), (2, 1, 3)]

    Without an embedding table, the word vectors come in place of the ids:

    >>> module = HanModule(input_size=6, primary_units=3, n_primary_outputs=2)
    >>> primary, *_ = module(torch.randn(2, 3, 6), torch.tensor([3, 1]),
    ...                      torch.tensor([[0, 1]]), torch.tensor([2]))
    >>> module.embedding is None, tuple(primary.shape)
    (True, (1, 2))

    With a lexical path, each talkturn also brings its bag of n-gram ids,
    ``(ids, offsets, weights)``:

    >>> module = HanModule(vocabulary_size=10, embedding_dim=4, primary_units=3,
    ...                    n_primary_outputs=2, lexical_features=5)
    >>> ngrams = (torch.tensor([0, 3, 4]), torch.tensor([0, 2]), torch.tensor([0.6, 0.8, 1.0]))
    >>> primary, *_, attention = module(tokens, torch.tensor([2, 1]), torch.tensor([[0, 1]]),
    ...                                 torch.tensor([2]), ngrams=ngrams)
    >>> tuple(attention["lexical"].shape)
    (1, 2)

    With a feature path, each talkturn also brings its standardised
    measurements and their missing indicators:

    >>> module = HanModule(vocabulary_size=10, embedding_dim=4, primary_units=3,
    ...                    n_primary_outputs=2, talkturn_features=1)
    >>> features = torch.tensor([[0.5, 0.0], [0.0, 1.0]])
    >>> primary, *_, attention = module(tokens, torch.tensor([2, 1]), torch.tensor([[0, 1]]),
    ...                                 torch.tensor([2]), features=features)
    >>> tuple(attention["features"].shape)
    (1, 2)
    """

    def __init__(self, vocabulary_size=None, embedding_dim=None, embedding_weights=None,
                 freeze_embeddings=False, architecture="rock", primary_units=256, aux_units=1,
                 n_primary_outputs=1, n_aux_targets=0, n_label_offsets=0, n_offset_outputs=1,
                 gru_dropout=0.0, recurrent_dropout=0.0, input_size=None, lexical_features=0,
                 lexical_context=0, transformer_top=None, trainable_rows=None,
                 talkturn_features=0, feature_context=0):
        super().__init__()
        # Checked before any layer exists, so a bad value fails here by name, not in torch.
        word_sizes = _word_input_sizes(vocabulary_size, embedding_dim, embedding_weights,
                                       input_size)
        primary_units, n_primary_outputs, n_offset_outputs = check_sizes(
            "HanModule", primary_units=primary_units, n_primary_outputs=n_primary_outputs,
            n_offset_outputs=n_offset_outputs)
        aux_units, n_aux_targets, n_label_offsets, lexical_features, lexical_context = \
            check_sizes("HanModule", minimum=0, aux_units=aux_units,
                        n_aux_targets=n_aux_targets, n_label_offsets=n_label_offsets,
                        lexical_features=lexical_features, lexical_context=lexical_context)
        self.talkturn_features, self.feature_context = check_sizes(
            "HanModule", minimum=0, talkturn_features=talkturn_features,
            feature_context=feature_context)
        _check_options(architecture, aux_units, n_aux_targets + n_label_offsets,
                       freeze_embeddings, gru_dropout, recurrent_dropout)
        if transformer_top is not None and word_sizes != getattr(transformer_top, "hidden_size",
                                                                 None):
            raise ValueError(
                "HanModule: transformer_top turns lower-layer states into word vectors of its "
                f"hidden_size ({getattr(transformer_top, 'hidden_size', None)!r}), which must "
                f"be input_size; got input_size={input_size!r}.")
        self.architecture = architecture
        self.n_primary_outputs = n_primary_outputs
        self.n_aux_targets = n_aux_targets
        self.n_label_offsets = n_label_offsets
        self.n_offset_outputs = n_offset_outputs
        if input_size is None:
            vocabulary_size, embedding_dim = word_sizes
            self.embedding = nn.Embedding(vocabulary_size, embedding_dim, padding_idx=0)
            if embedding_weights is not None:
                weights = _embedding_tensor(embedding_weights, vocabulary_size, embedding_dim)
                with torch.no_grad():
                    self.embedding.weight.copy_(weights)
            self.embedding.weight.requires_grad_(not freeze_embeddings)
            self._add_trainable_rows(trainable_rows, freeze_embeddings, vocabulary_size)
        else:
            # The word vectors arrive computed (and cached) outside the module.
            self.embedding = None
            embedding_dim = word_sizes
        n_aux_tasks = n_aux_targets + n_label_offsets
        if architecture == "flat":
            units = primary_units + aux_units
            self.primary_units, self.aux_units = units, 0
            self._build_flat(embedding_dim, units, n_aux_tasks, gru_dropout, recurrent_dropout)
        else:
            self.primary_units = primary_units
            self.aux_units = aux_units if n_aux_tasks else 0
            self._build_rock(embedding_dim, n_aux_tasks, gru_dropout, recurrent_dropout)
        # Built last and from given zeros (no random draw), so the deep layers'
        # initialisation is the same with or without the lexical path.
        self.lexical_context = lexical_context
        lexical_outputs = (1 + lexical_context) * n_primary_outputs
        self.lexical = None if not lexical_features else nn.EmbeddingBag(
            lexical_features, lexical_outputs, mode="sum",
            _weight=torch.zeros(lexical_features, lexical_outputs))
        # Zero-initialised like the lexical layer: no draw, training starts from the rest.
        feature_outputs = (1 + self.feature_context) * n_primary_outputs
        self.features = None if not self.talkturn_features else nn.Linear(
            2 * self.talkturn_features, feature_outputs, bias=False)
        if self.features is not None:
            nn.init.zeros_(self.features.weight)
        # Copied from the checkpoint, not drawn: the other layers' draws stay the same.
        self.transformer_top = transformer_top

    def _build_word_encoder(self, embedding_dim, group_sizes, gru_dropout, recurrent_dropout):
        self.word_gru = MaskedBiGRU(embedding_dim, group_sizes, gru_dropout, recurrent_dropout)
        self.word_attention = nn.ModuleList(
            AdditiveAttention(2 * units, 2 * units) for units in group_sizes)

    def _build_flat(self, embedding_dim, units, n_aux_tasks, gru_dropout, recurrent_dropout):
        self._build_word_encoder(embedding_dim, (units,), gru_dropout, recurrent_dropout)
        self.primary_reader = _WindowReader(2 * units + 2 * self.talkturn_features, units, 1,
                                            gru_dropout, recurrent_dropout)
        self.primary_head = nn.Linear(2 * units, self.n_primary_outputs)
        self.aux_heads = _TaskHeads(self.n_aux_targets, 2 * units, 1)
        self.offset_heads = _TaskHeads(self.n_label_offsets, 2 * units, self.n_offset_outputs)

    def _build_rock(self, embedding_dim, n_aux_tasks, gru_dropout, recurrent_dropout):
        primary, aux = self.primary_units, self.aux_units
        group_sizes = (primary, aux) if n_aux_tasks else (primary,)
        self._build_word_encoder(embedding_dim, group_sizes, gru_dropout, recurrent_dropout)
        self.primary_reader = _WindowReader(2 * primary + 2 * self.talkturn_features, primary,
                                            1, gru_dropout, recurrent_dropout)
        common = 2 * max(primary, aux)
        self.primary_projection = nn.Linear(2 * primary, common)
        if n_aux_tasks:
            self.aux_reader = _WindowReader(2 * aux, aux, n_aux_tasks, gru_dropout,
                                            recurrent_dropout, grouped=True)
            self.task_projection = _TaskHeads(n_aux_tasks, 2 * aux, common)
            # Zero-initialised, the auxiliary task vectors enter the fusion only as
            # far as training finds them useful instead of adding noise in the
            # primary vector's space from the first step.
            nn.init.zeros_(self.task_projection.weight)
        self.task_attention = AdditiveAttention(common, common)
        self.primary_head = nn.Linear(common, self.n_primary_outputs)
        self.aux_heads = _TaskHeads(self.n_aux_targets, 2 * aux, 1)
        self.offset_heads = _TaskHeads(self.n_label_offsets, 2 * aux, self.n_offset_outputs)

    def _encode_words(self, tokens, lengths, word_buckets=None):
        """One vector per distinct talkturn and branch, plus the word attention.

        ``word_buckets`` slices talkturns sorted by decreasing length into
        buckets that are each padded only to their own longest talkturn.
        """
        bounds = word_buckets or (0, len(tokens))
        parts = [self._encode_word_bucket(tokens[start:stop, :int(lengths[start])],
                                          lengths[start:stop])
                 for start, stop in zip(bounds[:-1], bounds[1:], strict=True)]
        vectors = [torch.cat(branch) for branch in zip(*(p[0] for p in parts), strict=True)]
        width = tokens.shape[1]
        word_attention = [
            torch.cat([nn.functional.pad(alpha, (0, width - alpha.shape[1])) for alpha in branch])
            for branch in zip(*(p[1] for p in parts), strict=True)]
        return vectors, word_attention

    def _add_trainable_rows(self, trainable_rows, freeze_embeddings, vocabulary_size):
        """A trainable copy of the table for the rows that train while the rest stay frozen."""
        self.unseen_table = None
        if trainable_rows is None or not freeze_embeddings:
            return
        rows = np.asarray(trainable_rows)
        if rows.dtype != bool or rows.shape != (vocabulary_size,):
            raise ValueError(
                f"HanModule: trainable_rows must be a boolean array of vocabulary_size "
                f"({vocabulary_size}) values, got dtype {rows.dtype} and shape {rows.shape}.")
        # A second table, not a gradient mask: an optimizer's weight decay would move
        # masked rows of one table, while the frozen table here receives no update.
        self.unseen_table = nn.Embedding(vocabulary_size, self.embedding.embedding_dim,
                                         padding_idx=0)
        with torch.no_grad():
            self.unseen_table.weight.copy_(self.embedding.weight)
        self.register_buffer("trainable_rows", torch.as_tensor(rows))

    def _embed(self, tokens):
        if self.unseen_table is None:
            return self.embedding(tokens)
        return torch.where(self.trainable_rows[tokens].unsqueeze(-1),
                           self.unseen_table(tokens), self.embedding(tokens))

    def _encode_word_bucket(self, tokens, lengths):
        embedded = tokens if self.embedding is None else self._embed(tokens)
        forward, backward = self.word_gru(embedded, lengths)
        token_mask = torch.arange(tokens.shape[1], device=tokens.device) < lengths.unsqueeze(1)
        vectors, word_attention = [], []
        start = 0
        for units, attention in zip(self.word_gru.group_sizes, self.word_attention, strict=True):
            pooled, alpha = attention(_both_directions(forward, backward, start, start + units),
                                      token_mask)
            vectors.append(pooled)
            word_attention.append(alpha)
            start += units
        return vectors, word_attention

    def forward(self, tokens, lengths, windows, window_lengths, word_buckets=None, ngrams=None,
                features=None, lexical_logits=None):
        """Predict every task for a batch of windows.

        The same as :meth:`encode_talkturns` followed by :meth:`read_windows`.

        Parameters
        ----------
        tokens : LongTensor (U, T), FloatTensor (U, T, input_size) or PieceBatch
            Word ids of the U distinct talkturns of the batch, left-aligned;
            their word vectors instead when the module was built with
            ``input_size``; the lower-layer states of their pieces when it
            was built with ``transformer_top``.
        lengths : LongTensor (U,)
            Words per talkturn.
        windows : LongTensor (B, L)
            For each sample, its talkturns in chronological order (the current
            one last) as indices into the U talkturns, left-aligned.
        window_lengths : LongTensor (B,)
            Real talkturns per window.
        word_buckets : tuple of int or None
            Boundaries of length buckets over the talkturns, which must then be
            sorted by decreasing length (see ``length_buckets``); None pads all
            talkturns together.
        ngrams : tuple of Tensor or None
            With a lexical path (and only then), the U talkturns' TF-IDF bags:
            ``(ids, offsets, weights)``, the input, offsets and
            ``per_sample_weights`` of ``torch.nn.EmbeddingBag``.
        features : Tensor (U, 2 * talkturn_features) or None
            With a feature path (and only then), the U talkturns' standardised
            measurements, then their missing indicators.
        lexical_logits : Tensor (B, n_primary_outputs) or None
            With a lexical path, logits that replace the lexical layer's for
            the B windows: a stacked lexical path's held-out logits while the
            network trains (see ``lexical_fit`` of the estimators); None reads
            the layer.

        Returns
        -------
        primary : Tensor (B, n_primary_outputs), or (B,) when it is 1
        aux : Tensor (B, n_aux_targets)
        offsets : Tensor (B, n_label_offsets, n_offset_outputs), or
            (B, n_label_offsets) when ``n_offset_outputs`` is 1
        attention : dict of Tensors
            ``word`` (list per branch of (U, T)), ``talkturn`` (B, L) of the
            primary branch, ``aux_talkturn`` (B, L, K) and ``task`` (B, 1 + K)
            for HAN-ROCK, ``lexical`` (B, n_primary_outputs) with a lexical
            path: its share of ``primary``; ``features`` (B, n_primary_outputs)
            with a feature path: the linear feature layer's share.
        """
        vectors, word_attention = self.encode_talkturns(tokens, lengths, word_buckets, ngrams,
                                                        features)
        primary, aux, offsets, attention = self.read_windows(vectors, windows, window_lengths,
                                                             lexical_logits)
        attention["word"] = word_attention
        return primary, aux, offsets, attention

    def encode_talkturns(self, tokens, lengths, word_buckets=None, ngrams=None, features=None):
        """The word level: one vector per talkturn and word branch, plus its lexical logits.

        A talkturn's vectors do not depend on its context, so a caller that
        sees talkturns one at a time (the estimators' ``predict_next``)
        encodes each once and reads windows of the cached vectors with
        :meth:`read_windows`.

        Parameters
        ----------
        tokens, lengths, word_buckets, ngrams, features
            As in :meth:`forward`.

        Returns
        -------
        vectors : list of Tensor (U, 2 * units)
            Per word branch (primary, then auxiliary for HAN-ROCK); with a
            lexical path, last, the talkturns' lexical logits
            (U, (1 + lexical_context) * n_primary_outputs): per window offset
            (current talkturn first), which depend on the talkturn alone too.
            With a feature path the primary vectors carry the talkturns'
            feature inputs at their end, and the linear feature layer's
            logits come last, laid out as the lexical ones.
        word_attention : list of Tensor (U, T)
            Per word branch, the attention over each talkturn's words.
        """
        if (ngrams is None) != (self.lexical is None):
            raise ValueError("HanModule: ngrams must be given exactly when the module has a "
                             f"lexical path (lexical_features > 0); it has "
                             f"{'one' if self.lexical is not None else 'none'}.")
        if (features is None) != (self.features is None):
            raise ValueError("HanModule: features must be given exactly when the module has a "
                             f"feature path (talkturn_features > 0); it has "
                             f"{'one' if self.features is not None else 'none'}.")
        if self.transformer_top is not None:
            tokens = self.transformer_top(tokens, lengths)
        vectors, word_attention = self._encode_words(tokens, lengths, word_buckets)
        if self.lexical is not None:
            ids, offsets, weights = ngrams
            vectors.append(self.lexical(ids, offsets, per_sample_weights=weights))
        if self.features is not None:
            features = features.to(vectors[0].dtype)
            vectors[0] = torch.cat([vectors[0], features], dim=-1)
            vectors.append(self.features(features))
        return vectors, word_attention

    def read_windows(self, vectors, windows, window_lengths, lexical_logits=None):
        """The talkturn and task levels, over talkturn vectors of :meth:`encode_talkturns`.

        Parameters
        ----------
        vectors : list of Tensor (U, 2 * units)
            Per word branch, one vector per distinct talkturn, then the
            lexical logits with a lexical path.
        windows, window_lengths
            As in :meth:`forward`, indexing ``vectors``.
        lexical_logits : Tensor (B, n_primary_outputs) or None
            As in :meth:`forward`.

        Returns
        -------
        primary, aux, offsets, attention
            As in :meth:`forward`, without the ``word`` attention.
        """
        window_mask = (torch.arange(windows.shape[1], device=windows.device)
                       < window_lengths.unsqueeze(1))
        primary_vector, talkturn_attention = self.primary_reader(
            vectors[0], windows, window_lengths, window_mask)
        attention = {"talkturn": talkturn_attention}
        if self.architecture == "flat":
            n_tasks = self.n_aux_targets + self.n_label_offsets
            task_vectors = primary_vector.unsqueeze(1).expand(-1, n_tasks, -1)
            primary = self.primary_head(primary_vector)
        else:
            primary, task_vectors = self._fuse_tasks(vectors, primary_vector, windows,
                                                     window_lengths, window_mask, attention)
        extra = len(self.word_attention)
        if lexical_logits is not None and self.lexical is None:
            raise ValueError("HanModule: lexical_logits replace the lexical path's logits, "
                             "but the module has no lexical path (lexical_features=0).")
        if self.lexical is not None:
            attention["lexical"] = self._window_logits(
                vectors[extra], 1 + self.lexical_context, windows, window_lengths
            ) if lexical_logits is None else lexical_logits.to(primary.dtype)
            primary = primary + attention["lexical"]
            extra += 1
        if self.features is not None:
            attention["features"] = self._window_logits(vectors[extra], 1 + self.feature_context,
                                                        windows, window_lengths)
            primary = primary + attention["features"]
        aux = self.aux_heads(task_vectors[:, :self.n_aux_targets]).squeeze(-1)
        offsets = self.offset_heads(task_vectors[:, self.n_aux_targets:])
        if self.n_offset_outputs == 1:
            offsets = offsets.squeeze(-1)
        if self.n_primary_outputs == 1:
            primary = primary.squeeze(-1)
        return primary, aux, offsets, attention

    def lexical_weights(self):
        """The lexical layer's weights by n-gram, window offset and primary output.

        A talkturn's lexical logits at offset ``k`` (0: the window's current
        talkturn, ``k``: the k-th before it) are its TF-IDF bag times
        ``weights[:, k, :]``.

        Returns
        -------
        ndarray of float32, shape (lexical_features, 1 + lexical_context, n_primary_outputs)

        Raises
        ------
        ValueError
            When the module has no lexical path.

        Examples
        --------
        >>> module = HanModule(vocabulary_size=9, embedding_dim=4, primary_units=3,
        ...                    n_primary_outputs=2, lexical_features=5, lexical_context=1)
        >>> module.lexical_weights().shape
        (5, 2, 2)
        """
        if self.lexical is None:
            raise ValueError("HanModule: this module has no lexical path "
                             "(lexical_features=0), so it has no lexical weights.")
        return self._per_offset(self.lexical.weight.detach(),
                                1 + self.lexical_context).float().cpu().numpy()

    def feature_weights(self):
        """The linear feature layer's weights by input, window offset and primary output.

        A talkturn's feature logits at offset ``k`` (0: the window's current
        talkturn) are its ``2 * talkturn_features`` inputs times
        ``weights[:, k, :]``.

        Returns
        -------
        ndarray of float32, shape (2 * talkturn_features, 1 + feature_context, n_primary_outputs)

        Raises
        ------
        ValueError
            When the module has no feature path.

        Examples
        --------
        >>> module = HanModule(vocabulary_size=9, embedding_dim=4, primary_units=3,
        ...                    n_primary_outputs=2, talkturn_features=3, feature_context=1)
        >>> module.feature_weights().shape
        (6, 2, 2)
        """
        if self.features is None:
            raise ValueError("HanModule: this module has no feature path "
                             "(talkturn_features=0), so it has no feature weights.")
        weights = self.features.weight.detach().T
        return self._per_offset(weights, 1 + self.feature_context).float().cpu().numpy()

    def _per_offset(self, values, n_offsets):
        """A linear path's (N, n_offsets * outputs) values by window offset."""
        return values.reshape(len(values), n_offsets, self.n_primary_outputs)

    def _window_logits(self, per_talkturn, n_offsets, windows, window_lengths):
        """Sum over the current talkturn and ``n_offsets - 1`` earlier ones of their logits."""
        per_offset = self._per_offset(per_talkturn, n_offsets)
        logits = 0
        for offset in range(n_offsets):
            # The current talkturn is each window's last real one; earlier ones precede it.
            position = window_lengths - 1 - offset
            talkturn = windows.gather(1, position.clamp(min=0).unsqueeze(1)).squeeze(1)
            present = (position >= 0).unsqueeze(1).to(per_talkturn.dtype)
            logits = logits + per_offset[talkturn, offset] * present
        return logits

    def _fuse_tasks(self, vectors, primary_vector, windows, window_lengths, window_mask,
                    attention):
        fused_inputs = [self.primary_projection(primary_vector).unsqueeze(1)]
        task_vectors = primary_vector.new_zeros((len(windows), 0, 2 * self.aux_units))
        if self.aux_units:
            task_vectors, attention["aux_talkturn"] = self.aux_reader(
                vectors[1], windows, window_lengths, window_mask)
            fused_inputs.append(self.task_projection(task_vectors))
        stacked = torch.cat(fused_inputs, dim=1)
        all_tasks = torch.ones(stacked.shape[:2], dtype=torch.bool, device=stacked.device)
        pooled, attention["task"] = self.task_attention(stacked, all_tasks)
        # The residual keeps the primary vector in the fusion: without it the task
        # attention can settle on the (initially empty) auxiliary slots and cut
        # the primary head off from its own branch, which stalled training.
        return self.primary_head(fused_inputs[0].squeeze(1) + pooled), task_vectors
