"""The estimators on a pretrained word encoder: a tiny random BERT under the HAN."""

import shutil
import threading

import numpy as np
import pytest
import torch
from skorch.callbacks import Callback

transformers = pytest.importorskip("transformers")

from skhanrock import (  # noqa: E402
    ConversationStream,
    HanRockClassifier,
    HanRockRegressor,
    load_model,
    save_model,
)
from skhanrock._testing import TINY  # noqa: E402
from skhanrock.datasets import make_conversations  # noqa: E402
from skhanrock.inspection import explain, render_html  # noqa: E402
from skhanrock.nn import PretrainedWordEncoder, tokenize  # noqa: E402
from skhanrock.nn._fine_tuning import PieceTable  # noqa: E402

from ._shared import HIDDEN, run_without_unpickling, tiny_bert  # noqa: E402

SETTINGS = {**TINY, "device": "cpu"}
# The tiny BERT knows 29 tokens: most words of make_conversations are its [UNK],
# which every fit here would warn about.
pytestmark = pytest.mark.filterwarnings(
    "ignore:.*read as the tokenizer's unknown token:UserWarning")
needs_cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")


class TrainingModes(Callback):
    """Records, per batch, whether the fine-tuned layers and the encoder were training."""

    def __init__(self, encoder):
        self.encoder = encoder

    def initialize(self):
        self.modes = []
        return self

    def on_batch_end(self, net, training=False, **kwargs):
        self.modes.append((training, net.module_.transformer_top.training,
                           any(m.training for m in self.encoder.modules())))


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    return tiny_bert(tmp_path_factory.mktemp("models") / "tiny-bert", seed=0)


@pytest.fixture(scope="module")
def data():
    return make_conversations(n_conversations=6, random_state=0)


@pytest.fixture(scope="module")
def fitted(model_dir, data):
    """A classifier on a given encoder, with what the encoder held before and after fit."""
    X, y = data
    encoder = PretrainedWordEncoder(model_dir, max_words=TINY.get("max_words", 64))
    before = {k: v.clone() for k, v in encoder.state_dict().items()}
    clf = HanRockClassifier(embeddings=encoder, **SETTINGS).fit(X, y)
    return clf, encoder, before, encoder.cache_info()


@pytest.fixture(scope="module")
def tuned(model_dir, data):
    """A classifier fine-tuning the top layer of its encoder, with the encoder before fit."""
    X, y = data
    encoder = PretrainedWordEncoder(model_dir, fine_tune_layers=1)
    before = {k: v.clone() for k, v in encoder.state_dict().items()}
    modes = TrainingModes(encoder)
    clf = HanRockClassifier(embeddings=encoder, callbacks=[modes], **SETTINGS).fit(X, y)
    return clf, encoder, before, encoder.cache_info(), modes.modes


@pytest.fixture(scope="module")
def regressor(model_dir):
    X, y = make_conversations(n_conversations=6, target_type="regression", random_state=0)
    return HanRockRegressor(embeddings=str(model_dir), **SETTINGS).fit(X, y), X


def test_classifier_reads_the_encoder_states_in_place_of_an_embedding_table(fitted, data):
    clf, encoder, _, _ = fitted
    X, _ = data
    assert clf.module_.embedding is None
    assert clf.module_.word_gru.forward_gru.input_size == HIDDEN == encoder.hidden_size
    assert clf.encoding_.word_encoder_ is encoder and clf.embedding_init_ is None
    proba = clf.predict_proba(X)
    assert proba.shape == (len(X), len(clf.classes_))
    np.testing.assert_allclose(proba.sum(1), 1.0, rtol=1e-5)
    assert set(clf.predict(X)) <= set(clf.classes_)


def test_regressor_reads_a_local_model_folder_on_its_device(regressor, model_dir):
    reg, X = regressor
    encoder = reg.encoding_.word_encoder_
    assert isinstance(encoder, PretrainedWordEncoder)
    assert encoder.model_path == model_dir.resolve() and encoder.max_words == reg.max_words
    assert encoder.device == torch.device("cpu")
    predictions = reg.predict(X)
    assert predictions.shape == (len(X),) and np.isfinite(predictions).all()


