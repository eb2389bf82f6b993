import shutil
import subprocess
import warnings

import joblib
import numpy as np
import pandas as pd
import pytest

from skhanrock.datasets import extract_prosody

soundfile = pytest.importorskip("soundfile")
pytest.importorskip("parselmouth")

RATE = 16000
GAP = 0.3  # seconds of silence before each utterance


def harmonic(f0, seconds, amplitude=0.3, rate=RATE, end_f0=None):
    """A harmonic tone (5 partials, 1/k amplitudes); a glide when end_f0 is given."""
    t = np.arange(int(seconds * rate)) / rate
    f = np.full_like(t, f0) if end_f0 is None else f0 * (end_f0 / f0) ** (t / seconds)
    phase = 2 * np.pi * np.cumsum(f) / rate
    tone = sum(np.sin(k * phase) / k for k in range(1, 6))
    return amplitude * tone / np.abs(tone).max()


def conversation_file(path, clips, rate=RATE, speakers=None):
    """Clips one after another, each after GAP seconds of silence; the talkturns."""
    parts, rows, now = [], [], 0.0
    for turn, clip in enumerate(clips):
        parts += [np.zeros(int(GAP * rate)), clip]
        start = now + GAP
        now = start + len(clip) / rate
        rows.append({"conversation": path.stem, "turn": turn, "start": start, "end": now,
                     "speaker": speakers[turn] if speakers else "A"})
    soundfile.write(path, np.concatenate(parts), rate)
    return pd.DataFrame(rows)


def espeak(pitch, amplitude, folder, name):
    path = folder / f"{name}.wav"
    subprocess.run(["espeak-ng", "-p", str(pitch), "-a", str(amplitude), "-w", str(path),
                    "Hello there, how are you doing today?"], check=True)
    signal, rate = soundfile.read(path)
    return signal, rate


@pytest.fixture(scope="module")
def speech(tmp_path_factory):
    """One conversation of espeak-ng utterances: rising pitch, then rising amplitude."""
    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng is not installed (apt-get install espeak-ng)")
    folder = tmp_path_factory.mktemp("speech")
    settings = [(30, 100), (60, 100), (90, 100), (50, 20), (50, 60), (50, 180)]
    clips = []
    for i, (pitch, amplitude) in enumerate(settings):
        signal, rate = espeak(pitch, amplitude, folder, f"clip{i}")
        clips.append(signal)
    talkturns = conversation_file(folder / "talk.wav", clips, rate=rate)
    return talkturns, folder / "talk.wav"


@pytest.fixture(scope="module")
def tones(tmp_path_factory):
    folder = tmp_path_factory.mktemp("tones")
    clips = [harmonic(150, 0.6), harmonic(120, 0.6, end_f0=240), np.zeros(int(0.4 * RATE)),
             harmonic(300, 0.6)]
    talkturns = conversation_file(folder / "tones.wav", clips, speakers=["A", "A", "A", "B"])
    return talkturns, folder / "tones.wav"


def test_espeak_pitch_and_loudness_order_the_utterances(speech):
    talkturns, path = speech
    prosody = extract_prosody(talkturns, path)
    pitch = prosody["pitch_median_hz"].to_numpy()
    assert pitch[0] < pitch[1] < pitch[2]
    loudness = prosody["intensity_db"].to_numpy()
    assert loudness[3] < loudness[4] < loudness[5]
    assert (prosody["voiced_fraction"] > 0.3).all()
    # espeak-ng adds a little silence of its own around each utterance.
    assert (prosody["silence_before"] > GAP - 0.02).all()
    assert (prosody["silence_before"] < GAP + 0.6).all()
    speaker = prosody["pitch_median_semitones_speaker"].to_numpy()
    assert speaker[0] < 0 < speaker[2]


