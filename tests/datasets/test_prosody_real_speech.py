"""extract_prosody on real human speech, checked against the Praat program's numbers.

The clip is CMU ARCTIC's arctic_a0007 (speaker awb, adult male); the reference
numbers are the output of the Praat program on it (``data/reference.praat``,
stored in ``data/reference_praat.json``); see ``data/README.md`` for source,
licence and how to remake them.
"""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from skhanrock.datasets import PROSODY_COLUMNS, extract_prosody

pytest.importorskip("soundfile")

DATA = Path(__file__).parent / "data"
CLIP = DATA / "arctic_a0007.wav"
REFERENCE = DATA / "reference_praat.json"
if not (CLIP.exists() and REFERENCE.exists()):  # e.g. tests run from a wheel without data
    pytest.skip("the real-speech test data (tests/data) is not installed",
                allow_module_level=True)

# Tolerances of the Praat backend against the Praat program, column by column.
# parselmouth 0.4.7 runs Praat 6.1.38's code and the reference came from Praat
# 6.3.07, yet every column agreed to the last bit or two (at most 4e-15); the
# analyses and their settings are the same. So the tolerances only leave room
# for floating-point summation order, and anything else fails: a setting that
# differs, a frame read in or out at a span's edge, one voicing decision
# (voiced_fraction moves by 1/397 or more), another percentile rule (0.2-0.4
# semitones, see test_praat_own_definitions_differ_only_slightly).
TOLERANCES = {
    # Median of the same voiced F0 values: exact up to rounding.
    "pitch_median_hz": {"rel": 1e-9},
    # Percentiles of log2 of those values: a few ulps of log2 and interpolation.
    "pitch_range_semitones": {"abs": 1e-9},
    # Least-squares fit (numpy.polyfit against summed products in Praat's
    # script): differs in summation order, so 1e-9 semitones per second.
    "pitch_slope": {"abs": 1e-9},
    # log2 of a ratio of medians.
    "pitch_median_semitones_speaker": {"abs": 1e-9},
    # Energy mean of the same frames; 10 ** (dB / 10) and back loses a few ulps.
    "intensity_db": {"abs": 1e-9},
    # A ratio of frame counts: exact (one frame either way is 1/397 or more).
    "voiced_fraction": {"abs": 1e-12},
    # Praat's own jitter and shimmer on the same point process: same code path;
    # relative, as they are small fractions.
    "jitter": {"rel": 1e-9},
    "shimmer": {"rel": 1e-9},
    # Praat's Harmonicity Get mean against numpy's mean of the same frames.
    "hnr_db": {"abs": 1e-9},
    # A whole number of 10 ms frames, computed the same way from the samples.
    "silence_before": {"abs": 1e-12},
}


@pytest.fixture(scope="module")
def reference():
    return json.loads(REFERENCE.read_text())


@pytest.fixture(scope="module")
def talkturns(reference):
    return pd.DataFrame([{"conversation": "arctic_a0007", "turn": turn["turn"], "speaker": "awb",
                          "start": turn["start"], "end": turn["end"]}
                         for turn in reference["talkturns"]])


@pytest.fixture(scope="module")
def praat_prosody(talkturns):
    pytest.importorskip("parselmouth")
    return extract_prosody(talkturns, CLIP)


@pytest.fixture(scope="module")
def opensmile_prosody(talkturns):
    pytest.importorskip("opensmile")
    return extract_prosody(talkturns, CLIP, backend="opensmile")


def expected(reference, column):
    if column == "pitch_median_semitones_speaker":
        return np.array(reference[column])
    return np.array([turn[column] for turn in reference["talkturns"]])


def test_reference_matches_the_settings(reference):
    # The stored numbers are only a reference for extract_prosody's defaults.
    assert reference["settings"] == {"pitch_floor": 75, "pitch_ceiling": 600,
                                     "time_step": 0.01, "silence_threshold_db": -25}
    assert reference["sample_rate"] == 16000
    assert set(TOLERANCES) == set(PROSODY_COLUMNS)


@pytest.mark.parametrize("column", PROSODY_COLUMNS)
def test_praat_backend_matches_praat(praat_prosody, reference, column):
    got = praat_prosody[column].to_numpy()
    assert np.isfinite(got).all()
    assert got == pytest.approx(expected(reference, column), **TOLERANCES[column])


