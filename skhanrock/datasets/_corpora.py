"""Loaders of conversation corpora in their official release layouts.

No corpus ships with the package: each loader reads the user's own copy.
"""

import math
import re
import warnings
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pandas as pd

from .._utils.frame import check_numeric_columns, python_value
from ._readers import file_places, read_csv_checked, read_text_checked, text_lines

__all__ = ["IEMOCAP_4_CLASSES", "load_iemocap", "load_meld", "load_semaine"]

#: IEMOCAP's categorical labels mapped to the 4-class task; the rest are unlabelled.
IEMOCAP_4_CLASSES = {"ang": "angry", "hap": "happy", "exc": "happy", "neu": "neutral",
                     "sad": "sad"}
_MELD_SPLITS = ("train", "dev", "test")
# A split names a file in the root, so it may not reach out of it.
_PLAIN_SPLIT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
# The recording that the paper's Table 5 lists under both dev and test of SEMAINE.
_SEMAINE_DEV_AND_TEST_RECORDING = "2009.06.26.14.38.17"
_QUOTES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u201c": '"', "\u201d": '"',
                         "\x92": "'", "\x91": "'", "\x93": '"', "\x94": '"', "\x97": "-"})


def _check_root(root, what):
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"{what} root {str(root)!r} is not a directory.")
    return root


def _clock_seconds(values, column, path):
    # As text: a column of numbers (or of nothing) has no .str, yet is an error to name.
    parts = values.astype(str).str.extract(r"^(\d+):(\d+):(\d+)[,.](\d+)$")
    if parts.isna().any(axis=None):
        row = int(np.flatnonzero(parts.isna().any(axis=1).to_numpy())[0])
        raise ValueError(f"{path}[{column!r}] at row {row} is {python_value(values.iloc[row])!r}, not "
                         "HH:MM:SS,mmm.")
    numbers = parts.astype(int)
    return numbers[0] * 3600 + numbers[1] * 60 + numbers[2] + numbers[3] / 1000


def _integer_ids(raw, column, path):
    """An id column as integers; a missing, non-numeric or fractional id is an error."""
    values = check_numeric_columns(raw, [column], name=str(path), allow_nan=False)[:, 0]
    fractional = values != np.round(values)
    if fractional.any():
        row = int(np.flatnonzero(fractional)[0])
        raise ValueError(f"{path}[{column!r}] must hold integers; row {row} holds "
                         f"{python_value(raw[column].iloc[row])!r}.")
    return values.astype(np.int64)


def load_meld(root, splits=_MELD_SPLITS):
    """Read MELD's ``{train,dev,test}_sent_emo.csv`` into one talkturn frame.

    Parameters
    ----------
    root : str or path
        Folder holding the MELD CSV files.
    splits : str or tuple of str, default=("train", "dev", "test")
        Which ``<split>_sent_emo.csv`` files to read, in this order; a single
        string is one split. Each must be a plain name (letters, digits,
        ``_``, ``-`` and ``.``, no path separator), listed once.

    Returns
    -------
    DataFrame
        ``conversation`` (split and dialogue id, e.g. ``"train_0"``), ``turn``
        (utterance id), ``speaker``, ``text`` (typographic quotes made plain),
        ``start`` and ``end`` (seconds into the episode), the labels
        ``emotion`` (7 classes) and ``sentiment``, and ``split``, ``season``,
        ``episode``.

    Raises
    ------
    FileNotFoundError
        When ``root`` or a split's file does not exist.
    ValueError
        When ``splits`` is empty, repeats a split or holds a name that is not
        plain (such as ``"../other/dev"``), or a file is empty or not a CSV text
        file, a line has more or fewer fields than the header, a column is
        missing, an id is missing or not an integer, or a time is not
        ``HH:MM:SS,mmm``; the message names the file (and the column and row).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> root = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (root / "dev_sent_emo.csv").write_text(
    ...     "Sr No.,Utterance,Speaker,Emotion,Sentiment,Dialogue_ID,Utterance_ID,Season,"
    ...     "Episode,StartTime,EndTime\\n1,Oh my God!,Joey,surprise,positive,0,0,3,19,"
    ...     "\\"00:14:38,127\\",\\"00:14:40,378\\"\\n")
    >>> load_meld(root, splits=("dev",))[["conversation", "start", "emotion"]].values.tolist()
    [['dev_0', 878.127, 'surprise']]
    """
    root = _check_root(root, "MELD")
    frames = []
    for split in _check_splits(splits):
        path = root / f"{split}_sent_emo.csv"
        if not path.is_file():
            raise FileNotFoundError(f"MELD split {split!r}: {str(path)!r} does not exist.")
        # MELD separates fields by a bare comma: a space after one belongs to the text.
        raw = read_csv_checked(path, "MELD file", skip_initial_space=False)
        missing = [c for c in ("Utterance", "Speaker", "Emotion", "Sentiment", "Dialogue_ID",
                               "Utterance_ID", "StartTime", "EndTime") if c not in raw.columns]
        if missing:
            raise ValueError(f"{path}: not a MELD file, the column(s) {missing} are missing.")
        frames.append(pd.DataFrame({
            "conversation": [f"{split}_{d}" for d in _integer_ids(raw, "Dialogue_ID", path)],
            "turn": _integer_ids(raw, "Utterance_ID", path),
            "speaker": raw["Speaker"].astype(str),
            "text": raw["Utterance"].astype(str).str.translate(_QUOTES),
            "start": _clock_seconds(raw["StartTime"], "StartTime", path),
            "end": _clock_seconds(raw["EndTime"], "EndTime", path),
            "emotion": raw["Emotion"], "sentiment": raw["Sentiment"], "split": split,
            "season": raw.get("Season"), "episode": raw.get("Episode"),
        }))
    return pd.concat(frames, ignore_index=True)


