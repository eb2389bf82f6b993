"""Fixtures shared by this folder's test modules (computed once per folder)."""


import pytest

from skhanrock import HanRockClassifier
from skhanrock._testing import TINY
from skhanrock.inspection import explain

from ._shared import IMAGE, LONG_WORD, SCRIPT


@pytest.fixture(scope="package")
def page_parts(conversations):
    X, y = conversations
    X = X.copy()
    X.loc[X.index[2], "text"] = f"{SCRIPT} hello {LONG_WORD} " + "and so on " * 6
    X.loc[X.index[3], "speaker"] = IMAGE
    rock = HanRockClassifier(**TINY, label_offsets=(-1,)).fit(X, y)
    flat = HanRockClassifier(**TINY, architecture="flat", label_offsets=()).fit(X, y)
    rows = [3, 4]
    labels = y.iloc[rows].to_dict()
    labels[X.index[4]] = SCRIPT
    return {"X": X, "y": y, "rows": rows, "labels": labels, "models": (rock, flat),
            "rock": explain(rock, X, rows=rows), "flat": explain(flat, X, rows=rows)}

