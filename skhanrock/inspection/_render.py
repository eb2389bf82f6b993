"""An explanation as a self-contained HTML page; the checks it shares with the figure.

The matplotlib figure of an explanation (``plot_attention``) lives beside the
other figures in ``_plots.py``; it reads explanations, and colours them,
through the helpers and the palette defined here.
"""

import html
from collections.abc import Iterable, Mapping

import pandas as pd

from ._explain import BUCKETS, OVERALL

__all__ = ["render_html", "BUCKET_COLOURS", "CURRENT_COLOUR", "MISSING", "WORD_COLOUR",
           "WORD_WEIGHT", "as_lookup", "check_models", "check_titles", "explained_rows",
           "label_text", "own_predictions", "speaker_lookup"]

# Stands for "no value given", since None and NaN are labels a caller may pass.
MISSING = object()

# One palette for the page and the figure, so both read the same.
BUCKET_COLOURS = {"None": "#fafafa", "Low": "#fff4d6", "Medium": "#ffe0a8", "High": "#ffc27a"}
_BUCKET_BORDERS = {"None": "1px solid #dddddd", "Low": "1px solid #f0d890",
                   "Medium": "1px solid #e8b050", "High": "2px solid #d07010"}
CURRENT_COLOUR = "#bb0000"
WORD_WEIGHT = {"None": "normal", "Low": "normal", "Medium": "bold", "High": "bold"}
WORD_COLOUR = {"None": "#777777", "Low": "#222222", "Medium": "#222222", "High": "#990000"}

_STYLE = """
body { font-family: Georgia, serif; margin: 2em; color: #222; }
.models { display: flex; gap: 2em; align-items: flex-start; }
.model { flex: 1; }
.sample { border-top: 2px solid #444; margin-top: 1.5em; padding-top: .5em; }
.labels { font-family: sans-serif; font-size: .9em; margin-bottom: .5em; }
.talkturn { border-radius: 6px; padding: .4em .6em; margin: .3em 0; line-height: 1.6; }
.talkturn .who { font-family: sans-serif; font-size: .75em; color: #555; }
.talkturn.missing { border: 1px dashed #bbb; }
.word.High { text-decoration: underline; }
table.tasks { font-family: sans-serif; font-size: .8em; border-collapse: collapse; }
table.tasks td { padding: 0 .5em; }
.bar { display: inline-block; height: .7em; background: #d07010; }
""" + "".join(
    f".talkturn.{b} {{ background: {BUCKET_COLOURS[b]}; border: {_BUCKET_BORDERS[b]}; }}\n"
    f".word.{b} {{ color: {WORD_COLOUR[b]}; font-weight: {WORD_WEIGHT[b]}; }}\n"
    for b in BUCKETS) + f".talkturn.current {{ outline: 2px solid {CURRENT_COLOUR}; }}\n"


def _bucket_class(bucket):
    """CSS class of a bucket; an item without a bucket (NaN attention) gets none of theirs."""
    return bucket if bucket in BUCKETS else "missing"