def test_each_distinct_text_is_encoded_once_per_fit_and_predict_hits_the_cache(fitted, data):
    clf, encoder, _, after_fit = fitted
    X, _ = data
    n_texts = X["text"].nunique()
    assert (after_fit.misses, after_fit.hits) == (n_texts, 0)
    before = encoder.cache_info()
    clf.predict(X)
    after = encoder.cache_info()
    assert after.misses == before.misses
    assert after.hits == before.hits + n_texts


@pytest.mark.parametrize("model", ["fitted", "tuned"])
def test_word_attention_weighs_each_word_of_the_talkturn(model, request, data):
    clf = request.getfixturevalue(model)[0]
    X, _ = data
    texts = X["text"].to_numpy()
    for item in clf.predict_attention(X, rows=[0, 7, 20]):
        for branch in item.word:
            lengths = [len(alpha) for alpha in branch]
            assert lengths == [len(tokenize(texts[r])[:clf.max_words]) or 1
                               for r in item.context]
            for alpha in branch:
                np.testing.assert_allclose(alpha.sum(), 1.0, rtol=1e-5)
    table = explain(clf, X, rows=[7])
    words = table[(table["level"] == "word") & (table["context"] == 0) & (table["task"] == "y")]
    assert words.sort_values("position")["token"].tolist() == tokenize(texts[7])
    assert "<html" in render_html(table).lower()


def test_the_encoder_stays_frozen_and_outside_the_trained_module(fitted):
    clf, encoder, before, _ = fitted
    for name, tensor in encoder.state_dict().items():
        torch.testing.assert_close(tensor, before[name], rtol=0, atol=0)
    assert not any(p.requires_grad for p in encoder.parameters())
    trained = {id(p) for p in clf.module_.parameters()}
    assert not trained & {id(p) for p in encoder.parameters()}


def test_save_and_load_read_the_encoder_from_its_folder(fitted, data, tmp_path):
    clf, _, _, _ = fitted
    X, _ = data
    restored = load_model(save_model(clf, tmp_path / "model.skhanrock"))
    assert restored.encoding_.word_encoder_.fingerprint() == clf.encoding_.word_encoder_.fingerprint()
    np.testing.assert_allclose(restored.predict_proba(X), clf.predict_proba(X), atol=1e-6)
    assert restored.embeddings == str(clf.encoding_.word_encoder_.model_path)


def test_load_refuses_another_model_or_a_missing_folder(model_dir, data, tmp_path):
    X, y = data
    folder = shutil.copytree(model_dir, tmp_path / "checkpoint")
    clf = HanRockClassifier(embeddings=str(folder), **{**SETTINGS, "max_epochs": 1}).fit(X, y)
    path = save_model(clf, tmp_path / "model.skhanrock")
    shutil.rmtree(folder)
    tiny_bert(folder, seed=1)
    with pytest.raises(ValueError, match="fingerprint"):
        load_model(path)
    shutil.rmtree(folder)
    with pytest.raises(ValueError, match="does not exist"):
        load_model(path)


def test_saving_an_encoder_without_a_folder_is_refused(fitted, data, tmp_path):
    X, y = data
    encoder = fitted[1]
    config = transformers.BertConfig(**{k: v for k, v in encoder.model.config.to_dict().items()
                                        if k != "_name_or_path"})
    in_memory = PretrainedWordEncoder(transformers.BertModel(config), encoder.tokenizer)
    assert in_memory.model_path is None
    clf = HanRockClassifier(embeddings=in_memory, **{**SETTINGS, "max_epochs": 1}).fit(X, y)
    with pytest.raises(ValueError, match="save_pretrained"):
        save_model(clf, tmp_path / "model.skhanrock")
    assert not (tmp_path / "model.skhanrock").exists()


