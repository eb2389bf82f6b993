"""Word-level encoder: length buckets against one padded pass and PyTorch's packed path.

What is measured: forward + backward of the bidirectional word GRU of HAN-ROCK
(P=256 plus A=1 units, 50-d inputs) over the distinct talkturns of one L=10
batch (95 talkturns of 3 to 40 words), 2 threads, for the package's
``MaskedBiGRU`` fed in 1, 2 or 4 length buckets and for a packed bidirectional
``nn.GRU`` (the straightforward reference, which wastes no work on padding).
The variants take turns step by step so that all see the same machine load.

Run ``python benchmarks/word_encoder.py [--steps 20]``.
"""

import argparse
import time

import numpy as np
import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from skhanrock.nn._data import length_buckets
from skhanrock.nn._gru import MaskedBiGRU

N_TALKTURNS, MAX_WORDS, EMBEDDING, UNITS = 95, 40, 50, (256, 1)


def bucketed(encoder, inputs, lengths, max_buckets):
    bounds = length_buckets(lengths.numpy(), max_buckets=max_buckets)

    def step():
        total = 0
        for start, stop in zip(bounds[:-1], bounds[1:], strict=True):
            forward, backward = encoder(inputs[start:stop, :int(lengths[start])],
                                        lengths[start:stop])
            total = total + forward.sum() + backward.sum()
        total.backward()
    return step


def packed(gru, inputs, lengths):
    def step():
        sequences = pack_padded_sequence(inputs, lengths, batch_first=True)
        pad_packed_sequence(gru(sequences)[0], batch_first=True)[0].sum().backward()
    return step


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=20)
    args = parser.parse_args()
    torch.set_num_threads(2)
    torch.manual_seed(0)
    lengths = np.sort(np.random.default_rng(0).integers(3, MAX_WORDS + 1, N_TALKTURNS))[::-1]
    lengths = torch.from_numpy(lengths.copy())
    inputs = torch.randn(N_TALKTURNS, MAX_WORDS, EMBEDDING)
    encoder = MaskedBiGRU(EMBEDDING, UNITS, dropout=0.1, recurrent_dropout=0.1)
    variants = {f"{k} bucket{'s' * (k > 1)}": bucketed(encoder, inputs, lengths, k)
                for k in (1, 2, 4)}
    variants["packed nn.GRU"] = packed(
        nn.GRU(EMBEDDING, sum(UNITS), batch_first=True, bidirectional=True), inputs, lengths)
    seconds = {name: [] for name in variants}
    for repeat in range(args.steps + 2):
        for name, step in variants.items():
            start = time.perf_counter()
            step()
            if repeat >= 2:
                seconds[name].append(time.perf_counter() - start)
    reference = np.median(seconds["packed nn.GRU"])
    for name, values in seconds.items():
        print(f"{name:>14}: {1000 * np.median(values):6.1f} ms per forward+backward, "
              f"x{reference / np.median(values):.2f} against packed")


if __name__ == "__main__":
    main()
