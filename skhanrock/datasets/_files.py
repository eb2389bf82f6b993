"""OpenFace- and Vokaturi-style files for built-in conversations."""

import numbers
from pathlib import Path

import numpy as np
from sklearn.utils import check_random_state

from .._utils.frame import check_numeric_columns, check_talkturn_frame
from ._readers import VOKATURI_EMOTIONS, check_times

__all__ = ["make_feature_files"]

_FPS = 30.0
_SMILE_RUN_SECONDS = 0.6


def _frame_flags(presence_in_every_frame, n_frames, rng):
    """Presence flags of one action unit over a talkturn's frames.

    Present in every frame when the talkturn-level flag says so; otherwise
    present in some frames but certainly absent in at least one.
    """
    if presence_in_every_frame == 1 or n_frames == 0:
        return np.ones(n_frames)
    flags = (rng.random_sample(n_frames) < 0.5).astype(float)
    flags[rng.randint(n_frames)] = 0.0
    return flags


def _talkturn_frames(row, action_units, rng):
    stamps = np.arange(np.ceil(row["start"] * _FPS), np.floor(row["end"] * _FPS) + 1) / _FPS
    n_frames = len(stamps)
    columns = {"timestamp": stamps}
    for au in action_units:
        columns[f"{au}_r"] = np.clip(row[f"{au}_r"] + rng.normal(0, 0.2, n_frames), 0, 5)
        columns[f"{au}_c"] = _frame_flags(row[f"{au}_c"], n_frames, rng)
    if "AU06" in action_units and "AU12" in action_units:
        _plant_smile(columns, row, stamps, rng)
    return columns


def _plant_smile(columns, row, stamps, rng):
    """Make AU06 and AU12 co-occur for a run long enough to be a smile, or never."""
    together = (columns["AU06_c"] == 1) & (columns["AU12_c"] == 1)
    if row.get("smile", 0) != 1:
        # break every co-occurrence unless AU12 must stay present throughout
        target = "AU06_c" if row["AU06_c"] != 1 else "AU12_c"
        columns[target][together] = 0.0
        return
    run = int(np.ceil(_SMILE_RUN_SECONDS * _FPS)) + 1
    start = rng.randint(max(1, len(stamps) - run + 1))
    columns["AU06_c"][start:start + run] = 1.0
    columns["AU12_c"][start:start + run] = 1.0


def _write_openface(path, frames):
    header = ["frame", "face_id", "timestamp", "confidence", "success",
              *[c for c in frames if c.startswith("AU")]]
    n = len(frames["timestamp"])
    values = np.column_stack([np.arange(1, n + 1), np.zeros(n), *[frames[c] for c in header[2:]]])
    # OpenFace writes ", " between fields, in the header too.
    np.savetxt(path, values, delimiter=", ", header=", ".join(header), comments="",
               fmt=["%d", "%d", "%.3f", "%.2f", "%d", *["%.3f"] * (len(header) - 5)])


def make_feature_files(X, directory, random_state=None, failure_rate=0.03):
    """Write a generated talkturn frame's features as OpenFace and Vokaturi files.

    One OpenFace-style CSV per conversation (30 frames per second inside each
    talkturn, intensities around the talkturn's ``AUxx_r``, presence flags
    consistent with its ``AUxx_c`` and ``smile`` flags, and a fraction
    ``failure_rate`` of extra frames where face tracking failed), and one
    Vokaturi-style CSV with the tone probabilities. Reading them back with
    :func:`read_openface`, :func:`read_vokaturi` and :func:`align_frames`
    recovers the talkturn features, as with real tool output.

    Parameters
    ----------
    X : DataFrame
        A frame from :func:`make_conversations`.
    directory : str or path
        Where to write (created if needed).
    random_state : int, RandomState or None, default=None
        Seed of the frame-level noise and of the failed frames.
    failure_rate : float, default=0.03
        Failed frames added, as a fraction of each video's frames. They lie
        before and between talkturns, so they change no talkturn's flags,
        but a reader must still skip them.

    Returns
    -------
    dict
        ``{"openface": [paths], "vokaturi": path}``.

    Raises
    ------
    TypeError
        When ``X`` is not a DataFrame.
    ValueError
        When ``X`` lacks a column (``start``, ``end``, ``tone_*``, or the
        ``AUxx_c`` of an ``AUxx_r``), holds a missing or non-numeric time or
        action unit, a talkturn that ends before it starts, or a conversation
        id that is not a plain file name (such as ``"../x"``), or two ids that
        would share a file.

    Examples
    --------
    >>> import tempfile
    >>> from skhanrock.datasets import make_conversations, make_feature_files
    >>> X, _ = make_conversations(n_conversations=2, random_state=0)
    >>> paths = make_feature_files(X, tempfile.mkdtemp(), random_state=0)
    >>> len(paths["openface"])
    2
    """
    if isinstance(failure_rate, bool) or not isinstance(failure_rate, numbers.Real) \
            or not 0.0 <= failure_rate < 1.0:
        raise ValueError(f"failure_rate must be a fraction in [0, 1), got {failure_rate!r}.")
    X, action_units = _check_generated_frame(X)
    stems = _file_stems(X["conversation"].unique())
    rng = check_random_state(random_state)
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    openface = []
    for conversation, talkturns in X.groupby("conversation", sort=False):
        frames = _conversation_frames(talkturns, action_units, rng, failure_rate)
        path = directory / f"{stems[conversation]}.csv"
        _write_openface(path, frames)
        openface.append(str(path))
    tones = X[["conversation", "turn"]].copy()
    for emotion in VOKATURI_EMOTIONS:
        tones[emotion] = X[f"tone_{emotion}"]
    vokaturi = directory / "vokaturi.csv"
    tones.to_csv(vokaturi, index=False)
    return {"openface": openface, "vokaturi": str(vokaturi)}


