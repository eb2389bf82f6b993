"""Talkturn-level bidirectional GRUs that project each distinct talkturn only once."""

import math

import torch
from torch import nn

from ._gru import check_dropouts, check_sizes, reverse_within_lengths

__all__ = ["WindowBiGRU"]


class _Direction(nn.Module):
    """Weights of one direction of G independent GRUs, in PyTorch's gate layout (r, z, n)."""

    def __init__(self, n_groups, input_size, hidden_size):
        super().__init__()
        bound = 1.0 / math.sqrt(hidden_size)

        def uniform(*shape):
            return nn.Parameter(torch.empty(*shape).uniform_(-bound, bound))

        self.input_weight = uniform(n_groups, input_size, 3 * hidden_size)
        self.input_bias = uniform(n_groups, 1, 3 * hidden_size)
        self.recurrent_weight = uniform(n_groups, hidden_size, 3 * hidden_size)
        self.recurrent_bias = uniform(n_groups, 1, 3 * hidden_size)


class WindowBiGRU(nn.Module):
    """Bidirectional GRUs over context windows of talkturn vectors.

    A window of L talkturns is a sequence of L talkturn vectors, and one
    talkturn appears in up to L windows of a batch. The input projection of a
    GRU depends only on the talkturn, so it is computed once per *distinct*
    talkturn and gathered into the windows; only the recurrence runs per
    window. ``n_groups`` independent GRUs (HAN-ROCK's one talkturn encoder per
    auxiliary task) read the same talkturn vectors and run, both directions
    together, as one batched recurrence whatever their size: each step is one
    batched product for all 2G GRUs, which on CPU is what the step costs.

    Windows are left-aligned; the backward direction starts at each window's
    last real talkturn.

    Parameters
    ----------
    input_size : int
    hidden_size : int
        Units per direction of each GRU.
    n_groups : int, default=1
    dropout : float in [0, 1), default=0.0
        Dropout on the talkturn vectors ("GRU dropout").
    recurrent_dropout : float in [0, 1), default=0.0
        DropConnect on the hidden-to-hidden weights.

    Examples
    --------
    >>> import torch
    >>> gru = WindowBiGRU(input_size=6, hidden_size=2, n_groups=3)
    >>> vectors = torch.randn(5, 6)                  # 5 distinct talkturns
    >>> windows = torch.tensor([[0, 1, 2], [3, 4, 4]])
    >>> forward, backward = gru(vectors, windows, torch.tensor([3, 2]))
    >>> forward.shape                                # (groups, windows, steps, units)
    torch.Size([3, 2, 3, 2])
    """

    def __init__(self, input_size, hidden_size, n_groups=1, dropout=0.0, recurrent_dropout=0.0):
        super().__init__()
        input_size, hidden_size, n_groups = check_sizes(
            "WindowBiGRU", input_size=input_size, hidden_size=hidden_size, n_groups=n_groups)
        check_dropouts("WindowBiGRU", dropout=dropout, recurrent_dropout=recurrent_dropout)
        self.hidden_size = hidden_size
        self.dropout = dropout
        self.recurrent_dropout = recurrent_dropout
        self.forward_weights = _Direction(n_groups, input_size, hidden_size)
        self.backward_weights = _Direction(n_groups, input_size, hidden_size)

    def _recurrent_weight(self, weights):
        weight = weights.recurrent_weight
        if self.training and self.recurrent_dropout > 0:
            keep = torch.rand_like(weight) >= self.recurrent_dropout
            weight = weight * keep / (1.0 - self.recurrent_dropout)
        return weight

    def _both(self, name):
        return torch.cat([getattr(self.forward_weights, name),
                          getattr(self.backward_weights, name)])

    def _recurrence(self, inputs, recurrent_weight, recurrent_bias):
        """Run G independent GRUs over (G, B, L, 3H) projected inputs, one bmm per step."""
        hidden = inputs.new_zeros(*inputs.shape[:2], self.hidden_size)
        two_h = 2 * self.hidden_size
        outputs = []
        # unbind, not inputs[:, :, step]: the backward of each slice would zero-fill a
        # tensor of the whole sequence's size, quadratic in the window length.
        for gates_input in inputs.unbind(2):
            gates_hidden = torch.baddbmm(recurrent_bias, hidden, recurrent_weight)
            reset_update = torch.sigmoid(gates_input[..., :two_h] + gates_hidden[..., :two_h])
            reset, update = reset_update.chunk(2, dim=-1)
            candidate = torch.tanh(gates_input[..., two_h:] + reset * gates_hidden[..., two_h:])
            hidden = candidate + update * (hidden - candidate)
            outputs.append(hidden)
        return torch.stack(outputs, dim=2)

    def forward(self, vectors, windows, window_lengths):
        """Encode the windows in both directions.

        Parameters
        ----------
        vectors : Tensor (U, input_size)
            One vector per distinct talkturn.
        windows : LongTensor (B, L)
            Indices into ``vectors``, left-aligned.
        window_lengths : LongTensor (B,)

        Returns
        -------
        forward, backward : Tensors (G, B, L, hidden_size)
            Values at padded steps are meaningless and must be masked.
        """
        vectors = nn.functional.dropout(vectors, self.dropout, self.training)
        input_weight = self._both("input_weight")
        n_groups = len(input_weight) // 2
        projected = torch.baddbmm(self._both("input_bias"),
                                  vectors.expand(len(input_weight), -1, -1), input_weight)
        reverse = reverse_within_lengths(window_lengths, windows.shape[1])
        # index_select, not projected[:, windows]: the backward of advanced indexing
        # is index_put_ with accumulation, whose multi-threaded CPU kernel adds in
        # a racy order and made two fits with one random_state differ.
        inputs = torch.cat([
            projected[:n_groups].index_select(1, windows.reshape(-1)),
            projected[n_groups:].index_select(1, windows.gather(1, reverse).reshape(-1)),
        ]).view(len(projected), *windows.shape, -1)         # (2G, B, L, 3H)
        # Both directions in one recurrence: half the steps' worth of small kernels.
        recurrent_weight = torch.cat([self._recurrent_weight(self.forward_weights),
                                      self._recurrent_weight(self.backward_weights)])
        outputs = self._recurrence(inputs, recurrent_weight, self._both("recurrent_bias"))
        forward, backward = outputs[:n_groups], outputs[n_groups:]
        restore = reverse.unsqueeze(0).unsqueeze(-1).expand_as(backward)
        return forward, backward.gather(2, restore)