@pytest.mark.parametrize("how", ["built_from_the_folders_config", "edited_after_loading"])
def test_saving_an_encoder_whose_model_is_not_its_folders_is_refused(model_dir, data, tmp_path,
                                                                     how):
    # Either model still names the folder, which load would read and then refuse.
    X, y = data
    if how == "built_from_the_folders_config":
        torch.manual_seed(5)
        # A loaded model's config names its folder; the new model's weights are random.
        model = transformers.BertModel(transformers.BertModel.from_pretrained(model_dir).config)
        encoder = PretrainedWordEncoder(model, PretrainedWordEncoder(model_dir).tokenizer)
    else:
        encoder = PretrainedWordEncoder(model_dir)
    clf = HanRockClassifier(embeddings=encoder, **{**SETTINGS, "max_epochs": 1}).fit(X, y)
    if how == "edited_after_loading":
        fingerprint = encoder.fingerprint()
        with torch.no_grad():
            encoder.model.embeddings.word_embeddings.weight.add_(1.0)
    with pytest.raises(ValueError, match="not the one in .*save_pretrained"):
        save_model(clf, tmp_path / "model.skhanrock")
    assert list(tmp_path.iterdir()) == []
    if how == "edited_after_loading":
        assert encoder.fingerprint() == fingerprint  # the encoder itself is left as it was


@pytest.mark.parametrize("name", ["bert-base-uncased", "sentence-transformers/all-MiniLM-L6-v2"])
def test_a_model_name_is_never_downloaded(name, data):
    X, y = data
    with pytest.raises(ValueError, match="No network access"):
        HanRockClassifier(embeddings=name, **SETTINGS).fit(X, y)


def test_another_max_words_is_refused(model_dir, data):
    X, y = data
    with pytest.raises(ValueError, match="max_words"):
        HanRockClassifier(embeddings=PretrainedWordEncoder(model_dir, max_words=5),
                          **SETTINGS).fit(X, y)


@pytest.mark.parametrize("model", ["fitted", "regressor", "tuned"])
def test_stream_equals_predict_on_every_prefix(model, request, data):
    estimator = request.getfixturevalue(model)[0]
    X = request.getfixturevalue(model)[1] if model == "regressor" else data[0]
    conversation = X[X["conversation"] == X["conversation"].iloc[0]].sort_values("turn")
    stream = ConversationStream(estimator)
    for end, talkturn in enumerate(conversation.to_dict("records"), start=1):
        live = stream.add(talkturn)
        prefix = conversation.iloc[:end]
        if model != "regressor":
            assert live == estimator.predict(prefix)[-1]
            np.testing.assert_allclose(stream.predict_proba(), estimator.predict_proba(prefix)[-1],
                                       atol=1e-5)
        else:
            np.testing.assert_allclose(live, estimator.predict(prefix)[-1], rtol=1e-5, atol=1e-5)


