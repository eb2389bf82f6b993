import torch

from skhanrock.nn import WindowBiGRU


def _as_torch_gru(direction, group):
    gru = torch.nn.GRU(direction.input_weight.shape[1], direction.recurrent_weight.shape[1],
                       batch_first=True)
    with torch.no_grad():
        gru.weight_ih_l0.copy_(direction.input_weight[group].T)
        gru.bias_ih_l0.copy_(direction.input_bias[group, 0])
        gru.weight_hh_l0.copy_(direction.recurrent_weight[group].T)
        gru.bias_hh_l0.copy_(direction.recurrent_bias[group, 0])
    return gru


def test_window_gru_matches_torch_gru_on_each_window():
    torch.manual_seed(0)
    gru = WindowBiGRU(input_size=4, hidden_size=3, n_groups=2)
    vectors = torch.randn(6, 4)
    windows = torch.tensor([[0, 1, 2], [3, 4, 4], [5, 5, 5]])
    lengths = torch.tensor([3, 2, 1])
    forward, backward = gru(vectors, windows, lengths)
    for group in range(2):
        torch_forward = _as_torch_gru(gru.forward_weights, group)
        torch_backward = _as_torch_gru(gru.backward_weights, group)
        for b, n in enumerate(lengths.tolist()):
            sequence = vectors[windows[b, :n]].unsqueeze(0)
            expected_forward, _ = torch_forward(sequence)
            expected_backward, _ = torch_backward(sequence.flip(1))
            assert torch.allclose(forward[group, b, :n], expected_forward[0], atol=1e-5)
            assert torch.allclose(backward[group, b, :n], expected_backward[0].flip(0), atol=1e-5)


def _window_gru_gradient(deterministic):
    torch.manual_seed(0)
    gru = WindowBiGRU(input_size=100, hidden_size=128).eval()
    vectors = torch.randn(64, 100, requires_grad=True)
    windows = torch.randint(0, 64, (64, 5))
    lengths = torch.randint(1, 6, (64,))
    was_deterministic, threads = torch.are_deterministic_algorithms_enabled(), torch.get_num_threads()
    torch.use_deterministic_algorithms(deterministic)
    torch.set_num_threads(2)  # the racy kernel only runs with several threads
    try:
        forward, backward = gru(vectors, windows, lengths)
        (forward.sum() + backward.square().sum()).backward()
    finally:
        torch.use_deterministic_algorithms(was_deterministic)
        torch.set_num_threads(threads)
    return vectors.grad


def test_window_gru_gradients_need_no_nondeterministic_kernel():
    # Windows share talkturns, so each talkturn's gradient sums many window
    # contributions. The multi-threaded CPU kernel behind advanced-indexing
    # backward adds them in a racy order (two fits with one random_state
    # differed); PyTorch's deterministic mode swaps such kernels out, so equal
    # bits in both modes show that none is on the path.
    assert torch.equal(_window_gru_gradient(False), _window_gru_gradient(True))
