"""Explanations rendered for people: a self-contained HTML page and a matplotlib figure."""

import html
from collections.abc import Mapping

import numpy as np
import pandas as pd

from ._explain import BUCKETS, OVERALL

__all__ = ["plot_attention", "render_html"]

_STYLE = """
body { font-family: Georgia, serif; margin: 2em; color: #222; }
.models { display: flex; gap: 2em; align-items: flex-start; }
.model { flex: 1; }
.sample { border-top: 2px solid #444; margin-top: 1.5em; padding-top: .5em; }
.labels { font-family: sans-serif; font-size: .9em; margin-bottom: .5em; }
.talkturn { border-radius: 6px; padding: .4em .6em; margin: .3em 0; line-height: 1.6; }
.talkturn .who { font-family: sans-serif; font-size: .75em; color: #555; }
.talkturn.current { outline: 2px solid #b00; }
.talkturn.None { background: #fafafa; border: 1px solid #ddd; }
.talkturn.Low { background: #fff4d6; border: 1px solid #f0d890; }
.talkturn.Medium { background: #ffe0a8; border: 1px solid #e8b050; }
.talkturn.High { background: #ffc27a; border: 2px solid #d07010; }
.word.None { color: #666; }
.word.Low { color: #222; }
.word.Medium { font-weight: bold; }
.word.High { font-weight: bold; text-decoration: underline; color: #900; }
table.tasks { font-family: sans-serif; font-size: .8em; border-collapse: collapse; }
table.tasks td { padding: 0 .5em; }
.bar { display: inline-block; height: .7em; background: #d07010; }
"""


def _word_spans(words):
    return " ".join(f'<span class="word {bucket}" title="{attention:.3f}">'
                    f"{html.escape(str(token))}</span>"
                    for token, bucket, attention in zip(words["token"], words["bucket"],
                                                        words["attention"], strict=True))


def _task_table(tasks):
    if tasks.empty:
        return ""
    rows = "".join(
        f"<tr><td>{html.escape(str(task))}</td><td><span class='bar' "
        f"style='width:{100 * attention:.0f}px'></span> {attention:.2f}</td></tr>"
        for task, attention in zip(tasks["token"], tasks["attention"], strict=True))
    return f"<table class='tasks'><caption>task attention</caption>{rows}</table>"


def _sample_html(explanation, row, predictions, labels, speakers):
    sample = explanation[explanation["row"] == row]
    talkturns = sample[(sample["level"] == "talkturn") & (sample["task"] == OVERALL)]
    words = sample[(sample["level"] == "word") & (sample["task"] == OVERALL)]
    parts = [f"<div class='sample' id='row-{html.escape(str(row))}'>"]
    label_text = []
    if predictions is not None:
        label_text.append(f"predicted: <b>{html.escape(str(predictions.get(row, '')))}</b>")
    if labels is not None:
        label_text.append(f"true: <b>{html.escape(str(labels.get(row, '')))}</b>")
    parts.append(f"<div class='labels'>talkturn {html.escape(str(row))} "
                 f"{' &middot; '.join(label_text)}</div>")
    for _, talkturn in talkturns.sort_values("context").iterrows():
        who = speakers.get(talkturn["talkturn"], "") if speakers is not None else ""
        current = " current" if talkturn["context"] == 0 else ""
        spans = _word_spans(words[words["talkturn"] == talkturn["talkturn"]])
        parts.append(
            f"<div class='talkturn {talkturn['bucket']}{current}' "
            f"title='talkturn attention {talkturn['attention']:.3f}'>"
            f"<span class='who'>{html.escape(str(who))} ({int(talkturn['context'])})</span> "
            f"{spans}</div>")
    parts.append(_task_table(sample[sample["level"] == "task"]))
    parts.append("</div>")
    return "".join(parts)


def _as_lookup(values, rows):
    """Labels by row label, from a Series or mapping, or a sequence in row order."""
    if values is None or isinstance(values, (Mapping, pd.Series)):
        return values
    return dict(zip(rows, values, strict=True))


def _model_html(explanation, title, predictions, labels, speakers):
    rows = list(dict.fromkeys(explanation["row"]))
    predictions, labels = _as_lookup(predictions, rows), _as_lookup(labels, rows)
    body = "".join(_sample_html(explanation, row, predictions, labels, speakers)
                   for row in rows)
    return f"<div class='model'><h2>{html.escape(title)}</h2>{body}</div>"


