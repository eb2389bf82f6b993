import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from skhanrock.datasets import load_iemocap, load_meld, load_semaine
from skhanrock.model_selection import PartitionSplit, SpeakerGroupKFold

MELD_ROOT = Path(__file__).resolve().parents[3] / "shared" / "data" / "meld"


MELD_HEADER = ("Sr No.,Utterance,Speaker,Emotion,Sentiment,Dialogue_ID,Utterance_ID,Season,"
               "Episode,StartTime,EndTime\n")


def test_meld_small_files(tmp_path):
    (tmp_path / "train_sent_emo.csv").write_text(
        MELD_HEADER
        + '1,You\u2019re here!,Ross,joy,positive,3,0,1,2,"00:01:02,500","00:01:03,250"\n'
        + '2,Yeah.,Rachel,neutral,neutral,3,1,1,2,"00:01:04,000","00:01:05,000"\n')
    frame = load_meld(tmp_path, splits=("train",))
    assert frame["text"].tolist() == ["You're here!", "Yeah."]
    assert frame["start"].tolist() == [62.5, 64.0] and frame["turn"].tolist() == [0, 1]
    assert set(frame["conversation"]) == {"train_3"}
    (tmp_path / "dev_sent_emo.csv").write_text(MELD_HEADER + '1,Hi,Joey,joy,positive,0,0,1,1,'
                                               '"00:01",x\n')
    with pytest.raises(ValueError, match="HH:MM:SS"):
        load_meld(tmp_path, splits=("dev",))
    with pytest.raises(FileNotFoundError, match="test"):
        load_meld(tmp_path, splits=("test",))


@pytest.mark.skipif(not MELD_ROOT.is_dir(), reason="no local MELD copy")
def test_meld_real_copy():
    frame = load_meld(MELD_ROOT)
    assert len(frame) == 13708 and frame["emotion"].nunique() == 7
    assert not frame.duplicated(["conversation", "turn"]).any()
    assert (frame["end"] >= frame["start"]).all()


def write_iemocap(root):
    dialog = root / "Session2" / "dialog"
    (dialog / "transcriptions").mkdir(parents=True)
    (dialog / "EmoEvaluation").mkdir(parents=True)
    (dialog / "transcriptions" / "Ses02M_script01_1.txt").write_text(
        "Ses02M_script01_1_M001 [010.5000-012.0000]: Then go.\n"
        "Ses02M_script01_1_F000 [002.0000-004.2500]: I can't stay.\n"
        "M: [LAUGHTER]\n"
        "Ses02M_script01_1_F002 [013.0000-014.0000]: Fine.\n")
    (dialog / "EmoEvaluation" / "Ses02M_script01_1.txt").write_text(
        "% [START_TIME - END_TIME] TURN_NAME EMOTION [V, A, D]\n\n"
        "[2.0000 - 4.2500]\tSes02M_script01_1_F000\tsad\t[1.5000, 2.0000, 2.5000]\n"
        "C-E1:\tSadness;\t()\n"
        "[10.5000 - 12.0000]\tSes02M_script01_1_M001\tfru\t[2.0000, 3.5000, 3.0000]\n"
        "[13.0000 - 14.0000]\tSes02M_script01_1_F002\texc\t[4.0000, 4.0000, 3.0000]\n")


def test_iemocap_layout(tmp_path):
    write_iemocap(tmp_path)
    frame = load_iemocap(tmp_path)
    assert frame["text"].tolist() == ["I can't stay.", "Then go.", "Fine."]
    assert frame["turn"].tolist() == [0, 1, 2]
    assert frame["speaker"].tolist() == ["Ses02_F", "Ses02_M", "Ses02_F"]
    assert frame["speaker_label"].tolist() == ["woman", "man", "woman"]
    assert frame["category"].tolist() == ["sad", "fru", "exc"]
    assert frame["label4"].tolist()[0] == "sad" and frame["label4"].isna().tolist()[1]
    assert frame["label4"].tolist()[2] == "happy"
    assert frame["valence"].tolist() == [1.5, 2.0, 4.0] and set(frame["session"]) == {2}
    with pytest.raises(FileNotFoundError, match="Session"):
        load_iemocap(tmp_path / "Session2")


def write_trace(path, value_at):
    """A FeelTrace file: every 0.1 s from 0 to 3.5 s, the value ``value_at(t)``."""
    path.write_text("\n".join(f"{t / 10:.1f} {value_at(t / 10):.3f}" for t in range(36)))