def _check_splits(splits):
    """The split names as a tuple: one string is one split, not its letters."""
    splits = (splits,) if isinstance(splits, str) else tuple(splits)
    if not splits:
        raise ValueError(f"splits names no split; give some of {_MELD_SPLITS}.")
    for split in splits:
        if not isinstance(split, str) or not _PLAIN_SPLIT.match(split) or ".." in split:
            raise ValueError(f"{split!r} is not a plain split name: a split names the file "
                             "<split>_sent_emo.csv inside root, such as one of "
                             f"{_MELD_SPLITS}, without a path separator or '..'.")
        if splits.count(split) > 1:
            raise ValueError(f"Split {split!r} is listed twice in splits; its talkturns "
                             "would be read twice.")
    return splits


_IEMOCAP_TURN = re.compile(r"^(Ses\w+?)_([FM])(\w+)\s+\[(\d+\.\d+)-(\d+\.\d+)\]:\s*(.*)$")
_IEMOCAP_SESSION = re.compile(r"^Ses(\d+)")
_IEMOCAP_LABEL = re.compile(
    r"^\[(\d+\.\d+)\s*-\s*(\d+\.\d+)\]\s+(Ses\S+)\s+(\w+)\s+\[([\d.]+),\s*([\d.]+),\s*([\d.]+)\]")


def _numbered_lines(path, what):
    """The stripped lines of a text file with their 1-based numbers.

    The file is UTF-8, or UTF-16/UTF-32 with a byte-order mark (which is
    dropped, so that the first line still matches); undecodable bytes are an
    error naming the file and offset.
    """
    lines = text_lines(read_text_checked(path, what))
    return [(number, line.strip()) for number, line in enumerate(lines, start=1)]


def _text_files(folder):
    """The ``*.txt`` files of a folder, without hidden ones.

    Copies of IEMOCAP made on a Mac hold ``._<name>.txt`` AppleDouble files of
    metadata beside each file: they are not text.
    """
    return sorted(p for p in folder.glob("*.txt") if not p.name.startswith("."))


def _iemocap_transcript(path, malformed):
    """The utterance lines of a transcript; ``malformed`` collects the lines that fail.

    Lines such as ``M: [LAUGHTER]`` are no utterance, but one that starts with
    ``Ses`` and does not parse is an utterance that would be lost.
    """
    rows = []
    for number, line in _numbered_lines(path, "IEMOCAP transcript"):
        match = _IEMOCAP_TURN.match(line)
        if not match:
            if line.startswith("Ses"):
                malformed.setdefault(path, []).append(number)
            continue
        dialog, gender, speaker_number, start, end, text = match.groups()
        utterance = f"{dialog}_{gender}{speaker_number}"
        session = _IEMOCAP_SESSION.match(dialog)
        if session is None:
            raise ValueError(f"IEMOCAP transcript {str(path)!r}, line {number}: utterance "
                             f"{utterance!r} does not start with Ses and its session number, "
                             "as in Ses01F_impro01_F000.")
        rows.append({"utterance": utterance, "dialog": dialog, "gender": gender,
                     "session": int(session.group(1)), "start": float(start),
                     "end": float(end), "text": text, "where": f"{str(path)!r} line {number}",
                     "transcript": path})
    return rows


