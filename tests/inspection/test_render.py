import subprocess
from html.parser import HTMLParser

import matplotlib
import numpy as np
import pytest

from skhanrock.inspection import plot_attention, render_html
from skhanrock.inspection._render import BUCKET_COLOURS, CURRENT_COLOUR

from ._shared import CHROMIUM, PAGE_TAGS, TITLES

matplotlib.use("Agg")


class _Elements(HTMLParser):
    """Tags with their attributes, and the predicted labels of each model column."""

    def __init__(self, page):
        super().__init__()
        self.tags, self.predicted, self._in_predicted = [], [], False
        self.feed(page)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.tags.append((tag, attrs))
        if tag == "div" and attrs.get("class") == "model":
            self.predicted.append([])
        self._in_predicted = tag == "b" and attrs.get("class") == "predicted"

    def handle_data(self, data):
        if self._in_predicted:
            self.predicted[-1].append(data)
            self._in_predicted = False


def make_page(page_parts, path=None):
    return render_html(page_parts["rock"], labels=page_parts["labels"],
                       speakers=page_parts["X"]["speaker"], compare=page_parts["flat"],
                       titles=TITLES, path=path)


def test_user_text_never_becomes_markup(page_parts):
    page = make_page(page_parts)
    tags = {tag for tag, _ in _Elements(page).tags}
    assert tags <= PAGE_TAGS, tags - PAGE_TAGS
    assert "&lt;script&gt;document.body" in page  # a title and a label
    assert "&lt;img src=x onerror=" in page  # a title and a speaker
    assert "&lt;</span>" in page  # the words: the tokeniser splits "<script>" into "<", ...
    assert "true: <b class='true'>&lt;script&gt;" in page


def test_page_is_self_contained(page_parts):
    page = make_page(page_parts)
    assert "http://" not in page and "https://" not in page
    assert "url(" not in page and "@import" not in page
    for tag, attrs in _Elements(page).tags:
        assert not {"src", "href", "srcset"} & set(attrs), (tag, attrs)


def test_side_by_side_columns_show_each_models_own_prediction(page_parts):
    page = make_page(page_parts)
    X, rows = page_parts["X"], page_parts["rows"]
    elements = _Elements(page)
    columns = page.split("<div class='model'>")[1:]
    assert len(columns) == 2
    assert columns[0].startswith("<h2>&lt;script&gt;") and columns[1].startswith("<h2>flat &lt;img")
    expected = [[str(label) for label in model.predict(X)[rows]] for model in page_parts["models"]]
    assert elements.predicted == expected
    assert expected[0] != expected[1]  # so a column showing the other's predictions would fail
    assert "task attention" in columns[0] and "task attention" not in columns[1]  # flat has none


def test_unlabelled_rows_and_bad_lookups_are_reported(page_parts):
    rock = page_parts["rock"]
    page = render_html(rock, labels=[np.nan, "sad"])
    assert "true: <b class='true'>unlabelled</b>" in page
    with pytest.raises(ValueError, match="one value per explained row \\(2\\), got 1"):
        render_html(rock, labels=["sad"])
    speakers = page_parts["X"]["speaker"].iloc[[0, 0, 1]]
    with pytest.raises(ValueError, match="speakers has duplicate index values \\[0\\]"):
        render_html(rock, speakers=speakers)
    with pytest.raises(TypeError, match="speakers must be a Series or dict"):
        render_html(rock, speakers=["a", "b"])


def _rgb(hex_colour):
    return tuple(int(hex_colour[i:i + 2], 16) for i in (1, 3, 5))


@pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (apt-get install chromium)")
def test_page_renders_in_headless_chromium(page_parts, tmp_path):
    path = tmp_path / "explanation.html"
    make_page(page_parts, path=path)
    # The Chromium command line is enough (--dump-dom, --screenshot): no WebDriver.
    flags = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu",
             "--disable-background-networking", f"--user-data-dir={tmp_path / 'profile'}"]
    dom = subprocess.run([*flags, "--dump-dom", path.as_uri()], capture_output=True, text=True,
                         timeout=120).stdout
    elements = _Elements(dom)
    body = [attrs for tag, attrs in elements.tags if tag == "body"]
    assert body == [{}], body  # no script or handler ran
    assert {tag for tag, _ in elements.tags} <= PAGE_TAGS
    assert len(elements.predicted) == 2 and all(elements.predicted)

    screenshot = tmp_path / "page.png"
    subprocess.run([*flags, f"--screenshot={screenshot}", "--window-size=1200,1600",
                    path.as_uri()], capture_output=True, timeout=120)
    pixels = (matplotlib.image.imread(screenshot)[..., :3] * 255).round().astype(int)
    assert pixels.shape[:2] == (1600, 1200)
    colours = {tuple(c) for c in np.unique(pixels.reshape(-1, 3), axis=0)}
    shown = page_parts["rock"]
    buckets = set(shown[(shown.level == "talkturn") & (shown.task == "overall")]["bucket"])
    buckets |= set(page_parts["flat"].query("level == 'talkturn'")["bucket"])
    assert len(buckets) >= 2
    for bucket in buckets:
        assert _rgb(BUCKET_COLOURS[bucket]) in colours, bucket
    assert _rgb(CURRENT_COLOUR) in colours  # the current talkturn's outline


def test_a_sequence_of_labels_follows_the_first_explanation_in_both_columns(page_parts):
    rock, flat, X = page_parts["rock"], page_parts["flat"], page_parts["X"]
    only_row_4 = flat[flat["row"] == X.index[4]]
    # one label per row of the first explanation; the compared one explains fewer rows
    page = render_html(rock, labels=["first", "second"], compare=only_row_4)
    columns = page.split("<div class='model'>")[1:]
    assert "true: <b class='true'>first</b>" in columns[0]
    assert "true: <b class='true'>second</b>" in columns[1]
    assert "true: <b class='true'>first</b>" not in columns[1]
    figure = plot_attention(rock, row=X.index[4], labels=["first", "second"],
                            compare=only_row_4)
    assert all(ax.get_title(loc="left").endswith("true: second") for ax in figure.axes)


def _words_only(explanation):
    return explanation[explanation["level"] != "talkturn"]


@pytest.mark.parametrize(("draw", "error", "message"), [
    (lambda e: render_html(None), TypeError,
     "explanation must be the DataFrame returned by explain, got NoneType"),
    (lambda e: render_html(e, compare=e.to_dict()), TypeError, "compare must be the DataFrame"),
    (lambda e: render_html(e.drop(columns="bucket")), ValueError,
     "explanation lacks the column\\(s\\) \\['bucket'\\]"),
    (lambda e: render_html(e, compare=e, titles=("only",)), ValueError,
     "titles needs one title per model \\(2 with compare\\), got 1"),
    (lambda e: render_html(_words_only(e)), ValueError,
     "explanation has no overall talkturn attention"),
    (lambda e: plot_attention(e.iloc[:0]), ValueError, "explanation explains no talkturn"),
    (lambda e: plot_attention(e, compare=e.iloc[:0]), ValueError, "compare explains no talkturn"),
    (lambda e: plot_attention(e, titles=()), ValueError,
     "titles needs one title per model \\(1\\), got 0"),
    (lambda e: plot_attention(e, titles=None), TypeError, "titles must be a string or a sequence"),
    (lambda e: plot_attention(_words_only(e)), ValueError,
     "explanation has no overall talkturn attention .* for the row\\(s\\) \\[3, 4\\]"),
], ids=["page of None", "compare not a frame", "missing column", "page titles too few",
        "page words only", "figure empty", "figure compare empty", "figure titles empty",
        "figure titles None", "figure words only"])
def test_bad_explanations_and_titles_are_reported_by_name(page_parts, draw, error, message):
    with pytest.raises(error, match=message):
        draw(page_parts["rock"])


def test_a_single_title_string_titles_the_one_model(page_parts):
    figure = plot_attention(page_parts["rock"], titles="HAN-ROCK")
    assert figure.axes[0].get_title(loc="left").splitlines()[0] == "HAN-ROCK"
    assert "<h2>HAN-ROCK</h2>" in render_html(page_parts["rock"], titles="HAN-ROCK")
