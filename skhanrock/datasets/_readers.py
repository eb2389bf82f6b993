"""Readers for OpenFace and Vokaturi outputs, and the frame-to-talkturn aligner."""

import glob
import os
from pathlib import Path

import numpy as np
import pandas as pd

from .._frame import check_numeric_columns, check_talkturn_frame

__all__ = ["VOKATURI_EMOTIONS", "align_frames", "read_openface", "read_vokaturi"]

#: Emotion probabilities of a Vokaturi table, in its column order.
VOKATURI_EMOTIONS = ("neutrality", "happiness", "sadness", "anger", "fear")
_OPENFACE_REQUIRED = ("frame", "timestamp", "confidence", "success")


def _expand_paths(path):
    if isinstance(path, (str, os.PathLike)):
        text = str(path)
        paths = sorted(glob.glob(text)) if any(c in text for c in "*?[") else [text]
    else:
        paths = [str(p) for p in path]
    if not paths:
        raise ValueError(f"No file matches {path!r}.")
    missing = [p for p in paths if not Path(p).is_file()]
    if missing:
        raise FileNotFoundError(f"No such file: {missing[0]!r}.")
    return paths


def read_openface(path, video=None):
    """Read OpenFace 2.x FeatureExtraction CSV files into one frame table.

    OpenFace writes ``frame, face_id, timestamp, confidence, success, ...,
    AUxx_r, AUxx_c`` with a space after every comma, header included; both are
    handled. Each file's rows get a ``video`` column: the file name without its
    extension, unless ``video`` names them.

    Parameters
    ----------
    path : str, path, glob pattern or list of them
        One file, several files, or a pattern such as ``"openface/*.csv"``.
    video : str, list of str or None, default=None
        Video id of each file; the file stems when None.

    Returns
    -------
    DataFrame
        All rows of all files, with ``video`` first.

    Raises
    ------
    ValueError
        When a required column is missing, or two files of the same video
        overlap in time.

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
    paths = _expand_paths(path)
    videos = [Path(p).stem for p in paths] if video is None else (
        [video] if isinstance(video, str) else list(video))
    if len(videos) != len(paths):
        raise ValueError(f"video names {len(videos)} ids for {len(paths)} files.")
    tables = [_read_one_openface(p, v) for p, v in zip(paths, videos, strict=True)]
    frames = pd.concat(tables, ignore_index=True)
    _check_no_overlap(frames)
    return frames.drop(columns="_file")


def _read_one_openface(path, video):
    table = pd.read_csv(path, skipinitialspace=True)
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
    key_columns : tuple of str, default=("conversation", "turn")

    Returns
    -------
    DataFrame

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
    table = pd.concat([pd.read_csv(p, skipinitialspace=True) for p in _expand_paths(path)],
                      ignore_index=True)
    missing = [c for c in (*key_columns, *VOKATURI_EMOTIONS) if c not in table.columns]
    if missing:
        raise ValueError(f"Vokaturi table {path!r} lacks the column(s) {missing}.")
    values = check_numeric_columns(table, list(VOKATURI_EMOTIONS), name=str(path))
    outside = (values < 0) | (values > 1)
    if outside.any():
        row, column = np.argwhere(outside)[0]
        raise ValueError(f"Vokaturi table {path!r}: {VOKATURI_EMOTIONS[column]!r} at row {row} "
                         f"is {values[row, column]}, not a probability in [0, 1].")
    renamed = table[[*key_columns, *VOKATURI_EMOTIONS]].rename(
        columns={e: f"tone_{e}" for e in VOKATURI_EMOTIONS})
    return renamed


def _longest_run_seconds(present, timestamps, frame_seconds):
    """Length in seconds of the longest run of consecutive present frames."""
    if not present.any():
        return 0.0
    edges = np.diff(np.r_[0, present.astype(np.int8), 0])
    starts, stops = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1) - 1
    return float((timestamps[stops] - timestamps[starts]).max() + frame_seconds)


def _talkturn_features(frames, action_units, present_seconds, smile_seconds, frame_seconds):
    """Features of one talkturn from its usable frames (NaN when there are none)."""
    features = {}
    n_frames = len(frames)
    timestamps = frames["timestamp"].to_numpy(dtype=float)
    for au in action_units:
        intensity, presence = f"{au}_r", f"{au}_c"
        if intensity in frames:
            features[intensity] = frames[intensity].mean() if n_frames else np.nan
        if presence in frames:
            present = frames[presence].to_numpy(dtype=float) == 1
            features[presence] = float(present.all()) if n_frames else np.nan
            if present_seconds is not None:
                run = _longest_run_seconds(present, timestamps, frame_seconds)
                features[f"{au}_present"] = float(run >= present_seconds) if n_frames else np.nan
    if "AU06_c" in frames and "AU12_c" in frames:
        both = (frames["AU06_c"].to_numpy() == 1) & (frames["AU12_c"].to_numpy() == 1)
        run = _longest_run_seconds(both, timestamps, frame_seconds)
        features["smile"] = float(run >= smile_seconds) if n_frames else np.nan
    return features


def align_frames(talkturns, frames, *, video_column="conversation", start_column="start",
                 end_column="end", min_confidence=0.8, smile_seconds=0.5, present_seconds=None):
    """Attach frame-level OpenFace features to the talkturns they fall in.

    For every talkturn, the frames of its video with ``start <= timestamp <=
    end``, ``success == 1`` and ``confidence >= min_confidence`` are its usable
    frames. From them: the mean intensity ``AUxx_r``, the flag ``AUxx_c`` (1.0
    when the action unit is present in *every* usable frame, else 0.0),
    optionally ``AUxx_present`` (present for a run of at least
    ``present_seconds``), and ``smile`` (AU06 and AU12 present together for a
    run of at least ``smile_seconds``). A talkturn without any usable frame
    gets missing values, not zeros.

    Parameters
    ----------
    talkturns : DataFrame
        Talkturn frame with the video column and start/end times (seconds).
    frames : DataFrame
        From :func:`read_openface`: ``video, timestamp, confidence, success,
        AUxx_r, AUxx_c``.
    video_column : str, default="conversation"
        Column of ``talkturns`` naming the video of each talkturn.
    start_column, end_column : str
    min_confidence : float, default=0.8
    smile_seconds : float, default=0.5
    present_seconds : float or None, default=None

    Returns
    -------
    DataFrame
        A copy of ``talkturns`` with the feature columns added (replacing any
        of the same name).

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
    table = check_talkturn_frame(talkturns, required=[video_column, start_column, end_column],
                                 name="talkturns")
    times = check_numeric_columns(table, [start_column, end_column], name="talkturns")
    backwards = times[:, 1] < times[:, 0]
    if backwards.any():
        row = table.index[np.flatnonzero(backwards)[0]]
        raise ValueError(f"Talkturn at row {row!r} ends before it starts.")
    missing = [c for c in ("video", "timestamp", "confidence", "success") if c not in frames]
    if missing:
        raise ValueError(f"frames lacks the column(s) {missing}; read it with read_openface.")
    usable = frames[(frames["success"] == 1) & (frames["confidence"] >= min_confidence)]
    action_units = sorted({c[:-2] for c in frames.columns
                           if c.startswith("AU") and c.endswith(("_r", "_c"))})
    frame_seconds = float(np.median(np.diff(np.sort(frames["timestamp"].unique())))) \
        if frames["timestamp"].nunique() > 1 else 0.0
    by_video = {video: group.sort_values("timestamp") for video, group in usable.groupby("video")}
    rows = []
    for video, (start, end) in zip(table[video_column], times, strict=True):
        video_frames = by_video.get(video, usable.iloc[:0])
        stamps = video_frames["timestamp"].to_numpy()
        inside = video_frames.iloc[np.searchsorted(stamps, start, "left"):
                                   np.searchsorted(stamps, end, "right")]
        rows.append(_talkturn_features(inside, action_units, present_seconds, smile_seconds,
                                       frame_seconds))
    features = pd.DataFrame(rows, index=table.index)
    return table.drop(columns=[c for c in features.columns if c in table.columns]).join(features)
