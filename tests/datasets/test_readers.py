import numpy as np
import pandas as pd
import pytest

from skhanrock.datasets import (
    align_frames,
    make_conversations,
    make_feature_files,
    read_openface,
    read_vokaturi,
)

OPENFACE_HEADER = "frame, face_id, timestamp, confidence, success, AU06_c, AU12_r, AU12_c"


def write_openface(path, rows):
    lines = [OPENFACE_HEADER] + [", ".join(str(v) for v in row) for row in rows]
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture(scope="module")
def generated_files(tmp_path_factory):
    X, y = make_conversations(n_conversations=4, random_state=3)
    paths = make_feature_files(X, tmp_path_factory.mktemp("features"), random_state=0)
    return X, paths


def test_round_trip_recovers_the_talkturn_features(generated_files):
    X, paths = generated_files
    frames = read_openface(paths["openface"])
    assert set(frames["video"]) == set(X["conversation"])
    assert {"AU05_r", "AU05_c", "success", "confidence"} <= set(frames.columns)
    tones = read_vokaturi(paths["vokaturi"])
    talkturns = X[["conversation", "turn", "start", "end"]].merge(tones)
    aligned = align_frames(talkturns, frames)
    for column in ("AU05_c", "AU17_c", "AU20_c", "AU25_c", "AU12_c", "smile"):
        np.testing.assert_array_equal(aligned[column], X[column])
    assert np.corrcoef(aligned["AU17_r"], X["AU17_r"])[0, 1] > 0.99
    np.testing.assert_allclose(aligned["tone_anger"], X["tone_anger"])


def test_glob_and_video_names(generated_files):
    _, paths = generated_files
    frames = read_openface(paths["openface"][0].rsplit("/", 1)[0] + "/conv*.csv")
    assert frames["video"].nunique() == 4
    named = read_openface(paths["openface"][:1], video=["call"])
    assert set(named["video"]) == {"call"}


def test_aligner_ignores_failed_frames_and_marks_empty_talkturns_missing(tmp_path):
    path = write_openface(tmp_path / "v.csv", [
        (1, 0, 0.0, 0.95, 1, 1, 2.0, 1), (2, 0, 0.1, 0.95, 1, 1, 4.0, 1),
        (3, 0, 0.2, 0.10, 1, 0, 9.0, 0),          # low confidence: ignored
        (4, 0, 0.3, 0.95, 0, 0, 9.0, 0),          # tracking failed: ignored
        (5, 0, 0.6, 0.95, 1, 1, 1.0, 1), (6, 0, 0.7, 0.95, 1, 1, 1.0, 1),
        (7, 0, 0.8, 0.95, 1, 1, 1.0, 1), (8, 0, 0.9, 0.95, 1, 1, 1.0, 1),
        (9, 0, 1.0, 0.95, 1, 1, 1.0, 1), (10, 0, 1.1, 0.95, 1, 1, 1.0, 1)])
    talkturns = pd.DataFrame({"conversation": "v", "turn": [0, 1, 2],
                              "start": [0.0, 0.6, 5.0], "end": [0.3, 1.1, 6.0]})
    with pytest.warns(UserWarning, match=r"1 of 3 talkturns \(33%\) have no frame"):
        aligned = align_frames(talkturns, read_openface(path), present_seconds=0.5)
    assert aligned["AU12_r"].tolist()[:2] == [3.0, 1.0]
    assert aligned["AU12_c"].tolist()[:2] == [1.0, 1.0]
    # 0.2 s of co-presence is no smile; 0.6 s is one
    assert aligned["smile"].tolist()[:2] == [0.0, 1.0]
    assert aligned["AU12_present"].tolist()[:2] == [0.0, 1.0]
    assert aligned.iloc[2][["AU12_r", "AU12_c", "smile"]].isna().all()


