"""Readers for OpenFace and Vokaturi outputs, and the frame-to-talkturn aligner."""

import codecs
import csv
import glob
import io
import os
import re
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from .._utils.frame import check_numeric_columns, check_talkturn_frame, python_value

__all__ = ["VOKATURI_EMOTIONS", "align_frames", "read_openface", "read_vokaturi", "file_places",
           "read_csv_checked", "read_text_checked", "text_lines", "check_times", "expand_paths",
           "talkturn_share"]

#: Emotion probabilities of a Vokaturi table, in its column order.
VOKATURI_EMOTIONS = ("neutrality", "happiness", "sadness", "anger", "fear")
_OPENFACE_REQUIRED = ("frame", "timestamp", "confidence", "success")
# Neighbouring frames further apart than this many frame durations are not
# consecutive: the frames between them are missing from the file.
_GAP_FRAMES = 1.5


def expand_paths(path):
    """The files that ``path`` names: an existing path as it is, else a glob pattern.

    A path is tried first, so that an existing file whose name holds glob
    characters (``take[1].csv``) is read, not taken as a pattern that matches
    ``take1.csv`` or nothing.
    """
    if isinstance(path, (str, os.PathLike)):
        text = str(path)
        is_pattern = not Path(text).exists() and any(c in text for c in "*?[")
        paths = sorted(glob.glob(text)) if is_pattern else [text]
    else:
        paths = [str(p) for p in path]
    if not paths:
        raise ValueError(f"No file matches {path!r}.")
    missing = [p for p in paths if not Path(p).is_file()]
    if missing:
        raise FileNotFoundError(f"No such file: {missing[0]!r}.")
    return paths


