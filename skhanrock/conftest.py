"""The doctests' settings; the test suite in tests/ has its own conftest.py."""

import importlib.util

import pytest
import torch

# The pretrained encoder's examples build a tiny model with the optional
# transformers extra; without it they are not collected (its tests skip).
collect_ignore = [] if importlib.util.find_spec("transformers") else ["nn/_pretrained.py"]
# The prosody example writes and measures a WAV file with the optional prosody extra.
if not (importlib.util.find_spec("parselmouth") and importlib.util.find_spec("soundfile")):
    collect_ignore.append("datasets/_prosody.py")
# The Optuna store and pruner's examples run a study with the optional optuna extra.
if not importlib.util.find_spec("optuna"):
    collect_ignore.append("model_selection/_optuna.py")


@pytest.fixture(autouse=True, scope="session")
def _single_thread_torch():
    # Tests are small; one thread avoids oversubscription when CI runs on 2 cores.
    torch.set_num_threads(1)

