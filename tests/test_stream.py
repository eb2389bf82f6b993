import io
import json
import subprocess
import sys
import threading
import warnings

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.base import is_classifier
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer

from skhanrock import (
    ConversationStream,
    HanRockClassifier,
    HanRockRegressor,
    load_model,
    make_paper_pipeline,
    save_model,
)
from skhanrock.__main__ import main
from skhanrock._commands.stream import run_stream
from skhanrock._testing import TINY

MODELS = [("classifier", "rock"), ("classifier", "flat"), ("regressor", "rock"),
          ("regressor", "flat")]


def _fit(kind, architecture, conversations, regression_conversations):
    if kind == "classifier":
        X, y = conversations
        return HanRockClassifier(architecture=architecture, **TINY).fit(X, y), X
    X, y = regression_conversations
    return HanRockRegressor(architecture=architecture, **TINY).fit(X, y), X


@pytest.fixture(scope="module", params=MODELS, ids=["-".join(m) for m in MODELS])
def fitted(request, conversations, regression_conversations):
    return _fit(*request.param, conversations, regression_conversations)


@pytest.fixture(scope="module")
def pipeline(conversations):
    X, y = conversations
    return make_paper_pipeline("aphf", **TINY).fit(X, y), X


def _interleaved(X):
    """The talkturns of every conversation, in turn order, conversations interleaved."""
    ordered = X.sort_values(["conversation", "turn"])
    ordered = ordered.assign(_rank=ordered.groupby("conversation").cumcount())
    return ordered.sort_values(["_rank", "conversation"], kind="stable").drop(columns="_rank")


def _batch_on_prefixes(model, X):
    """For each talkturn, ``predict`` (and outputs) on its conversation's prefix, last row."""
    expected = {}
    for _, part in X.groupby("conversation"):
        part = part.sort_values("turn")
        for end in range(1, len(part) + 1):
            prefix = part.iloc[:end]
            outputs = (model.predict_proba(prefix)[-1] if is_classifier(model)
                       else model.predict(prefix)[-1])
            expected[prefix.index[-1]] = (model.predict(prefix)[-1], outputs)
    return expected


def _check_stream_equals_batch(model, X):
    stream = ConversationStream(model)
    expected = _batch_on_prefixes(model, X)
    ordered = _interleaved(X)
    for row, talkturn in zip(ordered.index, ordered.to_dict("records"), strict=True):
        prediction = stream.add(talkturn)
        label, outputs = expected[row]
        if is_classifier(model):
            assert prediction == label
            np.testing.assert_allclose(stream.predict_proba(), outputs, atol=1e-5)
        else:
            np.testing.assert_allclose(prediction, label, rtol=1e-5, atol=1e-5)
    assert stream.conversations == list(pd.unique(ordered["conversation"]))


def test_stream_equals_predict_on_every_prefix(fitted):
    model, X = fitted
    _check_stream_equals_batch(model, X)


def test_stream_of_a_monah_pipeline_equals_predict_on_every_prefix(pipeline):
    model, X = pipeline
    stream = ConversationStream(model)
    assert stream.transcriber is model.named_steps["monah"]
    assert "tone_anger" in stream.columns and "start" in stream.columns
    _check_stream_equals_batch(model, X)


def test_each_talkturn_is_encoded_once_and_the_window_stays_bounded(conversations):
    X, y = conversations
    model = HanRockClassifier(**TINY).fit(X, y)
    encoded = []
    module = model.module_
    original = module.encode_talkturns

    def counting(tokens, lengths, *args, **kwargs):
        encoded.append(len(tokens))
        return original(tokens, lengths, *args, **kwargs)

    read = []
    original_read = module.read_windows

    def reading(vectors, windows, window_lengths):
        read.append(windows.shape[1])
        return original_read(vectors, windows, window_lengths)

    module.encode_talkturns, module.read_windows = counting, reading
    try:
        stream = ConversationStream(model)
        part = X[X["conversation"] == X["conversation"].iloc[0]].sort_values("turn")
        for talkturn in part.to_dict("records"):
            stream.add(talkturn)
    finally:
        del module.encode_talkturns, module.read_windows
    assert encoded == [1] * len(part)
    assert read == [min(i + 1, TINY["context_size"]) for i in range(len(part))]


