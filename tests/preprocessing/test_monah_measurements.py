"""MonahTranscriber(measurements=...): your columns voiced under their own names."""

import numpy as np
import pandas as pd
import pytest

from skhanrock import AuxiliaryTargets, MonahTranscriber
from skhanrock.datasets import make_conversations

MEANINGS = {"loudness": "avg_intensity", "pitch": "avg_pitch"}


@pytest.fixture(scope="module")
def measured():
    """A generated frame with Praat-like columns under the tool's own names."""
    X, _ = make_conversations(n_conversations=4, random_state=0)
    rng = np.random.default_rng(0)
    return X.assign(avg_intensity=rng.normal(60, 5, len(X)),
                    avg_pitch=rng.normal(180, 40, len(X)),
                    pitch_std=rng.normal(20, 6, len(X)),
                    mean_hnr=rng.normal(12, 3, len(X)),
                    articulation_rate=rng.normal(4, 1, len(X)))


def _one_speaker(column, values, **extra):
    n = len(values)
    return pd.DataFrame({"conversation": ["c"] * n, "turn": range(n), "speaker": ["a"] * n,
                         "text": ["well ok"] * n, column: values, **extra})


def test_named_columns_are_voiced_as_the_internal_ones_are(measured):
    named = MonahTranscriber(cues="vp", measurements=MEANINGS).fit_transform(measured)
    renamed = measured.rename(columns={"avg_intensity": "intensity_db",
                                       "avg_pitch": "pitch_median_hz"})
    internal = MonahTranscriber(cues="vp").fit_transform(renamed)
    assert named["narrative"].tolist() == internal["narrative"].tolist()
    voiced = " ".join(named["narrative"])
    assert "loudly" in voiced or "softly" in voiced
    assert " pitch " in voiced


@pytest.mark.parametrize("meaning, values, word", [
    ("speech_rate", [4.0, 4.2, 3.8, 4.1, 9.0], "very quickly said"),
    ("pitch_spread", [20.0, 24.0, 22.0, 21.0, 2.0], "monotonously said"),
    ("voice_quality", [12.0, 13.0, 12.5, 12.2, 3.0], "hoarsely said"),
])
def test_each_meaning_has_its_cue(meaning, values, word):
    X = _one_speaker("measured", values)
    out = MonahTranscriber(cues="vp", measurements={meaning: "measured"}).fit_transform(X)
    assert word in out["narrative"].iloc[-1]
    assert not any(word in n for n in out["narrative"].iloc[:-1])
    # Without the meaning, the column is not voiced at all.
    plain = MonahTranscriber(cues="vp").fit_transform(X)
    assert not any(word in n for n in plain["narrative"])


def test_a_measured_speech_rate_replaces_the_words_per_minute():
    # The times say "the same rate every time"; the measured column says otherwise.
    X = _one_speaker("rate", [4.0, 4.2, 3.8, 4.1, 9.0], start=np.arange(5) * 2.0,
                     end=np.arange(5) * 2.0 + 1.0)
    out = MonahTranscriber(cues="vp", measurements={"speech_rate": "rate"}).fit_transform(X)
    assert "very quickly" in out["narrative"].iloc[-1]
    assert "quickly" not in " ".join(MonahTranscriber(cues="vp").fit_transform(X)["narrative"])


def test_the_narrator_streams_what_the_batch_writes(measured):
    meanings = {**MEANINGS, "pitch_spread": "pitch_std", "voice_quality": "mean_hnr",
                "speech_rate": "articulation_rate"}
    monah = MonahTranscriber(cues="vpa", measurements=meanings).fit(measured)
    batch = monah.transform(measured)
    for _, part in measured.groupby("conversation"):
        part = part.sort_values("turn")
        narrator = monah.narrator()
        live = [narrator.narrate(part.iloc[[i]]) for i in range(len(part))]
        assert live == batch.loc[part.index, "narrative"].tolist()
    assert set(meanings.values()) <= set(monah.columns_read())


@pytest.mark.parametrize("params, message", [
    ({"measurements": {"shouting": "avg_intensity"}}, r"unknown meaning\(s\) \['shouting'\]"),
    ({"measurements": ["avg_intensity"]}, "measurements must be None or a dict"),
    ({"measurements": {"loudness": "decibels"}}, r"\{'loudness': 'decibels'\}.*does not have"),
    ({"measurements": MEANINGS, "output_column": "avg_pitch"},
     r"output_column='avg_pitch'.*measurements\['pitch'\]"),
    ({"measurements": {"voice_quality": "mean_hnr"}, "voice_threshold": 0},
     "voice_threshold"),
])
def test_bad_measurements_are_refused_by_name(measured, params, message):
    with pytest.raises(ValueError, match=message):
        MonahTranscriber(**params).fit(measured)


def test_the_same_dict_names_the_auxiliary_targets(measured):
    out = AuxiliaryTargets(families="", columns=MEANINGS).fit_transform(measured)
    assert [c for c in out.columns if c.startswith("aux:")] == ["aux:loudness", "aux:pitch"]
    # Percentile ranks of the user's own columns, fitted on these rows.
    assert out["aux:loudness"].corr(measured["avg_intensity"], method="spearman") > 0.99
