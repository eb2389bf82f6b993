"""Fixtures shared by this folder's test modules (computed once per folder)."""

import numpy as np
import pytest


@pytest.fixture(scope="package")
def predictions():
    rng = np.random.default_rng(0)
    y = rng.choice(["a", "b", "c"], 600, p=[0.5, 0.3, 0.2]).astype(object)
    good = np.where(rng.random(600) < 0.8, y, rng.choice(["a", "b", "c"], 600))
    bad = np.where(rng.random(600) < 0.5, y, rng.choice(["a", "b", "c"], 600))
    return y, good, bad

