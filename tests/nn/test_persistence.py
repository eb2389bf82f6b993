import numpy as np
import pytest

from skhanrock import HanRockClassifier, HanRockRegressor, load_model, save_model
from skhanrock._testing import TINY

from ._shared import run_without_unpickling


@pytest.mark.parametrize("kind", ["classifier", "regressor"])
def test_save_and_load_restore_the_predictions_in_a_fresh_process(
        kind, conversations, regression_conversations, tmp_path):
    X, y = conversations if kind == "classifier" else regression_conversations
    X = X.assign(**{"aux:AU05": X["AU05_r"] / 5})
    cls = HanRockClassifier if kind == "classifier" else HanRockRegressor
    extra = {"class_weight": {y.dropna().iloc[0]: 2.0}} if kind == "classifier" else {}
    net = cls(**TINY, label_offsets=(-1, 2), loss_weights=0.7, **extra).fit(X, y * 1
                                                                             if kind == "classifier"
                                                                             else y * 10)
    path = save_model(net, tmp_path / "model.skhanrock")
    X.to_pickle(tmp_path / "X.pkl")
    method = "predict_proba" if kind == "classifier" else "predict"
    np.save(tmp_path / "expected.npy", getattr(net, method)(X))
    stdout = run_without_unpickling(
        "import numpy as np, pandas as pd\n"
        "from skhanrock import load_model\n"
        f"net = load_model({str(path)!r})\n"
        f"assert type(net).__name__ == {cls.__name__!r}\n"
        f"X = pd.read_pickle({str(tmp_path / 'X.pkl')!r})\n"
        f"got = net.{method}(X)\n"
        f"np.testing.assert_array_equal(got, np.load({str(tmp_path / 'expected.npy')!r}))\n"
        "print(net.loss_weights_.round(3).to_dict(), net.label_offsets_)\n")
    assert "(-1, 2)" in stdout
    loaded = load_model(path)
    assert loaded.get_params()["loss_weights"] == 0.7
    assert loaded.task_names_ == net.task_names_
    loaded.partial_fit(X, y if kind == "classifier" else y * 10)  # keeps training the same model
    assert loaded.vocabulary_ == net.vocabulary_


def test_load_refuses_other_files_and_classes(conversations, tmp_path):
    X, y = conversations
    path = save_model(HanRockClassifier(**TINY).fit(X, y), tmp_path / "model.skhanrock")
    (tmp_path / "bad").write_bytes(b"not a zip")
    with pytest.raises(ValueError, match="not a model written by skhanrock"):
        load_model(tmp_path / "bad")
    import json
    import zipfile
    with zipfile.ZipFile(path) as archive:
        config = json.loads(archive.read("skhanrock.json"))
        weights = archive.read("weights.pt")
    config["format"] = 99
    with zipfile.ZipFile(tmp_path / "future.skhanrock", "w") as archive:
        archive.writestr("skhanrock.json", json.dumps(config))
        archive.writestr("weights.pt", weights)
    with pytest.raises(ValueError, match="format 99"):
        load_model(tmp_path / "future.skhanrock")
    config["format"], config["estimator"] = 1, "Pipeline"
    with zipfile.ZipFile(tmp_path / "other.skhanrock", "w") as archive:
        archive.writestr("skhanrock.json", json.dumps(config))
        archive.writestr("weights.pt", weights)
    with pytest.raises(ValueError, match=r"holds 'Pipeline', which is not one of "
                                         r"\['HanRockClassifier', 'HanRockRegressor'\]"):
        load_model(tmp_path / "other.skhanrock")
    config["estimator"] = "HanRockClassifier"
    config["format"], config["params"]["module"] = 1, {"__class__": "os.system"}
    with zipfile.ZipFile(tmp_path / "evil.skhanrock", "w") as archive:
        archive.writestr("skhanrock.json", json.dumps(config))
        archive.writestr("weights.pt", weights)
    with pytest.raises(ValueError, match="saved module 'os.system' is not one of"):
        load_model(tmp_path / "evil.skhanrock")
    import torch
    custom = load_model(path)
    custom.module = torch.nn.Linear  # set directly: set_params would rebuild the network
    with pytest.raises(ValueError, match="stores module by name"):
        save_model(custom, tmp_path / "x")