def _iemocap_labels(path, malformed):
    """The label lines of an EmoEvaluation file; ``malformed`` collects those that fail.

    Every label line starts with ``[start - end]``; the evaluators' comment
    lines (``C-E1:``, ``A-F1:``) and the ``%`` header do not.
    """
    rows = []
    for number, line in _numbered_lines(path, "IEMOCAP evaluation file"):
        match = _IEMOCAP_LABEL.match(line)
        if match:
            _, _, utterance, category, valence, activation, dominance = match.groups()
            rows.append({"utterance": utterance, "category": category,
                         "valence": float(valence), "activation": float(activation),
                         "dominance": float(dominance),
                         "where": f"{str(path)!r} line {number}"})
        elif line.startswith("["):
            malformed.setdefault(path, []).append(number)
    return rows


def _warn_malformed_lines(malformed, kind, expected):
    if malformed:
        count = sum(map(len, malformed.values()))
        warnings.warn(f"load_iemocap: {count} malformed {kind} line{'s' if count > 1 else ''} "
                      f"skipped, in {file_places(malformed)}; expected {expected}. "
                      f"{'Its' if count == 1 else 'Their'} {kind} is missing from the frame.",
                      UserWarning, stacklevel=3)


def _warn_unused_labels(labels, utterances):
    unused = [row for row in labels if row["utterance"] not in utterances]
    if unused:
        shown = ", ".join(f"{row['utterance']!r} ({row['where']})" for row in unused[:5])
        warnings.warn(f"load_iemocap: {len(unused)} label line{'s' if len(unused) > 1 else ''} "
                      f"name no utterance of the transcripts, so their labels are not used: "
                      f"{shown}{', ...' if len(unused) > 5 else ''}.", UserWarning, stacklevel=3)


def _warn_unlabelled(frame, missing_evaluations):
    """Count the utterances left without a label line, per transcript."""
    unlabelled = frame.loc[frame["category"].isna(), "transcript"].value_counts(sort=False)
    if unlabelled.empty:
        return
    places = {}
    for transcript, count in unlabelled.items():
        evaluation = missing_evaluations.get(transcript)
        places[transcript] = str(count) if evaluation is None else \
            f"{count}; its EmoEvaluation file {str(evaluation)!r} is missing"
    warnings.warn(f"load_iemocap: {unlabelled.sum()} of {len(frame)} utterances have no label "
                  f"line, so their labels are missing: {file_places(places)}.", UserWarning,
                  stacklevel=3)


def _one_line_per_utterance(rows, what):
    """The rows as a frame; an utterance listed twice is an error naming both lines.

    A repeated line would become two talkturns of one utterance (the label
    merge multiplies them), and with different values one of them is wrong.
    """
    table = pd.DataFrame(rows)
    repeated = table["utterance"].duplicated(keep=False).to_numpy()
    if repeated.any():
        utterance = table["utterance"].to_numpy()[repeated][0]
        places = table.loc[table["utterance"] == utterance, "where"].tolist()
        raise ValueError(f"IEMOCAP {what} list utterance {utterance!r} more than once: "
                         f"{', '.join(places)}; each utterance must have one line.")
    return table.drop(columns="where")