# Trace files as named in the release (and in copies of it), with the dimension each
# rates. Two raters for activation and valence; the operator's trace is not read.
TRACES = {"R1S{s}TUCSpDA.txt": ("activation", lambda t: 0.5 - t / 10),
          "R2S{s}TUCSpDA.txt": ("activation", lambda t: 0.7 - t / 10),
          "R1S{s}TUCSpDV.txt": ("valence", lambda t: -0.4),
          "R3S{s}TUCSp2DV.txt": ("valence", lambda t: -0.2),
          "R1S{s}TUCSpDP.txt": ("power", lambda t: 0.1 * t),
          "A1S{s}TUCSpI.txt": ("intensity", lambda t: 0.9),
          "R1S{s}TOCSpDV.txt": (None, lambda t: 5.0),
          "R1S{s}TUCSpDX.txt": (None, lambda t: 5.0)}


def write_semaine_session(root, session, recording, with_user=True, character="Spike"):
    folder = root / "Sessions" / str(session)
    folder.mkdir(parents=True)
    (folder / "session.xml").write_text(
        f'<session recording="{recording}" character="{character}"/>')
    if with_user:
        (folder / "wordLevel_alignedTranscript_user.txt").write_text(
            "100 500 I\n500 900 AM\n900 1300 ANGRY\n3000 3400 NO\n")
    (folder / "wordLevel_alignedTranscript_operator.txt").write_text(
        "1500 2000 WHY\n2000 2500 SO\n")
    for name, (_, value_at) in TRACES.items():
        write_trace(folder / name.format(s=session), value_at)


def test_semaine_layout(tmp_path):
    write_semaine_session(tmp_path, 3, recording=2)
    write_semaine_session(tmp_path, 4, recording=2, with_user=False)
    with pytest.warns(UserWarning, match=r"1 session folder.*no user transcript.*Sessions/4'"):
        frame = load_semaine(tmp_path)
    assert set(frame["conversation"]) == {"3"}
    assert frame["text"].tolist() == ["i am angry", "why so", "no"]
    assert frame["speaker"].tolist() == ["user-2", "operator-Spike", "user-2"]
    assert frame["start"].tolist() == [0.1, 1.5, 3.0]
    with pytest.raises(FileNotFoundError):
        load_semaine(tmp_path / "nowhere")


def test_semaine_partitions_by_recording_share_only_the_operators(tmp_path):
    # three users (recordings), each talking with the same two operator characters
    for session, (recording, character) in enumerate(
            [(r, c) for r in (1, 2, 3) for c in ("Spike", "Poppy")], start=1):
        write_semaine_session(tmp_path, session, recording, character=character)
    X = load_semaine(tmp_path)
    y = X["valence"]
    partitions = {"1": "train", "2": "dev", "3": "test"}
    with pytest.raises(ValueError, match="operator-.* on both sides"):
        next(PartitionSplit("recording", mapping=partitions).split(X, y))
    operators = X.loc[X["role"] == "operator", "speaker"].unique()
    train, test = next(PartitionSplit("recording", mapping=partitions,
                                      shared_speakers=operators).split(X, y))
    assert set(X["recording"].iloc[train]) == {"1"} and set(X["recording"].iloc[test]) == {"2"}
    users = X["speaker"].where(X["role"] == "user")
    assert set(users.iloc[train].dropna()) == {"user-1"}
    assert set(users.iloc[test].dropna()) == {"user-2"}
    # without a table, the users still deal into speaker-disjoint folds
    folds = SpeakerGroupKFold(n_splits=3, shared_speakers=operators).split(X)
    assert sorted(sorted(set(X["recording"].iloc[test])) for _, test in folds) == [
        ["1"], ["2"], ["3"]]


def test_semaine_traces_are_averaged_over_raters_then_talkturns(tmp_path):
    write_semaine_session(tmp_path, 3, recording=2)
    frame = load_semaine(tmp_path)
    assert {"activation", "valence", "power", "intensity"} <= set(frame.columns)
    assert "expectation" not in frame.columns
    first = np.arange(1, 14) / 10            # trace times inside the first talkturn
    expected = {"activation": np.mean(0.6 - first / 10), "valence": -0.3,
                "power": np.mean(0.1 * first), "intensity": 0.9}
    for dimension, value in expected.items():
        assert frame[dimension].iloc[0] == pytest.approx(value), dimension
        assert np.isnan(frame[dimension].iloc[1]), dimension     # the operator's talkturn
    assert frame["power"].iloc[2] == pytest.approx(np.mean(0.1 * np.arange(30, 35) / 10))


MELD_ROW = '1,Hi.,Joey,joy,positive,{dialogue},{utterance},1,1,{start},"00:01:03,250"\n'


