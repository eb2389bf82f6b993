"""Fixtures shared by this folder's test modules (computed once per folder)."""

import numpy as np
import pandas as pd
import pytest

from skhanrock.datasets import make_conversations


@pytest.fixture(scope="package")
def iemocap_like():
    sessions = np.repeat([1, 2, 3, 4, 5], 4)
    X = pd.DataFrame({"session": sessions,
                      "speaker": [f"Ses0{s}_{g}" for s, g in zip(sessions, "FMFM" * 5, strict=True)],
                      "conversation": [f"Ses0{s}" for s in sessions]})
    y = pd.Series(["ang", "hap", "neu", "sad"] * 5)
    return X, y


@pytest.fixture(scope="package")
def many_speakers():
    return make_conversations(n_conversations=24, min_turns=4, max_turns=6, n_speakers=40,
                              random_state=0)

