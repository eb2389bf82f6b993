import pytest
import torch

from skhanrock.nn import AdditiveAttention, masked_softmax


def test_masked_softmax_gives_padding_zero_weight_and_sums_to_one():
    scores = torch.tensor([[1.0, 2.0, 1e4], [3.0, -1e4, 0.0]])
    mask = torch.tensor([[True, True, False], [True, False, True]])
    weights = masked_softmax(scores, mask)
    assert torch.all(weights[~mask] == 0)
    assert torch.allclose(weights.sum(1), torch.ones(2))
    assert torch.allclose(weights[0, :2], torch.softmax(torch.tensor([1.0, 2.0]), 0))


def test_masked_softmax_is_stable_for_huge_scores_and_empty_rows():
    weights = masked_softmax(torch.tensor([[1e30, 1e30], [5.0, 7.0]]),
                             torch.tensor([[True, True], [False, False]]))
    assert torch.isfinite(weights).all()
    assert torch.allclose(weights[0], torch.tensor([0.5, 0.5]))
    assert torch.all(weights[1] == 0)


@pytest.mark.parametrize("groups", [1, 3])
def test_attention_ignores_values_at_padded_positions(groups):
    torch.manual_seed(0)
    attention = AdditiveAttention(4, 5, groups=groups)
    shape = (2, 6, 4) if groups == 1 else (2, 6, groups, 4)
    h = torch.randn(shape)
    mask = torch.tensor([[True] * 4 + [False] * 2, [True] * 6])
    noisy = h.clone()
    noisy[0, 4:] = 1e3
    pooled, alpha = attention(h, mask)
    pooled_noisy, alpha_noisy = attention(noisy, mask)
    assert torch.allclose(pooled, pooled_noisy)
    assert torch.allclose(alpha, alpha_noisy)