def test_attention_of_the_newest_talkturn_matches_predict_attention(pipeline):
    model, X = pipeline
    stream = ConversationStream(model)
    part = X[X["conversation"] == X["conversation"].iloc[1]].sort_values("turn")
    for talkturn in part.to_dict("records"):
        stream.add(talkturn)
    live = stream.attention()
    narrated = model[:-1].transform(part)
    [batch] = model[-1].predict_attention(narrated, rows=[len(part) - 1])
    assert live.row == len(part) - 1 and live.prediction == batch.prediction
    np.testing.assert_array_equal(live.context, batch.context)
    assert live.task_names == batch.task_names
    np.testing.assert_allclose(live.task, batch.task, atol=1e-5)
    for ours, theirs in zip(live.talkturn, batch.talkturn, strict=True):
        np.testing.assert_allclose(ours, theirs, atol=1e-5)
    for ours, theirs in zip(live.word, batch.word, strict=True):
        for a, b in zip(ours, theirs, strict=True):
            np.testing.assert_allclose(a, b, atol=1e-5)


def _in_threads(function, items):
    """``[function(item) for item in items]``, each call in a thread of its own, all at once."""
    results = [None] * len(items)

    def run(i):
        results[i] = function(items[i])

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(items))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def test_streams_in_threads_share_one_model(pipeline):
    model, X = pipeline
    parts = [part.sort_values("turn") for _, part in X.groupby("conversation")]
    sequential = []
    for part in parts:
        stream = ConversationStream(model)
        sequential.append([stream.add(t) for t in part.to_dict("records")])
    start = threading.Barrier(len(parts))

    def follow(part):
        stream = ConversationStream(model)
        start.wait()
        return [stream.add(t) for t in part.to_dict("records")]

    assert _in_threads(follow, parts) == sequential


def test_one_stream_used_from_several_threads_keeps_each_conversation(pipeline):
    model, X = pipeline
    stream = ConversationStream(model)
    parts = [part.sort_values("turn") for _, part in X.groupby("conversation")][:4]
    results = _in_threads(lambda part: [stream.add(t) for t in part.to_dict("records")], parts)
    for part, result in zip(parts, results, strict=True):
        assert result == [model.predict(part.iloc[:end])[-1] for end in range(1, len(part) + 1)]


@pytest.fixture(scope="module")
def classifier(conversations):
    X, y = conversations
    return HanRockClassifier(**TINY).fit(X, y), X


def _first_conversation(X):
    first = X[X["conversation"] == X["conversation"].iloc[0]].sort_values("turn")
    return first.to_dict("records")


@pytest.mark.parametrize("change, message", [
    (lambda t: {k: v for k, v in t.items() if k != "text"}, r"no column\(s\) \['text'\]"),
    (lambda t: {**t, "text": None}, "'text' must be its text"),
    (lambda t: {**t, "turn": t["turn"] - 1}, "does not follow turn"),
    (lambda t: {**t, "turn": float("nan")}, "'turn' must be a finite number"),
])
def test_bad_talkturns_are_refused_and_the_stream_stays_usable(classifier, change, message):
    model, X = classifier
    talkturns = _first_conversation(X)
    stream = ConversationStream(model)
    stream.add(talkturns[0])
    stream.add(talkturns[1])
    with pytest.raises(ValueError, match=message):
        stream.add(change(talkturns[2]) if "does not" not in message
                   else {**talkturns[2], "turn": talkturns[1]["turn"]})
    predictions = [stream.add(t) for t in talkturns[2:]]
    clean = ConversationStream(model)
    assert predictions == [clean.add(t) for t in talkturns][2:]


