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