def test_praat_own_definitions_differ_only_slightly(praat_prosody, reference):
    # Praat's Pitch "Get quantile" (its own percentile rule) gives a 0.2-0.4
    # semitone wider 5-95% range on this clip; Intensity "Get mean" (energy,
    # time-weighted) is within 0.002 dB of the frame energy mean.
    quantile = expected(reference, "praat_quantile_pitch_range_semitones")
    assert np.abs(praat_prosody["pitch_range_semitones"].to_numpy() - quantile).max() < 0.5
    mean = expected(reference, "praat_get_mean_intensity_db")
    assert np.abs(praat_prosody["intensity_db"].to_numpy() - mean).max() < 0.01


def test_a_male_voice_is_in_the_male_range(praat_prosody, reference):
    # awb is an adult man: median speaking F0 of men is roughly 85-180 Hz.
    pitch = praat_prosody["pitch_median_hz"].to_numpy()
    assert ((pitch > 85) & (pitch < 180)).all()
    # Speech, not a tone: a few semitones of intonation, falling over the
    # utterance (declination), about half the frames voiced.
    assert ((praat_prosody["pitch_range_semitones"] > 3)
            & (praat_prosody["pitch_range_semitones"] < 15)).all()
    assert (praat_prosody["pitch_slope"] < 0).all()
    assert ((praat_prosody["voiced_fraction"] > 0.3)
            & (praat_prosody["voiced_fraction"] < 0.9)).all()
    # Typical values of read modal speech: jitter and shimmer a few percent.
    assert ((praat_prosody["jitter"] > 0.001) & (praat_prosody["jitter"] < 0.05)).all()
    assert ((praat_prosody["shimmer"] > 0.01) & (praat_prosody["shimmer"] < 0.2)).all()
    assert ((praat_prosody["hnr_db"] > 5) & (praat_prosody["hnr_db"] < 25)).all()


def test_opensmile_agrees_with_praat(opensmile_prosody, reference):
    prosody = opensmile_prosody
    columns = [c for c in prosody.columns if c.startswith("egemaps_")] + [
        "pitch_median_hz", "pitch_range_semitones", "pitch_median_semitones_speaker",
        "intensity_db", "voiced_fraction", "jitter", "hnr_db", "silence_before"]
    assert np.isfinite(prosody[columns].to_numpy()).all()
    # Another F0 tracker (SHS), same voice: within a semitone of Praat's median
    # (0.04-0.13 here; an octave error would be 12), and the same speaker-relative
    # pitch within half a semitone.
    praat_pitch = expected(reference, "pitch_median_hz")
    gap = 12 * np.log2(prosody["pitch_median_hz"].to_numpy() / praat_pitch)
    assert np.abs(gap).max() < 1.0
    assert prosody["pitch_median_semitones_speaker"].to_numpy() == pytest.approx(
        expected(reference, "pitch_median_semitones_speaker"), abs=0.5)
    pitch = prosody["pitch_median_hz"].to_numpy()
    assert ((pitch > 85) & (pitch < 180)).all()
    # eGeMAPS' range is 20-80%, narrower than Praat's 5-95%.
    assert ((prosody["pitch_range_semitones"] > 0)
            & (prosody["pitch_range_semitones"] < expected(reference, "pitch_range_semitones"))
            ).all()
    # Levels have another reference, but the phrases' difference is the same
    # (3.37 dB in Praat, 3.38 dB in openSMILE); the louder phrase is louder.
    praat_level = expected(reference, "intensity_db")
    level = prosody["intensity_db"].to_numpy()
    assert (level[0] - level[1]) == pytest.approx(praat_level[0] - praat_level[1], abs=0.5)
    assert prosody["egemaps_loudness_mean"].iloc[0] > prosody["egemaps_loudness_mean"].iloc[1]
    # Voicing from segment statistics: within 0.2 of Praat's share of voiced frames.
    assert prosody["voiced_fraction"].to_numpy() == pytest.approx(
        expected(reference, "voiced_fraction"), abs=0.2)
    # Jitter and HNR by other algorithms: same order of magnitude as Praat's.
    ratio = prosody["jitter"].to_numpy() / expected(reference, "jitter")
    assert ((ratio > 0.5) & (ratio < 2)).all()
    assert ((prosody["hnr_db"] > 0) & (prosody["hnr_db"] < 25)).all()
    # silence_before is computed by skhanrock itself for both backends.
    assert prosody["silence_before"].to_numpy() == pytest.approx(
        expected(reference, "silence_before"), abs=1e-12)