def test_harmonic_tones_have_their_known_pitch(tones):
    talkturns, path = tones
    with pytest.warns(UserWarning, match="1 of 4 talkturns .* fewer than 2 voiced"):
        prosody = extract_prosody(talkturns, path)
    assert prosody["pitch_median_hz"].iloc[0] == pytest.approx(150, rel=0.02)
    assert prosody["pitch_median_hz"].iloc[3] == pytest.approx(300, rel=0.02)
    assert prosody["pitch_range_semitones"].iloc[0] < 0.5
    # 120 -> 240 Hz in 0.6 s: 12 semitones over 0.6 s.
    assert prosody["pitch_slope"].iloc[1] == pytest.approx(12 / 0.6, rel=0.1)
    assert abs(prosody["pitch_slope"].iloc[0]) < 1
    assert prosody["voiced_fraction"].iloc[0] > 0.9
    assert prosody["jitter"].iloc[0] < 0.01 and prosody["shimmer"].iloc[0] < 0.05
    assert prosody["hnr_db"].iloc[0] > 20
    # The silent talkturn: no pitch, not a zero.
    silent = prosody.iloc[2]
    assert np.isnan(silent[["pitch_median_hz", "pitch_slope", "jitter", "shimmer",
                            "hnr_db"]].astype(float)).all()
    assert silent["voiced_fraction"] == 0.0 and np.isnan(silent["intensity_db"])
    # Speaker B alone: 0 semitones against itself.
    assert prosody["pitch_median_semitones_speaker"].iloc[3] == pytest.approx(0)


def test_input_is_not_modified_and_columns_are_added(tones):
    talkturns, path = tones
    before = talkturns.copy()
    with pytest.warns(UserWarning):
        prosody = extract_prosody(talkturns, [path], speaker_column=None, progress=False)
    pd.testing.assert_frame_equal(talkturns, before)
    assert list(prosody.columns[:len(talkturns.columns)]) == list(talkturns.columns)
    assert "pitch_median_semitones_speaker" in prosody


def test_parallel_files_give_the_same_values(tmp_path):
    frames = [conversation_file(tmp_path / f"c{i}.wav", [harmonic(100 + 50 * i, 0.3)])
              for i in range(3)]
    talkturns = pd.concat(frames, ignore_index=True)
    one = extract_prosody(talkturns, tmp_path / "*.wav")
    # Threads: loky's fresh interpreters would spend seconds importing torch.
    with joblib.parallel_config(backend="threading"):
        two = extract_prosody(talkturns, tmp_path / "*.wav", n_jobs=2)
    pd.testing.assert_frame_equal(one, two)
    assert one["pitch_median_hz"].is_monotonic_increasing


def test_multichannel_mean_or_one_channel(tmp_path):
    tone = np.r_[np.zeros(int(GAP * RATE)), harmonic(150, 0.5)]
    soundfile.write(tmp_path / "s.wav", np.c_[tone, np.zeros_like(tone)], RATE)
    talkturns = pd.DataFrame({"conversation": ["s"], "turn": [0], "speaker": ["A"],
                              "start": [GAP], "end": [GAP + 0.5]})
    mean = extract_prosody(talkturns, tmp_path / "s.wav")
    first = extract_prosody(talkturns, tmp_path / "s.wav", channel=0)
    assert mean["pitch_median_hz"].iloc[0] == pytest.approx(150, rel=0.02)
    # Half the amplitude in the mean: 6 dB quieter.
    assert first["intensity_db"].iloc[0] - mean["intensity_db"].iloc[0] == \
        pytest.approx(6.02, abs=0.2)
    with pytest.warns(UserWarning, match="fewer than 2 voiced"):
        extract_prosody(talkturns, tmp_path / "s.wav", channel=1)
    with pytest.raises(ValueError, match=r"s\.wav' has 2 channel\(s\); channel=2"):
        extract_prosody(talkturns, tmp_path / "s.wav", channel=2)


