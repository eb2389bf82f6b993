"""``benchmarks/narrative_cues.py``: the narrative's cue prefix and its cue phrases are read back
exactly (the counts and the "cues kept apart" arm of nonverbal.rst rest on them)."""

from pathlib import Path

import pytest

from skhanrock import MonahTranscriber
from skhanrock.datasets import make_conversations
from tests._benchmarks import load_benchmark

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "narrative_cues.py"
pytestmark = pytest.mark.skipif(not SCRIPT.exists(), reason="the benchmarks folder is absent")


@pytest.fixture(scope="module")
def benchmark():
    return load_benchmark("narrative_cues")


def test_the_prefix_is_the_narrative_before_the_verbatim_words(benchmark):
    X, _ = make_conversations(n_conversations=3, random_state=0)
    X.loc[X.index[4], "text"] = "   "           # no words: the narrative ends "said."
    narratives = MonahTranscriber().fit_transform(X)["narrative"]
    for narrative, text in zip(narratives, X["text"], strict=True):
        prefix = benchmark.prefix(narrative, text)
        assert prefix.rstrip().endswith("said") or " said in a " in prefix
        spoken = text.strip().lower()
        assert narrative.startswith(prefix)
        assert narrative[len(prefix):].strip().rstrip(".") == spoken.rstrip(".")


@pytest.mark.parametrize("prefix, expected", [
    ("the woman loudly and very quickly said in a high pitch",
     ["loudly", "in a high", "very quickly"]),
    ("after three hundred milliseconds the man softly and slowly said",
     ["softly", "slowly", "hundred milliseconds"]),
    ("the man said", []),
])
def test_cue_phrases_are_counted_once(benchmark, prefix, expected):
    assert benchmark.phrases(prefix) == expected
