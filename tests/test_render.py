import shutil
import subprocess

import matplotlib
import numpy as np
import pytest
from conftest import TINY

from skhanrock import HanRockClassifier
from skhanrock.inspection import explain, plot_attention, render_html

matplotlib.use("Agg")
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="module")
def page_parts(conversations):
    X, y = conversations
    X = X.copy()
    X.loc[X.index[2], "text"] = "<script>document.title='pwned'</script> hello"
    rock = HanRockClassifier(**TINY, label_offsets=(-1,)).fit(X, y)
    flat = HanRockClassifier(**TINY, architecture="flat", label_offsets=()).fit(X, y)
    rows = [3, 4]
    return {"X": X, "y": y, "rows": rows, "rock": explain(rock, X, rows=rows),
            "flat": explain(flat, X, rows=rows),
            "predictions": rock.predict(X.iloc[rows])}


def make_page(page_parts, path=None):
    X, y, rows = page_parts["X"], page_parts["y"], page_parts["rows"]
    return render_html(page_parts["rock"], predictions=page_parts["predictions"],
                       labels=y.iloc[rows].fillna("unlabelled").to_dict(),
                       speakers=X["speaker"], compare=page_parts["flat"],
                       titles=("HAN-ROCK", "flat HAN"), path=path)


def test_page_escapes_user_text_and_marks_buckets(page_parts):
    page = make_page(page_parts)
    # the tokeniser splits "<script>" into "<", "script", ">", each escaped on its own
    assert "<script" not in page and "&lt;</span>" in page
    assert "talkturn" in page and "current" in page
    assert any(f"word {bucket}" in page for bucket in ("Low", "Medium", "High"))
    assert "HAN-ROCK" in page and "flat HAN" in page and "task attention" in page
    assert "predicted: <b>" in page and "true: <b>" in page
    true_label = page_parts["y"].iloc[3]
    assert f"true: <b>{true_label if isinstance(true_label, str) else 'unlabelled'}</b>" in page


def test_matplotlib_figure_has_a_box_per_context_talkturn(page_parts):
    ax = plot_attention(page_parts["rock"], row=page_parts["X"].index[4])
    n_context = ((page_parts["rock"]["level"] == "talkturn")
                 & (page_parts["rock"]["task"] == "overall")
                 & (page_parts["rock"]["row"] == page_parts["X"].index[4])).sum()
    assert len(ax.patches) == n_context
    assert len(ax.texts) > n_context


@pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (apt-get install chromium)")
def test_page_renders_in_headless_chromium(page_parts, tmp_path):
    path = tmp_path / "explanation.html"
    make_page(page_parts, path=path)
    flags = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu",
             "--disable-background-networking", f"--user-data-dir={tmp_path / 'profile'}"]
    dom = subprocess.run([*flags, "--dump-dom", path.as_uri()], capture_output=True, text=True,
                         timeout=120).stdout
    assert "HAN-ROCK" in dom and "talkturn" in dom
    assert "pwned" not in dom.split("<title>")[1].split("</title>")[0]  # the script never ran
    screenshot = tmp_path / "page.png"
    subprocess.run([*flags, f"--screenshot={screenshot}", "--window-size=1200,900",
                    path.as_uri()], capture_output=True, timeout=120)
    image = matplotlib.image.imread(screenshot)
    assert image.shape[:2] == (900, 1200)
    assert np.std(image[..., :3]) > 0.05  # not a blank page
