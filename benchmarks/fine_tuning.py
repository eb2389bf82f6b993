"""The CPU cost of fine_tune_layers: all-MiniLM-L6-v2 under the HAN on MELD, frozen or not.

Issue 14, part 2. Times, on one CPU thread, a fit on the first ``--talkturns``
MELD training talkturns (whole dialogues) with the encoder frozen and with its
top 1 and 2 layers fine-tuned: the one-off encoding pass (the frozen vectors,
or the lower layers' states), the seconds per epoch (skorch's ``dur``), the
peak memory (max RSS) of each arm, run in a process of its own, and the size
of the saved model. ``--dev-talkturns M`` also scores each arm on the first M
dev talkturns (weighted F1, one seed: a smoke check of learning, not an
accuracy comparison; fine-tuning is meant for a GPU and full MELD).

The checkpoint is the packaged all-MiniLM-L6-v2 (SHA-checked as in
``benchmarks/meld_pretrained.py``), or ``--model FOLDER``. The network's
settings are those of ``meld_pretrained.py``; the fine-tuned layers learn at
``--top-lr`` (the encoder's ``fine_tune_lr``, their own parameter group).

Run from the repository root::

    OMP_NUM_THREADS=1 python benchmarks/fine_tuning.py [--talkturns 1000] [--epochs 2] \\
        [--layers 0 1 2] [--dev-talkturns 0]
"""

import argparse
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from sklearn.metrics import f1_score

from skhanrock import HanRockClassifier, save_model
from skhanrock.nn import PretrainedWordEncoder

sys.path.insert(0, str(Path(__file__).resolve().parent))
from meld import DEFAULT_ROOT, partitions  # noqa: E402
from meld_pretrained import MAX_WORDS, packaged_minilm  # noqa: E402


def first_talkturns(X, y, n):
    """The rows of the first dialogues (in file order) holding at least ``n`` talkturns."""
    if n is None or n >= len(X):
        return X, y
    sizes = X.groupby("conversation", sort=False).size()
    kept = sizes.index[:int(np.searchsorted(np.cumsum(sizes.to_numpy()), n)) + 1]
    rows = X["conversation"].isin(kept).to_numpy()
    return X[rows], y[rows]


def arm(args):
    """One fit with ``args.arm`` fine-tuned layers; its measures as a dict."""
    torch.set_num_threads(1)
    splits = partitions(args.root)
    X, y = first_talkturns(*splits["train"], args.talkturns)
    k = args.arm
    encoder = PretrainedWordEncoder(args.model, max_words=MAX_WORDS, fine_tune_layers=k,
                                    fine_tune_lr=args.top_lr, progress=False)
    model = HanRockClassifier(
        embeddings=encoder, max_words=MAX_WORDS, primary_units=128, context_size=6,
        max_epochs=args.epochs, lr=2 ** -9, batch_size=32, gru_dropout=0.2,
        recurrent_dropout=0.2, loss_weights=0.7, lexical_ngrams=None, random_state=0)
    start = time.perf_counter()
    model.fit(X, y)
    seconds = time.perf_counter() - start
    epochs = [float(d) for d in model.history[:, "dur"]]
    result = {"fine_tune_layers": k, "talkturns": len(X), "distinct texts": X["text"].nunique(),
              "fit s": seconds, "encoding s": seconds - sum(epochs), "epoch s": epochs,
              "trained parameters": sum(p.numel() for p in model.module_.parameters()
                                        if p.requires_grad)}
    with tempfile.TemporaryDirectory() as folder:
        result["saved MiB"] = save_model(model, Path(folder) / "m.skhanrock").stat().st_size / 2 ** 20
    if args.dev_talkturns:
        X_dev, y_dev = first_talkturns(*splits["dev"], args.dev_talkturns)
        labelled = y_dev.notna().to_numpy()
        predicted = model.predict(X_dev)
        result["dev talkturns"] = len(X_dev)
        result["dev weighted F1"] = f1_score(y_dev[labelled], predicted[labelled],
                                             average="weighted")
    result["peak MiB"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return result


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", default=str(DEFAULT_ROOT))
    parser.add_argument("--model", help="a local checkpoint folder (default: the packaged "
                                        "all-MiniLM-L6-v2)")
    parser.add_argument("--talkturns", type=int, default=1000)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--layers", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--top-lr", type=float, default=3e-5)
    parser.add_argument("--dev-talkturns", type=int, default=0)
    parser.add_argument("--arm", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.arm is not None:
        print(json.dumps(arm(args)))
        return
    extracted = None if args.model else packaged_minilm()
    args.model = args.model or str(extracted)
    try:
        return [run_arm(args, k) for k in args.layers]
    finally:
        if extracted is not None:
            shutil.rmtree(extracted.parent, ignore_errors=True)


def run_arm(args, k):
    """Run one arm in a process of its own (its own peak memory); print and return its row."""
    command = [sys.executable, __file__, "--arm", str(k), "--root", args.root, "--model",
               args.model, "--talkturns", str(args.talkturns), "--epochs", str(args.epochs),
               "--top-lr", str(args.top_lr), "--dev-talkturns", str(args.dev_talkturns)]
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    row = json.loads(done.stdout.strip().splitlines()[-1])
    dev = f", dev weighted F1 {row['dev weighted F1']:.3f} on {row['dev talkturns']}" \
        if "dev weighted F1" in row else ""
    print(f"fine_tune_layers={k}: {row['talkturns']} talkturns ({row['distinct texts']} texts); "
          f"encoding {row['encoding s']:.1f} s; epochs "
          f"{', '.join(f'{s:.1f}' for s in row['epoch s'])} s; "
          f"{row['trained parameters']:,} trained parameters; peak {row['peak MiB']:.0f} MiB; "
          f"saved {row['saved MiB']:.1f} MiB{dev}", flush=True)
    return row


if __name__ == "__main__":
    main()
