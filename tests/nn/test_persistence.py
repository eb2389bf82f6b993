import numpy as np
import pytest

from skhanrock import HanRockClassifier, HanRockRegressor
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
    path = net.save(tmp_path / "model.skhanrock")
    X.to_pickle(tmp_path / "X.pkl")
    method = "predict_proba" if kind == "classifier" else "predict"
    np.save(tmp_path / "expected.npy", getattr(net, method)(X))
    stdout = run_without_unpickling(
        "import numpy as np, pandas as pd\n"
        f"from skhanrock import {cls.__name__} as cls\n"
        f"net = cls.load({str(path)!r})\n"
        f"X = pd.read_pickle({str(tmp_path / 'X.pkl')!r})\n"
        f"got = net.{method}(X)\n"
        f"np.testing.assert_array_equal(got, np.load({str(tmp_path / 'expected.npy')!r}))\n"
        "print(net.loss_weights_.round(3).to_dict(), net.label_offsets_)\n")
    assert "(-1, 2)" in stdout
    loaded = cls.load(path)
    assert loaded.get_params()["loss_weights"] == 0.7
    assert loaded.task_names_ == net.task_names_
    loaded.partial_fit(X, y if kind == "classifier" else y * 10)  # keeps training the same model
    assert loaded.vocabulary_ == net.vocabulary_


def test_load_refuses_other_files_and_classes(conversations, tmp_path):
    X, y = conversations
    path = HanRockClassifier(**TINY).fit(X, y).save(tmp_path / "model.skhanrock")
    with pytest.raises(ValueError, match="holds a HanRockClassifier.*HanRockClassifier.load"):
        HanRockRegressor.load(path)
    (tmp_path / "bad").write_bytes(b"not a zip")
    with pytest.raises(ValueError, match="not a model written by skhanrock"):
        HanRockClassifier.load(tmp_path / "bad")
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
        HanRockClassifier.load(tmp_path / "future.skhanrock")
    config["format"], config["params"]["module"] = 1, {"__class__": "os.system"}
    with zipfile.ZipFile(tmp_path / "evil.skhanrock", "w") as archive:
        archive.writestr("skhanrock.json", json.dumps(config))
        archive.writestr("weights.pt", weights)
    with pytest.raises(ValueError, match="saved module 'os.system' is not one of"):
        HanRockClassifier.load(tmp_path / "evil.skhanrock")
    import torch
    custom = HanRockClassifier.load(path)
    custom.module = torch.nn.Linear  # set directly: set_params would rebuild the network
    with pytest.raises(ValueError, match="stores module by name"):
        custom.save(tmp_path / "x")


def test_a_file_saved_before_lexical_ngrams_existed_loads_without_a_lexical_path(
        conversations, tmp_path):
    import json
    import zipfile
    X, y = conversations
    net = HanRockClassifier(**TINY, lexical_ngrams=None).fit(X, y)
    path = net.save(tmp_path / "model.skhanrock")
    with zipfile.ZipFile(path) as archive:
        config = json.loads(archive.read("skhanrock.json"))
        weights = archive.read("weights.pt")
    del config["params"]["lexical_ngrams"]
    with zipfile.ZipFile(tmp_path / "older.skhanrock", "w") as archive:
        archive.writestr("skhanrock.json", json.dumps(config))
        archive.writestr("weights.pt", weights)
    loaded = HanRockClassifier.load(tmp_path / "older.skhanrock")
    assert loaded.lexical_ngrams is None and loaded.module_.lexical is None
    np.testing.assert_array_equal(loaded.predict_proba(X), net.predict_proba(X))


