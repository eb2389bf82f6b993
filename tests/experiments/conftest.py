"""Fixtures shared by this folder's test modules (computed once per folder)."""


import pytest

import skhanrock.experiments._run as run
from skhanrock.datasets import make_conversations
from skhanrock.experiments import (
    run_experiment,
)

from ._shared import SETTINGS


@pytest.fixture(scope="package")
def conversations_of_many_speakers():
    return make_conversations(n_conversations=15, min_turns=4, max_turns=7, n_speakers=45,
                              random_state=0)


@pytest.fixture(scope="package")
def h1(conversations_of_many_speakers, tmp_path_factory):
    X, y = conversations_of_many_speakers
    path = tmp_path_factory.mktemp("h1") / "results.jsonl"
    return run_experiment(X, y, "H1", n_trials=2, results_file=path, **SETTINGS), path


@pytest.fixture
def no_training(monkeypatch):
    """Make training a trial fail the test: the errors below must come before it."""
    def train(*args, **kwargs):
        raise AssertionError("a trial was trained before the bad argument was refused")

    monkeypatch.setattr(run, "_fit_trial", train)


@pytest.fixture
def bootstrap_groups(monkeypatch):
    """The ``groups`` every call of the tables' bootstrap received, as it runs."""
    import skhanrock.experiments._tables as tables

    seen = []
    compare = tables.bootstrap_search_compare

    def recording(*args, **kwargs):
        seen.append(kwargs["groups"])
        return compare(*args, **kwargs)

    monkeypatch.setattr(tables, "bootstrap_search_compare", recording)
    return seen