def test_reader_errors(tmp_path):
    first = write_openface(tmp_path / "a.csv", [(1, 0, 0.0, 0.9, 1, 1, 1.0, 1),
                                                (2, 0, 1.0, 0.9, 1, 1, 1.0, 1)])
    second = write_openface(tmp_path / "b.csv", [(1, 0, 0.5, 0.9, 1, 1, 1.0, 1)])
    with pytest.raises(ValueError, match="overlap in time"):
        read_openface([first, second], video=["v", "v"])
    assert len(read_openface([first, second])) == 3  # different videos: fine
    bad = tmp_path / "bad.csv"
    bad.write_text("frame, timestamp\n1, 0.0\n")
    with pytest.raises(ValueError, match="confidence"):
        read_openface(bad)
    text = write_openface(tmp_path / "text.csv", [(1, 0, 0.0, 0.9, 1, "yes", 1.0, 1)])
    with pytest.raises(ValueError, match="AU06_c.*numeric"):
        read_openface(text)
    tones = tmp_path / "tones.csv"
    tones.write_text("conversation,turn,neutrality,happiness,sadness,anger,fear\nc,0,2,0,0,0,0\n")
    with pytest.raises(ValueError, match="probability"):
        read_vokaturi(tones)
    with pytest.raises(ValueError, match="ends before it starts"):
        align_frames(pd.DataFrame({"conversation": ["v"], "turn": [0], "start": [2.0],
                                   "end": [1.0]}), read_openface(first))
    with pytest.raises(FileNotFoundError):
        read_openface(tmp_path / "missing.csv")


def smile_frames(video, stamps, success=1, confidence=0.95):
    """Frames where AU06 and AU12 are both present, at the given timestamps."""
    return pd.DataFrame({"video": video, "timestamp": stamps, "confidence": confidence,
                         "success": success, "AU06_c": 1.0, "AU12_r": 2.0, "AU12_c": 1.0})


def one_talkturn(video="v", start=0.0, end=0.9):
    return pd.DataFrame({"conversation": [video], "turn": [0], "start": [start], "end": [end]})


# Two 0.3 s runs of co-presence at 10 frames per second, 0.4 s apart.
FIRST_RUN, GAP, SECOND_RUN = [0.0, 0.1, 0.2], [0.3, 0.4, 0.5, 0.6], [0.7, 0.8, 0.9]


@pytest.mark.parametrize("between", [
    smile_frames("v", GAP, success=0),               # tracking failed
    smile_frames("v", GAP, confidence=0.1),          # low confidence
    smile_frames("v", [])])                          # frames missing from the file
def test_runs_break_at_excluded_frames_and_time_gaps(between):
    frames = pd.concat([smile_frames("v", FIRST_RUN), between, smile_frames("v", SECOND_RUN)])
    aligned = align_frames(one_talkturn(), frames, present_seconds=0.5)
    assert aligned[["smile", "AU12_present"]].iloc[0].tolist() == [0.0, 0.0]
    # every usable frame still shows AU12, so the "every frame" flag is unaffected
    assert aligned["AU12_c"].iloc[0] == 1.0


def test_an_unbroken_run_is_a_smile():
    frames = smile_frames("v", FIRST_RUN + GAP + SECOND_RUN)
    aligned = align_frames(one_talkturn(), frames, present_seconds=0.5)
    assert aligned[["smile", "AU12_present"]].iloc[0].tolist() == [1.0, 1.0]


def test_frame_duration_is_estimated_per_video():
    # A long 30 fps video would make a pooled estimate 1/30 s, and every 0.1 s step
    # of the 10 fps video a break in its runs.
    fast = smile_frames("fast", np.arange(90) / 30)
    slow = smile_frames("slow", [0.0, 0.1, 0.2, 0.3, 0.4, 0.5])
    talkturns = pd.DataFrame({"conversation": ["fast", "slow"], "turn": [0, 0],
                              "start": [0.0, 0.0], "end": [0.6, 0.5]})
    aligned = align_frames(talkturns, pd.concat([fast, slow]))
    assert aligned["smile"].tolist() == [1.0, 1.0]


def test_talkturns_without_frames_warn_and_no_match_raises(tmp_path):
    rows = [(k, 0, k / 10, 0.95, 1, 1, 1.0, 1) for k in range(10)]
    frames = read_openface([write_openface(tmp_path / "1.csv", rows),
                            write_openface(tmp_path / "2.csv", rows)])
    numbered = pd.DataFrame({"conversation": [1, 2], "turn": [0, 0], "start": 0.0,
                             "end": 0.5})
    with pytest.raises(ValueError, match=r"\[1, 2\] \(int\).*'1', '2'.*astype\(str\)"):
        align_frames(numbered, frames)
    partly = numbered.assign(conversation=["1", "3"])
    with pytest.warns(UserWarning, match=r"1 of 2 videos.*\['3'\]"):
        aligned = align_frames(partly, frames)
    assert aligned["AU12_r"].iloc[0] == 1.0 and np.isnan(aligned["AU12_r"].iloc[1])