def test_a_bad_talkturn_leaves_the_monah_history_untouched(pipeline):
    model, X = pipeline
    talkturns = _first_conversation(X)
    stream = ConversationStream(model)
    for talkturn in talkturns[:3]:
        stream.add(talkturn)
    with pytest.raises(ValueError, match="outside"):
        stream.add({**talkturns[3], "tone_anger": 40.0})
    clean = ConversationStream(model)
    assert [stream.add(t) for t in talkturns[3:]] == [clean.add(t) for t in talkturns][3:]


def test_other_bad_calls_have_clear_errors(classifier, regression_conversations):
    model, X = classifier
    stream = ConversationStream(model)
    with pytest.raises(ValueError, match="no talkturn has been added"):
        stream.predict_proba()
    with pytest.raises(TypeError, match="dict or a one-row DataFrame"):
        stream.add(["text"])
    with pytest.raises(ValueError, match="the frame has 2 rows"):
        stream.add(X.head(2))
    stream.add(X.head(1))
    with pytest.raises(ValueError, match=r"unknown conversation 'nope'.*follows \["):
        stream.reset("nope")
    with pytest.raises(ValueError, match="unknown conversation"):
        stream.attention("nope")
    assert stream.reset(X["conversation"].iloc[0]).conversations == []
    regressor = HanRockRegressor(**TINY).fit(*regression_conversations)
    with pytest.raises(AttributeError, match="needs a classifier"):
        ConversationStream(regressor).predict_proba()


def test_reset_forgets_a_conversation(classifier):
    model, X = classifier
    talkturns = _first_conversation(X)
    stream = ConversationStream(model)
    first = [stream.add(t) for t in talkturns]
    stream.reset()
    assert stream.conversations == []
    assert [stream.add(t) for t in talkturns] == first
    assert stream.prediction() == first[-1]


def test_models_that_cannot_stream_are_refused(classifier, conversations):
    model, _ = classifier
    with pytest.raises(TypeError, match="must be a fitted HanRockClassifier"):
        ConversationStream("model")
    unfitted = Pipeline([("han", HanRockClassifier(**TINY))])
    with pytest.raises(Exception, match="not fitted"):
        ConversationStream(unfitted)
    other = Pipeline([("lower", FunctionTransformer()), ("han", model)])
    with pytest.raises(TypeError, match="cannot stream the pipeline step 'lower'"):
        ConversationStream(other)


def test_save_model_round_trips_a_monah_pipeline(pipeline, tmp_path):
    model, X = pipeline
    restored = load_model(save_model(model, tmp_path / "pipe.skhanrock"))
    assert [name for name, _ in restored.steps] == ["monah", "han"]
    assert restored.named_steps["monah"].get_params() == model.named_steps["monah"].get_params()
    np.testing.assert_allclose(restored.predict_proba(X), model.predict_proba(X), atol=1e-6)
    talkturns = _first_conversation(X)
    ours, theirs = ConversationStream(restored), ConversationStream(model)
    assert [ours.add(t) for t in talkturns] == [theirs.add(t) for t in talkturns]


def test_save_model_round_trips_an_estimator(classifier, tmp_path):
    model, X = classifier
    restored = load_model(save_model(model, tmp_path / "model.skhanrock"))
    assert isinstance(restored, HanRockClassifier)
    np.testing.assert_array_equal(restored.predict(X), model.predict(X))


