"""Loaders of conversation corpora in their official release layouts.

No corpus ships with the package: each loader reads the user's own copy.
"""

import math
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pandas as pd

from .._frame import check_numeric_columns
from ._readers import _plain, _read_csv

__all__ = ["IEMOCAP_4_CLASSES", "load_iemocap", "load_meld", "load_semaine"]

#: IEMOCAP's categorical labels mapped to the 4-class task; the rest are unlabelled.
IEMOCAP_4_CLASSES = {"ang": "angry", "hap": "happy", "exc": "happy", "neu": "neutral",
                     "sad": "sad"}
_MELD_SPLITS = ("train", "dev", "test")
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
        raise ValueError(f"{path}[{column!r}] at row {row} is {_plain(values.iloc[row])!r}, not "
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
                         f"{_plain(raw[column].iloc[row])!r}.")
    return values.astype(np.int64)


def load_meld(root, splits=_MELD_SPLITS):
    """Read MELD's ``{train,dev,test}_sent_emo.csv`` into one talkturn frame.

    Parameters
    ----------
    root : str or path
        Folder holding the MELD CSV files.
    splits : tuple of str, default=("train", "dev", "test")
        Which ``<split>_sent_emo.csv`` files to read, in this order.

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
        When a file is empty or not a CSV text file, a line has more or fewer
        fields than the header, a column is missing, an id is missing or not an
        integer, or a time is not ``HH:MM:SS,mmm``; the message names the file
        (and the column and row).

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
    for split in splits:
        path = root / f"{split}_sent_emo.csv"
        if not path.is_file():
            raise FileNotFoundError(f"MELD split {split!r}: {str(path)!r} does not exist.")
        # MELD separates fields by a bare comma: a space after one belongs to the text.
        raw = _read_csv(path, "MELD file", skip_initial_space=False)
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


_IEMOCAP_TURN = re.compile(r"^(Ses\w+?)_([FM])(\w+)\s+\[(\d+\.\d+)-(\d+\.\d+)\]:\s*(.*)$")
_IEMOCAP_SESSION = re.compile(r"^Ses(\d+)")
_IEMOCAP_LABEL = re.compile(
    r"^\[(\d+\.\d+)\s*-\s*(\d+\.\d+)\]\s+(Ses\S+)\s+(\w+)\s+\[([\d.]+),\s*([\d.]+),\s*([\d.]+)\]")


def _numbered_lines(path):
    """The stripped lines of a text file with their 1-based numbers."""
    lines = path.read_text(encoding="utf8", errors="replace").splitlines()
    return [(number, line.strip()) for number, line in enumerate(lines, start=1)]


def _iemocap_transcript(path):
    rows = []
    for number, line in _numbered_lines(path):
        match = _IEMOCAP_TURN.match(line)
        if not match:
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
                     "end": float(end), "text": text, "where": f"{str(path)!r} line {number}"})
    return rows


def _iemocap_labels(path):
    rows = []
    for number, line in _numbered_lines(path):
        match = _IEMOCAP_LABEL.match(line)
        if match:
            _, _, utterance, category, valence, activation, dominance = match.groups()
            rows.append({"utterance": utterance, "category": category,
                         "valence": float(valence), "activation": float(activation),
                         "dominance": float(dominance),
                         "where": f"{str(path)!r} line {number}"})
    return rows


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
    dialog are ordered by start time.

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
        or two label lines; the message names the file and line.

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
    turns, labels = [], []
    for dialog_folder in sessions:
        for path in sorted((dialog_folder / "transcriptions").glob("*.txt")):
            turns += _iemocap_transcript(path)
        for path in sorted((dialog_folder / "EmoEvaluation").glob("*.txt")):
            labels += _iemocap_labels(path)
    if not turns:
        raise ValueError(f"No IEMOCAP talkturn line found under {str(root)!r}.")
    frame = _one_line_per_utterance(turns, "transcripts")
    if labels:
        frame = frame.merge(_one_line_per_utterance(labels, "evaluations"), on="utterance",
                            how="left")
    else:
        frame[["category", "valence", "activation", "dominance"]] = np.nan
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


def _semaine_words(path, role):
    words = []
    for line in path.read_text(encoding="utf8", errors="replace").splitlines():
        parts = line.split(maxsplit=2)
        if len(parts) == 3 and parts[0].isdigit() and parts[1].isdigit():
            words.append((int(parts[0]) / 1000, int(parts[1]) / 1000, parts[2].strip(), role))
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
    for number, line in _numbered_lines(path):
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
    """Rater-averaged trace per dimension as (times, values)."""
    traces = {}
    for path in sorted(folder.glob("*.txt")):
        match = _TRACE.match(path.name)
        if match:
            pairs = _semaine_trace(path)
            traces.setdefault(_DIMENSIONS[match.group(3)], []).append(pairs)
    averaged = {}
    for dimension, raters in traces.items():
        n = min(len(r) for r in raters)
        averaged[dimension] = (raters[0][:n, 0], np.mean([r[:n, 1] for r in raters], axis=0))
    return averaged


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
    I intensity, P power, V valence). Variants seen in copies of the release
    are accepted too: an ``A`` instead of ``R`` before the rater, ``R``
    instead of ``S`` before the session, a digit after the character
    (``TUCPo2DV``) and no ``D`` (``TUCPoA``). Traces of the operator (``TO``)
    and other files are ignored. Consecutive words of one speaker make a talkturn;
    the traces, which rate the user, are averaged over raters and then over
    each *user* talkturn's time span. Operator talkturns are context only
    (their labels are missing). Sessions without a user transcript are
    skipped. The operator characters talk with every user, so speaker-disjoint
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
    frames = [frame for folder in folders if (frame := _semaine_session(folder)) is not None]
    if not frames:
        raise ValueError(f"No SEMAINE session under {str(root)!r} has a user transcript.")
    return pd.concat(frames, ignore_index=True)


def _semaine_info(path):
    """The attributes of a session's ``session.xml`` (none when it is absent)."""
    if not path.is_file():
        return {}
    try:
        return ET.parse(path).getroot().attrib
    except ET.ParseError as error:
        raise ValueError(f"SEMAINE session file {str(path)!r} is not well-formed XML: "
                         f"{error}.") from error


def _semaine_session(folder):
    users = sorted(folder.glob("wordLevel_alignedTranscript*_user*"))
    if not users:
        return None
    info = _semaine_info(folder / "session.xml")
    recording, character = info.get("recording", folder.name), info.get("character", "unknown")
    words = _semaine_words(users[0], "user")
    for path in sorted(folder.glob("wordLevel_alignedTranscript*_operator*"))[:1]:
        words += _semaine_words(path, "operator")
    turns = _semaine_talkturns(words)
    frame = pd.DataFrame({
        "conversation": folder.name, "turn": np.arange(len(turns)),
        "speaker": [f"user-{recording}" if t["role"] == "user" else f"operator-{character}"
                    for t in turns],
        "role": [t["role"] for t in turns], "recording": recording, "character": character,
        "text": [" ".join(t["words"]).lower() for t in turns],
        "start": [t["start"] for t in turns], "end": [t["end"] for t in turns]})
    for dimension, (times, values) in _semaine_traces(folder).items():
        frame[dimension] = [
            values[(times >= t["start"]) & (times <= t["end"])].mean()
            if t["role"] == "user" and ((times >= t["start"]) & (times <= t["end"])).any()
            else np.nan for t in turns]
    return frame