# -- fine_tune_layers ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def roberta_dir(tmp_path_factory):
    """A tiny random RoBERTa (byte-level BPE) and its tokenizer, saved to a folder."""
    folder = tmp_path_factory.mktemp("models") / "tiny-roberta"
    folder.mkdir()
    vocab = {"<s>": 0, "<pad>": 1, "</s>": 2, "<unk>": 3, "<mask>": 4, "\u0120": 5}
    for c in "abcdefghijklmnopqrstuvwxyzT.,!'":
        vocab.setdefault(c, len(vocab))
    (folder / "vocab.json").write_text(__import__("json").dumps(vocab))
    (folder / "merges.txt").write_text("#version: 0.2\n")
    tokenizer = transformers.RobertaTokenizerFast(str(folder / "vocab.json"),
                                                  str(folder / "merges.txt"),
                                                  add_prefix_space=True)
    config = transformers.RobertaConfig(vocab_size=len(vocab), hidden_size=HIDDEN,
                                        num_hidden_layers=2, num_attention_heads=2,
                                        intermediate_size=32, max_position_embeddings=40,
                                        pad_token_id=1)
    torch.manual_seed(0)
    transformers.RobertaModel(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


@pytest.mark.parametrize("checkpoint", ["model_dir", "roberta_dir"])
@pytest.mark.parametrize("k", [1, 2])
def test_top_layers_over_the_cached_lower_states_give_the_frozen_vectors(checkpoint, k, request):
    folder = request.getfixturevalue(checkpoint)
    texts = ["the cat sat on the mat.", "", "unbelievable!", " ".join(["playing"] * 12), "hello"]
    # A small max_length reads the long text in several windows of whole words.
    frozen = PretrainedWordEncoder(folder, max_length=12, max_words=None)
    tuned = PretrainedWordEncoder(folder, max_length=12, max_words=None, fine_tune_layers=k)
    with pytest.warns(UserWarning, match="windows"):
        expected = frozen.encode(texts)
    with pytest.warns(UserWarning, match="windows"):
        table = PieceTable(tuned.lower_states(texts), tuned.hidden_size)
    assert max(table.n_windows) > 1 and table.n_windows[1] == 0
    lengths = torch.as_tensor(table.n_words)
    with torch.no_grad():
        vectors = tuned.top_layers()(table.batch(table.word_offsets), lengths)
    assert vectors.shape == (len(texts), max(len(v) for v in expected), HIDDEN)
    for row, vector in zip(vectors, expected, strict=True):
        np.testing.assert_allclose(row[:len(vector)].numpy(), vector, atol=1e-5)
        assert not row[len(vector):].any()


def test_fine_tuning_trains_a_copy_of_the_top_layers_and_leaves_the_encoder_as_it_was(tuned):
    clf, encoder, before, _, _ = tuned
    # The whole encoder (embeddings, lower layers and its own top layer) is bit-identical.
    for name, tensor in encoder.state_dict().items():
        torch.testing.assert_close(tensor, before[name], rtol=0, atol=0)
    top = clf.module_.transformer_top
    assert len(top.layers) == 1
    trained = dict(top.layers[0].named_parameters())
    assert trained and all(p.requires_grad for p in trained.values())
    original = dict(encoder.model.encoder.layer[1].named_parameters())
    assert sorted(trained) == sorted(original)
    assert all(not torch.equal(trained[n], original[n]) for n in ("attention.self.query.weight",
                                                                  "output.dense.weight"))
    assert not {id(p) for p in clf.module_.parameters()} & {id(p) for p in encoder.parameters()}
    optimized = {id(p) for group in clf.optimizer_.param_groups for p in group["params"]}
    assert {id(p) for p in trained.values()} <= optimized
    assert any(k.startswith("transformer_top.layers.0.") for k in clf.module_.state_dict())


def test_fine_tuning_caches_the_lower_states_once_per_fit_and_predict_reuses_them(tuned, data):
    clf, encoder, _, after_fit, _ = tuned
    X, _ = data
    n_texts = X["text"].nunique()
    assert (after_fit.misses, after_fit.hits, after_fit.currsize) == (n_texts, 0, n_texts)
    before = encoder.cache_info()
    clf.predict(X)
    after = encoder.cache_info()
    assert after.misses == before.misses and after.hits == before.hits + n_texts


def test_fine_tuned_layers_drop_out_in_training_only(tuned, data):
    clf, _, _, _, modes = tuned
    X, _ = data
    assert modes and all(training for training, _, _ in modes)
    # The fine-tuned copy trained in training mode; the encoder never left evaluation mode.
    assert all(top and not encoder for _, top, encoder in modes)
    assert clf.module_.transformer_top.layers[0].attention.self.dropout.p > 0
    np.testing.assert_array_equal(clf.predict_proba(X), clf.predict_proba(X))
    assert not clf.module_.transformer_top.training


def test_fine_tuning_is_deterministic_with_the_same_random_state(tuned, model_dir, data):
    clf = tuned[0]
    X, y = data
    again = HanRockClassifier(embeddings=PretrainedWordEncoder(model_dir, fine_tune_layers=1),
                              **SETTINGS).fit(X, y)
    np.testing.assert_array_equal(again.predict_proba(X), clf.predict_proba(X))
    two = HanRockClassifier(embeddings=PretrainedWordEncoder(model_dir, fine_tune_layers=2),
                            **{**SETTINGS, "max_epochs": 1}).fit(X, y)
    assert len(two.module_.transformer_top.layers) == 2


def test_a_fine_tuned_model_loads_in_a_fresh_process_from_the_same_checkpoint(tuned, data,
                                                                              tmp_path):
    clf = tuned[0]
    X, _ = data
    path = save_model(clf, tmp_path / "model.skhanrock")
    expected = clf.predict_proba(X)
    X.to_pickle(tmp_path / "X.pkl")
    np.save(tmp_path / "expected.npy", expected)
    run_without_unpickling(
        "import numpy as np, pandas as pd\n"
        "from skhanrock import load_model\n"
        f"net = load_model({str(path)!r})\n"
        "assert net.encoding_.word_encoder_.fine_tune_layers == 1\n"
        f"got = net.predict_proba(pd.read_pickle({str(tmp_path / 'X.pkl')!r}))\n"
        f"np.testing.assert_allclose(got, np.load({str(tmp_path / 'expected.npy')!r}), "
        "rtol=0, atol=1e-6)\n")
    restored = load_model(path)
    np.testing.assert_allclose(restored.predict_proba(X), expected, rtol=0, atol=1e-6)
    for name, tensor in clf.module_.transformer_top.state_dict().items():
        torch.testing.assert_close(restored.module_.transformer_top.state_dict()[name], tensor,
                                   rtol=0, atol=0)
    encoder = restored.encoding_.word_encoder_
    assert encoder.fingerprint() == clf.encoding_.word_encoder_.fingerprint()
    assert restored.embeddings is encoder and encoder.fine_tune_layers == 1


def test_a_fine_tuned_model_refuses_another_checkpoint(model_dir, data, tmp_path):
    X, y = data
    folder = shutil.copytree(model_dir, tmp_path / "checkpoint")
    clf = HanRockClassifier(embeddings=PretrainedWordEncoder(folder, fine_tune_layers=1),
                            **{**SETTINGS, "max_epochs": 1}).fit(X, y)
    path = save_model(clf, tmp_path / "model.skhanrock")
    shutil.rmtree(folder)
    tiny_bert(folder, seed=1)
    with pytest.raises(ValueError, match="fingerprint"):
        load_model(path)


def test_fine_tuned_streams_in_threads_encode_new_texts_as_predict_does(tuned, data):
    clf = tuned[0]
    X = data[0].assign(text=data[0]["text"] + " , hello world")  # texts not cached yet
    parts = [part.sort_values("turn") for _, part in X.groupby("conversation")]
    results = [None] * len(parts)
    start = threading.Barrier(len(parts))

    def follow(i):
        stream = ConversationStream(clf)
        start.wait()
        results[i] = [stream.add(t) for t in parts[i].to_dict("records")]

    threads = [threading.Thread(target=follow, args=(i,)) for i in range(len(parts))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for part, result in zip(parts, results, strict=True):
        assert result == [clf.predict(part.iloc[:end])[-1] for end in range(1, len(part) + 1)]


@pytest.mark.parametrize("precision", ["bf16", "fp16"])
def test_fine_tuning_under_half_precision(precision, model_dir, data):
    X, y = data
    clf = HanRockClassifier(embeddings=PretrainedWordEncoder(model_dir, fine_tune_layers=1),
                            precision=precision, **{**SETTINGS, "max_epochs": 1}).fit(X, y)
    proba = clf.predict_proba(X)
    assert proba.dtype == np.float32 and np.isfinite(clf.history[:, "train_loss"]).all()
    np.testing.assert_allclose(proba.sum(1), 1.0, atol=1e-5)
    assert all(p.dtype == torch.float32 for p in clf.module_.transformer_top.parameters())


@pytest.mark.parametrize("device", ["cpu", pytest.param("cuda", marks=needs_cuda)])
def test_fine_tuning_runs_on_the_estimator_device(device, model_dir, data):
    X, y = data
    encoder = PretrainedWordEncoder(model_dir, fine_tune_layers=1)
    clf = HanRockClassifier(embeddings=encoder, **{**SETTINGS, "max_epochs": 1,
                                                   "device": device}).fit(X, y)
    assert encoder.device.type == device
    assert all(p.device.type == device for p in clf.module_.transformer_top.parameters())
    assert np.isfinite(clf.predict_proba(X)).all()


def test_fine_tuning_a_model_whose_layers_cannot_run_alone_is_refused(model_dir, data):
    X, y = data
    # MPNet's layers read relative position biases that its encoder computes.
    tokenizer = transformers.BertTokenizerFast(str(model_dir / "vocab.txt"))
    config = transformers.MPNetConfig(vocab_size=40, hidden_size=HIDDEN, num_hidden_layers=2,
                                      num_attention_heads=2, intermediate_size=32,
                                      max_position_embeddings=40)
    model = transformers.MPNetModel(config)
    with torch.no_grad():
        model.encoder.relative_attention_bias.weight.normal_()  # a trained model's scale
    encoder = PretrainedWordEncoder(model, tokenizer, fine_tune_layers=1)
    with pytest.raises(ValueError, match="cannot be run on their own.*fine_tune_layers=0"):
        HanRockClassifier(embeddings=encoder, **SETTINGS).fit(X, y)


def _groups_of(clf):
    """(learning rate, whether the group holds the fine-tuned layers) of each optimizer group."""
    top = {id(p) for p in clf.module_.transformer_top.parameters()}
    return [(group["lr"], {id(p) for p in group["params"]} <= top)
            for group in clf.optimizer_.param_groups]


def test_fine_tuned_layers_learn_at_the_encoder_rate_in_a_group_of_their_own(tuned):
    clf = tuned[0]
    assert clf.embeddings.fine_tune_lr == 3e-5
    assert _groups_of(clf) == [(clf.lr, False), (3e-5, True)]
    top = {id(p) for p in clf.module_.transformer_top.parameters()}
    optimized = [id(p) for group in clf.optimizer_.param_groups for p in group["params"]]
    assert len(optimized) == len(set(optimized)) == len(list(clf.module_.parameters()))
    assert top <= set(optimized)


@pytest.mark.parametrize(("fine_tune_lr", "params", "expected"), [
    (None, {}, [("lr", False)]),                                     # the network's rate
    (1e-3, {}, [("lr", False), (1e-3, True)]),
    # The user's pattern that names the layers wins over the encoder's rate.
    (1e-3, {"optimizer__param_groups": [("transformer_top.*", {"lr": 5e-4})]},
     [(5e-4, True), ("lr", False)]),
])
def test_a_rate_of_the_users_or_none_leaves_the_fine_tuned_layers_to_it(
        model_dir, data, fine_tune_lr, params, expected):
    X, y = data
    encoder = PretrainedWordEncoder(model_dir, fine_tune_layers=1, fine_tune_lr=fine_tune_lr)
    clf = HanRockClassifier(embeddings=encoder, **{**SETTINGS, "max_epochs": 1}, **params)
    clf.fit(X, y)
    groups = _groups_of(clf)
    if fine_tune_lr is None:
        # One group of every parameter, the fine-tuned ones among them.
        assert [lr for lr, _ in groups] == [clf.lr]
    else:
        assert groups == [(clf.lr if lr == "lr" else lr, only) for lr, only in expected]


@pytest.mark.parametrize("rate", [0, -1e-3, "fast", True, float("nan")])
def test_a_bad_fine_tune_lr_is_refused_by_name(model_dir, rate):
    with pytest.raises(ValueError, match="fine_tune_lr must be a positive number or None"):
        PretrainedWordEncoder(model_dir, fine_tune_layers=1, fine_tune_lr=rate)


def test_a_loaded_fine_tuned_model_keeps_its_encoder_rate(model_dir, data, tmp_path):
    X, y = data
    encoder = PretrainedWordEncoder(model_dir, fine_tune_layers=1, fine_tune_lr=2e-4)
    clf = HanRockClassifier(embeddings=encoder, **{**SETTINGS, "max_epochs": 1}).fit(X, y)
    save_model(clf, tmp_path / "model.skhanrock")
    loaded = load_model(tmp_path / "model.skhanrock")
    assert loaded.encoding_.word_encoder_.fine_tune_lr == 2e-4
    assert loaded.embeddings.fine_tune_lr == 2e-4       # a later fit tunes it alike


def test_a_fit_refuses_a_folder_without_tokenizer_files_and_warns_of_unknown_words(
        model_dir, data, tmp_path):
    X, y = data
    bare = tmp_path / "bare"
    bare.mkdir()
    for name in ("config.json", "model.safetensors"):
        shutil.copy(model_dir / name, bare / name)
    with pytest.raises(ValueError, match="has 5 tokens but the model's vocabulary"):
        HanRockClassifier(embeddings=str(bare), **SETTINGS).fit(X, y)
    words = [w for text in X["text"] for w in tokenize(text)]
    with pytest.warns(UserWarning, match=rf"\d+% of the {len(words)} words of the training "
                                         r"texts \(\d+\) are read as the tokenizer's unknown"):
        HanRockClassifier(embeddings=str(model_dir), **{**SETTINGS, "max_epochs": 1}).fit(X, y)