def meld_rows(*rows):
    """MELD lines, each a dict of the fields that differ from a good row."""
    good = {"dialogue": 3, "utterance": 0, "start": '"00:01:02,500"'}
    return "".join(MELD_ROW.format(**{**good, "utterance": k, **row})
                   for k, row in enumerate(rows))


@pytest.mark.parametrize(("content", "match"), [
    ("", r"train_sent_emo\.csv' is empty"),
    (b"\x89PNG\r\n\x1a\n\x00\xff\xfe", r"train_sent_emo\.csv' is not a UTF-8"),
    (MELD_HEADER + "1,Hi,Joey\n", r"train_sent_emo\.csv', line 2: 3 fields where the header "
                                  "has 11"),
    (MELD_HEADER + meld_rows({}, {"utterance": ""}),
     r"train_sent_emo\.csv\['Utterance_ID'\] is missing at row 1"),
    (MELD_HEADER + meld_rows({}, {"utterance": "x"}),
     r"train_sent_emo\.csv\['Utterance_ID'\] must be numeric; row 1 holds 'x'"),
    (MELD_HEADER + meld_rows({}, {"utterance": 1.5}),
     r"train_sent_emo\.csv\['Utterance_ID'\] must hold integers; row 1 holds 1\.5"),
    # A missing dialogue id would also have turned the others into "train_3.0".
    (MELD_HEADER + meld_rows({}, {"dialogue": ""}),
     r"train_sent_emo\.csv\['Dialogue_ID'\] is missing at row 1"),
    (MELD_HEADER + meld_rows({"start": 62}, {"start": 64}),
     r"train_sent_emo\.csv\['StartTime'\] at row 0 is 62, not HH:MM:SS")])
def test_meld_errors_name_the_file_column_and_row(tmp_path, content, match):
    path = tmp_path / "train_sent_emo.csv"
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    with pytest.raises(ValueError, match=match):
        load_meld(tmp_path, splits=("train",))


def test_iemocap_refuses_an_utterance_without_session(tmp_path):
    write_iemocap(tmp_path)
    transcript = tmp_path / "Session2/dialog/transcriptions/Ses02M_script01_1.txt"
    transcript.write_text(transcript.read_text()
                          + "SesX_script01_1_F003 [015.0000-016.0000]: Who?\n")
    with pytest.raises(ValueError, match=r"Ses02M_script01_1\.txt', line 5: utterance "
                                         r"'SesX_script01_1_F003' does not start with Ses"):
        load_iemocap(tmp_path)


@pytest.mark.parametrize(("folder", "line", "kind"), [
    ("EmoEvaluation", "[13.0000 - 14.0000]\tSes02M_script01_1_F002\texc\t"
                      "[4.0000, 4.0000, 3.0000]\n", "evaluations"),
    ("transcriptions", "Ses02M_script01_1_F002 [013.0000-014.0000]: Fine.\n", "transcripts")])
def test_iemocap_refuses_an_utterance_listed_twice(tmp_path, folder, line, kind):
    # Repeated, the line would have made two talkturns of one utterance.
    write_iemocap(tmp_path)
    path = tmp_path / "Session2" / "dialog" / folder / "Ses02M_script01_1.txt"
    path.write_text(path.read_text() + line)
    n_lines = len(path.read_text().splitlines())
    with pytest.raises(ValueError, match=rf"IEMOCAP {kind} list utterance "
                                         rf"'Ses02M_script01_1_F002' more than once: .*"
                                         rf"Ses02M_script01_1\.txt' line {n_lines}"):
        load_iemocap(tmp_path)


@pytest.mark.parametrize(("name", "content", "match"), [
    ("session.xml", '<session recording="2" character="Spike"', r"session\.xml' is not well"),
    ("R1S3TUCSpDV.txt", "0.1 0.5\n0.2\n", r"R1S3TUCSpDV\.txt', line 2: '0\.2' is not"),
    ("R1S3TUCSpDV.txt", "0.1 0.5\n0.2 a\n", r"R1S3TUCSpDV\.txt', line 2: '0\.2 a' is not"),
    # Single values, even in number, used to be paired up silently.
    ("R1S3TUCSpDV.txt", "0.1\n0.5\n", r"R1S3TUCSpDV\.txt', line 1: '0\.1' is not"),
    ("R1S3TUCSpDV.txt", "0.1 0.5 0.7\n", r"R1S3TUCSpDV\.txt', line 1: .* is not"),
    ("R1S3TUCSpDV.txt", "0.1 nan\n", r"R1S3TUCSpDV\.txt', line 1: .* finite"),
    ("R1S3TUCSpDV.txt", "\n", r"R1S3TUCSpDV\.txt' is empty")])