def test_talkturn_beyond_the_end(tmp_path):
    soundfile.write(tmp_path / "c.wav", harmonic(150, 1.0), RATE)
    talkturns = pd.DataFrame({"conversation": ["c", "c"], "turn": [0, 1], "speaker": "A",
                              "start": [0.0, 0.5], "end": [0.5, 1.1]})
    with pytest.warns(UserWarning, match="1 of 2 talkturns .* cut at its end"):
        prosody = extract_prosody(talkturns, tmp_path / "c.wav")
    assert prosody["pitch_median_hz"].notna().all()
    talkturns.loc[1, "end"] = 1000.0
    with pytest.raises(ValueError, match=r"Talkturn \('c', 1\) .* ends after .*c\.wav"):
        extract_prosody(talkturns, tmp_path / "c.wav")


def test_short_talkturn_is_missing_with_a_warning(tmp_path):
    soundfile.write(tmp_path / "c.wav", harmonic(150, 1.0), RATE)
    talkturns = pd.DataFrame({"conversation": "c", "turn": [0, 1], "speaker": "A",
                              "start": [0.1, 0.5], "end": [0.12, 0.9]})
    with pytest.warns(UserWarning, match="1 of 2 talkturns .* shorter than the pitch window"):
        prosody = extract_prosody(talkturns, tmp_path / "c.wav")
    assert np.isnan(prosody["pitch_median_hz"].iloc[0])
    assert np.isnan(prosody["intensity_db"].iloc[0])
    assert prosody["pitch_median_hz"].iloc[1] == pytest.approx(150, rel=0.02)


def test_unreadable_file_is_named(tmp_path):
    (tmp_path / "c.wav").write_text("not audio at all")
    talkturns = pd.DataFrame({"conversation": ["c"], "turn": [0], "speaker": ["A"],
                              "start": [0.0], "end": [0.5]})
    with pytest.raises(ValueError, match=r"c\.wav' cannot be read as audio"):
        extract_prosody(talkturns, tmp_path / "c.wav")


def test_ids_without_files(tmp_path):
    soundfile.write(tmp_path / "1.wav", harmonic(150, 0.5), RATE)
    talkturns = pd.DataFrame({"conversation": [1, 2], "turn": [0, 0], "speaker": "A",
                              "start": [0.0, 0.0], "end": [0.5, 0.5]})
    with pytest.raises(ValueError, match=r"No talkturn's id .*astype\(str\)"):
        extract_prosody(talkturns, tmp_path / "1.wav")
    talkturns["conversation"] = talkturns["conversation"].astype(str)
    with pytest.warns(UserWarning, match="1 of 2 talkturns .* have no audio file"):
        prosody = extract_prosody(talkturns, tmp_path / "1.wav")
    assert prosody["pitch_median_hz"].isna().tolist() == [False, True]
    assert np.isnan(prosody["silence_before"].iloc[1])


def test_sample_rate_mismatch_in_one_conversation(tmp_path):
    soundfile.write(tmp_path / "t0.wav", harmonic(150, 0.5), RATE)
    soundfile.write(tmp_path / "t1.wav", harmonic(200, 0.5, rate=22050), 22050)
    talkturns = pd.DataFrame({"conversation": "c", "turn": [0, 1], "speaker": ["A", "B"],
                              "clip": ["t0", "t1"], "start": 0.0, "end": 0.5})
    with pytest.raises(ValueError, match=r"t0\.wav' \(16000 Hz\) and .*t1\.wav' \(22050 Hz\)"):
        extract_prosody(talkturns, tmp_path / "*.wav", audio_column="clip")
    prosody = extract_prosody(talkturns, tmp_path / "*.wav", audio_column="clip",
                              sample_rate=16000)
    np.testing.assert_allclose(prosody["pitch_median_hz"], [150, 200], rtol=0.02)


def test_clipping_is_reported(tmp_path):
    soundfile.write(tmp_path / "c.wav", np.clip(10 * harmonic(150, 0.5), -1, 1), RATE,
                    subtype="PCM_16")
    talkturns = pd.DataFrame({"conversation": ["c"], "turn": [0], "speaker": ["A"],
                              "start": [0.0], "end": [0.5]})
    with pytest.warns(UserWarning, match="1 of 1 talkturns .* clipped"):
        prosody = extract_prosody(talkturns, tmp_path / "c.wav")
    assert prosody["pitch_median_hz"].notna().all()


