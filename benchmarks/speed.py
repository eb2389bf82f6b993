"""Training speed and memory of HAN-ROCK: the package against a straightforward reference.

What is measured: forward + backward + optimiser step on the same synthetic
conversations (random token ids, talkturns of 3 to T=40 words), P=256 / A=1, batch
64, 2 threads, for the package (distinct talkturns encoded once per batch,
chunk-shuffled batches, batched auxiliary encoders, fused Adam) and for a
reference written here the straightforward way (per-sample windows, every
talkturn re-encoded in every window it appears in, one GRU per auxiliary task in
a Python loop, packed talkturn sequences, plain Adam). Each configuration runs
in a fresh process of its own (peak memory is its max RSS growth during
training) and the processes take turns step by step, so that all see the same
machine load; speed comes from the median step time.

Run ``python benchmarks/speed.py`` (about 10 minutes on 2 cores) or
``python benchmarks/speed.py --quick``; ``--out results.json`` keeps the numbers.
"""

import argparse
import json
import multiprocessing
import resource
import time

import numpy as np
import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from skhanrock.nn import ChunkedBatchSampler, HanModule, MultiTaskLoss, TalkturnDataset

VOCABULARY, EMBEDDING, TOKENS = 5000, 50, 40
PRIMARY_UNITS, AUX_UNITS, BATCH = 256, 1, 64
N_CONVERSATIONS, TURNS = 24, 50
N_OFFSET_TASKS, N_CLASSES = 8, 4


# ------------------------------------------------------------------ the data
def conversations(context_size, n_aux_targets, n_offsets, seed=0):
    """Random conversations whose talkturns have 3 to T=40 words (uniformly)."""
    rng = np.random.default_rng(seed)
    n = N_CONVERSATIONS * TURNS
    lengths = rng.integers(3, TOKENS + 1, n)
    targets = {
        "primary": rng.integers(0, N_CLASSES, n),
        "aux": rng.random((n, n_aux_targets)).astype(np.float32),
        "offsets": rng.integers(0, N_CLASSES + 1, (n, n_offsets)),
    }
    return TalkturnDataset(rng.integers(3, VOCABULARY, lengths.sum()),
                           np.r_[0, np.cumsum(lengths)[:-1]], lengths,
                           np.repeat(np.arange(N_CONVERSATIONS), TURNS), context_size,
                           np.arange(n), targets)


def endless(batches):
    """Batches from a re-iterable sampler, epoch after epoch, for any number of steps."""
    while True:
        yield from batches


def split_tasks(n_tasks):
    """Auxiliary tasks: up to 8 history/future heads, the rest regression targets."""
    n_offsets = min(n_tasks, N_OFFSET_TASKS)
    return n_tasks - n_offsets, n_offsets


# ---------------------------------------------------------- the reference
class ReferenceAttention(nn.Module):
    def __init__(self, size):
        super().__init__()
        self.projection = nn.Linear(size, size)
        self.context = nn.Parameter(torch.randn(size) * 0.05)

    def forward(self, h, mask):
        scores = torch.relu(self.projection(h)) @ self.context
        alpha = torch.softmax(scores.masked_fill(~mask, float("-inf")), dim=1)
        return (alpha.unsqueeze(-1) * h).sum(1)


def packed_gru(gru, sequences, lengths):
    """The textbook way to give a GRU variable-length sequences."""
    packed = pack_padded_sequence(sequences, lengths, batch_first=True, enforce_sorted=False)
    return pad_packed_sequence(gru(packed)[0], batch_first=True,
                               total_length=sequences.shape[1])[0]


class ReferenceTurnEncoder(nn.Module):
    """A packed bidirectional GRU over a window of talkturn vectors, then attention."""

    def __init__(self, input_size, units):
        super().__init__()
        self.gru = nn.GRU(input_size, units, batch_first=True, bidirectional=True)
        self.attention = ReferenceAttention(2 * units)

    def forward(self, sequences, lengths, mask):
        return self.attention(packed_gru(self.gru, sequences, lengths), mask)


