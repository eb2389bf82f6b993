"""Fixtures shared by every test module (the package's doctests have skhanrock/conftest.py)."""

import pytest
import torch

from skhanrock.datasets import make_conversations


@pytest.fixture(autouse=True, scope="session")
def _single_thread_torch():
    # Tests are small; one thread avoids oversubscription when CI runs on 2 cores.
    torch.set_num_threads(1)


@pytest.fixture(scope="session")
def conversations():
    return make_conversations(n_conversations=8, min_turns=5, max_turns=9, random_state=0)


@pytest.fixture(scope="session")
def regression_conversations():
    return make_conversations(n_conversations=8, min_turns=5, max_turns=9, target_type="regression",
                              random_state=1)