def load_iemocap(root):
    """Read IEMOCAP's official release layout into a talkturn frame.

    Reads ``Session*/dialog/transcriptions/*.txt`` (lines like
    ``Ses01F_impro01_F000 [006.2901-008.2357]: Excuse me.``) and
    ``Session*/dialog/EmoEvaluation/*.txt`` (lines like ``[6.2901 - 8.2357]
    Ses01F_impro01_F000 neu [2.5000, 2.5000, 2.5000]``). Talkturns of a
    dialog are ordered by start time. Files are UTF-8, or UTF-16/UTF-32 with a
    byte-order mark; hidden files (the ``._*.txt`` metadata of Mac copies) are
    skipped.

    Parameters
    ----------
    root : str or path
        The ``IEMOCAP_full_release`` folder.

    Returns
    -------
    DataFrame
        ``conversation`` (dialog), ``turn``, ``utterance``, ``speaker`` (the
        session's actor, e.g. ``"Ses01_F"``), ``gender`` and ``speaker_label``
        (``"woman"``/``"man"``), ``session`` (1-5), ``text``, ``start``,
        ``end``, ``category`` (the evaluators' label), ``label4`` (angry,
        happy = happy + excited, neutral, sad; missing for the rest) and
        ``valence``, ``activation``, ``dominance``.

    Raises
    ------
    FileNotFoundError
        When ``root`` is not a directory or holds no ``Session*/dialog``.
    ValueError
        When no talkturn line is found, an utterance id does not start with
        ``Ses`` and a session number, or an utterance has two transcript lines
        or two label lines, or a file holds bytes that do not decode; the
        message names the file and line (or byte offset).

    Warns
    -----
    UserWarning
        When lines are skipped or utterances left unlabelled, with their count
        and files: a line that starts like an utterance (``Ses...``) or a label
        (``[...``) but does not parse, a label line of no transcribed
        utterance, and utterances without a label line (a missing
        EmoEvaluation file is named).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> root = pathlib.Path(tempfile.mkdtemp())
    >>> dialog = root / "Session1" / "dialog"
    >>> for sub in ("transcriptions", "EmoEvaluation"):
    ...     (dialog / sub).mkdir(parents=True)
    >>> _ = (dialog / "transcriptions" / "Ses01F_impro01.txt").write_text(
    ...     "Ses01F_impro01_F000 [006.2901-008.2357]: Excuse me.\\n")
    >>> _ = (dialog / "EmoEvaluation" / "Ses01F_impro01.txt").write_text(
    ...     "[6.2901 - 8.2357]\\tSes01F_impro01_F000\\texc\\t[3.5000, 3.0000, 2.5000]\\n")
    >>> load_iemocap(root)[["speaker", "label4", "valence"]].values.tolist()
    [['Ses01_F', 'happy', 3.5]]
    """
    root = _check_root(root, "IEMOCAP")
    sessions = sorted(root.glob("Session*/dialog"))
    if not sessions:
        raise FileNotFoundError(f"No Session*/dialog folder under {str(root)!r}: not the "
                                "IEMOCAP release layout.")
    turns, labels, bad_turns, bad_labels, missing_evaluations = [], [], {}, {}, {}
    for dialog_folder in sessions:
        for path in _text_files(dialog_folder / "transcriptions"):
            turns += _iemocap_transcript(path, bad_turns)
            evaluation = dialog_folder / "EmoEvaluation" / path.name
            if not evaluation.is_file():
                missing_evaluations[path] = evaluation
        for path in _text_files(dialog_folder / "EmoEvaluation"):
            labels += _iemocap_labels(path, bad_labels)
    if not turns:
        raise ValueError(f"No IEMOCAP talkturn line found under {str(root)!r}.")
    _warn_malformed_lines(bad_turns, "utterance",
                          "'<utterance id> [start-end]: text', as in 'Ses01F_impro01_F000 "
                          "[006.2901-008.2357]: Excuse me.'")
    _warn_malformed_lines(bad_labels, "label",
                          "'[start - end] <utterance id> <category> [V, A, D]'")
    frame = _one_line_per_utterance(turns, "transcripts")
    _warn_unused_labels(labels, set(frame["utterance"]))
    evaluations = _one_line_per_utterance(labels, "evaluations") if labels else pd.DataFrame(
        columns=["utterance", "category", "valence", "activation", "dominance"])
    frame = frame.merge(evaluations.astype({c: float for c in ("valence", "activation",
                                                                 "dominance")}),
                        on="utterance", how="left")
    _warn_unlabelled(frame, missing_evaluations)
    frame["speaker"] = "Ses" + frame["session"].map("{:02d}".format) + "_" + frame["gender"]
    frame["speaker_label"] = frame["gender"].map({"F": "woman", "M": "man"})
    frame["label4"] = frame["category"].map(IEMOCAP_4_CLASSES)
    frame = frame.sort_values(["dialog", "start", "utterance"], kind="stable")
    frame["turn"] = frame.groupby("dialog").cumcount()
    frame = frame.rename(columns={"dialog": "conversation"}).reset_index(drop=True)
    return frame[["conversation", "turn", "utterance", "speaker", "gender", "speaker_label",
                  "session", "text", "start", "end", "category", "label4", "valence",
                  "activation", "dominance"]]