def test_a_file_saved_before_lexical_ngrams_existed_loads_without_a_lexical_path(
        conversations, tmp_path):
    import json
    import zipfile
    X, y = conversations
    net = HanRockClassifier(**TINY, lexical_ngrams=None).fit(X, y)
    path = save_model(net, tmp_path / "model.skhanrock")
    with zipfile.ZipFile(path) as archive:
        config = json.loads(archive.read("skhanrock.json"))
        weights = archive.read("weights.pt")
    del config["params"]["lexical_ngrams"]
    with zipfile.ZipFile(tmp_path / "older.skhanrock", "w") as archive:
        archive.writestr("skhanrock.json", json.dumps(config))
        archive.writestr("weights.pt", weights)
    loaded = load_model(tmp_path / "older.skhanrock")
    assert loaded.lexical_ngrams is None and loaded.module_.lexical is None
    np.testing.assert_array_equal(loaded.predict_proba(X), net.predict_proba(X))


def test_tuples_stay_tuples_through_save_and_load(conversations, tmp_path):
    from sklearn.base import clone
    X, y = conversations
    net = HanRockClassifier(**TINY, label_offsets=(-1, 1),
                            class_weight={y.dropna().iloc[0]: 2.0}).fit(X, y)
    loaded = load_model(save_model(net, tmp_path / "model.skhanrock"))
    for name in ("lexical_ngrams", "label_offsets", "class_weight"):
        assert loaded.get_params()[name] == net.get_params()[name], name
    assert loaded.lexical_ngrams == (1, 2) and isinstance(clone(loaded).lexical_ngrams, tuple)


# ------------------------------------------------ damaged and tampered files (issue 25)
@pytest.fixture(scope="module")
def saved(conversations, tmp_path_factory):
    """A saved classifier's members: its config (parsed), its weights, and the file."""
    import json
    import zipfile
    X, y = conversations
    path = save_model(HanRockClassifier(**TINY).fit(X, y),
        tmp_path_factory.mktemp("saved") / "model.skhanrock")
    with zipfile.ZipFile(path) as archive:
        return json.loads(archive.read("skhanrock.json")), archive.read("weights.pt"), path


def _write(path, config, weights, **extra):
    import json
    import zipfile
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("skhanrock.json", config if isinstance(config, bytes)
                         else json.dumps(config))
        archive.writestr("weights.pt", weights)
        for name, data in extra.items():
            archive.writestr(name.replace("_", "."), data)
    return path


def _tampered(config, change):
    import copy
    config = copy.deepcopy(config)
    change(config)
    return config


def _encoding(config):
    return config["fitted"]["encoding"]


_TAMPERED = {
    "vocabulary": (lambda c: _encoding(c)["vocabulary"].update(the=10 ** 6), "vocabulary"),
    "idf": (lambda c: _encoding(c)["lexical"].update(idf=["x"]), "idf"),
    "pretrained_rows": (lambda c: _encoding(c).update(pretrained_rows=[10 ** 6]),
                        "pretrained_rows"),
    # The wording of pipeline.json's entries too (one owner: _model_file.damaged_entries).
    "missing_encoding": (lambda c: c["fitted"].pop("encoding"),
                         r"the entry 'encoding' is missing \(KeyError\)\.$"),
    "unknown_module_key": (lambda c: c["params"].update(module__bogus=1),
                           "module__bogus.*HanModule has no parameter"),
    "callbacks": (lambda c: c["params"].update(callbacks="x"), "callbacks.*never writes"),
    "ngram_range": (lambda c: _encoding(c)["lexical"].update(ngram_range=[1, 10 ** 9]),
                    "lexical_ngrams"),
    "lexical_ngrams": (lambda c: c["params"].update(lexical_ngrams={"__tuple__": [1, 10 ** 9]}),
                       "lexical_ngrams"),
    "embedding_shape": (lambda c: _encoding(c).update(
        embedding_shape=[len(_encoding(c)["vocabulary"]), 10 ** 9]), "embedding_shape"),
    "params_list": (lambda c: c.update(params=[1]), "'params' and 'fitted'"),
}