def test_tuples_stay_tuples_through_save_and_load(conversations, tmp_path):
    from sklearn.base import clone
    X, y = conversations
    net = HanRockClassifier(**TINY, label_offsets=(-1, 1),
                            class_weight={y.dropna().iloc[0]: 2.0}).fit(X, y)
    loaded = HanRockClassifier.load(net.save(tmp_path / "model.skhanrock"))
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
    path = HanRockClassifier(**TINY).fit(X, y).save(
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
    "missing_encoding": (lambda c: c["fitted"].pop("encoding"), "'encoding' is missing"),
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
        HanRockClassifier.load(path)
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
        HanRockClassifier.load(path)
    assert error.value.member == "weights.pt" and "weights_only" not in str(error.value)


def test_a_corrupt_deflate_stream_names_the_file(saved, tmp_path):
    from skhanrock.exceptions import ModelFileError
    _, _, good = saved
    data = bytearray(good.read_bytes())
    start = data.index(b"weights.pt") + len("weights.pt") + 40  # inside its deflate stream
    data[start:start + 64] = bytes(64)
    (tmp_path / "corrupt.skhanrock").write_bytes(bytes(data))
    with pytest.raises(ModelFileError, match="corrupt.skhanrock.*cannot be read"):
        HanRockClassifier.load(tmp_path / "corrupt.skhanrock")


def test_members_larger_than_the_configuration_allows_are_not_read(saved, tmp_path,
                                                                   monkeypatch):
    from skhanrock.exceptions import ModelFileError
    from skhanrock.nn import _persistence
    config, weights, good = saved
    # A zip bomb: 64 MB of zeros in a weights.pt of a network of a few KB.
    bomb = _write(tmp_path / "bomb.skhanrock", config, weights + bytes(64 * 2 ** 20))
    assert bomb.stat().st_size < 2 ** 20
    with pytest.raises(ModelFileError, match="declares 6.* bytes, more than .* not read") as error:
        HanRockClassifier.load(bomb)
    assert error.value.member == "weights.pt"
    monkeypatch.setattr(_persistence, "MAX_CONFIG_BYTES", 100)
    with pytest.raises(ModelFileError, match=r"skhanrock\.json.*more than the 100"):
        HanRockClassifier.load(good)


def test_lexical_ngrams_are_bounded_at_fit(conversations):
    X, y = conversations
    with pytest.raises(ValueError, match=r"lexical_ngrams\[1\].*10"):
        HanRockClassifier(**TINY, lexical_ngrams=(1, 10 ** 9)).fit(X, y)


@pytest.mark.parametrize("pipeline", [b"not json", b'{"steps": 5, "estimator_step": "han"}',
                                      b'{"steps": [{"class": "os.system"}]}', b'{"steps": []}'])
def test_a_tampered_pipeline_member_is_a_model_file_error(saved, tmp_path, pipeline):
    from skhanrock import load_model
    from skhanrock.exceptions import ModelFileError
    config, weights, _ = saved
    path = _write(tmp_path / "pipe.skhanrock", config, weights, pipeline_json=pipeline)
    with pytest.raises(ModelFileError, match="pipe.skhanrock") as error:
        load_model(path)
    assert error.value.member == "pipeline.json"


def test_saving_onto_a_directory_is_refused_and_leaves_no_partial_file(saved, tmp_path):
    from skhanrock import save_model
    _, _, good = saved
    net = HanRockClassifier.load(good)
    (tmp_path / "model.skhanrock").mkdir()
    for save in (net.save, lambda path: save_model(net, path)):
        with pytest.raises(ValueError, match="is a directory"):
            save(tmp_path / "model.skhanrock")
        assert sorted(p.name for p in tmp_path.iterdir()) == ["model.skhanrock"]


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
    net = HanRockClassifier.load(saved[2])
    before = {name: net.get_params()[name] for name in changed}
    with pytest.raises(ValueError, match=f"save\\(\\) refuses.*{named}"):
        net.set_params(**changed).save(tmp_path / "model.skhanrock")
    assert list(tmp_path.iterdir()) == []
    # Set back, the same estimator saves a file that predicts as it does.
    net.set_params(**before)
    loaded = HanRockClassifier.load(net.save(tmp_path / "model.skhanrock"))
    np.testing.assert_array_equal(loaded.predict_proba(X), net.predict_proba(X))


def test_parameters_that_only_shape_training_may_change_before_save(saved, conversations,
                                                                   tmp_path):
    X, _ = conversations
    net = HanRockClassifier.load(saved[2]).set_params(lr=0.5, max_epochs=7, batch_size=3)
    loaded = HanRockClassifier.load(net.save(tmp_path / "model.skhanrock"))
    assert (loaded.lr, loaded.max_epochs, loaded.batch_size) == (0.5, 7, 3)
    np.testing.assert_array_equal(loaded.predict_proba(X), net.predict_proba(X))