class ReferenceHanRock(nn.Module):
    def __init__(self, n_aux_targets, n_offsets):
        super().__init__()
        self.n_aux_targets = n_aux_targets
        self.embedding = nn.Embedding(VOCABULARY, EMBEDDING, padding_idx=0)
        self.primary_words = nn.GRU(EMBEDDING, PRIMARY_UNITS, batch_first=True,
                                    bidirectional=True)
        self.primary_word_attention = ReferenceAttention(2 * PRIMARY_UNITS)
        self.primary_turns = ReferenceTurnEncoder(2 * PRIMARY_UNITS, PRIMARY_UNITS)
        common = 2 * PRIMARY_UNITS
        self.primary_projection = nn.Linear(2 * PRIMARY_UNITS, common)
        n_tasks = n_aux_targets + n_offsets
        if n_tasks:
            self.aux_words = nn.GRU(EMBEDDING, AUX_UNITS, batch_first=True, bidirectional=True)
            self.aux_word_attention = ReferenceAttention(2 * AUX_UNITS)
        self.aux_turns = nn.ModuleList(ReferenceTurnEncoder(2 * AUX_UNITS, AUX_UNITS)
                                       for _ in range(n_tasks))
        self.aux_projections = nn.ModuleList(nn.Linear(2 * AUX_UNITS, common)
                                             for _ in range(n_tasks))
        self.aux_heads = nn.ModuleList(
            nn.Linear(2 * AUX_UNITS, 1 if k < n_aux_targets else N_CLASSES + 1)
            for k in range(n_tasks))
        self.task_attention = ReferenceAttention(common)
        self.primary_head = nn.Linear(common, N_CLASSES)

    def forward(self, tokens, window_lengths):
        batch, steps, words = tokens.shape
        flat = tokens.reshape(batch * steps, words)
        word_mask = flat != 0
        word_lengths = word_mask.sum(1).clamp(min=1)
        embedded = self.embedding(flat)
        turn_mask = torch.arange(steps) < window_lengths.unsqueeze(1)
        primary_turns = self.primary_word_attention(
            packed_gru(self.primary_words, embedded, word_lengths), word_mask)
        primary = self.primary_turns(primary_turns.view(batch, steps, -1), window_lengths,
                                     turn_mask)
        fused = [self.primary_projection(primary)]
        outputs = []
        if len(self.aux_turns):
            aux_turns = self.aux_word_attention(
                packed_gru(self.aux_words, embedded, word_lengths), word_mask)
            aux_turns = aux_turns.view(batch, steps, -1)
            for encoder, projection, head in zip(self.aux_turns, self.aux_projections,
                                                 self.aux_heads, strict=True):
                vector = encoder(aux_turns, window_lengths, turn_mask)
                fused.append(projection(vector))
                outputs.append(head(vector))
        stacked = torch.stack(fused, dim=1)
        pooled = self.task_attention(stacked, torch.ones(stacked.shape[:2], dtype=torch.bool))
        return self.primary_head(fused[0] + pooled), outputs


def reference_batch(dataset, rows):
    """Per-sample windows, every talkturn padded to the global maximum T."""
    positions, window_lengths = dataset.window_positions(rows)
    steps = positions.shape[1]
    tokens = torch.zeros(len(rows), steps, TOKENS, dtype=torch.long)
    for b, (window, n) in enumerate(zip(positions, window_lengths, strict=True)):
        for s, position in enumerate(window[:n]):
            start, length = dataset.token_offsets[position], dataset.token_lengths[position]
            tokens[b, s, :length] = dataset.token_ids[start:start + length]
    targets = {name: values[torch.from_numpy(rows)] for name, values in dataset.targets.items()}
    return tokens, torch.from_numpy(window_lengths), targets