@pytest.mark.parametrize("case", sorted(_TAMPERED))
def test_a_tampered_config_is_a_model_file_error_naming_file_and_member(saved, tmp_path, case):
    from skhanrock.exceptions import ModelFileError
    config, weights, _ = saved
    change, message = _TAMPERED[case]
    path = _write(tmp_path / "tampered.skhanrock", _tampered(config, change), weights)
    with pytest.raises(ModelFileError, match=message) as error:
        load_model(path)
    assert str(path) in str(error.value) and error.value.member == "skhanrock.json"


def test_a_pickle_in_weights_is_refused_without_torchs_advice(saved, tmp_path):
    import datetime
    import io

    import torch

    from skhanrock.exceptions import ModelFileError
    config, weights, _ = saved
    payload = io.BytesIO()
    # As large as the real weights, so that only its pickled object is wrong.
    torch.save({"embedding.weight": torch.zeros(len(weights)),
                "when": datetime.date(2020, 1, 1)}, payload)
    path = _write(tmp_path / "pickled.skhanrock", config, payload.getvalue())
    with pytest.raises(ModelFileError, match="not a skhanrock model.*will not unpickle") as error:
        load_model(path)
    assert error.value.member == "weights.pt" and "weights_only" not in str(error.value)


def test_a_corrupt_deflate_stream_names_the_file(saved, tmp_path):
    from skhanrock.exceptions import ModelFileError
    _, _, good = saved
    data = bytearray(good.read_bytes())
    start = data.index(b"weights.pt") + len("weights.pt") + 40  # inside its deflate stream
    data[start:start + 64] = bytes(64)
    (tmp_path / "corrupt.skhanrock").write_bytes(bytes(data))
    with pytest.raises(ModelFileError, match="corrupt.skhanrock.*cannot be read"):
        load_model(tmp_path / "corrupt.skhanrock")


def test_members_larger_than_the_configuration_allows_are_not_read(saved, tmp_path,
                                                                   monkeypatch):
    from skhanrock.exceptions import ModelFileError
    from skhanrock.nn import _persistence
    config, weights, good = saved
    # A zip bomb: 64 MB of zeros in a weights.pt of a network of a few KB.
    bomb = _write(tmp_path / "bomb.skhanrock", config, weights + bytes(64 * 2 ** 20))
    assert bomb.stat().st_size < 2 ** 20
    with pytest.raises(ModelFileError, match="declares 6.* bytes, more than .* not read") as error:
        load_model(bomb)
    assert error.value.member == "weights.pt"
    monkeypatch.setattr(_persistence, "MAX_CONFIG_BYTES", 100)
    with pytest.raises(ModelFileError, match=r"skhanrock\.json.*more than the 100"):
        load_model(good)


def test_lexical_ngrams_are_bounded_at_fit(conversations):
    X, y = conversations
    with pytest.raises(ValueError, match=r"lexical_ngrams\[1\].*10"):
        HanRockClassifier(**TINY, lexical_ngrams=(1, 10 ** 9)).fit(X, y)


@pytest.mark.parametrize(("pipeline", "message"), [
    (b"not json", "not valid JSON"),
    (b'{"steps": 5, "estimator_step": "han"}', r"'int' object is not iterable \(TypeError\)"),
    (b'{"steps": [{"step": "monah", "class": "os.system"}], "estimator_step": "han"}',
     r"must be a MonahTranscriber, got 'os\.system'"),
    (b'{"steps": []}', r"the entry 'estimator_step' is missing \(KeyError\)\.$")])
