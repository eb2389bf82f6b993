"""Per-talkturn prosody from audio files, with Praat (parselmouth) or openSMILE."""

import importlib
import math
import warnings
from pathlib import Path

import joblib
import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from .._utils.frame import check_talkturn_frame, python_value
from ._readers import check_times, expand_paths, talkturn_share

__all__ = ["PROSODY_COLUMNS", "extract_prosody"]

#: Columns that :func:`extract_prosody` adds with the Praat backend, in order.
PROSODY_COLUMNS = ("pitch_median_hz", "pitch_range_semitones", "pitch_slope",
                   "pitch_median_semitones_speaker", "intensity_db", "voiced_fraction", "jitter",
                   "shimmer", "hnr_db", "silence_before")
# Columns measured per talkturn (the speaker-relative one is derived afterwards).
_MEASURED = tuple(c for c in PROSODY_COLUMNS if c != "pitch_median_semitones_speaker")
# eGeMAPSv02 functionals that correspond to a column of the Praat backend.
_EGEMAPS_EXTRA = {
    "F0semitoneFrom27.5Hz_sma3nz_amean": "egemaps_pitch_mean_semitones",
    "F0semitoneFrom27.5Hz_sma3nz_stddevNorm": "egemaps_pitch_stddev_norm",
    "loudness_sma3_amean": "egemaps_loudness_mean",
    "loudness_sma3_percentile50.0": "egemaps_loudness_median",
    "shimmerLocaldB_sma3nz_amean": "egemaps_shimmer_db",
    "loudnessPeaksPerSec": "egemaps_loudness_peaks_per_second",
    "VoicedSegmentsPerSec": "egemaps_voiced_segments_per_second",
    "MeanVoicedSegmentLengthSec": "egemaps_voiced_segment_seconds",
    "MeanUnvoicedSegmentLength": "egemaps_unvoiced_segment_seconds",
}
_OPENSMILE_COLUMNS = (*(c for c in _MEASURED if c not in ("pitch_slope", "shimmer")),
                      *_EGEMAPS_EXTRA.values())
_EXTRAS = {"praat": ("parselmouth", "prosody"), "opensmile": ("opensmile", "opensmile")}
# A talkturn may end this much after its audio: it is cut at the end (and counted).
_END_TOLERANCE = 0.25
# Samples at or above this magnitude (of full scale 1.0) count as clipped.
_CLIP_LEVEL = 0.999
# A talkturn with more than this share of clipped samples is reported.
_CLIP_SHARE = 0.001
# The mean of the channels warns when it keeps less of their energy than this: two
# unrelated channels keep half (-3 dB), channels in opposite phase next to nothing.
_CANCELLED_DB = -10.0
# Non-finite samples shown by position in the error that refuses them.
_SHOWN_SAMPLES = 5
# Frame step of the silence detector, in seconds.
_SILENCE_STEP = 0.01
# "auto" shows a progress bar from this many files on.
_PROGRESS_FILES = 20


def _import(module, extra):
    try:
        return importlib.import_module(module)
    except ImportError as error:
        raise ImportError(f"extract_prosody needs the {module!r} package: "
                          f"pip install 'skhanrock[{extra}]'.") from error


def _check_finite(path, data, rate):
    """Refuse NaN or infinite samples (float files only), naming how many and where.

    Praat's analyses turn one NaN into NaN over the whole file, which would
    read as silence: the file needs repairing, not measuring.
    """
    bad = ~np.isfinite(data)
    if not bad.any():
        return
    samples = np.flatnonzero(bad.any(axis=1))
    shown = ", ".join(map(str, samples[:_SHOWN_SAMPLES])) + \
        (", ..." if len(samples) > _SHOWN_SAMPLES else "")
    kinds = " or ".join(k for k, m in (("NaN", np.isnan(data)), ("infinite", np.isinf(data)))
                        if m.any())
    raise ValueError(
        f"Audio file {str(path)!r} holds {int(bad.sum())} {kinds} sample value(s), at "
        f"sample(s) {shown} (the first {samples[0] / rate:.3f} s in); no prosody can be "
        "measured over them. Repair the file (e.g. write its samples through "
        "numpy.nan_to_num) and extract again.")


