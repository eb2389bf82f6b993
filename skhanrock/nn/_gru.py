"""Bidirectional GRUs over padded sequences, with block-diagonal groups and DropConnect."""

import torch
from torch import nn
from torch.func import functional_call

from .._utils.validation import check_number

__all__ = ["MaskedBiGRU", "reverse_within_lengths", "check_dropouts", "check_sizes"]


def reverse_within_lengths(lengths, max_length):
    """Index that reverses the first ``lengths[i]`` steps of each row and keeps the rest.

    Gathering with it twice is the identity, so it serves to reverse the input
    and to restore the output order.
    """
    steps = torch.arange(max_length, device=lengths.device).expand(len(lengths), -1)
    last = (lengths - 1).unsqueeze(1)
    return torch.where(steps <= last, last - steps, steps)


def check_sizes(owner, *, minimum=1, **sizes):
    """The ``sizes`` as Python ints, refusing any that is not an integer >= ``minimum``.

    The layers check their sizes before building anything, so a bad size is
    reported by name instead of surfacing as a ZeroDivisionError or a shape
    error deep inside torch. Bools are refused; NumPy integers are converted,
    as ``nn.GRU`` refuses them.
    """
    return tuple(check_number(f"{owner}: {name}", value, low=minimum, integer=True)
                 for name, value in sizes.items())


def check_dropouts(owner, **rates):
    """Refuse a dropout rate outside [0, 1): DropConnect rescales by ``1 / (1 - rate)``."""
    for name, value in rates.items():
        check_number(f"{owner}: {name}", value, low=0, high=1, high_open=True)


def _check_group_sizes(group_sizes):
    """``group_sizes`` as a tuple of ints, refusing an empty or non-integer one."""
    try:
        sizes = tuple(group_sizes)
    except TypeError:
        sizes = ()
    if not sizes:
        raise ValueError("MaskedBiGRU: group_sizes must be a non-empty sequence of integers "
                         f">= 1 (hidden units of each GRU), got {group_sizes!r}.")
    return check_sizes("MaskedBiGRU",
                       **{f"group_sizes[{i}]": units for i, units in enumerate(sizes)})


def _worth_fusing(group_sizes, small_units=64):
    """Whether one block-diagonal GRU beats a GRU per group.

    The fused GRU does ``sum(g) ** 2`` recurrent work instead of ``sum(g ** 2)``;
    that waste is worth one kernel call instead of many only while the fused
    GRU stays small or the waste stays below a factor of two.
    """
    total = sum(group_sizes)
    return total <= small_units or total ** 2 <= 2 * sum(g * g for g in group_sizes)


def _gather_steps(x, index):
    return x.gather(1, index.unsqueeze(-1).expand(-1, -1, x.shape[-1]))


class MaskedBiGRU(nn.Module):
    """Bidirectional GRU whose backward pass starts at each sequence's last real step.

    Sequences are left-aligned and padded; the forward direction never sees the
    padding before a real step, and the backward direction runs over each
    sequence reversed within its own length. This gives packed-sequence
    semantics with the plain fused GRU kernels, which on CPU are faster than
    PyTorch's packed path.

    ``group_sizes`` runs several independent GRUs that read the same input.
    While the groups are small (HAN-ROCK's auxiliary encoders with A = 1), they
    run as one GRU of ``sum(group_sizes)`` units whose hidden-to-hidden weights
    are masked to a block-diagonal: one kernel call instead of a Python loop.
    When the block-diagonal would multiply mostly zeros (many large groups),
    each group gets its own GRU instead.

    Parameters
    ----------
    input_size : int
        Size of each input step.
    group_sizes : tuple of int
        Hidden units of each independent GRU, each at least 1.
    dropout : float in [0, 1), default=0.0
        Dropout on the inputs ("GRU dropout").
    recurrent_dropout : float in [0, 1), default=0.0
        DropConnect on the hidden-to-hidden weights, the substitute for
        recurrent dropout that keeps the fused kernels.

    Examples
    --------
    >>> import torch
    >>> gru = MaskedBiGRU(3, (4, 2))
    >>> forward, backward = gru(torch.randn(5, 7, 3), torch.tensor([7, 1, 3, 2, 5]))
    >>> forward.shape, backward.shape
    (torch.Size([5, 7, 6]), torch.Size([5, 7, 6]))
    """

    def __init__(self, input_size, group_sizes, dropout=0.0, recurrent_dropout=0.0):
        super().__init__()
        (input_size,) = check_sizes("MaskedBiGRU", input_size=input_size)
        self.group_sizes = _check_group_sizes(group_sizes)
        check_dropouts("MaskedBiGRU", dropout=dropout, recurrent_dropout=recurrent_dropout)
        self.dropout = dropout
        self.recurrent_dropout = recurrent_dropout
        if not _worth_fusing(self.group_sizes):
            self.parts = nn.ModuleList(
                MaskedBiGRU(input_size, (units,), dropout, recurrent_dropout)
                for units in self.group_sizes)
            return
        self.parts = None
        self.register_buffer("block_mask", None, persistent=False)
        hidden = sum(self.group_sizes)
        self.forward_gru = nn.GRU(input_size, hidden, batch_first=True)
        self.backward_gru = nn.GRU(input_size, hidden, batch_first=True)
        if len(self.group_sizes) > 1:
            group_of_unit = torch.repeat_interleave(
                torch.arange(len(self.group_sizes)), torch.tensor(self.group_sizes))
            # Rows of weight_hh are the r, z, n gates stacked; each row belongs to one unit.
            same_group = group_of_unit.repeat(3).unsqueeze(1) == group_of_unit.unsqueeze(0)
            self.block_mask = same_group.float()
            with torch.no_grad():
                for gru in (self.forward_gru, self.backward_gru):
                    gru.weight_hh_l0.mul_(self.block_mask)

    def _recurrent_weight(self, gru):
        weight = gru.weight_hh_l0
        if self.block_mask is not None:
            weight = weight * self.block_mask
        if self.training and self.recurrent_dropout > 0:
            keep = torch.rand_like(weight) >= self.recurrent_dropout
            weight = weight * keep / (1.0 - self.recurrent_dropout)
        return weight

    def _run(self, gru, x):
        weight = self._recurrent_weight(gru)
        if weight is gru.weight_hh_l0:
            return gru(x)[0]
        return functional_call(gru, {"weight_hh_l0": weight}, (x,))[0]

    def forward(self, x, lengths):
        """Run both directions.

        Parameters
        ----------
        x : Tensor of shape (N, T, input_size)
            Left-aligned, padded sequences.
        lengths : LongTensor of shape (N,)
            Real steps per sequence, at least 1.

        Returns
        -------
        forward, backward : Tensors of shape (N, T, sum(group_sizes))
            Outputs of each direction, aligned with the input steps; values at
            padded steps are meaningless and must be masked by the caller.
        """
        if self.parts is not None:
            outputs = [part(x, lengths) for part in self.parts]
            return tuple(torch.cat(direction, dim=-1) for direction in zip(*outputs, strict=True))
        x = nn.functional.dropout(x, self.dropout, self.training)
        forward = self._run(self.forward_gru, x)
        reverse = reverse_within_lengths(lengths, x.shape[1])
        backward = _gather_steps(self._run(self.backward_gru, _gather_steps(x, reverse)), reverse)
        return forward, backward
