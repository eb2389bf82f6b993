from skhanrock.__main__ import main
from skhanrock._demo import run_demo


def test_demo_runs_the_whole_pipeline_and_reports_every_model():
    lines = []
    table = run_demo(n_conversations=12, max_epochs=1, random_state=0, progress=False,
                     print=lines.append)
    assert list(table.index) == ["TF-IDF + logistic regression",
                                 "HAN-ROCK, no auxiliary targets",
                                 "HAN-ROCK, ap auxiliary targets",
                                 "HAN-ROCK, aphf auxiliary targets"]
    assert ((table["accuracy"] >= 0) & (table["accuracy"] <= 1)).all()
    output = "\n".join(lines)
    assert "Example MONAH narrative" in output and " said " in output
    assert "Fitted loss weights" in output and "y-1" in output
    assert "paired bootstrap" in output and "95% interval" in output
    differences = table.attrs["differences"]
    assert len(differences) == 4
    for result in differences.values():
        assert result.low <= result.difference <= result.high


def test_command_line_runs_the_demo_with_progress_bars(capsys):
    assert main(["demo", "--conversations", "10", "--epochs", "1"]) == 0
    captured = capsys.readouterr()
    assert "weighted F1" in captured.out
    assert "100%" in captured.err  # one tqdm bar per fit, run to its end