def _kept_energy_db(data, signal):
    """dB of the channels' mean energy that their mean keeps; None for one channel or silence."""
    energy = float(np.mean(data ** 2))
    if data.shape[1] < 2 or energy == 0:
        return None
    with np.errstate(divide="ignore"):
        return float(10 * np.log10(np.mean(signal ** 2) / energy))


def _read_audio(path, channel, sample_rate):
    """Mono float64 samples of one file, its rate, the clipped-sample mask, and the kept dB.

    The kept dB is what ``channel="mean"`` keeps of the channels' energy (None
    otherwise, or for one channel).
    """
    soundfile = _import("soundfile", "prosody")
    try:
        data, rate = soundfile.read(str(path), dtype="float64", always_2d=True)
    except Exception as error:  # libsndfile's errors have no common public base
        raise ValueError(f"Audio file {str(path)!r} cannot be read as audio (WAV, FLAC, ...): "
                         f"{error}") from error
    if data.shape[0] == 0:
        raise ValueError(f"Audio file {str(path)!r} holds no samples.")
    _check_finite(path, data, rate)
    clipped = (np.abs(data) >= _CLIP_LEVEL).any(axis=1)
    kept_db = None
    if channel == "mean":
        signal = data.mean(axis=1)
        kept_db = _kept_energy_db(data, signal)
    else:
        if channel >= data.shape[1]:
            raise ValueError(f"Audio file {str(path)!r} has {data.shape[1]} channel(s); "
                             f"channel={channel} does not exist.")
        signal = data[:, channel].copy()
    if sample_rate is not None and rate != sample_rate:
        from scipy.signal import resample_poly

        divisor = math.gcd(int(sample_rate), int(rate))
        signal = resample_poly(signal, sample_rate // divisor, rate // divisor)
        index = np.minimum((np.arange(len(signal)) * rate / sample_rate).astype(int),
                           len(clipped) - 1)
        clipped, rate = clipped[index], sample_rate
    return signal, int(rate), clipped, kept_db


def _silence_before(signal, rate, starts, threshold_db):
    """Seconds of silence right before each start: 10 ms frames quieter than the threshold.

    A frame is silent when its RMS level is ``threshold_db`` (negative) or more
    below the loudest frame of the file, or exactly zero.
    """
    step = max(1, int(round(_SILENCE_STEP * rate)))
    n_frames = len(signal) // step
    if n_frames == 0:
        return np.zeros(len(starts))
    frames = signal[:n_frames * step].reshape(n_frames, step)
    rms = np.sqrt(np.mean(frames ** 2, axis=1))
    with np.errstate(divide="ignore"):
        level = 20 * np.log10(rms)
    silent = (rms == 0) | (level < level.max() + threshold_db)
    # runs[i]: silent frames in a row that end at frame i (exclusive).
    counted = np.arange(1, n_frames + 1)
    last_sound = np.maximum.accumulate(np.where(silent, 0, counted))
    runs = np.r_[0, counted - last_sound]
    index = np.clip(np.round(starts * rate / step).astype(int), 0, n_frames)
    return np.minimum(runs[index] * step / rate, starts)


def _energy_mean_db(values):
    return float(10 * np.log10(np.mean(10 ** (values / 10)))) if len(values) else np.nan


def _praat_file(signal, rate, spans, pitch_floor, pitch_ceiling):
    """Praat measures of each (start, end) span of one file, analysed once as a whole."""
    parselmouth = _import("parselmouth", "prosody")
    call = parselmouth.praat.call
    sound = parselmouth.Sound(signal, sampling_frequency=rate)
    pitch = sound.to_pitch_ac(time_step=0.01, pitch_floor=pitch_floor,
                              pitch_ceiling=pitch_ceiling)
    f0, f0_times = pitch.selected_array["frequency"], pitch.xs()
    intensity = sound.to_intensity(minimum_pitch=pitch_floor, time_step=0.01)
    level, level_times = intensity.values[0], intensity.xs()
    harmonicity = sound.to_harmonicity_cc(time_step=0.01, minimum_pitch=pitch_floor)
    hnr, hnr_times = harmonicity.values[0], harmonicity.xs()
    points = call([sound, pitch], "To PointProcess (cc)")
    rows = []
    for start, end in spans:
        inside = (f0_times >= start) & (f0_times <= end)
        voiced = f0[inside][f0[inside] > 0]
        row = dict.fromkeys(_MEASURED, np.nan)
        row["voiced_fraction"] = float(len(voiced) / inside.sum()) if inside.any() else np.nan
        levels = level[(level_times >= start) & (level_times <= end)]
        # Praat writes -300 dB for digital silence: no level, not a number to average.
        row["intensity_db"] = _energy_mean_db(levels[levels > -300])
        if len(voiced) >= 2:
            semitones = 12 * np.log2(voiced / 100.0)
            row["pitch_median_hz"] = float(np.median(voiced))
            low, high = np.percentile(semitones, [5, 95])
            row["pitch_range_semitones"] = float(high - low)
            row["pitch_slope"] = float(np.polyfit(f0_times[inside][f0[inside] > 0],
                                                  semitones, 1)[0])
            harmonic = hnr[(hnr_times >= start) & (hnr_times <= end)]
            harmonic = harmonic[harmonic > -200]
            row["hnr_db"] = float(harmonic.mean()) if len(harmonic) else np.nan
            row["jitter"] = float(call(points, "Get jitter (local)", start, end,
                                       0.0001, 0.02, 1.3))
            row["shimmer"] = float(call([sound, points], "Get shimmer (local)", start, end,
                                        0.0001, 0.02, 1.3, 1.6))
        rows.append(row)
    return rows


def _opensmile_file(signal, rate, spans):
    """eGeMAPSv02 functionals of each (start, end) span, mapped to the prosody columns."""
    opensmile = _import("opensmile", "opensmile")
    smile = opensmile.Smile(feature_set=opensmile.FeatureSet.eGeMAPSv02,
                            feature_level=opensmile.FeatureLevel.Functionals)
    rows = []
    for start, end in spans:
        part = signal[int(round(start * rate)):int(round(end * rate))]
        values = smile.process_signal(part.astype(np.float32), rate).iloc[0]
        voiced_share = float(values["VoicedSegmentsPerSec"]
                             * values["MeanVoicedSegmentLengthSec"])
        # "sma3nz" functionals average voiced frames only and are 0 without any: missing.
        is_voiced = values["F0semitoneFrom27.5Hz_sma3nz_percentile50.0"] > 0
        row = {
            "pitch_median_hz": 27.5 * 2 ** (values["F0semitoneFrom27.5Hz_sma3nz_percentile50.0"]
                                            / 12),
            "pitch_range_semitones": values["F0semitoneFrom27.5Hz_sma3nz_pctlrange0-2"],
            "intensity_db": values["equivalentSoundLevel_dBp"],
            "voiced_fraction": min(max(voiced_share, 0.0), 1.0) if is_voiced else 0.0,
            "jitter": values["jitterLocal_sma3nz_amean"],
            "hnr_db": values["HNRdBACF_sma3nz_amean"],
            **{name: values[feature] for feature, name in _EGEMAPS_EXTRA.items()},
        }
        if not is_voiced:
            for name in ("pitch_median_hz", "pitch_range_semitones", "jitter", "hnr_db",
                         "egemaps_pitch_mean_semitones", "egemaps_pitch_stddev_norm",
                         "egemaps_shimmer_db"):
                row[name] = np.nan
        rows.append({name: float(value) for name, value in row.items()})
    return rows


def _measure_file(path, keys, spans, settings):
    """Measure the talkturns of one file; runs in a worker, so notes come back, not warnings.

    Returns the rows (one dict per span), the positions (into ``spans``) of
    the talkturns cut at the end, too short, without voice, and clipped, and
    the dB of the channels' energy that their mean keeps (None if unmixed).
    """
    signal, rate, clipped, kept_db = _read_audio(path, settings["channel"],
                                                 settings["sample_rate"])
    duration = len(signal) / rate
    notes = {"cut": [], "short": [], "unvoiced": [], "clipped": []}
    spans = np.array(spans, dtype=float).reshape(-1, 2)
    for position, ((start, end), key) in enumerate(zip(spans, keys, strict=True)):
        if end > duration + _END_TOLERANCE:
            raise ValueError(
                f"Talkturn {key!r} ({start:g}-{end:g} s) ends after its audio file "
                f"{str(path)!r} ({duration:g} s long). Check that the talkturn times are in "
                "seconds on the recording's clock and that the talkturn's file is the right one.")
        if end > duration:
            spans[position, 1] = duration
            # Within a sample of the end is rounding of the talkturn times, not a cut.
            if end > duration + 1.0 / rate:
                notes["cut"].append(position)
    window = 3.0 / settings["pitch_floor"]
    short = (spans[:, 1] - spans[:, 0]) < window
    notes["short"] = [int(i) for i in np.flatnonzero(short)]
    kept = np.flatnonzero(~short)
    rows = [dict.fromkeys(settings["columns"], np.nan) for _ in spans]
    if len(kept) and duration >= window + 2 / rate:
        try:
            if settings["backend"] == "praat":
                measured = _praat_file(signal, rate, spans[kept], settings["pitch_floor"],
                                       settings["pitch_ceiling"])
            else:
                measured = _opensmile_file(signal, rate, spans[kept])
        except (ImportError, ValueError):
            raise
        except Exception as error:
            raise ValueError(f"Analysing audio file {str(path)!r} failed: {error}") from error
        for position, row in zip(kept, measured, strict=True):
            rows[position].update(row)
    elif len(kept):
        notes["short"] = list(range(len(spans)))
    silence = _silence_before(signal, rate, spans[:, 0], settings["silence_threshold_db"])
    for position, (row, (start, end)) in enumerate(zip(rows, spans, strict=True)):
        row["silence_before"] = float(silence[position])
        if not short[position] and np.isnan(row["pitch_median_hz"]):
            notes["unvoiced"].append(position)
        segment = clipped[int(round(start * rate)):int(round(end * rate))]
        if len(segment) and segment.mean() > _CLIP_SHARE:
            notes["clipped"].append(position)
    return rows, notes, kept_db


def _check_settings(backend, channel, sample_rate, pitch_floor, pitch_ceiling,
                    silence_threshold_db, n_jobs, progress):
    if backend not in _EXTRAS:
        raise ValueError(f"backend must be 'praat' or 'opensmile', got {backend!r}.")
    if channel != "mean" and (isinstance(channel, bool) or not isinstance(channel, (int, np.integer))
                              or channel < 0):
        raise ValueError(f"channel must be 'mean' or a channel index >= 0, got {channel!r}.")
    if sample_rate is not None and (isinstance(sample_rate, bool) or not isinstance(
            sample_rate, (int, np.integer)) or sample_rate <= 0):
        raise ValueError(f"sample_rate must be None or a positive integer, got {sample_rate!r}.")
    for name, value in (("pitch_floor", pitch_floor), ("pitch_ceiling", pitch_ceiling)):
        if isinstance(value, bool) or not isinstance(value, (int, float, np.number)) \
                or not np.isfinite(value) or value <= 0:
            raise ValueError(f"{name} must be a positive number of Hz, got {value!r}.")
    if pitch_ceiling <= pitch_floor:
        raise ValueError(f"pitch_ceiling ({pitch_ceiling!r}) must exceed pitch_floor "
                         f"({pitch_floor!r}).")
    if isinstance(silence_threshold_db, bool) or not isinstance(
            silence_threshold_db, (int, float, np.number)) or not silence_threshold_db < 0:
        raise ValueError(f"silence_threshold_db must be a negative number of dB, got "
                         f"{silence_threshold_db!r}.")
    if progress not in (True, False, "auto"):
        raise ValueError(f"progress must be True, False or 'auto', got {progress!r}.")
    if n_jobs is not None and (isinstance(n_jobs, bool) or not isinstance(n_jobs, (int, np.integer))
                               or n_jobs == 0):
        raise ValueError(f"n_jobs must be None or a non-zero integer, got {n_jobs!r}.")


def _files_by_id(audio):
    paths = expand_paths(audio)
    files = {}
    for path in paths:
        stem = Path(path).stem
        if stem in files:
            raise ValueError(f"Audio files {files[stem]!r} and {path!r} have the same stem "
                             f"{stem!r}; each id must name one file.")
        files[stem] = path
    return files


def _check_ids(ids, files, audio_column, n_talkturns):
    """Rows whose id has no file; an error when no id has one."""
    wanted = list(dict.fromkeys(ids))
    missing = [v for v in wanted if v not in files]
    if not missing:
        return []
    shown = sorted(files)[:5]
    detail = (f"talkturns[{audio_column!r}] has {missing[:5]!r} "
              f"({type(missing[0]).__name__}), the audio file stems are {shown!r}")
    hint = (" The ids match as text: give the column string ids, e.g. "
            f"talkturns[{audio_column!r}].astype(str)."
            if any(str(v) in files for v in missing) else "")
    if len(missing) == len(wanted):
        raise ValueError(f"No talkturn's id has an audio file: {detail}.{hint}")
    rows = [i for i, v in enumerate(ids) if python_value(v) in set(missing)]
    warnings.warn(f"{talkturn_share(len(rows), n_talkturns)} have no audio file (ids "
                  f"{missing[:5]!r}), so their prosody is missing: {detail}.{hint}",
                  UserWarning, stacklevel=3)
    return rows


def _check_rates(files, conversations_of, sample_rate):
    """One conversation's files must share their sample rate, unless all are resampled."""
    soundfile = _import("soundfile", "prosody")
    rates = {}
    for stem, path in files.items():
        try:
            rates[stem] = soundfile.info(str(path)).samplerate
        except Exception as error:
            raise ValueError(f"Audio file {str(path)!r} cannot be read as audio (WAV, FLAC, "
                             f"...): {error}") from error
    if sample_rate is not None:
        return
    first = {}
    for stem, conversations in conversations_of.items():
        for conversation in conversations:
            other = first.setdefault(conversation, stem)
            if rates[other] != rates[stem]:
                raise ValueError(
                    f"Audio files {files[other]!r} ({rates[other]} Hz) and {files[stem]!r} "
                    f"({rates[stem]} Hz) of conversation {conversation!r} differ in sample "
                    "rate; pass sample_rate=... to resample every file to one rate.")


def _speaker_relative(table, pitch, conversation_column, speaker_column):
    """Semitones of each talkturn's median pitch against its speaker's, per conversation."""
    keys = [table[conversation_column]] + ([table[speaker_column]] if speaker_column else [])
    reference = pd.Series(pitch, index=table.index).groupby(keys, dropna=False, sort=False) \
        .transform("median").to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        return 12 * np.log2(pitch / reference)


def extract_prosody(talkturns, audio, *, audio_column="conversation", start_column="start",
                    end_column="end", speaker_column="speaker", backend="praat",
                    channel="mean", sample_rate=None, pitch_floor=75.0, pitch_ceiling=600.0,
                    silence_threshold_db=-25.0, n_jobs=1, progress="auto"):
    """Measure the prosody of every talkturn from its audio file.

    Each talkturn's span ``[start, end]`` (seconds on its file's clock) is
    measured in the audio file whose stem equals the talkturn's
    ``audio_column`` value: one recording per conversation by default; with
    ``audio_column`` set to a per-talkturn id column, one file per talkturn
    (its times are then within that file). Files are read with ``soundfile``
    (WAV, FLAC, OGG, ...), one file at a time per worker.

    With ``backend="praat"`` (extra ``prosody``: praat-parselmouth) Praat's
    own algorithms analyse each file once, 10 ms frames: pitch by
    autocorrelation (``pitch_floor``-``pitch_ceiling`` Hz), intensity,
    harmonicity (cross-correlation) and a periodic point process, which the
    talkturns' spans then read:

    - ``pitch_median_hz``: median F0 of the voiced frames;
    - ``pitch_range_semitones``: 5th to 95th percentile of F0, in semitones;
    - ``pitch_slope``: least-squares slope of F0 in semitones per second;
    - ``pitch_median_semitones_speaker``: ``pitch_median_hz`` in semitones
      against the median of the same speaker's talkturn medians *within the
      conversation* (against the conversation's when ``speaker_column`` is
      None). It uses every talkturn given, also those later used for testing:
      it is unsupervised (no label is read), so no label leaks;
    - ``intensity_db``: energy mean of Praat's intensity (dB, taking the
      samples as Pascal: only differences between talkturns of one recording
      chain are meaningful);
    - ``voiced_fraction``: share of the span's pitch frames that are voiced;
    - ``jitter``, ``shimmer``: Praat's local jitter and local shimmer
      (fractions);
    - ``hnr_db``: mean harmonics-to-noise ratio of the voiced frames;
    - ``silence_before``: seconds of silence in the audio right before the
      talkturn's start: consecutive 10 ms frames whose RMS level is
      ``silence_threshold_db`` or more below the file's loudest frame
      (0.0 when the talkturn starts in sound).

    With ``backend="opensmile"`` (extra ``opensmile``) each span gets the
    eGeMAPSv02 functionals, mapped where they correspond:
    ``pitch_median_hz`` from ``F0semitoneFrom27.5Hz_sma3nz_percentile50.0``,
    ``pitch_range_semitones`` from ``..._pctlrange0-2`` (20th to 80th
    percentile, narrower than Praat's), ``intensity_db`` from
    ``equivalentSoundLevel_dBp`` (another reference level than Praat's),
    ``voiced_fraction`` from ``VoicedSegmentsPerSec`` times
    ``MeanVoicedSegmentLengthSec``, ``jitter`` from
    ``jitterLocal_sma3nz_amean``, ``hnr_db`` from ``HNRdBACF_sma3nz_amean``;
    ``silence_before`` and ``pitch_median_semitones_speaker`` are computed as
    above. eGeMAPS has no pitch slope and its shimmer is in dB, so
    ``pitch_slope`` and ``shimmer`` are absent; columns ``egemaps_*`` add the
    F0 mean and its spread, loudness mean and median, shimmer in dB, loudness
    peaks and voiced segments per second, and the mean voiced and unvoiced
    segment lengths.

    Bad input, case by case:

    - an unreadable or non-audio file, a file without samples, a ``channel``
      it lacks: ValueError naming the file;
    - NaN or infinite samples (float files): ValueError naming the file, how
      many there are and the first of them (Praat would turn the whole file's
      pitch into NaN, which would read as silence);
    - ``channel="mean"`` over channels that cancel each other (the mean
      keeps under -10 dB of their energy, as with a channel in opposite
      phase): values kept, warned with the dB kept per file;
    - a talkturn starting before 0 s: ValueError naming its row;
    - a talkturn ending more than 0.25 s after its file: ValueError naming the
      file and the talkturn (usually milliseconds for seconds, or the wrong
      file); ending less than 0.25 s after: cut at the end, with a warning
      that counts them;
    - a talkturn shorter than Praat's pitch window (``3 / pitch_floor``
      seconds, 40 ms by default), or whose file is: every measure but
      ``silence_before`` missing, warned with a count;
    - a talkturn without voiced frames (silence, noise, whisper), or with only
      one: pitch, jitter, shimmer and HNR missing, ``voiced_fraction`` 0.0,
      warned with a count; digital silence (all samples zero) also has no
      ``intensity_db``;
    - clipping (over 0.1% of a talkturn's samples at full scale on any
      channel): values kept, as jitter, shimmer and HNR are then biased,
      warned with a count;
    - files of one conversation at different sample rates: ValueError naming
      both files, unless ``sample_rate`` resamples every file;
    - an id without a file: its talkturns' prosody missing, warned with a
      count; ValueError when no id has a file (with a hint when the ids match
      as text, e.g. integer conversation ids against string stems);
    - a talkturn without start or end: its prosody missing, warned with a
      count; a talkturn ending before it starts: ValueError.

    Parameters
    ----------
    talkturns : DataFrame
        Talkturn frame with the id, start and end columns (and the speaker
        column unless ``speaker_column`` is None).
    audio : str, path, glob pattern or list of them
        The audio files, e.g. ``"audio/*.wav"``; each file's stem is its id.
    audio_column : str, default="conversation"
        Column of ``talkturns`` whose values are the file stems (strings).
    start_column, end_column : str, default="start", "end"
        Columns with the talkturn's times in its file, in seconds.
    speaker_column : str or None, default="speaker"
        Column naming the speaker, for ``pitch_median_semitones_speaker``.
    backend : {"praat", "opensmile"}, default="praat"
        Which analysis measures the talkturns.
    channel : "mean" or int, default="mean"
        Multichannel audio: the mean of the channels, or this channel only
        (0 is the first).
    sample_rate : int or None, default=None
        Resample every file to this rate (Hz) first; None keeps each file's.
    pitch_floor, pitch_ceiling : float, default=75.0, 600.0
        Pitch search range in Hz (Praat backend; the floor also sets the
        shortest talkturn measured).
    silence_threshold_db : float, default=-25.0
        Level below the file's loudest 10 ms frame at which a frame is
        silent, for ``silence_before``.
    n_jobs : int or None, default=1
        Files measured in parallel (joblib; -1: every core).
    progress : bool or "auto", default="auto"
        Show a progress bar over files; "auto" shows it from 20 files on.

    Returns
    -------
    DataFrame
        A copy of ``talkturns`` with the prosody columns added (replacing
        any of the same name); the input is not modified.

    Raises
    ------
    ValueError
        For the bad-input cases above that are errors.
    ImportError
        When the backend's extra is not installed.

    Warns
    -----
    UserWarning
        For the bad-input cases above that leave values missing, with counts.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> import numpy as np, pandas as pd, soundfile
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> rate = 16000
    >>> t = np.arange(rate) / rate
    >>> tone = sum(np.sin(2 * np.pi * 150 * k * t) / k for k in range(1, 6))
    >>> voice = np.r_[np.zeros(rate // 2), 0.3 * tone]
    >>> soundfile.write(folder / "call1.wav", voice, rate)
    >>> talkturns = pd.DataFrame({"conversation": ["call1"], "turn": [0], "speaker": ["A"],
    ...                           "start": [0.5], "end": [1.4]})
    >>> prosody = extract_prosody(talkturns, folder / "*.wav")
    >>> round(float(prosody["pitch_median_hz"].iloc[0]))
    150
    >>> round(float(prosody["silence_before"].iloc[0]), 1)
    0.5
    """
    _check_settings(backend, channel, sample_rate, pitch_floor, pitch_ceiling,
                    silence_threshold_db, n_jobs, progress)
    _import("soundfile", _EXTRAS[backend][1])
    _import(*_EXTRAS[backend])
    required = [audio_column, start_column, end_column]
    table = check_talkturn_frame(
        talkturns, required=required + ([speaker_column] if speaker_column else []),
        name="talkturns")
    times = check_times(table, start_column, end_column, "talkturns")
    _check_starts(table, times, start_column)
    files = _files_by_id(audio)
    ids = [python_value(v) for v in table[audio_column]]
    no_file = set(_check_ids(ids, files, audio_column, len(table)))
    untimed = [i for i in range(len(table)) if i not in no_file and np.isnan(times[i]).any()]
    if untimed:
        warnings.warn(f"{talkturn_share(len(untimed), len(table))} have no start or end time, so "
                      "their prosody is missing.", UserWarning, stacklevel=2)
    skipped = no_file | set(untimed)
    by_file = {}
    for i, file_id in enumerate(ids):
        if i not in skipped:
            by_file.setdefault(file_id, []).append(i)
    conversations = table["conversation"].to_numpy()
    _check_rates({stem: files[stem] for stem in by_file},
                 {stem: set(conversations[rows].tolist()) for stem, rows in by_file.items()},
                 sample_rate)
    columns = _MEASURED if backend == "praat" else _OPENSMILE_COLUMNS
    settings = {"backend": backend, "channel": channel, "sample_rate": sample_rate,
                "pitch_floor": float(pitch_floor), "pitch_ceiling": float(pitch_ceiling),
                "silence_threshold_db": float(silence_threshold_db), "columns": columns}
    turns = table["turn"].to_numpy()
    jobs = (joblib.delayed(_measure_file)(
        files[stem], [(python_value(conversations[i]), python_value(turns[i])) for i in rows],
        times[rows].tolist(), settings) for stem, rows in by_file.items())
    show = progress is True or (progress == "auto" and len(by_file) >= _PROGRESS_FILES)
    results = joblib.Parallel(n_jobs=n_jobs, return_as="generator")(jobs)
    values = np.full((len(table), len(columns)), np.nan)
    counts = {"cut": 0, "short": 0, "unvoiced": 0, "clipped": 0}
    cancelled = []
    for (stem, rows), (measured, notes, kept_db) in zip(
            by_file.items(), tqdm(results, total=len(by_file), disable=not show,
                                  desc="prosody", unit="file"), strict=True):
        values[rows] = [[row[c] for c in columns] for row in measured]
        for name, positions in notes.items():
            counts[name] += len(positions)
        if kept_db is not None and kept_db < _CANCELLED_DB:
            cancelled.append((files[stem], kept_db, len(rows)))
    _warn_notes(counts, len(table), pitch_floor)
    _warn_cancelled(cancelled, len(table))
    added = dict(zip(columns, values.T, strict=True))
    added["pitch_median_semitones_speaker"] = _speaker_relative(
        table, added["pitch_median_hz"], "conversation", speaker_column)
    order = [c for c in PROSODY_COLUMNS if c in added] + \
        [c for c in added if c not in PROSODY_COLUMNS]
    # Assigned by position: a join on the index would multiply rows of a duplicate index.
    return table.drop(columns=[c for c in order if c in table.columns]).assign(
        **{name: added[name] for name in order})


def _check_starts(table, times, start_column):
    """Talkturn times are seconds into their audio file: none may start before it."""
    negative = times[:, 0] < 0
    if negative.any():
        first = np.flatnonzero(negative)[0]
        raise ValueError(
            f"Talkturn at row {python_value(table.index[first])!r} of talkturns starts at "
            f"{times[first, 0]:g} s, before its audio file begins ({int(negative.sum())} "
            f"talkturn(s) do): {start_column!r} must be >= 0, in seconds on the recording's "
            "clock.")


def _warn_cancelled(cancelled, total):
    """Warn of files whose channels cancel in their mean, with the energy it keeps."""
    if not cancelled:
        return
    n_talkturns = sum(n for _, _, n in cancelled)
    shown = ", ".join(f"{str(path)!r} ({db:.1f} dB)" for path, db, _ in cancelled[:5])
    warnings.warn(
        f"{talkturn_share(n_talkturns, total)} lie in {len(cancelled)} multichannel file(s) whose "
        f"channels cancel in their mean: channel='mean' keeps under {_CANCELLED_DB:g} dB of "
        f"the channels' energy in {shown}, so their measures read what is left (a channel in "
        "opposite phase?). Pass channel=0 (or another index) to measure one channel.",
        UserWarning, stacklevel=3)


def _warn_notes(counts, total, pitch_floor):
    messages = {
        "cut": f"end less than {_END_TOLERANCE:g} s after their audio file, so they were cut "
               "at its end",
        "short": f"are shorter than the pitch window ({3 / pitch_floor * 1000:.0f} ms at "
                 f"pitch_floor={pitch_floor:g} Hz), or lie in a file that is, so their "
                 "prosody is missing (silence_before is kept)",
        "unvoiced": "have fewer than 2 voiced pitch frames (silence, noise or whisper), so "
                    "their pitch, jitter, shimmer and HNR are missing and voiced_fraction is 0",
        "clipped": f"have over {_CLIP_SHARE:.1%} of their samples clipped (at full scale), "
                   "which biases jitter, shimmer and HNR; their values are kept",
    }
    for name, count in counts.items():
        if count:
            warnings.warn(f"{talkturn_share(count, total)} {messages[name]}.", UserWarning,
                          stacklevel=3)