def test_semaine_errors_name_the_file(tmp_path, name, content, match):
    write_semaine_session(tmp_path, 3, recording=2)
    (tmp_path / "Sessions" / "3" / name).write_text(content)
    with pytest.raises(ValueError, match=match):
        load_semaine(tmp_path)


def iemocap_file(root, folder):
    return root / "Session2" / "dialog" / folder / "Ses02M_script01_1.txt"


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-16", "utf-16-le-bom", "utf-16-be-bom"])
def test_iemocap_reads_files_with_a_byte_order_mark(tmp_path, encoding):
    # A UTF-8 mark used to hide the first line from the line patterns, and a UTF-16
    # file decoded with replacement characters matched no line at all.
    write_iemocap(tmp_path)
    expected = load_iemocap(tmp_path)
    for folder in ("transcriptions", "EmoEvaluation"):
        path = iemocap_file(tmp_path, folder)
        text = path.read_text()
        if encoding.endswith("-bom"):
            codec = encoding[:-4]
            path.write_bytes("\ufeff".encode(codec) + text.encode(codec))
        else:
            path.write_bytes(text.encode(encoding))
    pd.testing.assert_frame_equal(load_iemocap(tmp_path), expected)


def test_iemocap_undecodable_bytes_are_an_error_naming_the_file_and_offset(tmp_path):
    write_iemocap(tmp_path)
    path = iemocap_file(tmp_path, "transcriptions")
    data = path.read_bytes()
    path.write_bytes(data[:20] + b"\xe9" + data[20:])       # Latin-1 'é' in a UTF-8 file
    with pytest.raises(ValueError, match=r"Ses02M_script01_1\.txt' is not a UTF-8 text file: "
                                         r"byte 0xe9 at offset 20"):
        load_iemocap(tmp_path)


def test_iemocap_malformed_label_line_warns_with_its_file_and_line(tmp_path):
    write_iemocap(tmp_path)
    path = iemocap_file(tmp_path, "EmoEvaluation")
    path.write_text(path.read_text().replace("[4.0000, 4.0000, 3.0000]", "[4.0000, 4.0000]"))
    with pytest.warns(UserWarning) as record:
        frame = load_iemocap(tmp_path)
    messages = " | ".join(str(w.message) for w in record)
    assert re.search(r"1 malformed label line.*Ses02M_script01_1\.txt' \(line 6\)", messages)
    assert re.search(r"1 of 3 utterances have no label line.*Ses02M_script01_1\.txt' \(1\)",
                     messages)
    assert frame["category"].isna().tolist() == [False, False, True]


def test_iemocap_missing_evaluation_file_warns(tmp_path):
    write_iemocap(tmp_path)
    iemocap_file(tmp_path, "EmoEvaluation").unlink()
    with pytest.warns(UserWarning, match=r"3 of 3 utterances have no label line.*"
                                         r"EmoEvaluation.*Ses02M_script01_1\.txt' is missing"):
        frame = load_iemocap(tmp_path)
    assert frame["category"].isna().all() and len(frame) == 3


def test_iemocap_unreadable_utterance_lines_and_labels_without_utterance_warn(tmp_path):
    write_iemocap(tmp_path)
    transcript = iemocap_file(tmp_path, "transcriptions")
    transcript.write_text(transcript.read_text()
                          + "Ses02M_script01_1_M003 [015.0000]: No end time.\n")
    labels = iemocap_file(tmp_path, "EmoEvaluation")
    labels.write_text(labels.read_text() + "[20.0000 - 21.0000]\tSes02M_script01_1_M009\tneu\t"
                                           "[3.0000, 3.0000, 3.0000]\n")
    with pytest.warns(UserWarning) as record:
        frame = load_iemocap(tmp_path)
    messages = " | ".join(str(w.message) for w in record)
    assert re.search(r"1 malformed utterance line.*Ses02M_script01_1\.txt' \(line 5\)",
                     messages)
    assert re.search(r"1 label line.*no utterance.*Ses02M_script01_1_M009", messages)
    assert len(frame) == 3


def test_semaine_first_word_survives_a_byte_order_mark(tmp_path):
    write_semaine_session(tmp_path, 3, recording=2)
    user = tmp_path / "Sessions" / "3" / "wordLevel_alignedTranscript_user.txt"
    user.write_bytes(user.read_text().encode("utf-8-sig"))
    trace = tmp_path / "Sessions" / "3" / "R1S3TUCSpDV.txt"
    trace.write_bytes(trace.read_text().encode("utf-16"))
    frame = load_semaine(tmp_path)
    assert frame["text"].tolist() == ["i am angry", "why so", "no"]
    assert frame["start"].iloc[0] == 0.1
    assert frame["valence"].iloc[0] == pytest.approx(-0.3)


