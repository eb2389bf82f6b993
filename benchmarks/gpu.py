"""GPU training speed, memory and trials per hour of HAN-ROCK, written as one JSON file.

What is measured, with the package's own estimator (``HanRockClassifier.fit`` on
``make_conversations`` data, P=256 / A=1, batch 64):

- training samples/s at L = 1, 10 and 30 in ``precision="fp32"`` and ``"bf16"``
  (training talkturns over the median epoch duration, the first epoch left out
  as warm-up) and the peak GPU memory of each fit
  (``torch.cuda.max_memory_allocated``; null on the CPU);
- the same figure on the CPU for L = 10 in fp32, and the GPU/CPU ratio;
- trials per hour with k = 1, 2, 4 and 8 trials sharing the device, each trial a
  separate process (as ``RandomizedSearchCV(n_jobs=k)`` or the experiment runner's
  ``--jobs k`` run them) with ``cores // k`` threads; the processes start fitting
  together and the wall time runs from the first start to the last end;
- the extrapolated wall time of a 30-trial H1 sweep at IEMOCAP size (about 7,400
  talkturns, 10 epochs): each trial's time scaled linearly by talkturns and
  epochs, times ``30 / k``.

Run ``python benchmarks/gpu.py --out gpu.json`` on a GPU machine (under 8 minutes;
results are rewritten after every section, so a cut-short run keeps what it
measured). ``--quick`` runs the same code on the CPU with tiny sizes, in well
under a minute.
"""

import argparse
import json
import multiprocessing
import os
import time

import numpy as np
import torch

from skhanrock import HanRockClassifier
from skhanrock.datasets import make_conversations

IEMOCAP_TALKTURNS, SWEEP_TRIALS, SWEEP_EPOCHS = 7400, 30, 10
FULL = {"conversations": 150, "epochs": 3, "units": {"primary_units": 256, "aux_units": 1},
        "contexts": (1, 10, 30), "trial_conversations": 60, "trial_epochs": 2,
        "ks": (1, 2, 4, 8), "cpu_conversations": 30}
QUICK = {"conversations": 6, "epochs": 2, "units": {"primary_units": 8, "aux_units": 2,
                                                     "embedding_dim": 8},
         "contexts": (1, 10, 30), "trial_conversations": 4, "trial_epochs": 2,
         "ks": (1, 2), "cpu_conversations": 6}


def data(n_conversations, seed=0):
    return make_conversations(n_conversations=n_conversations, random_state=seed)


def network(settings, device, precision, context_size, epochs):
    return HanRockClassifier(**settings["units"], context_size=context_size,
                             max_epochs=epochs, batch_size=64, device=device,
                             precision=precision, lexical_ngrams=None, random_state=0)


def training_speed(settings, device, precision, context_size, n_conversations):
    """Samples/s of one fit and its peak GPU memory in MiB (None on the CPU)."""
    X, y = data(n_conversations)
    on_gpu = torch.device(device).type == "cuda"
    if on_gpu:
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats(device)
    net = network(settings, device, precision, context_size, settings["epochs"]).fit(X, y)
    # The first epoch pays for allocations and kernel selection; it is not training speed.
    seconds = float(np.median(net.history[1:, "dur"]))
    return {"device": device, "precision": precision, "context_size": context_size,
            "talkturns": len(X), "samples_per_s": len(X) / seconds,
            "peak_gpu_mib": torch.cuda.max_memory_allocated(device) / 2 ** 20 if on_gpu
            else None}


def _trial(settings, device, threads, barrier, results, seed):
    """One trial in its own process: fit once all k trials are ready, report start and end."""
    torch.set_num_threads(threads)
    X, y = data(settings["trial_conversations"], seed=seed)
    net = network(settings, device, "fp32", 10, settings["trial_epochs"])
    barrier.wait()
    start = time.time()
    net.fit(X, y)
    results.put((start, time.time(), len(X)))


def shared_device_trials(settings, device, k):
    """Trials per hour with k trials fitting at once in k processes on ``device``."""
    # spawn, not fork: a forked child cannot use a CUDA context of its parent.
    context = multiprocessing.get_context("spawn")
    barrier, results = context.Barrier(k), context.Queue()
    threads = max(1, (os.cpu_count() or 1) // k)
    workers = [context.Process(target=_trial,
                               args=(settings, device, threads, barrier, results, seed))
               for seed in range(k)]
    for worker in workers:
        worker.start()
    runs = [results.get() for _ in workers]
    for worker in workers:
        worker.join()
    wall = max(end for _, end, _ in runs) - min(start for start, _, _ in runs)
    talkturns = float(np.mean([n for _, _, n in runs]))
    # A trial at IEMOCAP size: linear in talkturns and epochs; k of them run at once.
    trial_at_iemocap = wall * IEMOCAP_TALKTURNS / talkturns * SWEEP_EPOCHS / \
        settings["trial_epochs"]
    return {"k": k, "threads_per_trial": threads, "wall_s": wall,
            "trials_per_hour": k * 3600 / wall, "talkturns_per_trial": talkturns,
            "h1_sweep_30_trials_at_iemocap_h": trial_at_iemocap * SWEEP_TRIALS / k / 3600}


def run(settings, device, out):
    results = {"device": device, "gpu": torch.cuda.get_device_name(device)
               if torch.device(device).type == "cuda" else None,
               "torch": torch.__version__, "cpu_count": os.cpu_count(), "settings": settings,
               "speed": [], "cpu_speed": None, "trials": []}

    def write():
        with open(out, "w") as file:
            json.dump(results, file, indent=2, default=list)

    start = time.perf_counter()
    for context_size in settings["contexts"]:
        for precision in ("fp32", "bf16"):
            row = training_speed(settings, device, precision, context_size,
                                 settings["conversations"])
            results["speed"].append(row)
            print(row, flush=True)
            write()
    cpu = training_speed(settings, "cpu", "fp32", 10, settings["cpu_conversations"])
    gpu = next(r for r in results["speed"] if r["context_size"] == 10
               and r["precision"] == "fp32")
    results["cpu_speed"] = {**cpu, "device_over_cpu": gpu["samples_per_s"] /
                            cpu["samples_per_s"]}
    print(results["cpu_speed"], flush=True)
    write()
    for k in settings["ks"]:
        row = shared_device_trials(settings, device, k)
        results["trials"].append(row)
        print(row, flush=True)
        write()
    results["seconds"] = time.perf_counter() - start
    write()
    return results


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="tiny sizes on the CPU, k in {1, 2}: the same code in seconds")
    parser.add_argument("--device", help="default: cuda when available, else cpu")
    parser.add_argument("--out", default="gpu.json", help="the JSON file to write")
    args = parser.parse_args(argv)
    device = args.device or ("cpu" if args.quick or not torch.cuda.is_available() else "cuda")
    run(QUICK if args.quick else FULL, device, args.out)


if __name__ == "__main__":
    main()
