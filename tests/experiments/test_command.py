import pytest

from skhanrock.__main__ import main
from skhanrock.datasets import make_conversations


def test_experiment_command_line_writes_tables(tmp_path, capsys):
    frame, y = make_conversations(n_conversations=12, min_turns=4, max_turns=6, n_speakers=36,
                                  random_state=1)
    # an interviewer opens every conversation: only --shared-speaker leaves anything to split
    frame["speaker"] = frame["speaker"].where(frame["turn"] != 0, "interviewer")
    data = tmp_path / "frame.csv"
    frame.assign(emotion=y).to_csv(data, index=False)
    arguments = ["experiment", "--data", str(data), "--target", "emotion", "--hypothesis",
                 "H3", "--trials", "1", "--epochs", "1", "--out", str(tmp_path / "out"),
                 "--resamples", "50", "--set", "han__primary_units=6", "--set",
                 "han__aux_units=2", "--set", "han__embedding_dim=8", "--no-progress"]
    assert main(arguments) == 2
    assert "only 1 speaker-disjoint group" in capsys.readouterr().err
    code = main([*arguments, "--shared-speaker", "interviewer"])
    assert code == 0
    written = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert written == ["H3.csv", "H3.jsonl", "H3.md", "H3_trials.csv"]
    printed = capsys.readouterr().out
    assert "| H3 | test accuracy |" in printed and "flat" in printed


def _frame_file(tmp_path, rename=None):
    frame, y = make_conversations(n_conversations=12, min_turns=4, max_turns=6, n_speakers=36,
                                  random_state=1)
    data = tmp_path / "frame.csv"
    frame.assign(emotion=y).rename(columns=rename or {}).to_csv(data, index=False)
    return ["experiment", "--data", str(data), "--target", "emotion", "--trials", "1",
            "--out", str(tmp_path / "out"), "--no-progress"]


def test_the_command_line_takes_a_speaker_column_or_none(tmp_path, capsys, monkeypatch):
    import skhanrock._commands.experiment as command

    arguments = _frame_file(tmp_path)
    assert main([*arguments, "--speaker-column", "speaker_id"]) == 2
    error = capsys.readouterr().err
    assert "speaker_column='speaker_id' is not a column of X" in error and "'speaker'" in error
    received = {}

    def recording(X, y, hypothesis, **kwargs):
        received.update(kwargs)
        raise ValueError("stop here")

    monkeypatch.setattr(command, "run_experiment", recording)
    assert main([*arguments, "--speaker-column", "none"]) == 2
    assert received["speaker_column"] is None
    assert main(arguments) == 2 and received["speaker_column"] == "speaker"


@pytest.mark.parametrize("out", ["a-file/out", "a-file"])
def test_an_out_folder_that_cannot_be_made_is_one_line_and_status_2(tmp_path, capsys, out):
    (tmp_path / "a-file").write_text("not a folder")
    arguments = ["experiment", "--trials", "1", "--out", str(tmp_path / out), "--no-progress"]
    assert main(arguments) == 2
    error = capsys.readouterr().err
    assert error.startswith(f"skhanrock experiment: --out '{tmp_path / out}'")
    assert len(error.strip().splitlines()) == 1 and "Traceback" not in error


def test_the_command_line_takes_a_conversation_column(tmp_path, capsys):
    arguments = _frame_file(tmp_path, rename={"conversation": "dialogue"})
    assert main(arguments) == 2
    assert "conversation_column='conversation' is not a column of X" in capsys.readouterr().err
    assert main([*arguments, "--conversation-column", "dialogue", "--hypothesis", "H3",
                 "--epochs", "1", "--resamples", "20", "--set", "han__primary_units=4",
                 "--set", "han__aux_units=2", "--set", "han__embedding_dim=8"]) == 0
