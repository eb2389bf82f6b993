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