def test_align_frames_never_modifies_its_inputs():
    frames = pd.concat([smile_frames("v", SECOND_RUN), smile_frames("v", GAP, success=0),
                        smile_frames("v", FIRST_RUN)])      # out of time order
    talkturns = one_talkturn().assign(AU12_r=-1.0)          # a column the aligner replaces
    talkturns.attrs["note"] = "kept"
    frames_before, talkturns_before = frames.copy(), talkturns.copy()
    aligned = align_frames(talkturns, frames)
    pd.testing.assert_frame_equal(frames, frames_before)
    pd.testing.assert_frame_equal(talkturns, talkturns_before)
    assert talkturns.attrs == {"note": "kept"}
    assert aligned["AU12_r"].iloc[0] == 2.0 and aligned["smile"].iloc[0] == 0.0


def test_read_vokaturi_reads_several_files(tmp_path):
    header = "conversation,turn,neutrality,happiness,sadness,anger,fear\n"
    (tmp_path / "tones_a.csv").write_text(header + "a,0,0.6,0.2,0.1,0.05,0.05\n"
                                                   "a,1,0.1,0.1,0.7,0.05,0.05\n")
    (tmp_path / "tones_b.csv").write_text(header + "b,0,0.2,0.5,0.1,0.1,0.1\n")
    listed = read_vokaturi([tmp_path / "tones_a.csv", tmp_path / "tones_b.csv"])
    assert listed[["conversation", "turn"]].values.tolist() == [["a", 0], ["a", 1], ["b", 0]]
    assert listed["tone_sadness"].tolist() == [0.1, 0.7, 0.1]
    pd.testing.assert_frame_equal(read_vokaturi(tmp_path / "tones_*.csv"), listed)
    (tmp_path / "tones_c.csv").write_text("conversation,turn,neutrality\nc,0,1.0\n")
    with pytest.raises(ValueError, match="tones_c.csv.*happiness"):
        read_vokaturi(tmp_path / "tones_*.csv")


def test_align_frames_keeps_one_row_per_talkturn_under_a_duplicate_index():
    frames = smile_frames("v", FIRST_RUN + GAP + SECOND_RUN)
    talkturns = pd.DataFrame({"conversation": ["v", "v"], "turn": [0, 1],
                              "start": [0.0, 0.5], "end": [0.4, 0.9]}, index=[7, 7])
    aligned = align_frames(talkturns, frames)
    assert aligned.index.tolist() == [7, 7]
    assert aligned["turn"].tolist() == [0, 1] and aligned["AU12_r"].tolist() == [2.0, 2.0]


def test_align_frames_names_bad_frame_values_and_skips_missing_intensities():
    frames = smile_frames("v", FIRST_RUN + GAP + SECOND_RUN).reset_index(drop=True)
    # One frame without a time would void the frame duration, and every smile, of its video.
    with pytest.raises(ValueError, match=r"frames\['timestamp'\] is missing at row 4"):
        align_frames(one_talkturn(), frames.assign(timestamp=frames["timestamp"].mask(
            frames.index == 4)))
    with pytest.raises(ValueError, match=r"frames\['AU12_r'\] must be numeric; row 2"):
        align_frames(one_talkturn(), frames.astype({"AU12_r": object}).assign(
            AU12_r=lambda f: f["AU12_r"].mask(f.index == 2, "n/a")))
    # A missing intensity in one frame leaves the mean of the others.
    gappy = frames.assign(AU12_r=np.where(frames.index == 2, np.nan, 2.0 + frames.index))
    aligned = align_frames(one_talkturn(), gappy)
    assert aligned["AU12_r"].iloc[0] == pytest.approx(np.mean([2 + k for k in range(10)
                                                               if k != 2]))