def test_a_tampered_pipeline_member_is_a_model_file_error(saved, tmp_path, pipeline, message):
    from skhanrock.exceptions import ModelFileError
    config, weights, _ = saved
    path = _write(tmp_path / "pipe.skhanrock", config, weights, pipeline_json=pipeline)
    with pytest.raises(ModelFileError, match=message) as error:
        load_model(path)
    assert error.value.member == "pipeline.json" and str(path) in str(error.value)


def test_saving_onto_a_directory_is_refused_and_leaves_no_partial_file(saved, tmp_path):
    _, _, good = saved
    net = load_model(good)
    (tmp_path / "model.skhanrock").mkdir()
    with pytest.raises(ValueError, match="save_model writes one file.* is a directory"):
        save_model(net, tmp_path / "model.skhanrock")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.skhanrock"]


def test_the_other_ways_to_save_and_load_name_the_one_pair(saved):
    # Five entry points before any release; save_model/load_model are the one pair left.
    from skhanrock import nn
    _, _, good = saved
    net = load_model(good)
    with pytest.raises(AttributeError, match=r"HanRockClassifier\.save is gone: use "
                                             r"skhanrock\.save_model\(model, path\)"):
        net.save(good)
    for cls in (HanRockClassifier, HanRockRegressor):
        with pytest.raises(AttributeError, match=rf"{cls.__name__}\.load is gone: use "
                                                 r"skhanrock\.load_model\(path\)"):
            cls.load(good)
    assert not hasattr(net, "save") and not hasattr(HanRockRegressor, "load")
    with pytest.raises(TypeError, match=r"skhanrock\.nn\.load is gone: use "
                                        r"skhanrock\.load_model\(path\)"):
        nn.load(good)
    assert "load" not in nn.__all__
    # The one pair takes either estimator and answers with the class the file holds.
    assert type(load_model(good)) is HanRockClassifier


@pytest.mark.parametrize("changed, named", [
    ({"primary_units": 7}, "primary_units=7 \\(fitted with 6\\)"),
    ({"architecture": "flat"}, "architecture='flat'"),
    ({"aux_units": 3}, "aux_units=3"),
    ({"lexical_context": 1}, "lexical_context=1"),
    ({"lexical_ngrams": None, "lexical_context": 1}, "lexical_ngrams=None.*lexical_context=1"),
    ({"max_words": 5}, "max_words=5"),
    ({"feature_columns": ["pitch"]}, "feature_columns=\\['pitch'\\]"),
    ({"lr": -1}, "lr must be .*> 0, got -1"),
    ({"max_epochs": 0}, "max_epochs must be .*got 0"),
])
def test_save_refuses_parameters_set_after_fit_that_its_network_does_not_have(
        saved, conversations, tmp_path, changed, named):
    X, _ = conversations
    net = load_model(saved[2])
    before = {name: net.get_params()[name] for name in changed}
    with pytest.raises(ValueError, match=f"save_model refuses.*{named}"):
        save_model(net.set_params(**changed), tmp_path / "model.skhanrock")
    assert list(tmp_path.iterdir()) == []
    # Set back, the same estimator saves a file that predicts as it does.
    net.set_params(**before)
    loaded = load_model(save_model(net, tmp_path / "model.skhanrock"))
    np.testing.assert_array_equal(loaded.predict_proba(X), net.predict_proba(X))


def test_parameters_that_only_shape_training_may_change_before_save(saved, conversations,
                                                                   tmp_path):
    X, _ = conversations
    net = load_model(saved[2]).set_params(lr=0.5, max_epochs=7, batch_size=3)
    loaded = load_model(save_model(net, tmp_path / "model.skhanrock"))
    assert (loaded.lr, loaded.max_epochs, loaded.batch_size) == (0.5, 7, 3)
    np.testing.assert_array_equal(loaded.predict_proba(X), net.predict_proba(X))
