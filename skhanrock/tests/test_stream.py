import json
import subprocess
import sys
import threading

import numpy as np
import pandas as pd
import pytest
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
    assert stream.predict() == first[-1]


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


def test_save_model_of_an_estimator_is_its_save(classifier, tmp_path):
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
    done = subprocess.run([sys.executable, "-m", "skhanrock", "stream", "--model", str(path)],
                          input="\n".join(lines) + "\n", capture_output=True, text=True,
                          timeout=120, check=False)
    assert done.returncode == 1, done.stderr
    answers = [json.loads(line) for line in done.stdout.splitlines()]
    assert [a.get("line") for a in answers if "error" in a] == [3, 4]
    assert "does not follow turn" in answers[3]["error"]
    live = [a for a in answers if "error" not in a]
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