def test_stream_command_answers_each_line(pipeline, tmp_path):
    model, X = pipeline
    path = save_model(model, tmp_path / "pipe.skhanrock")
    talkturns = _first_conversation(X)
    lines = [json.dumps(t) for t in talkturns[:2]]
    lines += ["not json", json.dumps({**talkturns[2], "turn": -1}), ""]
    lines += [json.dumps(t) for t in talkturns[2:]]
    lines += ["[" * 6000, json.dumps({"end_conversation": talkturns[0]["conversation"]})]
    done = subprocess.run([sys.executable, "-m", "skhanrock", "stream", "--model", str(path),
                           "--max-line-bytes", "5000"],
                          input="\n".join(lines) + "\n", capture_output=True, text=True,
                          timeout=120, check=False)
    assert done.returncode == 1, done.stderr
    answers = [_strict_json(line) for line in done.stdout.splitlines()]
    assert [a.get("line") for a in answers if "error" in a] == [3, 4, len(lines) - 1]
    assert "does not follow turn" in answers[3]["error"]
    assert "longer than max_line_bytes=5000" in answers[-2]["error"]
    assert answers[-1] == {"ended": talkturns[0]["conversation"], "talkturns": len(talkturns)}
    live = [a for a in answers if "prediction" in a]
    stream = ConversationStream(model)
    expected = [stream.add(t) for t in talkturns]
    assert [a["prediction"] for a in live] == expected
    assert [a["turn"] for a in live] == [t["turn"] for t in talkturns]
    assert set(live[0]["probabilities"]) == {str(c) for c in model.classes_}
    assert "line 3" in done.stderr


def test_stream_command_with_a_missing_model_exits_2(tmp_path):
    done = subprocess.run([sys.executable, "-m", "skhanrock", "stream", "--model",
                           str(tmp_path / "absent.skhanrock")], input="", capture_output=True,
                          text=True, timeout=120, check=False)
    assert done.returncode == 2 and done.stderr.startswith("skhanrock stream:")


def test_stream_narrates_open_prosody_cues_as_the_batch_does(conversations):
    X, y = conversations
    rng = np.random.default_rng(0)
    X = X.assign(intensity_db=rng.normal(60, 8, len(X)),
                 pitch_median_hz=rng.normal(150, 30, len(X)),
                 pitch_slope=rng.normal(0, 3, len(X)),
                 pitch_median_semitones_speaker=rng.normal(0, 2, len(X)),
                 pitch_range_semitones=rng.uniform(1, 8, len(X)),
                 voiced_fraction=rng.uniform(size=len(X)), hnr_db=rng.normal(10, 3, len(X)))
    model = make_paper_pipeline("ohf", **TINY).fit(X, y)
    narratives = model.named_steps["monah"].transform(X)["narrative"]
    assert narratives.str.contains("loudly|softly|pitch").any()
    assert "pitch_slope" in ConversationStream(model).columns
    _check_stream_equals_batch(model, X)


@pytest.mark.parametrize("architecture", ["rock", "flat"])
def test_stream_with_the_lexical_path_equals_predict_on_every_prefix(architecture,
                                                                     conversations):
    X, y = conversations
    model = HanRockClassifier(architecture=architecture, lexical_ngrams=(1, 2), **TINY)
    _check_stream_equals_batch(model.fit(X, y), X)


# ---------------------------------------------------------------- issue 25


@pytest.mark.parametrize("missing", [float("nan"), np.nan, None, pd.NA])
def test_a_missing_conversation_id_is_refused_as_predict_refuses_it(classifier, missing):
    model, X = classifier
    talkturns = _first_conversation(X)
    stream = ConversationStream(model)
    stream.add(talkturns[0])
    # Each NaN is a new dict key: accepted, every talkturn began a conversation
    # of its own and lost its context.
    with pytest.raises(ValueError, match=r"conversation id \('conversation'\) is missing"):
        stream.add({**talkturns[1], "conversation": missing})
    with pytest.raises(ValueError, match="'conversation'.* is missing"):
        model.predict(X.assign(conversation=X["conversation"].where(X.index != X.index[1],
                                                                    missing)))
    assert stream.conversations == [talkturns[0]["conversation"]]