def test_make_feature_files_checks_failure_rate_and_writes_failed_frames(tmp_path):
    X, _ = make_conversations(n_conversations=1, random_state=0)
    with pytest.raises(ValueError, match="failure_rate"):
        make_feature_files(X, tmp_path, failure_rate=1.5)
    paths = make_feature_files(X, tmp_path, random_state=0, failure_rate=np.float32(0.1))
    frames = read_openface(paths["openface"])
    failed = frames["success"] == 0
    assert failed.sum() == round(0.1 * (~failed).sum())


VOKATURI_HEADER = "conversation,turn,neutrality,happiness,sadness,anger,fear\n"


@pytest.mark.parametrize("content", [
    b"",                                                  # empty: no header to read
    b"\x89PNG\r\n\x1a\n\x00\xff\xfe\x00\x00IHDR",         # not UTF-8 text
    b'\x01\x02,\x03\n\x04,\x05,\x06\n"\x07\n'])           # text, but no table
@pytest.mark.parametrize("reader", [read_openface, read_vokaturi])
def test_unreadable_files_are_refused_with_their_name(tmp_path, reader, content):
    path = tmp_path / "broken.csv"
    path.write_bytes(content)
    with pytest.raises(ValueError, match=r"broken\.csv.* (empty|not a UTF-8|line \d)"):
        reader(path)


@pytest.mark.parametrize(("reader", "header", "line"), [
    # One field too many: pandas would take the first as the index and shift the rest.
    (read_openface, OPENFACE_HEADER, "1, 0, 0.0, 0.9, 1, 1, 1.0, 1, 5"),
    (read_vokaturi, VOKATURI_HEADER, "x,c,0,0.6,0.2,0.1,0.05,0.05"),
    # One too few: pandas would pad the row with a missing value.
    (read_openface, OPENFACE_HEADER, "1, 0, 0.0, 0.9, 1, 1, 1.0"),
    (read_vokaturi, VOKATURI_HEADER, "c,0,0.6,0.2,0.1,0.05")])
def test_a_line_whose_fields_differ_from_the_header_is_refused(tmp_path, reader, header,
                                                                line):
    path = tmp_path / "rows.csv"
    path.write_text(header.strip() + "\n" + line + "\n")
    n_fields, n_header = len(line.split(",")), len(header.split(","))
    with pytest.raises(ValueError, match=rf"rows\.csv.*line 2: {n_fields} fields where the "
                                         rf"header has {n_header}"):
        reader(path)


def test_well_formed_files_with_blank_lines_read_as_before(tmp_path):
    path = tmp_path / "v.csv"
    path.write_text(OPENFACE_HEADER + "\n1, 0, 0.0, 0.9, 1, 1, 1.5, 1\n\n"
                                      "2, 0, 0.1, 0.8, 1, 0, 0.5, 0\n")
    frames = read_openface(path)
    assert frames.index.tolist() == [0, 1] and frames["frame"].tolist() == [1, 2]
    assert frames["confidence"].tolist() == [0.9, 0.8]
    assert frames["AU12_r"].tolist() == [1.5, 0.5]


def mutate(X, column, row, value):
    """X with one value replaced (the column as objects, so that text fits too)."""
    changed = X.astype({column: object})
    changed.loc[row, column] = value
    return changed


def rename(X, *names):
    """X with its conversations renamed, in order of appearance."""
    return X.assign(conversation=X["conversation"].map(dict(zip(X["conversation"].unique(),
                                                                 names, strict=True))))


@pytest.mark.parametrize(("change", "error", "match"), [
    (lambda X: X.to_dict("records"), TypeError, "X must be a pandas DataFrame"),
    (lambda X: X.drop(columns="tone_fear"), ValueError, r"missing the column\(s\) \['tone_fear'\]"),
    (lambda X: X.drop(columns="AU05_c"), ValueError, r"AU05.*presence flag.*\['AU05_c'\]"),
    (lambda X: mutate(X, "start", 3, np.nan), ValueError, r"X\['start'\] is missing at row 3"),
    (lambda X: mutate(X, "AU12_r", 1, "high"), ValueError, r"X\['AU12_r'\] must be numeric"),
    (lambda X: mutate(X, "end", 2, X.loc[2, "start"] - 1.0), ValueError,
     "row 2 of X ends before it starts"),
    (lambda X: rename(X, "a", "../../escape"), ValueError, "'../../escape' is not a plain"),
    (lambda X: rename(X, r"..\escape", "b"), ValueError, r"'\.\.\\\\escape' is not a plain"),
    (lambda X: rename(X, "Call", "call"), ValueError,
     r"'Call' and conversation 'call' would both be written to 'call\.csv'"),
    (lambda X: rename(X, 1, "1"), ValueError, r"1 and conversation '1' would both"),
    (lambda X: rename(X, "a", "vokaturi"), ValueError,
     "Vokaturi table and conversation 'vokaturi'")])