# FeelTrace files rating the user (target "TU"): rater, session, character, dimension,
# e.g. R5S1TUCPoDA.txt. Observed variants are kept: "A" raters, "R" before the
# session, a digit after the character (TUCPo2DV), no "D" before the dimension.
_TRACE = re.compile(r"^[AR](\d+)[RS](\d+)TU(?:C[A-Za-z]+\d?)?D?([AEIPV])\.txt$")
_DIMENSIONS = {"A": "activation", "E": "expectation", "I": "intensity", "P": "power",
               "V": "valence"}


def _semaine_words(path, role, unreadable):
    """The ``start_ms end_ms WORD`` lines of a transcript; ``unreadable`` collects the rest."""
    words = []
    for number, line in _numbered_lines(path, "SEMAINE transcript"):
        parts = line.split(maxsplit=2)
        if len(parts) == 3 and parts[0].isdigit() and parts[1].isdigit():
            words.append((int(parts[0]) / 1000, int(parts[1]) / 1000, parts[2].strip(), role))
        elif line:
            unreadable.setdefault(path, []).append(number)
    return words


def _semaine_talkturns(words):
    """Consecutive words of one speaker, in time order, make one talkturn."""
    words = sorted(words)
    turns = []
    for start, end, word, role in words:
        if turns and turns[-1]["role"] == role:
            turns[-1]["end"] = end
            turns[-1]["words"].append(word)
        else:
            turns.append({"role": role, "start": start, "end": end, "words": [word]})
    return turns


def _semaine_trace(path):
    """One FeelTrace file as an (n, 2) array of finite ``time value`` pairs.

    Parsed line by line so that an error names the line: a file of single
    values, or of three per line, would otherwise reshape into pairs silently.
    """
    pairs = []
    for number, line in _numbered_lines(path, "SEMAINE trace"):
        fields = line.split("#", 1)[0].split()    # "#" starts a comment, as for np.loadtxt
        if not fields:
            continue
        try:
            pair = [float(field) for field in fields]
        except ValueError:
            pair = []
        if len(pair) != 2 or not all(map(math.isfinite, pair)):
            raise ValueError(f"SEMAINE trace {str(path)!r}, line {number}: {line!r} is not a "
                             "'time value' pair of finite numbers.")
        pairs.append(pair)
    if not pairs:
        raise ValueError(f"SEMAINE trace {str(path)!r} is empty: expected 'time value' lines.")
    return np.array(pairs)


def _semaine_traces(folder):
    """Each rated dimension's traces: one (n, 2) array per file (rater), sorted by time."""
    traces = {}
    for path in sorted(folder.glob("*.txt")):
        match = _TRACE.match(path.name)
        if match:
            pairs = _semaine_trace(path)
            traces.setdefault(_DIMENSIONS[match.group(3)], []).append(
                pairs[np.argsort(pairs[:, 0], kind="stable")])
    return traces


def _span_means(trace, starts, ends):
    """One rater's mean over each ``[start, end]`` span; NaN where it has no sample."""
    lows = np.searchsorted(trace[:, 0], starts, "left")
    highs = np.searchsorted(trace[:, 0], ends, "right")
    return np.array([trace[low:high, 1].mean() if high > low else np.nan
                     for low, high in zip(lows, highs, strict=True)])


def _rated(raters, starts, ends):
    """Each span's rating: every rater's mean over the span, then the mean over raters.

    Raters without a sample in a span are left out of its mean (they may start
    late or stop early); a span no rater covers is NaN. Averaging position by
    position on one rater's time grid would mix values of different moments.
    """
    means = np.array([_span_means(trace, starts, ends) for trace in raters])
    covered = ~np.isnan(means)
    counts = covered.sum(axis=0)
    totals = np.where(covered, means, 0.0).sum(axis=0)
    return np.where(counts > 0, totals / np.maximum(counts, 1), np.nan)