def test_semaine_unreadable_word_lines_warn(tmp_path):
    write_semaine_session(tmp_path, 3, recording=2)
    user = tmp_path / "Sessions" / "3" / "wordLevel_alignedTranscript_user.txt"
    user.write_text(user.read_text() + "3400 WHAT\n")
    with pytest.warns(UserWarning, match=r"1 line.*wordLevel_alignedTranscript_user\.txt' "
                                         r"\(line 5\)"):
        frame = load_semaine(tmp_path)
    assert frame["text"].tolist() == ["i am angry", "why so", "no"]


def write_semaine_words(folder, user, operator):
    (folder / "wordLevel_alignedTranscript_user.txt").write_text(user)
    (folder / "wordLevel_alignedTranscript_operator.txt").write_text(operator)


def test_semaine_raters_are_averaged_over_each_talkturns_own_span(tmp_path):
    # Rater 2 starts at 5 s: position by position on rater 1's grid the 0-0.9 s
    # talkturn got (0.75 + 0.65) / 2 = 0.7, where rater 1 alone covers it with 0.4.
    folder = tmp_path / "Sessions" / "12"
    folder.mkdir(parents=True)
    (folder / "session.xml").write_text('<session recording="5" character="Poppy"/>')
    write_semaine_words(folder, "0 400 HELLO\n400 900 THERE\n5000 5900 YES\n9000 9500 BYE\n",
                        "1000 1500 HI\n6000 6500 OK\n")
    (folder / "R1S12TUCPoDV.txt").write_text("0.2 0.5\n0.6 0.3\n1.2 -0.4\n5.2 0.1\n")
    (folder / "R2S12TUCPoDV.txt").write_text("5.0 1.0\n5.4 1.0\n5.8 1.0\n")
    with pytest.warns(UserWarning, match=r"1 of 3 user talkturns.*no valence.*session '12'"):
        frame = load_semaine(tmp_path)
    assert frame["text"].tolist() == ["hello there", "hi", "yes", "ok", "bye"]
    assert frame["valence"].iloc[0] == pytest.approx(0.4)
    # both raters cover 5-5.9 s: rater 1 gives 0.1, rater 2 gives 1.0
    assert frame["valence"].iloc[2] == pytest.approx(0.55)
    assert frame["valence"].isna().tolist() == [False, True, False, True, True]


def test_semaine_warns_about_the_recording_listed_in_dev_and_test(tmp_path):
    write_semaine_session(tmp_path, 3, recording="2009.06.26.14.38.17")
    write_semaine_session(tmp_path, 4, recording="2009.06.26.14.09.45")
    with pytest.warns(UserWarning, match=r"2009\.06\.26\.14\.38\.17.*both dev and test.*"
                                         r"SEMAINE_PARTITIONS.*test"):
        frame = load_semaine(tmp_path)
    assert set(frame["recording"]) == {"2009.06.26.14.38.17", "2009.06.26.14.09.45"}


def test_meld_a_single_split_name_is_one_split(tmp_path):
    (tmp_path / "dev_sent_emo.csv").write_text(
        MELD_HEADER + '1,Hi.,Joey,joy,positive,0,0,1,1,"00:01:02,500","00:01:03,250"\n')
    frame = load_meld(tmp_path, splits="dev")
    assert frame["split"].tolist() == ["dev"] and frame["conversation"].tolist() == ["dev_0"]


@pytest.mark.parametrize(("splits", "match"), [
    (("../m1/dev",), r"'\.\./m1/dev' is not a plain split name"),
    (("sub/dev",), r"'sub/dev' is not a plain split name"),
    (("..",), r"'\.\.' is not a plain split name"),
    ((3,), r"3 is not a plain split name"),
    (("dev", "dev"), r"'dev' is listed twice"),
    ((), "no split")])
def test_meld_refuses_split_names_that_are_not_plain(tmp_path, splits, match):
    outside = tmp_path / "m1"
    outside.mkdir()
    (outside / "dev_sent_emo.csv").write_text(
        MELD_HEADER + '1,Hi.,Joey,joy,positive,0,0,1,1,"00:01:02,500","00:01:03,250"\n')
    root = tmp_path / "root"
    root.mkdir()
    (root / "dev_sent_emo.csv").write_text((outside / "dev_sent_emo.csv").read_text())
    with pytest.raises(ValueError, match=match):
        load_meld(root, splits=splits)
