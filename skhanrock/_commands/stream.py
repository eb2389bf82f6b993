"""``skhanrock stream``: predictions for talkturns read as JSON lines from standard input."""

import json
import math
import sys
import warnings

from .._saving import load_model
from .._stream import ConversationStream
from .._utils.frame import python_value
from .._utils.validation import check_number
from .arguments import integer_at_least

__all__ = ["END_KEY", "MAX_LINE_BYTES", "add_stream_command", "run_stream"]

#: Longest input line, in bytes: a talkturn is rarely over a few kilobytes, and
#: a line costs memory in proportion to its length (about 30 times it with the
#: lexical path), so a runaway line is refused rather than read.
MAX_LINE_BYTES = 1 << 20
#: The end-of-conversation message is a JSON object with this one key, whose
#: value is the conversation id (not a column name such as "end", which
#: talkturns often have).
END_KEY = "end_conversation"
#: Bytes read at a time while skipping the rest of a line that is too long.
_SKIP_CHUNK = 1 << 16


def add_stream_command(commands):
    """Register the ``stream`` sub-command on an argparse sub-parser set."""
    stream = commands.add_parser(
        "stream", help="predict talkturns read as JSON lines from standard input",
        description="Read one JSON object per line (a talkturn with the columns the model "
                    "was fitted on, or {\"end_conversation\": ID} to end a conversation) and "
                    "write one JSON line per input line: the talkturn's conversation, turn and "
                    "prediction (and class probabilities for a classifier), the ended "
                    "conversation and its talkturn count, or an 'error' for a line that was "
                    "refused. Exits with status 1 when any line was refused.")
    stream.add_argument("--model", required=True,
                        help="a model written by skhanrock.save_model (loaded with "
                             "skhanrock.load_model, without unpickling)")
    stream.add_argument("--max-line-bytes", type=integer_at_least(1), default=MAX_LINE_BYTES,
                        metavar="N", help="longer input lines are answered with an error, "
                        f"unread (default: {MAX_LINE_BYTES})")
    stream.add_argument("--max-conversations", type=integer_at_least(1), metavar="N",
                        help="follow at most N conversations, forgetting the least recently "
                             "added to with a warning (default: no bound)")
    return stream


def _refuse_constant(name):
    raise ValueError(f"{name} is not JSON, which has no NaN or infinity; send null or a number")


def _finite_float(text):
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"the number {text[:40]} is beyond the range of a float")
    return value


def _parse(text):
    """One line's JSON object; NaN, infinities and overflowing numbers are refused."""
    try:
        message = json.loads(text, parse_constant=_refuse_constant, parse_float=_finite_float)
    except RecursionError:
        raise ValueError("the JSON is nested too deeply") from None
    if not isinstance(message, dict):
        raise ValueError(f"a line must be a JSON object (a talkturn or "
                         f"{{\"{END_KEY}\": id}}), got {type(message).__name__}")
    return message


def _answer(stream, talkturn):
    prediction = stream.add(talkturn)
    answer = {"conversation": python_value(talkturn[stream.columns[0]]),
              "turn": python_value(talkturn[stream.columns[1]]), "prediction": python_value(prediction)}
    if hasattr(stream.estimator, "classes_"):
        answer["probabilities"] = {str(python_value(c)): float(p) for c, p in
                                   zip(stream.classes_, stream.predict_proba(), strict=True)}
    return answer


def _respond(stream, message):
    if set(message) == {END_KEY}:
        return {"ended": message[END_KEY], "talkturns": stream.end(message[END_KEY])}
    return _answer(stream, message)


def _json(answer):
    """The answer as one line of standard JSON, or an error if it holds NaN or infinity."""
    try:
        return json.dumps(answer, allow_nan=False)
    except ValueError:
        raise ValueError("the model's answer holds NaN or infinity, which JSON cannot carry; "
                         "the model's weights may hold NaN or inf (did its fit diverge?)") from None


def _ends_line(text):
    """Whether a line read from a text or binary file holds its line end."""
    return text.endswith(b"\n" if isinstance(text, bytes) else "\n")


def _skip_line(source):
    """Read (and drop) the rest of a line, a chunk at a time."""
    while True:
        chunk = source.readline(_SKIP_CHUNK)
        if not chunk or _ends_line(chunk):
            return