def load_semaine(root):
    """Read SEMAINE (Solid SAL) sessions into a talkturn frame with averaged traces.

    Each ``Sessions/<id>/`` folder holds ``session.xml`` (attributes
    ``recording`` and ``character``), word-level aligned transcripts
    ``wordLevel_alignedTranscript*_user*`` and ``*_operator*`` (lines
    ``start_ms end_ms WORD``) and FeelTrace files of ``time value`` pairs
    named ``R<rater>S<session>TUC<character>D<dimension>.txt``, e.g.
    ``R5S1TUCPoDA.txt``: ``TU`` says the trace rates the user, the character
    is ``Po`` (Poppy), ``Pr`` (Prudence), ``Sp`` (Spike) or ``Ob`` (Obadiah),
    and the last letter gives the dimension (A activation, E expectation,
    I intensity, P power, V valence); files are UTF-8, or UTF-16/UTF-32 with
    a byte-order mark. Variants seen in copies of the release
    are accepted too: an ``A`` instead of ``R`` before the rater, ``R``
    instead of ``S`` before the session, a digit after the character
    (``TUCPo2DV``) and no ``D`` (``TUCPoA``). Traces of the operator (``TO``)
    and other files are ignored. Consecutive words of one speaker make a talkturn;
    the traces, which rate the user, are averaged over each *user*
    talkturn's own time span for every rater, then over the raters with a
    sample in that span (a rater whose trace starts late or stops early is left
    out there; a talkturn no rater covers gets a missing value). Operator
    talkturns are context only (their labels are missing). Sessions without a
    user transcript are skipped. The operator characters talk with every user, so speaker-disjoint
    splits list them in ``shared_speakers`` (see
    :class:`~skhanrock.model_selection.PartitionSplit`) and keep the users apart.

    Parameters
    ----------
    root : str or path
        Folder containing ``Sessions/``.

    Returns
    -------
    DataFrame
        ``conversation`` (session id), ``turn``, ``speaker``
        (``"user-<recording>"`` or ``"operator-<character>"``), ``role``,
        ``recording``, ``character``, ``text`` (lower-cased), ``start``,
        ``end`` and one column per rated dimension.

    Raises
    ------
    FileNotFoundError
        When ``root`` is not a directory or holds no session folder.
    ValueError
        When no session has a user transcript, a ``session.xml`` is not
        well-formed, a trace line is not a pair of finite numbers, or a file
        holds bytes that do not decode; the message names the file.

    Warns
    -----
    UserWarning
        With counts and files, when transcript lines that are not
        ``start_ms end_ms WORD`` are skipped, session folders with traces but
        no user transcript are skipped, or user talkturns get no rating of a
        dimension; and when the copy holds recording ``2009.06.26.14.38.17``,
        which the paper lists under both dev and test (skhanrock's
        ``SEMAINE_PARTITIONS`` places it in test).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> session = pathlib.Path(tempfile.mkdtemp()) / "Sessions" / "12"
    >>> session.mkdir(parents=True)
    >>> _ = (session / "session.xml").write_text('<session recording="5" character="Poppy"/>')
    >>> _ = (session / "wordLevel_alignedTranscript_user.txt").write_text(
    ...     "0 400 HELLO\\n400 900 THERE\\n")
    >>> _ = (session / "wordLevel_alignedTranscript_operator.txt").write_text("1000 1500 HI\\n")
    >>> _ = (session / "R1S12TUCPoDV.txt").write_text("0.2 0.5\\n0.6 0.3\\n1.2 -0.4\\n")
    >>> load_semaine(session.parent.parent)[["speaker", "text", "valence"]].values.tolist()
    [['user-5', 'hello there', 0.4], ['operator-Poppy', 'hi', nan]]
    """
    root = _check_root(root, "SEMAINE")
    folders = sorted((p for p in (root / "Sessions").glob("*") if p.is_dir()),
                     key=lambda p: (not p.name.isdigit(), int(p.name) if p.name.isdigit()
                                    else 0, p.name))
    if not folders:
        raise FileNotFoundError(f"No session folder under {str(root / 'Sessions')!r}.")
    frames, unreadable, skipped = [], {}, []
    for folder in folders:
        frame = _semaine_session(folder, unreadable)
        if frame is not None:
            frames.append(frame)
        elif any(_TRACE.match(p.name) for p in folder.glob("*.txt")):
            skipped.append(folder)
    if not frames:
        raise ValueError(f"No SEMAINE session under {str(root)!r} has a user transcript.")
    frame = pd.concat(frames, ignore_index=True)
    _warn_semaine_losses(frame, unreadable, skipped)
    return frame