@pytest.mark.parametrize("change, error, message", [
    ({"turn": 10 ** 40}, ValueError, r"'turn' is 1000.*beyond the turns predict sorts"),
    ({"turn": -10 ** 40}, ValueError, r"'turn' is -1000.*beyond the turns predict sorts"),
    ({"turn": 2 ** 63}, ValueError, r"'turn' is 9223372036854775808, beyond"),
    ({"turn": 1e300}, ValueError, r"'turn' is 1e\+300, beyond"),
    ({"conversation": [1, 2]}, TypeError, r"conversation id \('conversation'\) must be a str "
                                          r"or a number, got list \[1, 2\]"),
    ({"conversation": {"a": 1}}, TypeError, r"\('conversation'\) must be .*got dict"),
])
def test_turns_and_ids_a_stream_cannot_use_are_refused_by_name(classifier, change, error,
                                                               message):
    model, X = classifier
    talkturns = _first_conversation(X)
    stream = ConversationStream(model)
    first = stream.add(talkturns[0])
    with pytest.raises(error, match=message):
        stream.add({**talkturns[1], **change})
    assert stream.conversations == [talkturns[0]["conversation"]]
    assert stream.prediction() == first


def _with_multiindex_columns(frame):
    return frame.set_axis(pd.MultiIndex.from_product([frame.columns, ["x"]]), axis=1)


def test_multiindex_columns_are_refused_naming_what_is_expected(classifier):
    model, X = classifier
    expected = r"MultiIndex columns \(2 levels, e.g. \('conversation', 'x'\)\); expected one " \
               r"level of column names"
    with pytest.raises(ValueError, match="the talkturn has " + expected):
        ConversationStream(model).add(_with_multiindex_columns(X.head(1)))
    # A first-level label passed the column check and failed deep inside pandas.
    single = X.set_axis(pd.MultiIndex.from_arrays([X.columns, [""] * X.shape[1]]), axis=1)
    with pytest.raises(ValueError, match=r"X has MultiIndex columns"):
        model.predict(single)


def test_end_forgets_a_conversation_and_its_id_may_start_again(classifier):
    model, X = classifier
    talkturns = _first_conversation(X)
    key = talkturns[0]["conversation"]
    stream = ConversationStream(model)
    first = [stream.add(t) for t in talkturns]
    assert stream.end(key) == len(talkturns)
    assert stream.conversations == []
    with pytest.raises(ValueError, match="no talkturn has been added"):
        stream.prediction()
    with pytest.raises(ValueError, match="ConversationStream.end: unknown conversation"):
        stream.end(key)
    with pytest.raises(TypeError, match=r"ConversationStream.end: the conversation id"):
        stream.end([key])
    # Ended, not remembered: the same turns are a new conversation, not out of order.
    assert [stream.add(t) for t in talkturns] == first


def test_max_conversations_evicts_the_least_recently_added_to(classifier):
    model, X = classifier
    a, b, c = (part.sort_values("turn").to_dict("records")
               for _, part in list(X.groupby("conversation"))[:3])
    stream = ConversationStream(model, max_conversations=2)
    clean = ConversationStream(model)
    expected_a = [clean.add(t) for t in a[:2]]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        live_a = [stream.add(a[0]), stream.add(b[0]), stream.add(a[1])]
    with pytest.warns(UserWarning, match=rf"max_conversations=2 conversations; forgot "
                                         rf"'{b[0]['conversation']}'.*\(1 evicted so far\)"):
        stream.add(c[0])
    assert stream.n_evicted == 1
    assert stream.conversations == [a[0]["conversation"], c[0]["conversation"]]
    assert [live_a[0], live_a[2]] == expected_a
    # a kept its context: its next talkturn is predicted as in a stream that never evicted.
    assert stream.add(a[2]) == clean.add(a[2])
    with pytest.warns(UserWarning, match=r"forgot '" + c[0]["conversation"] + r"'.*\(2 evicted"):
        stream.add(b[1])
    for bad in (0, -1, 1.5, "2"):
        with pytest.raises(ValueError, match="max_conversations must be an integer >= 1"):
            ConversationStream(model, max_conversations=bad)