@pytest.mark.parametrize(("parameter", "value"), [
    ("backend", "vokaturi"), ("channel", -1), ("pitch_floor", 0), ("progress", "yes"),
    ("silence_threshold_db", 5), ("sample_rate", 0.5)])
def test_bad_parameters(tones, parameter, value):
    talkturns, path = tones
    with pytest.raises(ValueError, match=parameter):
        extract_prosody(talkturns, path, **{parameter: value})


def test_opensmile_backend_orders_pitch_and_loudness(speech, tones):
    pytest.importorskip("opensmile")
    talkturns, path = speech
    prosody = extract_prosody(talkturns, path, backend="opensmile")
    pitch = prosody["pitch_median_hz"].to_numpy()
    assert pitch[0] < pitch[1] < pitch[2]
    loudness = prosody["intensity_db"].to_numpy()
    assert loudness[3] < loudness[4] < loudness[5]
    assert "pitch_slope" not in prosody and "egemaps_loudness_mean" in prosody
    talkturns, path = tones
    with pytest.warns(UserWarning, match="fewer than 2 voiced"):
        prosody = extract_prosody(talkturns, path, backend="opensmile")
    assert prosody["pitch_median_hz"].iloc[0] == pytest.approx(150, rel=0.03)
    assert np.isnan(prosody["pitch_median_hz"].iloc[2])
    assert prosody["voiced_fraction"].iloc[2] == 0.0


def test_a_talkturn_starting_before_its_file_is_refused_naming_the_row(tmp_path):
    soundfile.write(tmp_path / "c.wav", harmonic(150, 1.0), RATE)
    talkturns = pd.DataFrame({"conversation": "c", "turn": [0, 1], "speaker": "A",
                              "start": [0.0, -1.0], "end": [0.5, 0.2]}, index=[10, 11])
    with pytest.raises(ValueError, match=r"row 11 of talkturns starts at -1 s.*'start' must "
                                         r"be >= 0"):
        extract_prosody(talkturns, tmp_path / "c.wav")


def test_channels_that_cancel_in_their_mean_are_warned_with_the_energy_kept(tmp_path):
    tone = np.r_[np.zeros(int(GAP * RATE)), harmonic(150, 0.5)]
    # The second channel in opposite phase, a little quieter: the mean keeps a residue
    # 10 * log10(0.05**2 / ((1 + 0.9**2) / 2)) = -25.6 dB below the channels.
    soundfile.write(tmp_path / "s.wav", np.c_[tone, -0.9 * tone], RATE)
    talkturns = pd.DataFrame({"conversation": ["s"], "turn": [0], "speaker": ["A"],
                              "start": [GAP], "end": [GAP + 0.5]})
    with pytest.warns(UserWarning, match=r"1 of 1 talkturns .* cancel in their mean.*s\.wav' "
                                         r"\(-25\.6 dB\).*channel=0"):
        extract_prosody(talkturns, tmp_path / "s.wav")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        first = extract_prosody(talkturns, tmp_path / "s.wav", channel=0)
    assert first["pitch_median_hz"].iloc[0] == pytest.approx(150, rel=0.02)


def test_nan_samples_are_refused_with_their_count_and_place(tmp_path):
    signal = np.r_[np.zeros(int(GAP * RATE)), harmonic(150, 0.5)]
    signal[1000:1010] = np.nan
    soundfile.write(tmp_path / "f.wav", signal, RATE, subtype="FLOAT")
    talkturns = pd.DataFrame({"conversation": ["f"], "turn": [0], "speaker": ["A"],
                              "start": [GAP], "end": [GAP + 0.5]})
    with pytest.raises(ValueError, match=r"f\.wav' holds 10 NaN sample value\(s\), at "
                                         r"sample\(s\) 1000, 1001, .* \(the first 0\.062 s in\)"):
        extract_prosody(talkturns, tmp_path / "f.wav")