def test_make_feature_files_refuses_frames_it_cannot_write(tmp_path, change, error, match):
    X, _ = make_conversations(n_conversations=2, random_state=0)
    X = change(X)
    before = X.copy() if isinstance(X, pd.DataFrame) else None
    directory = tmp_path / "a" / "b"
    with pytest.raises(error, match=match):
        make_feature_files(X, directory, random_state=0)
    assert not list(tmp_path.rglob("*.csv"))      # nothing written, inside or outside
    if before is not None:
        pd.testing.assert_frame_equal(X, before)


def test_an_existing_path_with_glob_characters_is_read_as_a_path(tmp_path):
    # "take[1].csv" as a pattern matches "take1.csv" only, so it used to match nothing.
    folder = tmp_path / "run[2024]"
    folder.mkdir()
    path = write_openface(folder / "take[1].csv", [(1, 0, 0.0, 0.9, 1, 1, 1.0, 1)])
    assert read_openface(path)["video"].tolist() == ["take[1]"]
    assert read_openface(str(path))["video"].tolist() == ["take[1]"]
    write_openface(tmp_path / "take1.csv", [(1, 0, 0.0, 0.9, 1, 1, 1.0, 1)])
    assert read_openface(tmp_path / "take[1].csv")["video"].tolist() == ["take1"]  # a glob


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-16"])
@pytest.mark.parametrize("reader", [read_openface, read_vokaturi])
def test_csv_files_with_a_byte_order_mark_are_read(tmp_path, reader, encoding):
    path = tmp_path / "marked.csv"
    if reader is read_openface:
        text = OPENFACE_HEADER + "\n1, 0, 0.0, 0.9, 1, 1, 1.5, 1\n"
    else:
        text = VOKATURI_HEADER + "c,0,0.6,0.2,0.1,0.05,0.05\n"
    path.write_text(text, encoding=encoding)
    plain = tmp_path / "plain.csv"
    plain.write_text(text)
    pd.testing.assert_frame_equal(reader(path).drop(columns="video", errors="ignore"),
                                  reader(plain).drop(columns="video", errors="ignore"))


def test_success_is_a_flag():
    # 0.999999 is a success written as a float; "== 1" dropped every frame.
    frames = smile_frames("v", FIRST_RUN + GAP + SECOND_RUN, success=0.999999)
    aligned = align_frames(one_talkturn(), frames)
    assert aligned["AU12_r"].iloc[0] == 2.0 and aligned["smile"].iloc[0] == 1.0
    failed = smile_frames("v", FIRST_RUN, success=1e-6)
    with pytest.warns(UserWarning, match="none usable"):
        assert np.isnan(align_frames(one_talkturn(), failed)["AU12_r"].iloc[0])


def test_talkturns_in_seconds_against_frames_in_milliseconds_warn():
    frames = smile_frames("v", np.arange(0, 10000, 100.0))        # 10 s, in milliseconds
    talkturns = pd.DataFrame({"conversation": "v", "turn": range(4),
                              "start": [0.0, 2.0, 4.0, 6.0], "end": [1.0, 3.0, 5.0, 7.0]})
    with pytest.warns(UserWarning, match=r"3 of 4 talkturns \(75%\) have no frame.*"
                                         r"milliseconds"):
        align_frames(talkturns, frames)


def test_talkturns_outside_their_video_warn_with_the_share():
    frames = smile_frames("v", np.arange(0, 2, 0.1))
    talkturns = pd.DataFrame({"conversation": "v", "turn": range(3),
                              "start": [0.0, 5.0, 7.0], "end": [1.0, 6.0, 8.0]})
    with pytest.warns(UserWarning, match=r"2 of 3 talkturns \(67%\) have no frame.*"
                                         r"outside .*frames' times") as record:
        aligned = align_frames(talkturns, frames)
    assert len(record) == 1
    assert aligned["AU12_r"].isna().tolist() == [False, True, True]