def _strict_json(line):
    """``json.loads`` that refuses NaN and infinities, which are not JSON."""
    def refuse(name):
        raise AssertionError(f"not JSON: {name} in {line!r}")
    return json.loads(line, parse_constant=refuse)


def _run(path, data, **kwargs):
    """``run_stream`` on bytes (read like standard input); (refused, answers)."""
    out = io.StringIO()
    refused = run_stream(path, io.BytesIO(data), out, **kwargs)
    return refused, [_strict_json(line) for line in out.getvalue().splitlines()]


@pytest.fixture(scope="module")
def saved_classifier(classifier, tmp_path_factory):
    model, X = classifier
    return save_model(model, tmp_path_factory.mktemp("stream") / "model.skhanrock"), model, X


def test_stream_command_prints_only_json_for_non_finite_input(saved_classifier):
    path, model, X = saved_classifier
    talkturn = _first_conversation(X)[0]
    text = json.dumps(talkturn)
    lines = [text.replace(json.dumps(talkturn["conversation"]), "NaN"),
             text.replace(f'"turn": {talkturn["turn"]}', '"turn": Infinity'),
             text.replace(f'"turn": {talkturn["turn"]}', '"turn": -Infinity'),
             text.replace(f'"turn": {talkturn["turn"]}', '"turn": 1e400'),
             text.replace(f'"turn": {talkturn["turn"]}', f'"turn": {10 ** 40}'),
             "[" * 5000 + "]" * 5000, '"a talkturn"', text]
    assert all(line != text for line in lines[:-1])
    refused, answers = _run(path, "\n".join(lines).encode())
    assert refused == 7
    assert [a.get("line") for a in answers[:7]] == list(range(1, 8))
    assert "NaN is not JSON" in answers[0]["error"]
    assert "Infinity is not JSON" in answers[1]["error"]
    assert "-Infinity is not JSON" in answers[2]["error"]
    assert "1e400 is beyond the range of a float" in answers[3]["error"]
    assert "'turn' is 1000" in answers[4]["error"]
    assert "nested too deeply" in answers[5]["error"]
    assert "must be a JSON object" in answers[6]["error"]
    assert answers[7]["conversation"] == talkturn["conversation"]
    assert answers[7]["prediction"] == ConversationStream(model).add(talkturn)


def test_stream_command_answers_a_non_finite_model_output_with_an_error(saved_classifier,
                                                                        monkeypatch):
    path, model, X = saved_classifier
    broken = load_model(path)
    with torch.no_grad():
        for parameter in broken.module_.parameters():
            parameter.fill_(float("nan"))
    # However such a model is obtained (a diverged fit), the output stays JSON.
    monkeypatch.setattr("skhanrock._commands.stream.load_model", lambda _: broken)
    talkturns = _first_conversation(X)[:2]
    refused, answers = _run(path, "\n".join(json.dumps(t) for t in talkturns).encode())
    assert refused == 2
    assert [a["line"] for a in answers] == [1, 2]
    assert all("holds NaN or infinity" in a["error"] for a in answers)


class _CountingReader(io.BytesIO):
    """A binary input that records the longest piece read from it at once."""

    longest = 0

    def readline(self, size=-1):
        line = super().readline(size)
        self.longest = max(self.longest, len(line))
        return line