def reference_loss(outputs, targets, n_aux_targets):
    logits, aux_outputs = outputs
    losses = [nn.functional.cross_entropy(logits, targets["primary"])]
    for k, output in enumerate(aux_outputs):
        if k < n_aux_targets:
            losses.append((output.squeeze(1) - targets["aux"][:, k]).abs().mean())
        else:
            losses.append(nn.functional.cross_entropy(
                output, targets["offsets"][:, k - n_aux_targets]))
    return torch.stack(losses).mean()


# ------------------------------------------------------------- measurement
def package_steps(dataset, n_aux_targets, n_offsets, chunk_size):
    module = HanModule(VOCABULARY, EMBEDDING, primary_units=PRIMARY_UNITS, aux_units=AUX_UNITS,
                       n_primary_outputs=N_CLASSES, n_aux_targets=n_aux_targets,
                       n_label_offsets=n_offsets, n_offset_outputs=N_CLASSES + 1,
                       gru_dropout=0.1, recurrent_dropout=0.1)
    optimizer = torch.optim.Adam(module.parameters(), lr=1e-3, fused=True)
    loss = MultiTaskLoss("classification")
    weights = torch.full((1 + n_aux_targets + n_offsets,), 1.0 / (1 + n_aux_targets + n_offsets))
    sampler = endless(ChunkedBatchSampler(len(dataset), BATCH, chunk_size, shuffle=True, seed=0,
                                          conversations=dataset.conversation_codes))

    def step():
        batch, targets = dataset.collate(next(sampler))
        optimizer.zero_grad()
        loss(module(**batch.module_inputs("cpu")), targets, weights).backward()
        optimizer.step()
    return step