def _check_generated_frame(X):
    """Check the columns and times that the files are made of; return X and its action units."""
    tones = [f"tone_{emotion}" for emotion in VOKATURI_EMOTIONS]
    table = check_talkturn_frame(X, required=["start", "end", *tones], name="X")
    action_units = sorted({c[:-2] for c in table.columns
                           if isinstance(c, str) and c.startswith("AU") and c.endswith("_r")})
    flags = [f"{au}_c" for au in action_units]
    missing = [c for c in flags if c not in table.columns]
    if missing:
        raise ValueError(f"X has the intensities of {[c[:-2] for c in missing]} but not their "
                         f"presence flag(s) {missing}.")
    # Missing times would leave a talkturn without frames, and missing action
    # units would be written as frames of nothing: refuse both.
    check_times(table, "start", "end", "X", allow_nan=False)
    check_numeric_columns(table, [*(f"{au}_r" for au in action_units), *flags], name="X",
                          allow_nan=False)
    check_numeric_columns(table, tones, name="X")
    return table, action_units


def _file_stems(conversations):
    """File name (without ``.csv``) of each conversation's OpenFace file.

    The id becomes the name as it is, so that :func:`read_openface` gives it
    back as the video id; an id with a path separator would write outside the
    directory, and two ids of one name (``1`` and ``"1"``, or ``"A"`` and
    ``"a"`` on a case-insensitive disk) would overwrite each other's file.
    """
    stems, owners = {}, {"vokaturi": "The Vokaturi table"}
    for conversation in conversations:
        stem = str(conversation)
        if stem in ("", ".", "..") or any(c in stem for c in "/\\\0"):
            raise ValueError(f"Conversation id {conversation!r} is not a plain file name; "
                             "ids name the OpenFace files, so they may not be empty, '.', "
                             "'..' or hold '/', '\\' or a NUL character.")
        if stem.casefold() in owners:
            raise ValueError(f"{owners[stem.casefold()]} and conversation {conversation!r} "
                             f"would both be written to {stem + '.csv'!r}; give the "
                             "conversations distinct names.")
        owners[stem.casefold()] = f"Conversation {conversation!r}"
        stems[conversation] = stem
    return stems


def _conversation_frames(talkturns, action_units, rng, failure_rate):
    pieces = [_talkturn_frames(row, action_units, rng) for _, row in talkturns.iterrows()]
    frames = {key: np.concatenate([p[key] for p in pieces]) for key in pieces[0]}
    n = len(frames["timestamp"])
    frames["confidence"] = rng.uniform(0.85, 0.99, n)
    frames["success"] = np.ones(n)
    failures = int(round(failure_rate * n))
    if failures:
        extra = _between_talkturns(pieces, rng.uniform(0.0, 1.0, failures))
        merged = {key: np.concatenate([values, np.zeros(failures)]) for key, values in
                  frames.items()}
        merged["timestamp"][n:] = extra
        merged["confidence"][n:] = rng.uniform(0.0, 0.3, failures)
        order = np.argsort(merged["timestamp"], kind="stable")
        frames = {key: values[order] for key, values in merged.items()}
    return frames


def _between_talkturns(pieces, fractions):
    """Times of failed frames: spread over the gaps before and between talkturns.

    Inside a talkturn a failed frame would break the runs that the talkturn's
    ``smile`` flag was planted with; between talkturns it changes no flag, yet
    the reader must still skip it.
    """
    spans = sorted((p["timestamp"][0], p["timestamp"][-1]) for p in pieces
                   if len(p["timestamp"]))
    lows = np.array([0.0] + [last for _, last in spans[:-1]])
    highs = np.array([first for first, _ in spans])
    lengths = np.clip(highs - lows, 0.0, None)
    ends = np.cumsum(lengths)
    positions = np.sort(fractions) * ends[-1]
    gap = np.minimum(np.searchsorted(ends, positions, side="right"), len(ends) - 1)
    return lows[gap] + positions - (ends[gap] - lengths[gap])