def _raw_lines(lines, max_line_bytes):
    """Each line, or None for one longer than ``max_line_bytes`` (from a file: left unread)."""
    if not hasattr(lines, "readline"):
        yield from lines
        return
    while line := lines.readline(max_line_bytes + 1):
        if len(line) > max_line_bytes and not _ends_line(line):
            _skip_line(lines)
            yield None
        else:
            yield line


def _line_text(line, max_line_bytes):
    """A line as text, or a clear error for one too long or not UTF-8."""
    data = None if line is None else line.rstrip(b"\r\n" if isinstance(line, bytes) else "\r\n")
    if data is not None and isinstance(data, str):
        data = data.encode("utf-8", "surrogatepass")
    if data is None or len(data) > max_line_bytes:
        raise ValueError(f"the line is longer than max_line_bytes={max_line_bytes} bytes "
                         "(--max-line-bytes); it was not read")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise ValueError(f"the line is not UTF-8 text ({error.reason} at byte "
                         f"{error.start})") from None


def _report(number, message):
    print(f"skhanrock stream: line {number}: {message}", file=sys.stderr)


def run_stream(model_path, lines, output, *, max_line_bytes=MAX_LINE_BYTES,
               max_conversations=None):
    """Answer every line of ``lines`` on ``output``; return the number refused.

    Each line is a JSON object: a talkturn, answered with its conversation,
    turn and prediction (and ``probabilities`` for a classifier), or
    ``{"end_conversation": id}``, which ends that conversation (see
    :meth:`ConversationStream.end`) and is answered with ``{"ended": id,
    "talkturns": n}``. A refused line is answered with ``{"error": message,
    "line": n}``. Every answer is one line of standard JSON: NaN and
    infinities are refused on input, and a model output that holds them is
    answered with an error.

    Parameters
    ----------
    model_path : str or Path
        A saved model.
    lines : iterable of str or bytes, or a file
        One JSON object per line; blank lines are skipped. From a file (such
        as ``sys.stdin.buffer``) no more than ``max_line_bytes`` of a line are
        read into memory.
    output : file
        Where the answers go, one JSON line each, flushed at once.
    max_line_bytes : int, default=MAX_LINE_BYTES
        Longest line accepted, in bytes of UTF-8 without the line end; a
        longer line is answered with an error.
    max_conversations : int or None, default=None
        The stream's bound on the conversations followed at once
        (:class:`ConversationStream`); evictions are reported on standard
        error.

    Returns
    -------
    int
        Lines refused (each answered with an ``error``).

    Examples
    --------
    >>> import io, json, tempfile, pathlib
    >>> from skhanrock import HanRockClassifier, save_model
    >>> from skhanrock.datasets import make_conversations
    >>> X, y = make_conversations(n_conversations=4, random_state=0)
    >>> clf = HanRockClassifier(primary_units=4, context_size=3, max_epochs=1,
    ...                         random_state=0).fit(X, y)
    >>> path = save_model(clf, pathlib.Path(tempfile.mkdtemp()) / "model.skhanrock")
    >>> rows = X[["conversation", "turn", "text"]].head(2).to_dict("records")
    >>> end = {"end_conversation": rows[0]["conversation"]}
    >>> out = io.StringIO()
    >>> run_stream(path, [json.dumps(r) for r in rows] + ["{}", json.dumps(end)], out)
    1
    >>> [sorted(json.loads(line)) for line in out.getvalue().splitlines()][1:]
    [['conversation', 'prediction', 'probabilities', 'turn'], ['error', 'line'], ['ended', 'talkturns']]
    """
    max_line_bytes = check_number("run_stream: max_line_bytes", max_line_bytes, low=1,
                                  integer=True)
    stream = ConversationStream(load_model(model_path), max_conversations=max_conversations)
    refused = 0
    for number, line in enumerate(_raw_lines(lines, max_line_bytes), start=1):
        # Warnings (an eviction) become lines of standard error that name the input line.
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                answer = _answer_line(stream, line, max_line_bytes)
            except (ValueError, TypeError) as error:
                refused += 1
                answer = json.dumps({"error": str(error), "line": number})
                _report(number, error)
        for warning in caught:
            _report(number, warning.message)
        if answer is not None:
            output.write(answer + "\n")
            output.flush()
    return refused


def _answer_line(stream, line, max_line_bytes):
    """The JSON answer to one line, or None for a blank line."""
    text = _line_text(line, max_line_bytes)
    if not text.strip():
        return None
    return _json(_respond(stream, _parse(text)))