def reference_steps(dataset, n_aux_targets, n_offsets, chunk_size):
    module = ReferenceHanRock(n_aux_targets, n_offsets)
    optimizer = torch.optim.Adam(module.parameters(), lr=1e-3)
    order = np.random.default_rng(0).permutation(len(dataset))
    batches = endless(np.array_split(order, len(order) // BATCH))

    def step():
        tokens, window_lengths, targets = reference_batch(dataset, next(batches))
        optimizer.zero_grad()
        reference_loss(module(tokens, window_lengths), targets, n_aux_targets).backward()
        optimizer.step()
    return step


IMPLEMENTATIONS = {"package": package_steps, "reference": reference_steps}


def build_steps(implementation, context_size, n_tasks, chunk_size):
    n_aux_targets, n_offsets = split_tasks(n_tasks)
    dataset = conversations(context_size, n_aux_targets, n_offsets)
    return IMPLEMENTATIONS[implementation](dataset, n_aux_targets, n_offsets, chunk_size)


def worker(connection, implementation, context_size, n_tasks, chunk_size):
    """Run one configuration's training steps on request; report its peak memory at the end."""
    torch.set_num_threads(2)
    torch.manual_seed(0)
    step = build_steps(implementation, context_size, n_tasks, chunk_size)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    connection.send("ready")
    while connection.recv() == "step":
        start = time.perf_counter()
        step()
        connection.send(time.perf_counter() - start)
    connection.send((resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024)


def take_turns(configurations, n_steps):
    """Speed and peak memory of several configurations that take turns, one step each.

    The machine's speed drifts by tens of percent over minutes (shared cores),
    so configurations measured one after the other are not comparable; here
    each lives in a process of its own (its own allocator and memory peak) and
    the processes run their steps alternately, so all see the same load.
    Speed comes from the median step time after two warm-up steps.
    """
    context = multiprocessing.get_context("spawn")
    workers = {}
    for name, arguments in configurations.items():
        ours, theirs = context.Pipe()
        process = context.Process(target=worker, args=(theirs, *arguments))
        process.start()
        workers[name] = (process, ours)
    seconds = {name: [] for name in configurations}
    results = {}
    try:
        # No step is timed while another process is still importing and building.
        for _, connection in workers.values():
            connection.recv()
        for repeat in range(n_steps + 2):
            for name, (_, connection) in workers.items():
                connection.send("step")
                elapsed = connection.recv()
                if repeat >= 2:
                    seconds[name].append(elapsed)
        for name, (_, connection) in workers.items():
            connection.send("stop")
            results[name] = {"samples_per_second": BATCH / float(np.median(seconds[name])),
                             "peak_mib": connection.recv()}
    except EOFError as error:
        raise RuntimeError("a benchmark process died; see the traceback above.") from error
    finally:
        for process, _ in workers.values():
            process.join(timeout=60)
            if process.is_alive():
                process.terminate()
    return results


def context_sweep(lengths, n_steps, chunk_size):
    rows = []
    for context_size in lengths:
        results = take_turns({name: (name, context_size, 16, chunk_size)
                              for name in ("package", "reference")}, n_steps)
        package, reference = results["package"], results["reference"]
        rows.append({"L": context_size, **results,
                     "speed-up": package["samples_per_second"]
                     / reference["samples_per_second"],
                     "memory ratio": package["peak_mib"] / max(reference["peak_mib"], 1e-9)})
        print(f"L={context_size:>2}: package {package['samples_per_second']:7.1f} samples/s, "
              f"reference {reference['samples_per_second']:6.1f} samples/s, "
              f"speed-up x{rows[-1]['speed-up']:.1f}; peak memory {package['peak_mib']:.0f} "
              f"vs {reference['peak_mib']:.0f} MiB", flush=True)
    return rows


def task_sweep(task_counts, n_steps, chunk_size):
    results = take_turns({n_tasks: ("package", 10, n_tasks, chunk_size)
                          for n_tasks in task_counts}, 2 * n_steps)
    rows = []
    for n_tasks in task_counts:
        speed = results[n_tasks]["samples_per_second"]
        rows.append({"tasks": n_tasks, "samples_per_second": speed})
        print(f"{n_tasks:>2} auxiliary tasks (L=10): {speed:7.1f} samples/s", flush=True)
    return rows


def verdicts(context_rows, task_rows):
    by_length = {row["L"]: row for row in context_rows}
    checks = []
    if 10 in by_length:
        checks.append(("x12 faster at L=10", by_length[10]["speed-up"] >= 12))
    if 30 in by_length:
        checks.append(("x20 faster at L=30", by_length[30]["speed-up"] >= 20))
        checks.append(("peak memory at L=30 at most half", by_length[30]["memory ratio"] <= 0.5))
    by_tasks = {row["tasks"]: row["samples_per_second"] for row in task_rows}
    if 0 in by_tasks and 16 in by_tasks:
        cost = by_tasks[0] / by_tasks[16] - 1
        checks.append((f"0 -> 16 auxiliary tasks costs {cost:.0%} (< 35%)", cost < 0.35))
    for text, passed in checks:
        print(f"{'PASS' if passed else 'FAIL'}: {text}")
    return checks


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="L in {1, 10}, few steps")
    parser.add_argument("--steps", type=int, default=6, help="timed steps per configuration")
    parser.add_argument("--chunk-size", type=int, default=64,
                        help="the package's chunk size (64 is the estimators' default)")
    parser.add_argument("--out", help="write the results as JSON here")
    args = parser.parse_args()
    lengths = (1, 10) if args.quick else (1, 5, 10, 20, 30)
    tasks = (0, 16) if args.quick else (0, 4, 8, 16, 32)
    steps = 3 if args.quick else args.steps
    print(f"P={PRIMARY_UNITS}, A={AUX_UNITS}, T={TOKENS}, batch {BATCH}, 2 threads, "
          f"chunk size {args.chunk_size}, {steps} timed steps after 2 warm-up steps, "
          "configurations taking turns\n")
    context_rows = context_sweep(lengths, steps, args.chunk_size)
    print()
    task_rows = task_sweep(tasks, steps, args.chunk_size)
    print()
    checks = verdicts(context_rows, task_rows)
    if args.out:
        with open(args.out, "w") as file:
            json.dump({"context": context_rows, "tasks": task_rows,
                       "checks": [{"check": c, "passed": bool(p)} for c, p in checks]},
                      file, indent=2)


if __name__ == "__main__":
    main()