def _warn_semaine_losses(frame, unreadable, skipped):
    """Count what the sessions lost: unread lines, skipped sessions, unrated talkturns."""
    if unreadable:
        count = sum(map(len, unreadable.values()))
        warnings.warn(f"load_semaine: {count} line{'s' if count > 1 else ''} of the word-level "
                      f"transcripts skipped, not 'start_ms end_ms WORD': {file_places(unreadable)}.",
                      UserWarning, stacklevel=3)
    if skipped:
        warnings.warn(f"load_semaine: {len(skipped)} session folder(s) have FeelTrace files but "
                      "no user transcript (wordLevel_alignedTranscript*_user*), so they were "
                      f"skipped: {', '.join(repr(str(p)) for p in skipped[:5])}"
                      f"{', ...' if len(skipped) > 5 else ''}.", UserWarning, stacklevel=3)
    users = frame["role"] == "user"
    for dimension in (d for d in _DIMENSIONS.values() if d in frame.columns):
        unrated = frame.loc[users & frame[dimension].isna(), "conversation"]
        if len(unrated):
            counts = {f"session {c!r}": str(n) for c, n in
                      unrated.value_counts(sort=False).items()}
            shown = ", ".join(f"{name} ({n})" for name, n in list(counts.items())[:5])
            warnings.warn(
                f"load_semaine: {len(unrated)} of {int(users.sum())} user talkturns have no "
                f"{dimension} rating, so their {dimension} is missing: no rater's trace has a "
                "sample within the talkturn's span (or the session has no trace of "
                f"{dimension}): {shown}{', ...' if len(counts) > 5 else ''}.",
                UserWarning, stacklevel=3)
    recordings = set(frame["recording"].astype(str))
    if _SEMAINE_DEV_AND_TEST_RECORDING in recordings:
        warnings.warn(
            f"load_semaine: this copy holds recording {_SEMAINE_DEV_AND_TEST_RECORDING}, which "
            "the paper's Table 5 lists under both dev and test (with 404 and 440 talkturns); "
            "skhanrock's SEMAINE_PARTITIONS preset places it in test only, so its dev and "
            "test partitions cannot match the paper's exactly.", UserWarning, stacklevel=3)


def _semaine_info(path):
    """The attributes of a session's ``session.xml`` (none when it is absent)."""
    if not path.is_file():
        return {}
    try:
        return ET.parse(path).getroot().attrib
    except ET.ParseError as error:
        raise ValueError(f"SEMAINE session file {str(path)!r} is not well-formed XML: "
                         f"{error}.") from error


def _semaine_session(folder, unreadable):
    users = sorted(folder.glob("wordLevel_alignedTranscript*_user*"))
    if not users:
        return None
    info = _semaine_info(folder / "session.xml")
    recording, character = info.get("recording", folder.name), info.get("character", "unknown")
    words = _semaine_words(users[0], "user", unreadable)
    for path in sorted(folder.glob("wordLevel_alignedTranscript*_operator*"))[:1]:
        words += _semaine_words(path, "operator", unreadable)
    turns = _semaine_talkturns(words)
    frame = pd.DataFrame({
        "conversation": folder.name, "turn": np.arange(len(turns)),
        "speaker": [f"user-{recording}" if t["role"] == "user" else f"operator-{character}"
                    for t in turns],
        "role": [t["role"] for t in turns], "recording": recording, "character": character,
        "text": [" ".join(t["words"]).lower() for t in turns],
        "start": [t["start"] for t in turns], "end": [t["end"] for t in turns]})
    # The traces rate the user: operator talkturns get no rating.
    users = frame["role"].to_numpy() == "user"
    for dimension, raters in _semaine_traces(folder).items():
        values = np.full(len(frame), np.nan)
        values[users] = _rated(raters, frame["start"].to_numpy()[users],
                               frame["end"].to_numpy()[users])
        frame[dimension] = values
    return frame