def _word_spans(words):
    return " ".join(f'<span class="word {_bucket_class(bucket)}" title="{attention:.3f}">'
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


def label_text(label):
    """A label as text; a missing one (NaN, None) reads "unlabelled" rather than "nan"."""
    return "unlabelled" if pd.api.types.is_scalar(label) and pd.isna(label) else str(label)


def _label_line(row, prediction, label):
    parts = [f"talkturn {html.escape(str(row))}"]
    if prediction is not MISSING:
        parts.append(f"predicted: <b class='predicted'>{html.escape(str(prediction))}</b>")
    if label is not MISSING:
        parts.append(f"true: <b class='true'>{html.escape(label_text(label))}</b>")
    return f"<div class='labels'>{' &middot; '.join(parts)}</div>"


def _sample_html(sample, row, prediction, label, speakers):
    talkturns = sample[(sample["level"] == "talkturn") & (sample["task"] == OVERALL)]
    words = sample[(sample["level"] == "word") & (sample["task"] == OVERALL)]
    parts = [f"<div class='sample' data-row='{html.escape(str(row))}'>",
             _label_line(row, prediction, label)]
    for _, talkturn in talkturns.sort_values("context").iterrows():
        who = speakers.get(talkturn["talkturn"], "")
        current = " current" if talkturn["context"] == 0 else ""
        spans = _word_spans(words[words["talkturn"] == talkturn["talkturn"]])
        parts.append(
            f"<div class='talkturn {_bucket_class(talkturn['bucket'])}{current}' "
            f"title='talkturn attention {talkturn['attention']:.3f}'>"
            f"<span class='who'>{html.escape(str(who))} ({int(talkturn['context'])})</span> "
            f"{spans}</div>")
    parts.append(_task_table(sample[sample["level"] == "task"]))
    parts.append("</div>")
    return "".join(parts)


def _by_label(values, name):
    """Values by row label from None, a Series or a mapping; None for anything else."""
    if values is None:
        return {}
    if isinstance(values, pd.Series):
        duplicated = values.index[values.index.duplicated()].unique()
        if len(duplicated):
            raise ValueError(f"{name} has duplicate index values {list(duplicated[:10])}; "
                             f"each talkturn needs one value.")
        return values
    return values if isinstance(values, Mapping) else None


def as_lookup(values, rows, name):
    """Values by row label, from a Series or mapping, or a sequence in the order of ``rows``."""
    lookup = _by_label(values, name)
    if lookup is not None:
        return lookup
    values = list(values)
    if len(values) != len(rows):
        raise ValueError(f"{name} as a sequence needs one value per explained row "
                         f"({len(rows)}), got {len(values)}.")
    return dict(zip(rows, values, strict=True))


def speaker_lookup(speakers):
    lookup = _by_label(speakers, "speakers")
    if lookup is None:
        raise TypeError(f"speakers must be a Series or dict by row label (e.g. X['speaker']), "
                        f"got {type(speakers).__name__}.")
    return lookup


def explained_rows(explanation):
    return list(dict.fromkeys(explanation["row"]))


# The columns of explain's table that the page and the figure read.
_REQUIRED_COLUMNS = ("row", "level", "task", "context", "talkturn", "token", "attention",
                     "bucket")


def _check_explanation(explanation, name):
    """Refuse what is not a non-empty table from explain, naming the argument."""
    if not isinstance(explanation, pd.DataFrame):
        raise TypeError(f"{name} must be the DataFrame returned by explain, "
                        f"got {type(explanation).__name__}.")
    missing = [c for c in _REQUIRED_COLUMNS if c not in explanation.columns]
    if missing:
        raise ValueError(f"{name} lacks the column(s) {missing} of a table from explain; "
                         f"it has {list(explanation.columns)}.")
    if explanation.empty:
        raise ValueError(f"{name} explains no talkturn: it has no rows.")
    _check_talkturn_attention(explanation, name)


def _check_talkturn_attention(explanation, name):
    """Every explained row needs its overall talkturn attention.

    The talkturn boxes are drawn from it and hold the words: without it a row
    would show nothing, or leave a figure without height.
    """
    overall = explanation[(explanation["level"] == "talkturn")
                          & (explanation["task"] == OVERALL)]
    present = set(overall["row"])
    without = [row for row in explained_rows(explanation) if row not in present]
    if without:
        raise ValueError(f"{name} has no overall talkturn attention (level 'talkturn', task "
                         f"{OVERALL!r}) for the row(s) {without[:10]}; keep those rows of "
                         f"explain's table, as they hold the talkturns to draw.")


def check_models(explanation, compare):
    """The explanations to show, each checked under its argument's name."""
    _check_explanation(explanation, "explanation")
    if compare is None:
        return [explanation]
    _check_explanation(compare, "compare")
    return [explanation, compare]


def check_titles(titles, n_models):
    """``titles`` as strings, one per model; a single string titles one model."""
    if isinstance(titles, str):
        titles = [titles]
    elif not isinstance(titles, Iterable):
        raise TypeError(f"titles must be a string or a sequence of strings, one per model, "
                        f"got {type(titles).__name__}.")
    titles = [str(title) for title in titles]
    if len(titles) < n_models:
        raise ValueError(f"titles needs one title per model ({n_models}"
                         f"{' with compare' if n_models > 1 else ''}), got {len(titles)}.")
    return titles


def own_predictions(explanation, predictions, rows):
    """The given predictions, else those that :func:`explain` stored with the attention."""
    if predictions is None and "prediction" in explanation:
        first = explanation.drop_duplicates("row")
        return dict(zip(first["row"], first["prediction"], strict=True))
    return as_lookup(predictions, rows, "predictions")


def _model_html(explanation, title, predictions, labels, speakers):
    """One model's column; ``labels`` is already a lookup by row label."""
    rows = explained_rows(explanation)
    predictions = own_predictions(explanation, predictions, rows)
    samples = dict(tuple(explanation.groupby("row", sort=False)))
    body = "".join(_sample_html(samples[row], row, predictions.get(row, MISSING),
                                labels.get(row, MISSING), speakers) for row in rows)
    return f"<div class='model'><h2>{html.escape(title)}</h2>{body}</div>"


def render_html(explanation, *, predictions=None, labels=None, speakers=None, compare=None,
                titles=("Model", "Compared model"), path=None):
    """Render an explanation as a self-contained HTML page.

    Each explained talkturn shows its context window in order, the current
    talkturn outlined, with its predicted and true label; talkturn boxes are
    shaded by their overall talkturn attention bucket and words emphasised by
    their overall word attention bucket (None, Low, Medium, High); HAN-ROCK's
    task attention is listed below. With ``compare``, a second model's
    explanation of the same talkturns stands beside the first, with its own
    predictions. Every piece of user text (words, speakers, labels, titles) is
    HTML-escaped, and the page loads nothing from elsewhere.

    Parameters
    ----------
    explanation : DataFrame
        From :func:`~skhanrock.inspection.explain`.
    predictions : Series, dict or sequence, optional
        Predicted label per explained row (by row label, or in the order of the
        explained rows); by default the ``prediction`` column that
        :func:`~skhanrock.inspection.explain` writes.
    labels : Series, dict or sequence, optional
        True label per explained row, in the same forms (e.g. ``y``); a
        sequence follows the rows of ``explanation``, for ``compare`` too.
    speakers : Series or dict, optional
        Speaker of each talkturn, by row label (e.g. ``X["speaker"]``).
    compare : DataFrame, optional
        A second explanation (e.g. single-task vs multi-task) shown side by
        side, with the predictions of its own ``prediction`` column and the
        same ``labels`` and ``speakers``.
    titles : tuple of str, default=("Model", "Compared model")
        Headings of the two columns; a single string titles the one column
        of a page without ``compare``.
    path : str or path, optional
        Also write the page there (UTF-8).

    Returns
    -------
    str
        The HTML page.

    Raises
    ------
    TypeError
        When ``explanation`` or ``compare`` is not a DataFrame, or
        ``speakers`` is neither a Series nor a mapping.
    ValueError
        When ``explanation`` or ``compare`` is empty, lacks a column of
        :func:`~skhanrock.inspection.explain`'s table or a row's overall
        talkturn attention; when ``titles`` has fewer titles than models; or
        when a lookup has duplicate labels or the wrong length.

    Examples
    --------
    >>> import pandas as pd
    >>> from skhanrock.inspection import render_html
    >>> explanation = pd.DataFrame({
    ...     "row": [0, 0, 0], "level": ["talkturn", "word", "word"],
    ...     "task": "overall", "context": [0, 0, 0], "talkturn": [0, 0, 0],
    ...     "position": [None, 0, 1], "token": [None, "<b>hi", "there"],
    ...     "attention": [1.0, 0.7, 0.3], "z": [0.0, 1.0, -1.0],
    ...     "bucket": ["Low", "Medium", "None"], "prediction": "happy"})
    >>> page = render_html(explanation, labels=["sad"])
    >>> "&lt;b&gt;hi" in page and "<b>hi" not in page
    True
    >>> "predicted: <b class='predicted'>happy</b>" in page
    True
    """
    models = check_models(explanation, compare)
    titles = check_titles(titles, len(models))
    speakers = speaker_lookup(speakers)
    # A sequence of labels follows the rows of the first explanation, for both columns.
    labels = as_lookup(labels, explained_rows(explanation), "labels")
    columns = [_model_html(model, title, given, labels, speakers)
               for model, title, given in zip(models, titles, [predictions, None], strict=False)]
    legend = " ".join(f"<span class='word {b}'>{b}</span>" for b in BUCKETS)
    heading = " vs ".join(titles[:len(columns)])
    page = (f"<!DOCTYPE html><html><head><meta charset='utf-8'>"
            f"<title>{html.escape(heading)}: attention</title><style>{_STYLE}</style>"
            f"</head><body><h1>Attention over the conversation</h1>"
            f"<p class='labels'>word attention: {legend}</p>"
            f"<div class='models'>{''.join(columns)}</div></body></html>")
    if path is not None:
        with open(path, "w", encoding="utf8") as file:
            file.write(page)
    return page
