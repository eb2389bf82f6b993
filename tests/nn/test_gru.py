import torch

from skhanrock.nn import MaskedBiGRU


def test_masked_bigru_matches_unpadded_sequences():
    torch.manual_seed(0)
    gru = MaskedBiGRU(3, (4,))
    x = torch.randn(2, 5, 3)
    lengths = torch.tensor([3, 5])
    forward, backward = gru(x, lengths)
    alone_forward, alone_backward = gru(x[:1, :3], torch.tensor([3]))
    assert torch.allclose(forward[0, :3], alone_forward[0], atol=1e-6)
    assert torch.allclose(backward[0, :3], alone_backward[0], atol=1e-6)


def test_grouped_bigru_equals_independent_grus():
    torch.manual_seed(0)
    grouped = MaskedBiGRU(3, (2, 2, 2))
    x = torch.randn(4, 5, 3)
    lengths = torch.tensor([5, 2, 4, 1])
    forward, _ = grouped(x, lengths)
    for g in range(3):
        single = torch.nn.GRU(3, 2, batch_first=True)
        rows = slice(6 * 0 + 2 * g, 2 * g + 2)
        with torch.no_grad():
            gates = [slice(k * 6 + 2 * g, k * 6 + 2 * g + 2) for k in range(3)]
            single.weight_ih_l0.copy_(torch.cat([grouped.forward_gru.weight_ih_l0[s]
                                                 for s in gates]))
            single.bias_ih_l0.copy_(torch.cat([grouped.forward_gru.bias_ih_l0[s] for s in gates]))
            single.bias_hh_l0.copy_(torch.cat([grouped.forward_gru.bias_hh_l0[s] for s in gates]))
            single.weight_hh_l0.copy_(torch.cat([grouped.forward_gru.weight_hh_l0[s][:, rows]
                                                 for s in gates]))
        expected, _ = single(x)
        assert torch.allclose(forward[..., rows], expected, atol=1e-6)


def test_large_groups_run_as_separate_grus_with_the_same_semantics():
    torch.manual_seed(0)
    split = MaskedBiGRU(3, (40, 40, 40))
    assert split.parts is not None and MaskedBiGRU(3, (256, 1)).parts is None
    x = torch.randn(2, 4, 3)
    lengths = torch.tensor([4, 2])
    forward, backward = split(x, lengths)
    assert forward.shape == backward.shape == (2, 4, 120)
    first_forward, first_backward = split.parts[0](x, lengths)
    assert torch.equal(forward[..., :40], first_forward)
    assert torch.equal(backward[..., 40:80], split.parts[1](x, lengths)[1])
