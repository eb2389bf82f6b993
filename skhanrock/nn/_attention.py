"""Masked additive attention, the pooling used at word, talkturn and task level."""

import math

import torch
from torch import nn

from ._gru import check_sizes

__all__ = ["AdditiveAttention", "masked_softmax"]


def masked_softmax(scores, mask, dim=-1):
    """Softmax of ``scores`` over the positions where ``mask`` is True.

    Masked positions get exactly zero weight, whatever their score, so padding
    can never change a result; a slice without any real position gets all
    zeros instead of NaN.

    Parameters
    ----------
    scores : Tensor
        Attention scores.
    mask : BoolTensor, broadcastable to ``scores``
        True at the real positions.
    dim : int, default=-1
        Axis of the positions.

    Returns
    -------
    Tensor
        Weights of the shape of ``scores``, summing to one over the real
        positions of each slice.

    Examples
    --------
    >>> import torch
    >>> scores = torch.tensor([[1.0, 2.0, 50.0]])
    >>> masked_softmax(scores, torch.tensor([[True, True, False]])).round(decimals=3)
    tensor([[0.2690, 0.7310, 0.0000]])
    """
    # softmax subtracts the max over the *finite* entries, so -inf padding keeps it stable.
    weights = torch.softmax(scores.masked_fill(~mask, float("-inf")), dim=dim)
    return weights.masked_fill(~mask, 0.0)


class AdditiveAttention(nn.Module):
    """Additive attention over positions, masked to the real ones.

    Scores ``u = relu(W h + b)`` against a context vector ``u_ctx``
    (``alpha = softmax(u · u_ctx)``) and returns ``sum(alpha * h)``.

    The pooled output is the attention-weighted sum of the *inputs* ``h``, as in
    the original HAN: pooling ``u`` instead lets a layer whose ReLUs all die
    cut the primary signal for good (seen with HAN-ROCK's task-level
    attention), while pooling ``h`` only makes the weights uniform then.

    With ``groups=G`` it runs G independent attentions (own ``W``, ``b`` and
    context vector each) in one batched computation; ``h`` then carries the
    group axis before the features.

    Parameters
    ----------
    input_size : int
        Size of each input vector.
    attention_size : int
        Size of ``u``.
    groups : int, default=1
        Number of independent attentions.

    Examples
    --------
    >>> import torch
    >>> attention = AdditiveAttention(4, 3)
    >>> pooled, alpha = attention(torch.randn(2, 5, 4), torch.ones(2, 5, dtype=torch.bool))
    >>> pooled.shape, alpha.shape
    (torch.Size([2, 4]), torch.Size([2, 5]))
    """

    def __init__(self, input_size, attention_size, groups=1):
        super().__init__()
        input_size, attention_size, groups = check_sizes(
            "AdditiveAttention", input_size=input_size, attention_size=attention_size,
            groups=groups)
        self.groups = groups
        bound = 1.0 / math.sqrt(input_size)
        self.weight = nn.Parameter(torch.empty(groups, input_size, attention_size)
                                   .uniform_(-bound, bound))
        self.bias = nn.Parameter(torch.zeros(groups, attention_size))
        self.context = nn.Parameter(torch.empty(groups, attention_size)
                                    .uniform_(-bound, bound))

    def forward(self, h, mask):
        """Pool ``h`` over its position axis.

        Parameters
        ----------
        h : Tensor of shape (N, T, D), or (N, T, G, D) for grouped attention
            (G may be 1; the group axis is then kept in the output)
        mask : BoolTensor of shape (N, T), True at real positions

        Returns
        -------
        pooled : Tensor of shape (N, D), or (N, G, D) with groups
        alpha : Tensor of shape (N, T), or (N, T, G) with groups
        """
        if h.dim() == 3:
            return self._pool_real_positions(h, mask)
        u = torch.relu(torch.einsum("ntgd,gda->ntga", h, self.weight) + self.bias)
        scores = (u * self.context).sum(-1)
        alpha = masked_softmax(scores, mask.unsqueeze(-1), dim=1)
        return torch.einsum("ntg,ntgd->ngd", alpha, h), alpha

    def _pool_real_positions(self, h, mask):
        """Score only the real positions: padding costs no projection at all.

        Talkturns of very different lengths leave much of a padded batch
        empty; projecting only the real positions saves that share of the
        attention's largest matrix product.
        """
        real = mask.reshape(-1).nonzero().squeeze(1)
        h_real = h.reshape(-1, h.shape[-1]).index_select(0, real)
        u = torch.relu(torch.nn.functional.linear(h_real, self.weight[0].T, self.bias[0]))
        scores = h.new_full((mask.numel(),), float("-inf")).index_copy(0, real, u @ self.context[0])
        alpha = torch.softmax(scores.view(mask.shape), dim=1).masked_fill(~mask, 0.0)
        return torch.einsum("nt,ntd->nd", alpha, h), alpha