# Longest first: the UTF-32 little-endian mark starts with the UTF-16 one.
_BYTE_ORDER_MARKS = ((codecs.BOM_UTF32_LE, "utf-32-le"), (codecs.BOM_UTF32_BE, "utf-32-be"),
                     (codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"),
                     (codecs.BOM_UTF16_BE, "utf-16-be"))


def _decode(data, path, what):
    """The text of a file's bytes, and its encoding.

    UTF-8, unless a byte-order mark names UTF-16 or UTF-32; the mark itself is
    not part of the text (left in, it hides the first line from every line
    pattern). Bytes that do not decode are an error naming the file and the
    byte offset: replacing them would change the text silently.
    """
    encoding, skip = "utf-8", 0
    for mark, codec in _BYTE_ORDER_MARKS:
        if data.startswith(mark):
            encoding, skip = codec, len(mark)
            break
    try:
        return data[skip:].decode(encoding), encoding
    except UnicodeDecodeError as error:
        offset = skip + error.start
        raise ValueError(
            f"{what} {str(path)!r} is not a {encoding.upper()} text file: byte "
            f"0x{data[offset]:02x} at offset {offset} cannot be decoded ({error.reason}). "
            "Files are read as UTF-8, or as UTF-16/UTF-32 when they start with a byte-order "
            "mark; re-encode it as UTF-8 (e.g. iconv -f latin1 -t utf-8).") from error


def read_text_checked(path, what):
    """A text file's content, decoded as :func:`_decode` does; errors name the file."""
    return _decode(Path(path).read_bytes(), path, what)[0]


def text_lines(text):
    """Lines split at ``\\n``, ``\\r\\n`` and ``\\r`` only.

    ``str.splitlines`` also splits at characters such as U+0085 or U+2028,
    which may sit inside an utterance and would cut its line in two.
    """
    return re.split(r"\r\n|\r|\n", text.removesuffix("\n").removesuffix("\r")) if text else []


def _fields_agree_without_quotes(text):
    """True when ``text`` has no quotes and as many commas on every line as on its first.

    Counting commas is several times faster than the csv module, which only
    files with quotes, blank lines or a problem to report still go through.
    """
    if not text.strip() or '"' in text:
        return False
    return len({line.count(",") for line in text.rstrip("\r\n").split("\n")}) == 1


def _check_field_counts(text, path, what, skip_initial_space):
    """Refuse an empty file, a non-CSV file, or a line whose field count differs from the header.

    Given a line with one field more than the header, pandas takes the first
    field as the row's index and shifts every value one column right; a line
    with fewer fields it pads with missing values. Both would be silent.
    """
    if _fields_agree_without_quotes(text):
        return
    try:
        with io.StringIO(text, newline="") as file:
            lines = csv.reader(file, skipinitialspace=skip_initial_space)
            # pandas skips blank (or blank-looking) lines, so they count as no row.
            rows = (row for row in lines if "".join(row).strip() or len(row) > 1)
            header = next(rows, None)
            if header is None:
                raise ValueError(f"{what} {str(path)!r} is empty: expected a header line, "
                                 "then one line per row.")
            for row in rows:
                if len(row) != len(header):
                    raise ValueError(
                        f"{what} {str(path)!r}, line {lines.line_num}: {len(row)} fields where "
                        f"the header has {len(header)}; every line must hold one value per "
                        "column.")
    except csv.Error as error:
        raise ValueError(f"{what} {str(path)!r} is not a UTF-8 text CSV file: {error}.") \
            from error


def read_csv_checked(path, what, skip_initial_space=True):
    """Read one CSV file whose every line has the header's fields; errors name the file.

    Parameters
    ----------
    path : str or path
        The file: UTF-8, or UTF-16/UTF-32 with a byte-order mark.
    what : str
        What the file is, for the messages, e.g. ``"OpenFace file"``.
    skip_initial_space : bool, default=True
        Drop the spaces after each comma (OpenFace writes ``", "``).

    Returns
    -------
    DataFrame
        The rows, with a default index: no column is taken as the index.
    """
    text, encoding = _decode(Path(path).read_bytes(), path, what)
    _check_field_counts(text, path, what, skip_initial_space)
    # A UTF-8 file from the path, not from the text already read: pandas parses a
    # buffer in chunks into a fragmented frame, slower than a second (cached) read.
    # pandas drops a UTF-8 byte-order mark itself; other encodings go as text.
    source = path if encoding == "utf-8" else io.StringIO(text)
    try:
        return pd.read_csv(source, skipinitialspace=skip_initial_space, index_col=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as error:
        raise ValueError(f"{what} {str(path)!r} is not a readable CSV file: {error}") from error


def file_places(places, limit=5):
    """``'a.txt' (lines 3, 7), 'b.txt' (line 2)``: at most ``limit`` files of ``places``.

    ``places`` maps a file (or any name) to its line numbers, or to a note.
    """
    def describe(detail):
        if isinstance(detail, str):
            return detail
        numbers = ", ".join(map(str, detail[:limit])) + (", ..." if len(detail) > limit else "")
        return f"line{'s' if len(detail) > 1 else ''} {numbers}"

    shown = [f"{str(name)!r} ({describe(detail)})" for name, detail in
             list(places.items())[:limit]]
    rest = len(places) - limit
    return ", ".join(shown) + (f" and {rest} more" if rest > 0 else "")


def check_times(table, start_column, end_column, name, allow_nan=True):
    """Talkturn start and end times as a float array; none may end before it starts."""
    times = check_numeric_columns(table, [start_column, end_column], name=name,
                                  allow_nan=allow_nan)
    backwards = times[:, 1] < times[:, 0]
    if backwards.any():
        row = table.index[np.flatnonzero(backwards)[0]]
        raise ValueError(f"Talkturn at row {row!r} of {name} ends before it starts: "
                         f"{end_column!r} must be >= {start_column!r}.")
    return times


def read_openface(path, video=None):
    """Read OpenFace 2.x FeatureExtraction CSV files into one frame table.

    OpenFace writes ``frame, face_id, timestamp, confidence, success, ...,
    AUxx_r, AUxx_c`` with a space after every comma, header included; both are
    handled. Each file's rows get a ``video`` column: the file name without its
    extension, unless ``video`` names them. Files are UTF-8, or UTF-16/UTF-32
    with a byte-order mark.

    Parameters
    ----------
    path : str, path, glob pattern or list of them
        One file, several files, or a pattern such as ``"openface/*.csv"``.
        An existing path is read as that file even when its name holds glob
        characters (``take[1].csv``); only a path that does not exist is
        taken as a pattern.
    video : str, list of str or None, default=None
        Video id of each file; the file stems when None.

    Returns
    -------
    DataFrame
        All rows of all files, with ``video`` first.

    Raises
    ------
    ValueError
        When a file is empty or not a CSV text file (bytes that do not decode
        are named by their offset), a line has more or fewer fields than the
        header, a required column is missing or not numeric, or two files of
        the same video overlap in time; the message names the file.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (folder / "call1.csv").write_text(
    ...     "frame, face_id, timestamp, confidence, success, AU05_r, AU05_c\\n"
    ...     "1, 0, 0.000, 0.98, 1, 1.20, 1\\n2, 0, 0.033, 0.97, 1, 0.40, 0\\n")
    >>> read_openface(folder / "call1.csv")[["video", "timestamp", "AU05_r"]].shape
    (2, 3)
    """
    paths = expand_paths(path)
    videos = [Path(p).stem for p in paths] if video is None else (
        [video] if isinstance(video, str) else list(video))
    if len(videos) != len(paths):
        raise ValueError(f"video names {len(videos)} ids for {len(paths)} files.")
    tables = [_read_one_openface(p, v) for p, v in zip(paths, videos, strict=True)]
    frames = pd.concat(tables, ignore_index=True)
    _check_no_overlap(frames)
    return frames.drop(columns="_file")


def _read_one_openface(path, video):
    table = read_csv_checked(path, "OpenFace file")
    table.columns = [str(c).strip() for c in table.columns]
    missing = [c for c in _OPENFACE_REQUIRED if c not in table.columns]
    if missing:
        raise ValueError(f"{path}: not an OpenFace FeatureExtraction file, the column(s) "
                         f"{missing} are missing.")
    numeric = [c for c in table.columns if c in _OPENFACE_REQUIRED or c.startswith("AU")]
    check_numeric_columns(table, numeric, name=str(path))
    table.insert(0, "video", video)
    table["_file"] = path
    return table


def _check_no_overlap(frames):
    spans = frames.groupby(["video", "_file"])["timestamp"].agg(["min", "max"]).reset_index()
    for video, group in spans.groupby("video"):
        group = group.sort_values("min")
        overlapping = group["min"].to_numpy()[1:] <= group["max"].to_numpy()[:-1]
        if overlapping.any():
            i = int(np.flatnonzero(overlapping)[0])
            raise ValueError(
                f"Frame files {group['_file'].iloc[i]!r} and {group['_file'].iloc[i + 1]!r} "
                f"of video {video!r} overlap in time; each moment of a video must come from "
                "one file.")


def read_vokaturi(path, key_columns=("conversation", "turn")):
    """Read per-talkturn Vokaturi emotion probabilities.

    The expected CSV has the talkturn key (``conversation, turn`` by default)
    and the five probabilities ``neutrality, happiness, sadness, anger,
    fear``; they come back as ``tone_neutrality ... tone_fear``, the columns
    that :class:`~skhanrock.MonahTranscriber` and
    :class:`~skhanrock.AuxiliaryTargets` read.

    Parameters
    ----------
    path : str, path, glob pattern or list of them
        One table, several tables (e.g. one per conversation) or a pattern
        such as ``"vokaturi/*.csv"``; their rows are concatenated in file
        order (a pattern's matches sorted by name).
    key_columns : tuple of str, default=("conversation", "turn")
        Columns that identify the talkturn of each row, to merge the tones
        into the talkturn frame.

    Returns
    -------
    DataFrame
        The key columns and ``tone_neutrality ... tone_fear``, one row per
        row of the files.

    Raises
    ------
    ValueError
        When a file is empty or not a CSV text file, a line has more or fewer
        fields than the header, a column is missing, or a value is not a
        probability; the message names the file.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> file = pathlib.Path(tempfile.mkdtemp()) / "tone.csv"
    >>> _ = file.write_text("conversation,turn,neutrality,happiness,sadness,anger,fear\\n"
    ...                     "c1,0,0.6,0.2,0.1,0.05,0.05\\n")
    >>> list(read_vokaturi(file).columns)
    ['conversation', 'turn', 'tone_neutrality', 'tone_happiness', 'tone_sadness', \
'tone_anger', 'tone_fear']
    """
    tables = [_read_one_vokaturi(p, list(key_columns)) for p in expand_paths(path)]
    return pd.concat(tables, ignore_index=True)


def _read_one_vokaturi(path, key_columns):
    table = read_csv_checked(path, "Vokaturi table")
    missing = [c for c in (*key_columns, *VOKATURI_EMOTIONS) if c not in table.columns]
    if missing:
        raise ValueError(f"Vokaturi table {path!r} lacks the column(s) {missing}.")
    values = check_numeric_columns(table, list(VOKATURI_EMOTIONS), name=str(path))
    outside = (values < 0) | (values > 1)
    if outside.any():
        row, column = np.argwhere(outside)[0]
        raise ValueError(f"Vokaturi table {path!r}: {VOKATURI_EMOTIONS[column]!r} at row {row} "
                         f"is {values[row, column]}, not a probability in [0, 1].")
    return table[[*key_columns, *VOKATURI_EMOTIONS]].rename(
        columns={e: f"tone_{e}" for e in VOKATURI_EMOTIONS})


def _longest_run_seconds(present, timestamps, frame_seconds):
    """Length in seconds of the longest run of consecutive present frames.

    ``present`` and ``timestamps`` cover every frame of the window, usable or
    not, with excluded frames marked absent, so that a lost face splits a run.
    Frames missing from the file split it too: a gap of more than 1.5 frame
    durations between neighbours ends the run.
    """
    if not present.any():
        return 0.0
    breaks = np.diff(timestamps) > _GAP_FRAMES * frame_seconds
    starts = present & np.r_[True, ~present[:-1] | breaks]
    stops = present & np.r_[~present[1:] | breaks, True]
    return float((timestamps[stops] - timestamps[starts]).max() + frame_seconds)


def _feature_names(action_units, columns, present_seconds):
    names = []
    for au in action_units:
        if f"{au}_r" in columns:
            names.append(f"{au}_r")
        if f"{au}_c" in columns:
            names.append(f"{au}_c")
            if present_seconds is not None:
                names.append(f"{au}_present")
    if "AU06_c" in columns and "AU12_c" in columns:
        names.append("smile")
    return names


class _Video:
    """One video's frames as arrays, sorted by time, with its frame duration."""

    def __init__(self, columns, min_confidence):
        order = np.argsort(columns["timestamp"], kind="stable")
        self.columns = {name: values[order] for name, values in columns.items()}
        self.timestamps = self.columns["timestamp"]
        # success is a flag: a tool that writes it as a float (0.999999) still means 1.
        self.usable = (self.columns["success"] >= 0.5) & \
            (self.columns["confidence"] >= min_confidence)
        # Per video: videos recorded at different rates must not share one estimate.
        steps = np.diff(np.unique(self.timestamps))
        self.frame_seconds = float(np.median(steps)) if len(steps) else 0.0

    def window(self, start, end):
        return slice(np.searchsorted(self.timestamps, start, "left"),
                     np.searchsorted(self.timestamps, end, "right"))


def _talkturn_features(video, window, names, present_seconds, smile_seconds):
    """Features of one talkturn's frames, at least one of them usable.

    Means and "every frame" flags use the usable frames only; runs are measured
    over every frame of the window, so that an excluded frame breaks them.
    """
    usable = video.usable[window]
    stamps = video.timestamps[window]

    def present(column):
        return usable & (video.columns[column][window] == 1)

    def lasts(flags, seconds):
        return float(_longest_run_seconds(flags, stamps, video.frame_seconds) >= seconds)

    features = {}
    for name in names:
        if name.endswith("_r"):
            # A missing intensity in one frame must not void the talkturn's mean.
            values = video.columns[name][window][usable]
            values = values[~np.isnan(values)]
            features[name] = float(values.mean()) if len(values) else np.nan
        elif name.endswith("_c"):
            features[name] = float(present(name)[usable].all())
        elif name.endswith("_present"):
            features[name] = lasts(present(name[:-8] + "_c"), present_seconds)
    if "smile" in names:
        features["smile"] = lasts(present("AU06_c") & present("AU12_c"), smile_seconds)
    return features


def _check_videos_match(talkturn_videos, frame_videos, video_column):
    """Talkturns whose video has no frame at all get missing features: say so.

    The usual cause is ids of different types (integer conversation ids
    against the string file stems of ``read_openface``), which would otherwise
    leave every feature silently missing.
    """
    wanted = [python_value(v) for v in pd.unique(talkturn_videos)]
    available = {python_value(v) for v in pd.unique(frame_videos)}
    missing = [v for v in wanted if v not in available]
    if not missing:
        return
    shown = sorted(available, key=str)[:5]
    detail = (f"talkturns[{video_column!r}] has {missing[:5]!r} "
              f"({type(missing[0]).__name__}), frames['video'] has {shown!r}"
              + (f" ({type(shown[0]).__name__})" if shown else " (no frame at all)"))
    text_ids = {str(v) for v in available}
    hint = (" The ids match as text: give both columns the same type, e.g. "
            f"talkturns[{video_column!r}].astype(str)."
            if any(str(v) in text_ids for v in missing) else "")
    if len(missing) == len(wanted):
        raise ValueError(f"No talkturn's video has frames: {detail}.{hint}")
    warnings.warn(
        f"{len(missing)} of {len(wanted)} videos of the talkturns have no frames, so their "
        f"talkturns get missing features: {detail}.{hint}", UserWarning, stacklevel=3)


def talkturn_share(count, total):
    return f"{count} of {total} talkturns ({count / total:.0%})"


def _frameless_cause(table, times, videos, video_column, frameless):
    """What most likely left talkturns without a frame in their span, in words."""
    rows = [row for row, video in enumerate(table[video_column]) if video in videos]
    turn_end = np.nanmax(times[rows, 1])
    frame_end = max(float(videos[table[video_column].iloc[row]].timestamps[-1]) for row in rows)
    # OpenFace writes seconds; a factor of about 1000 between the clocks is a unit mix-up.
    if frame_end > 0 and turn_end > 0 and not 0.01 <= turn_end / frame_end <= 100:
        larger, smaller = ("frame timestamps", "talkturn times") if frame_end > turn_end \
            else ("talkturn times", "frame timestamps")
        return (f"the {larger} (up to {max(frame_end, turn_end):g}) are about "
                f"{max(frame_end, turn_end) / min(frame_end, turn_end):.0f} times the {smaller} "
                f"(up to {min(frame_end, turn_end):g}): one of them is likely in milliseconds; "
                "give both in seconds")
    outside = []
    for row in frameless:
        stamps = videos[table[video_column].iloc[row]].timestamps
        if times[row, 1] < stamps[0] or times[row, 0] > stamps[-1]:
            outside.append(row)
    if outside:
        row = outside[0]
        stamps = videos[table[video_column].iloc[row]].timestamps
        return (f"{len(outside)} of them lie outside the frames' times of their video (e.g. "
                f"row {table.index[row]!r}: {times[row, 0]:g}-{times[row, 1]:g} s against "
                f"frames {stamps[0]:g}-{stamps[-1]:g} s): check that talkturns and frames share "
                "one clock and that the talkturns' video is right")
    return ("they fall between frames: shorter than a frame duration, or in a stretch the "
            "file has no frames for")


def _warn_talkturns_without_frames(table, times, videos, video_column, frameless, unusable,
                                   min_confidence):
    """Say how many talkturns of a video with frames got missing features, and why.

    Seconds against milliseconds, or talkturns outside the video, would
    otherwise give missing features everywhere without a word.
    """
    if frameless:
        cause = _frameless_cause(table, times, videos, video_column, frameless)
        warnings.warn(f"{talkturn_share(len(frameless), len(table))} have no frame in their "
                      f"[start, end] span, so their features are missing; {cause}.",
                      UserWarning, stacklevel=3)
    if unusable:
        warnings.warn(f"{talkturn_share(len(unusable), len(table))} have frames but none usable "
                      f"(success < 0.5 or confidence < min_confidence={min_confidence:g}), so "
                      "their features are missing.", UserWarning, stacklevel=3)


def _check_align_parameters(min_confidence, smile_seconds, present_seconds):
    for name, value in (("min_confidence", min_confidence), ("smile_seconds", smile_seconds),
                        ("present_seconds", present_seconds)):
        if name == "present_seconds" and value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, (int, float, np.number)) \
                or not np.isfinite(value) or value < 0:
            raise ValueError(f"{name} must be a non-negative number, got {value!r}.")


def align_frames(talkturns, frames, *, video_column="conversation", start_column="start",
                 end_column="end", min_confidence=0.8, smile_seconds=0.5, present_seconds=None):
    """Attach frame-level OpenFace features to the talkturns they fall in.

    For every talkturn, the frames of its video with ``start <= timestamp <=
    end``, ``success`` set (``>= 0.5``: it is a flag, also when written as
    ``0.999999``) and ``confidence >= min_confidence`` are its usable
    frames. From them: the mean intensity ``AUxx_r``, the flag ``AUxx_c`` (1.0
    when the action unit is present in *every* usable frame, else 0.0),
    optionally ``AUxx_present`` (present for a run of at least
    ``present_seconds``), and ``smile`` (AU06 and AU12 present together for a
    run of at least ``smile_seconds``). A talkturn without any usable frame
    gets missing values, not zeros.

    A run is a stretch of consecutive frames where the action unit is present:
    an excluded frame (tracking failed or low confidence) ends it, and so does
    a gap of more than 1.5 frame durations between neighbouring frames (frames
    missing from the file). A run of ``k`` frames lasts ``k`` frame durations;
    the frame duration is the median step between the timestamps of each
    video, estimated per video.

    Parameters
    ----------
    talkturns : DataFrame
        Talkturn frame with the video column and start/end times (seconds).
    frames : DataFrame
        From :func:`read_openface`: ``video, timestamp, confidence, success,
        AUxx_r, AUxx_c``.
    video_column : str, default="conversation"
        Column of ``talkturns`` naming the video of each talkturn; its values
        must equal ``frames["video"]`` (same type too: ``read_openface`` names
        videos by their file stems, which are strings).
    start_column, end_column : str, default="start", "end"
        Columns of ``talkturns`` with the talkturn's times in the video, in
        seconds, on the clock of the frames' ``timestamp``.
    min_confidence : float, default=0.8
        Frames whose face-tracking confidence is lower are ignored.
    smile_seconds : float, default=0.5
        Shortest run of AU06 and AU12 together that counts as a smile.
    present_seconds : float or None, default=None
        When given, add ``AUxx_present``: 1.0 when the action unit is present
        for a run of at least this many seconds.

    Returns
    -------
    DataFrame
        A copy of ``talkturns`` with the feature columns added (replacing any
        of the same name). Neither input is modified.

    Raises
    ------
    ValueError
        When a talkturn ends before it starts, ``frames`` lacks a required
        column, holds a non-numeric value or a frame without a timestamp, or
        no talkturn's video appears in ``frames``.

    Warns
    -----
    UserWarning
        When only some videos have no frames (naming them); when talkturns
        have no frame in their span (with their count and share, and the likely
        cause: talkturn times and frame timestamps in different units, or
        talkturns outside their video's frames); and when talkturns have frames
        but none usable.

    Examples
    --------
    >>> import pandas as pd
    >>> talkturns = pd.DataFrame({"conversation": ["v"], "turn": [0], "start": [0.0],
    ...                           "end": [0.1]})
    >>> frames = pd.DataFrame({"video": "v", "timestamp": [0.0, 0.05, 0.1],
    ...                        "confidence": 0.9, "success": [1, 1, 0],
    ...                        "AU05_r": [1.0, 3.0, 5.0], "AU05_c": [1, 1, 0]})
    >>> align_frames(talkturns, frames)[["AU05_r", "AU05_c"]].to_numpy().tolist()
    [[2.0, 1.0]]
    """
    _check_align_parameters(min_confidence, smile_seconds, present_seconds)
    table = check_talkturn_frame(talkturns, required=[video_column, start_column, end_column],
                                 name="talkturns")
    times = check_times(table, start_column, end_column, "talkturns")
    if not isinstance(frames, pd.DataFrame):
        raise TypeError(f"frames must be a DataFrame from read_openface, got "
                        f"{type(frames).__name__}.")
    missing = [c for c in ("video", "timestamp", "confidence", "success") if c not in frames]
    if missing:
        raise ValueError(f"frames lacks the column(s) {missing}; read it with read_openface.")
    au_columns = [c for c in frames.columns
                  if str(c).startswith("AU") and str(c).endswith(("_r", "_c"))]
    action_units = sorted({c[:-2] for c in au_columns})
    names = _feature_names(action_units, frames.columns, present_seconds)
    # A frame without a time cannot be placed, and one NaN step would void the
    # frame duration of its whole video: refuse it rather than lose every run.
    columns = {"timestamp": check_numeric_columns(frames, ["timestamp"], name="frames",
                                                  allow_nan=False)[:, 0]}
    measured = ["confidence", "success", *au_columns]
    columns.update(zip(measured, check_numeric_columns(frames, measured, name="frames").T,
                       strict=True))
    _check_videos_match(table[video_column], frames["video"], video_column)
    videos = {video: _Video({c: v[positions] for c, v in columns.items()}, min_confidence)
              for video, positions in frames.groupby("video", sort=False).indices.items()}
    rows, frameless, unusable = [], [], []
    for position, (video_id, (start, end)) in enumerate(zip(table[video_column], times,
                                                            strict=True)):
        video = videos.get(video_id)
        # Without a video or without times a talkturn has no frames: missing features.
        window = None if video is None or np.isnan(start) or np.isnan(end) else \
            video.window(start, end)
        if window is not None and window.stop > window.start and video.usable[window].any():
            rows.append(_talkturn_features(video, window, names, present_seconds,
                                           smile_seconds))
            continue
        rows.append(dict.fromkeys(names, np.nan))
        if window is not None:
            (frameless if window.stop <= window.start else unusable).append(position)
    _warn_talkturns_without_frames(table, times, videos, video_column, frameless, unusable,
                                   min_confidence)
    features = pd.DataFrame(rows, columns=names, dtype=float)
    # Assigned by position: a join on the index would multiply rows of a duplicate index.
    return table.drop(columns=[c for c in names if c in table.columns]).assign(
        **{name: features[name].to_numpy() for name in names})