def render_html(explanation, *, predictions=None, labels=None, speakers=None, compare=None,
                titles=("Model", "Compared model"), path=None):
    """Render an explanation as a self-contained HTML page.

    Each explained talkturn shows its context window in order, the current
    talkturn outlined; talkturn boxes are shaded by their overall talkturn
    attention bucket and words emphasised by their overall word attention
    bucket (None, Low, Medium, High); HAN-ROCK's task attention is listed
    below. Every piece of user text is HTML-escaped.

    Parameters
    ----------
    explanation : DataFrame
        From :func:`~skhanrock.inspection.explain`.
    predictions, labels : Series, dict or sequence, optional
        Predicted and true label per explained row (indexed by row label, or
        in the order of the explained rows).
    speakers : Series or dict, optional
        Speaker of each talkturn, by row label (e.g. ``X["speaker"]``).
    compare : DataFrame, optional
        A second explanation (e.g. single-task vs multi-task) shown side by
        side; it uses the same ``labels`` and ``speakers``.
    titles : tuple of str
        Headings of the two columns.
    path : str or path, optional
        Also write the page there.

    Returns
    -------
    str
        The HTML page.

    Examples
    --------
    >>> import pandas as pd
    >>> from skhanrock.inspection import render_html
    >>> explanation = pd.DataFrame({
    ...     "row": [0, 0, 0], "level": ["talkturn", "word", "word"],
    ...     "task": "overall", "context": [0, 0, 0], "talkturn": [0, 0, 0],
    ...     "position": [None, 0, 1], "token": [None, "<b>hi", "there"],
    ...     "attention": [1.0, 0.7, 0.3], "z": [0.0, 1.0, -1.0],
    ...     "bucket": ["Low", "Medium", "None"]})
    >>> page = render_html(explanation, predictions=["happy"])
    >>> "&lt;b&gt;hi" in page and "<b>hi" not in page
    True
    """
    columns = [_model_html(explanation, titles[0], predictions, labels, speakers)]
    if compare is not None:
        columns.append(_model_html(compare, titles[1], None, labels, speakers))
    legend = " ".join(f"<span class='word {b}'>{b}</span>" for b in BUCKETS)
    page = (f"<!DOCTYPE html><html><head><meta charset='utf-8'>"
            f"<title>{html.escape(titles[0])} attention</title><style>{_STYLE}</style>"
            f"</head><body><h1>Attention over the conversation</h1>"
            f"<p class='labels'>word attention: {legend}</p>"
            f"<div class='models'>{''.join(columns)}</div></body></html>")
    if path is not None:
        with open(path, "w", encoding="utf8") as file:
            file.write(page)
    return page


_BUCKET_COLOURS = {"None": "#fafafa", "Low": "#fff4d6", "Medium": "#ffe0a8", "High": "#ffc27a"}
_WORD_WEIGHT = {"None": "normal", "Low": "normal", "Medium": "bold", "High": "bold"}
_WORD_COLOUR = {"None": "#777777", "Low": "#222222", "Medium": "#222222", "High": "#990000"}


def plot_attention(explanation, row=None, ax=None, words_per_line=12):
    """Draw one explained talkturn and its context as a matplotlib figure.

    Talkturns are boxes shaded by their overall attention bucket, the current
    one outlined in red; words get heavier with their attention bucket.

    Parameters
    ----------
    explanation : DataFrame
        From :func:`~skhanrock.inspection.explain`.
    row : label, optional
        Which explained talkturn (the first one when None).
    ax : matplotlib Axes, optional
    words_per_line : int, default=12

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import pandas as pd
    >>> from skhanrock.inspection import plot_attention
    >>> explanation = pd.DataFrame({
    ...     "row": [0, 0], "level": ["talkturn", "word"], "task": "overall",
    ...     "context": [0, 0], "talkturn": [0, 0], "position": [None, 0],
    ...     "token": [None, "hi"], "attention": [1.0, 1.0], "z": [0.0, 0.0],
    ...     "bucket": ["Low", "Low"]})
    >>> len(plot_attention(explanation).patches)
    1
    """
    import matplotlib.pyplot as plt
    from matplotlib.patches import FancyBboxPatch

    row = explanation["row"].iloc[0] if row is None else row
    sample = explanation[(explanation["row"] == row) & (explanation["task"] == OVERALL)]
    talkturns = sample[sample["level"] == "talkturn"].sort_values("context")
    words = sample[sample["level"] == "word"]
    lines = [int(np.ceil(max(1, (words["talkturn"] == t).sum()) / words_per_line))
             for t in talkturns["talkturn"]]
    if ax is None:
        _, ax = plt.subplots(figsize=(9, 0.45 * (sum(lines) + 2 * len(lines)) + 0.6))
    top = 0.0
    for (_, talkturn), n_lines in zip(talkturns.iterrows(), lines, strict=True):
        height = 0.6 * n_lines + 0.4
        current = talkturn["context"] == 0
        ax.add_patch(FancyBboxPatch((0, -top - height), 1, height, boxstyle="round,pad=0.01",
                                    facecolor=_BUCKET_COLOURS[talkturn["bucket"]],
                                    edgecolor="#b00" if current else "#999",
                                    linewidth=2 if current else 1))
        own = words[words["talkturn"] == talkturn["talkturn"]]
        for i, (token, bucket) in enumerate(zip(own["token"], own["bucket"], strict=True)):
            line, column = divmod(i, words_per_line)
            ax.text(0.01 + column / words_per_line, -top - 0.45 - 0.6 * line, str(token),
                    fontsize=9, fontweight=_WORD_WEIGHT[bucket], color=_WORD_COLOUR[bucket],
                    va="center")
        top += height + 0.2
    ax.set_xlim(-0.02, 1.02)
    ax.set_ylim(-top, 0.1)
    ax.axis("off")
    ax.set_title(f"Attention for talkturn {row}")
    return ax
