"""Prosody extraction speed: seconds of audio measured per CPU-second, per backend.

espeak-ng synthesises a conversation of about a minute of speech (utterances
at several pitches and amplitudes, with pauses between them);
``extract_prosody`` then measures its talkturns with each installed backend
(Praat through parselmouth, openSMILE's eGeMAPSv02). The table gives the CPU
time of the best of ``--repeats`` runs and the seconds of audio per
CPU-second. Run with ``OMP_NUM_THREADS=1`` from the repository root::

    python benchmarks/prosody.py [--seconds 60] [--repeats 3]
"""

import argparse
import importlib.util
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import soundfile

from skhanrock.datasets import extract_prosody

SENTENCES = ["Hello there, how are you doing today?", "I think we should talk about it.",
             "That is really not what I expected.", "Could you say that again, please?"]


def synthesise(folder, seconds):
    """One conversation file of espeak-ng utterances and its talkturns."""
    parts, rows, now, rate, turn = [], [], 0.0, None, 0
    rng = np.random.default_rng(0)
    while now < seconds:
        path = folder / "clip.wav"
        subprocess.run(["espeak-ng", "-p", str(rng.integers(20, 90)), "-a",
                        str(rng.integers(40, 180)), "-w", str(path),
                        SENTENCES[turn % len(SENTENCES)]], check=True)
        clip, rate = soundfile.read(path)
        pause = np.zeros(int(rate * rng.uniform(0.2, 0.8)))
        start = now + len(pause) / rate
        now = start + len(clip) / rate
        parts += [pause, clip]
        rows.append({"conversation": "talk", "turn": turn, "speaker": "AB"[turn % 2],
                     "start": start, "end": now})
        turn += 1
    soundfile.write(folder / "talk.wav", np.concatenate(parts), rate)
    return pd.DataFrame(rows), folder / "talk.wav", now


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    if shutil.which("espeak-ng") is None:
        raise SystemExit("espeak-ng is needed to synthesise the speech (apt-get install "
                         "espeak-ng).")
    with tempfile.TemporaryDirectory() as directory:
        talkturns, path, seconds = synthesise(Path(directory), args.seconds)
        print(f"{seconds:.1f} s of audio, {len(talkturns)} talkturns\n")
        print(f"{'backend':<10} {'CPU s':>8} {'audio s / CPU s':>16}")
        for backend, module in (("praat", "parselmouth"), ("opensmile", "opensmile")):
            if importlib.util.find_spec(module) is None:
                print(f"{backend:<10} {'(not installed)':>25}")
                continue
            best = np.inf
            for _ in range(args.repeats):
                started = time.process_time()
                extract_prosody(talkturns, path, backend=backend, progress=False)
                best = min(best, time.process_time() - started)
            print(f"{backend:<10} {best:>8.2f} {seconds / best:>16.0f}")


if __name__ == "__main__":
    main()