def test_stream_command_refuses_long_lines_without_reading_them(saved_classifier):
    path, model, X = saved_classifier
    talkturns = _first_conversation(X)[:2]
    huge = json.dumps({**talkturns[0], "text": "word " * 200_000})  # about 1 MB
    data = "\n".join([huge, json.dumps(talkturns[0]), huge, json.dumps(talkturns[1]), huge])
    source = _CountingReader(data.encode())
    out = io.StringIO()
    assert run_stream(path, source, out, max_line_bytes=1000) == 3
    answers = [_strict_json(line) for line in out.getvalue().splitlines()]
    assert [a.get("line") for a in answers if "error" in a] == [1, 3, 5]
    assert all("longer than max_line_bytes=1000 bytes" in a["error"]
               for a in answers if "error" in a)
    stream = ConversationStream(model)
    assert [a["prediction"] for a in answers if "error" not in a] == \
        [stream.add(t) for t in talkturns]
    # Never more than the bound (or a 64 KiB chunk of the skipped rest) at once.
    assert source.longest <= 1 << 16 < len(huge)
    # A list of str lines (already in memory) obeys the same bound, in UTF-8 bytes.
    out = io.StringIO()
    assert run_stream(path, ["é" * 600], out, max_line_bytes=1000) == 1
    assert "longer than max_line_bytes" in _strict_json(out.getvalue())["error"]
    with pytest.raises(ValueError, match="max_line_bytes must be an integer >= 1"):
        run_stream(path, [], out, max_line_bytes=0)


def test_stream_command_ends_conversations_and_bounds_them(saved_classifier, capsys):
    path, model, X = saved_classifier
    parts = [part.sort_values("turn").to_dict("records")
             for _, part in list(X.groupby("conversation"))[:2]]
    a, b = parts
    key = a[0]["conversation"]
    lines = [json.dumps(a[0]), json.dumps(a[1]), json.dumps({"end_conversation": key}),
             json.dumps({"end_conversation": key}), json.dumps(a[0]), json.dumps(b[0]),
             json.dumps(a[1]), "\xff"]
    data = b"\n".join(line.encode("latin-1") if line == "\xff" else line.encode()
                      for line in lines)
    refused, answers = _run(path, data, max_conversations=1)
    assert refused == 2
    assert answers[2] == {"ended": key, "talkturns": 2}
    assert answers[3]["line"] == 4 and "unknown conversation" in answers[3]["error"]
    # After the end, a[0] starts the conversation again, as in a new stream.
    assert answers[4]["prediction"] == answers[0]["prediction"]
    assert answers[7] == {"error": answers[7]["error"], "line": 8}
    assert "not UTF-8" in answers[7]["error"]
    err = capsys.readouterr().err
    # b evicted a (line 6), and a[1] then began anew, evicting b (line 7).
    assert f"line 6: ConversationStream: more than max_conversations=1 conversations; forgot " \
           f"{key!r}" in err
    assert "line 7: " in err and "(2 evicted so far)" in err


@pytest.mark.parametrize("option", ["--max-line-bytes", "--max-conversations"])
@pytest.mark.parametrize("value", ["0", "-3", "many"])
def test_stream_command_checks_its_bounds_at_argparse_level(option, value, capsys):
    with pytest.raises(SystemExit) as exited:
        main(["stream", "--model", "m.skhanrock", option, value])
    assert exited.value.code == 2
    assert capsys.readouterr().err.splitlines()[-1] == \
        f"skhanrock stream: error: argument {option}: must be an integer >= 1, got {value!r}"


@pytest.mark.parametrize("speaker", [["a", "b"], {"a": 1}])
def test_a_monah_pipeline_refuses_a_speaker_it_cannot_key_by_name(pipeline, speaker):
    model, X = pipeline
    talkturns = _first_conversation(X)
    stream = ConversationStream(model)
    first = stream.add(talkturns[0])
    with pytest.raises(TypeError, match="speaker column 'speaker'.*one speaker id"):
        stream.add({**talkturns[1], "speaker": speaker})
    assert stream.prediction() == first


def test_the_old_predict_name_says_what_replaced_it(classifier):
    model, X = classifier
    stream = ConversationStream(model)
    live = stream.add(X.iloc[0].to_dict())
    assert stream.prediction() == live == stream.prediction(X["conversation"].iloc[0])
    with pytest.raises(AttributeError, match=r"predict\(conversation\) is now .*prediction"):
        stream.predict()
    assert not hasattr(stream, "predict")
