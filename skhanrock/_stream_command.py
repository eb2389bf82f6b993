"""``skhanrock stream``: predictions for talkturns read as JSON lines from standard input."""

import json
import sys

from ._frame import python_value
from ._saving import load_model
from ._stream import ConversationStream

__all__ = ["add_stream_command", "run_stream"]


def add_stream_command(commands):
    """Register the ``stream`` sub-command on an argparse sub-parser set."""
    stream = commands.add_parser(
        "stream", help="predict talkturns read as JSON lines from standard input",
        description="Read one JSON object per line (a talkturn with the columns the model "
                    "was fitted on) and write one JSON line per talkturn: its conversation, "
                    "turn and prediction (and class probabilities for a classifier), or an "
                    "'error' for a talkturn that was refused. Exits with status 1 when any "
                    "line was refused.")
    stream.add_argument("--model", required=True,
                        help="a model written by skhanrock.save_model or the estimators' "
                             "save (loaded without unpickling)")
    return stream


def _answer(stream, talkturn):
    prediction = stream.add(talkturn)
    answer = {"conversation": python_value(talkturn[stream.columns[0]]),
              "turn": python_value(talkturn[stream.columns[1]]), "prediction": python_value(prediction)}
    if hasattr(stream.estimator, "classes_"):
        answer["probabilities"] = {str(python_value(c)): float(p) for c, p in
                                   zip(stream.classes_, stream.predict_proba(), strict=True)}
    return answer


def run_stream(model_path, lines, output):
    """Answer every line of ``lines`` on ``output``; return the number refused.

    Parameters
    ----------
    model_path : str or Path
        A saved model.
    lines : iterable of str
        One JSON object per line; blank lines are skipped.
    output : file
        Where the answers go, one JSON line each, flushed at once.

    Returns
    -------
    int
        Lines refused (each answered with an ``error``).

    Examples
    --------
    >>> import io, json, tempfile, pathlib
    >>> from skhanrock import HanRockClassifier
    >>> from skhanrock.datasets import make_conversations
    >>> X, y = make_conversations(n_conversations=4, random_state=0)
    >>> clf = HanRockClassifier(primary_units=4, context_size=3, max_epochs=1,
    ...                         random_state=0).fit(X, y)
    >>> path = clf.save(pathlib.Path(tempfile.mkdtemp()) / "model.skhanrock")
    >>> rows = X[["conversation", "turn", "text"]].head(2).to_dict("records")
    >>> out = io.StringIO()
    >>> run_stream(path, [json.dumps(r) for r in rows] + ["{}"], out)
    1
    >>> [sorted(json.loads(line)) for line in out.getvalue().splitlines()][1:]
    [['conversation', 'prediction', 'probabilities', 'turn'], ['error', 'line']]
    """
    stream = ConversationStream(load_model(model_path))
    refused = 0
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            talkturn = json.loads(line)
            if not isinstance(talkturn, dict):
                raise ValueError(f"a talkturn must be a JSON object, got {line.strip()!r}")
            answer = _answer(stream, talkturn)
        except (ValueError, TypeError) as error:
            refused += 1
            answer = {"error": str(error), "line": number}
            print(f"skhanrock stream: line {number}: {error}", file=sys.stderr)
        output.write(json.dumps(answer) + "\n")
        output.flush()
    return refused
