import copy
import json
import shutil
import warnings

import numpy as np
import pytest
import torch

transformers = pytest.importorskip("transformers")

from skhanrock.nn import PretrainedWordEncoder, tokenize  # noqa: E402
from skhanrock.nn._pretrained import check_unknown_words  # noqa: E402
from skhanrock.nn._text import encode_texts, fit_vocabulary, surface_words  # noqa: E402

from ._shared import HIDDEN, MAX_POSITIONS, tiny_bert  # noqa: E402

TEXTS = ["The cat sat on the mat.", "Unbelievable, don't play!", "hello", "a cat playing"]


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    return tiny_bert(tmp_path_factory.mktemp("models") / "tiny-bert", seed=0)


@pytest.fixture(scope="module")
def other_model_dir(tmp_path_factory):
    return tiny_bert(tmp_path_factory.mktemp("models") / "other-bert", seed=1)


@pytest.fixture(scope="module")
def encoder(model_dir):
    return PretrainedWordEncoder(model_dir)


def test_one_float32_vector_per_word_of_tokenize(encoder):
    vectors = encoder.encode(TEXTS)
    assert encoder.hidden_size == HIDDEN
    assert [v.shape for v in vectors] == [(len(tokenize(t)), HIDDEN) for t in TEXTS]
    assert all(v.dtype == np.float32 and np.isfinite(v).all() for v in vectors)


def test_a_split_word_gets_the_mean_of_its_pieces(encoder):
    text = "unbelievable , do n't play"
    words = tokenize(text)
    inputs = encoder.tokenizer([words], is_split_into_words=True, return_tensors="pt")
    word_ids = inputs.word_ids(0)
    with torch.no_grad():
        states = encoder.model(**inputs).last_hidden_state[0]
    expected = np.stack([states[[p for p, w in enumerate(word_ids) if w == j]].mean(0).numpy()
                         for j in range(len(words))])
    assert word_ids.count(0) == 3 and word_ids.count(words.index("n't")) == 3
    # Encoded in a padded batch beside a longer text: padding must not change a word.
    vectors = PretrainedWordEncoder(encoder.model, encoder.tokenizer).encode(
        [text, "the cat sat on the mat , unbelievable !"])
    np.testing.assert_allclose(vectors[0], expected, atol=1e-5)
    assert not np.allclose(vectors[0][0], states[1].numpy(), atol=1e-4)


def test_batches_sorted_by_length_keep_the_order_of_the_texts(encoder):
    texts = ["a", "the cat sat on the mat , the cat sat", "hello world", "play"]
    one_by_one = [PretrainedWordEncoder(encoder.model, encoder.tokenizer, batch_size=1)
                  .encode([t])[0] for t in texts]
    batched = PretrainedWordEncoder(encoder.model, encoder.tokenizer, batch_size=3).encode(texts)
    for single, vector in zip(one_by_one, batched, strict=True):
        np.testing.assert_allclose(vector, single, atol=1e-5)


def test_words_keep_their_case_for_cased_models():
    assert surface_words("The CAT don\u2019t, Straße!") == \
        ["The", "CAT", "do", "n't", ",", "Straße", "!"]
    for text in ["The CAT don\u2019t", "Cafe\u0301 PRIVET Привет", "ΟΔΟΣ"]:
        assert [w.lower() for w in surface_words(text)] == tokenize(text)
    # Lower-casing "İ" lengthens the text: the lower-cased words are read then.
    assert surface_words("İstanbul") == tokenize("İstanbul")


def test_second_encode_of_a_text_is_a_cache_hit_with_identical_values(encoder):
    fresh = PretrainedWordEncoder(encoder.model, encoder.tokenizer)
    first = fresh.encode(["the cat sat", "hello", "the cat sat"])
    assert fresh.cache_info() == (1, 0, 2, 2)
    second = fresh.encode(["the cat sat"])
    assert fresh.cache_info().hits == 2 and fresh.cache_info().misses == 2
    np.testing.assert_array_equal(second[0], first[0])
    assert not second[0].flags.writeable
    fresh.cache_clear()
    assert fresh.cache_info() == (0, 0, 0, 0)


def test_on_disk_cache_is_read_by_a_new_encoder_of_the_same_model_only(
        model_dir, other_model_dir, tmp_path):
    written = PretrainedWordEncoder(model_dir, cache_dir=tmp_path).encode(TEXTS)
    files = list(tmp_path.rglob("*.npy"))
    assert len(files) == len(TEXTS)
    np.load(files[0], allow_pickle=False)
    again = PretrainedWordEncoder(model_dir, cache_dir=tmp_path)
    read = again.encode(TEXTS)
    assert again.cache_info() == (0, len(TEXTS), 0, len(TEXTS))
    for a, b in zip(written, read, strict=True):
        np.testing.assert_array_equal(a, b)
    # The same weights loaded elsewhere share the entries; other weights do not.
    copied = shutil.copytree(model_dir, tmp_path / "copy")
    assert PretrainedWordEncoder(copied).fingerprint() == again.fingerprint()
    other = PretrainedWordEncoder(other_model_dir, cache_dir=tmp_path)
    other_vectors = other.encode(TEXTS)
    assert other.cache_info().disk_hits == 0 and other.cache_info().misses == len(TEXTS)
    assert not np.allclose(other_vectors[0], written[0])
    fewer_words = PretrainedWordEncoder(model_dir, cache_dir=tmp_path, max_words=2)
    assert fewer_words.fingerprint() != again.fingerprint()


def test_frozen_by_default(encoder):
    assert encoder.fine_tune_layers == 0
    assert not any(p.requires_grad for p in encoder.parameters())
    encoder.train()
    assert not encoder.model.training
    vectors = encoder(["the cat sat"])
    assert isinstance(vectors[0], torch.Tensor) and not vectors[0].requires_grad
    encoder.eval()


def test_fine_tune_layers_trains_the_top_layers_only(encoder):
    tuned = PretrainedWordEncoder(encoder.model.__class__(encoder.model.config),
                                  encoder.tokenizer, fine_tune_layers=1)
    trainable = {n for n, p in tuned.model.named_parameters() if p.requires_grad}
    assert trainable and all(n.startswith("encoder.layer.1.") for n in trainable)
    assert len(trainable) == len(list(tuned.model.encoder.layer[1].parameters()))
    tuned.train()
    assert tuned.model.encoder.layer[1].training and not tuned.model.encoder.layer[0].training
    vectors = tuned(["the cat sat", "hello world"])
    assert vectors[0].requires_grad and vectors[0].shape == (3, HIDDEN)
    torch.cat(vectors).sum().backward()
    assert all(p.grad is not None for p in tuned.model.encoder.layer[1].parameters())
    assert tuned.cache_info().currsize == 0
    tuned.eval()
    np.testing.assert_allclose(tuned.encode(["hello world"])[0],
                               tuned(["hello world"])[0].detach().numpy(), atol=1e-6)
    with pytest.raises(ValueError, match="fine_tune_layers"):
        PretrainedWordEncoder(encoder.model, encoder.tokenizer, fine_tune_layers=3)


def test_a_name_that_is_no_local_folder_is_refused(model_dir):
    with pytest.raises(ValueError, match="no network access.*local path"):
        PretrainedWordEncoder("bert-base-uncased-that-is-not-here")
    with pytest.raises(ValueError, match="tokenizer is required"):
        PretrainedWordEncoder(transformers.BertModel.from_pretrained(model_dir))


@pytest.mark.parametrize("name, value", [("max_words", 0), ("max_words", 2.0),
                                         ("batch_size", 0), ("batch_size", True)])
def test_sizes_must_be_positive_integers(model_dir, name, value):
    with pytest.raises(ValueError, match=f"{name} must be an integer >= 1, got {value!r}"):
        PretrainedWordEncoder(str(model_dir), **{name: value})


def test_a_slow_tokenizer_is_refused(encoder, model_dir):
    slow_class = getattr(transformers, "BertTokenizerLegacy", None) or transformers.BertTokenizer
    slow = slow_class(str(model_dir / "vocab.txt"))
    if slow.is_fast:
        pytest.skip("this transformers version has no slow BERT tokenizer")
    with pytest.raises(ValueError, match="slow"):
        PretrainedWordEncoder(encoder.model, slow)


def test_device_cpu(encoder):
    on_cpu = PretrainedWordEncoder(encoder.model, encoder.tokenizer, device="cpu")
    assert on_cpu.device == torch.device("cpu")
    assert all(p.device.type == "cpu" for p in on_cpu.parameters())
    assert on_cpu(["hello"])[0].device.type == "cpu"
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="no CUDA"):
            PretrainedWordEncoder(encoder.model, encoder.tokenizer, device="cuda")


def test_an_empty_text_is_one_zero_vector(encoder):
    vectors = encoder.encode(["", "   ", "hello"])
    for vector in vectors[:2]:
        assert vector.shape == (1, HIDDEN) and not vector.any()
    assert vectors[2].any()


def test_a_word_without_pieces_is_read_as_the_unknown_token(encoder):
    vectors = encoder.encode(["hello \u200b world"])
    assert vectors[0].shape == (3, HIDDEN) and np.abs(vectors[0]).sum(1).all()


def test_max_words_keeps_the_first_words_like_encode_texts(encoder):
    short = PretrainedWordEncoder(encoder.model, encoder.tokenizer, max_words=3)
    _, _, lengths = encode_texts(TEXTS + [""], fit_vocabulary(TEXTS), 3)
    assert [len(v) for v in short.encode(TEXTS + [""])] == lengths.tolist()
    with pytest.raises(ValueError, match="max_words"):
        PretrainedWordEncoder(encoder.model, encoder.tokenizer, max_words=0)


def test_texts_beyond_the_model_positions_are_read_in_windows(encoder):
    assert encoder.max_length == MAX_POSITIONS
    long_text = " ".join(["unbelievable"] * 20)  # 60 pieces > 30
    windowed = PretrainedWordEncoder(encoder.model, encoder.tokenizer, max_words=None)
    with pytest.warns(UserWarning, match="1 text.*windows"):
        vectors = windowed.encode([long_text, "hello"])
    assert vectors[0].shape == (20, HIDDEN) and np.isfinite(vectors[0]).all()
    # Windows of whole words: max_length=8 leaves 6 pieces, two words of 3 each.
    small = PretrainedWordEncoder(encoder.model, encoder.tokenizer, max_length=8)
    with pytest.warns(UserWarning):
        [vector] = small.encode(["unbelievable unbelievable unbelievable"])
    np.testing.assert_allclose(vector[2], small.encode(["unbelievable"])[0][0], atol=1e-5)
    with pytest.raises(ValueError, match="exceeds"):
        PretrainedWordEncoder(encoder.model, encoder.tokenizer, max_length=MAX_POSITIONS + 1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        encoder.encode(TEXTS)


def test_progress_bar(encoder, capsys):
    PretrainedWordEncoder(encoder.model, encoder.tokenizer, progress=True).encode(["hello"])
    assert "encoding words" in capsys.readouterr().err
    PretrainedWordEncoder(encoder.model, encoder.tokenizer, progress="auto").encode(["hello"])
    assert "encoding words" not in capsys.readouterr().err


def test_texts_must_be_a_list_of_strings(encoder):
    with pytest.raises(TypeError, match="list of texts"):
        encoder.encode("hello")
    with pytest.raises(TypeError, match="str"):
        encoder.encode(["hello", None])


def test_a_sentence_transformers_folder_reads_its_transformer(model_dir, tmp_path):
    shutil.copytree(model_dir, tmp_path / "0_Transformer")
    (tmp_path / "modules.json").write_text(json.dumps([
        {"idx": 0, "name": "0", "path": "0_Transformer",
         "type": "sentence_transformers.models.Transformer"},
        {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
    ]))
    nested = PretrainedWordEncoder(tmp_path)
    assert nested.fingerprint() == PretrainedWordEncoder(model_dir).fingerprint()


def test_a_byte_level_tokenizer_reads_words_with_their_leading_space(tmp_path):
    # A tiny RoBERTa: byte-level BPE marks a word's start with "Ġ".
    vocab = {"<s>": 0, "<pad>": 1, "</s>": 2, "<unk>": 3, "<mask>": 4, "Ġ": 5}
    for c in "abcdefghijklmnopqrstuvwxyzT.":
        vocab.setdefault(c, len(vocab))
    vocab.update({"Ġc": len(vocab), "Ġca": len(vocab) + 1, "Ġcat": len(vocab) + 2})
    (tmp_path / "vocab.json").write_text(json.dumps(vocab))
    (tmp_path / "merges.txt").write_text("#version: 0.2\nĠ c\nĠc a\nĠca t\n")
    tokenizer = transformers.RobertaTokenizerFast(str(tmp_path / "vocab.json"),
                                                  str(tmp_path / "merges.txt"))
    config = transformers.RobertaConfig(vocab_size=len(vocab), hidden_size=8, num_hidden_layers=1,
                                        num_attention_heads=2, intermediate_size=16,
                                        max_position_embeddings=20, pad_token_id=1)
    model = transformers.RobertaModel(config)
    if not getattr(tokenizer, "add_prefix_space", False):
        with pytest.raises(ValueError, match="add_prefix_space"):
            PretrainedWordEncoder(model, tokenizer)
    model.save_pretrained(tmp_path)
    tokenizer.save_pretrained(tmp_path)
    encoder = PretrainedWordEncoder(tmp_path)
    pieces = encoder.tokenizer([["The", "cat"]], is_split_into_words=True).tokens()
    assert "Ġcat" in pieces
    assert encoder.max_length == 18  # positions start after the padding index
    assert [v.shape for v in encoder.encode(["The cat.", ""])] == [(3, 8), (1, 8)]


def test_the_fingerprint_does_not_depend_on_having_encoded(model_dir):
    # The tokenizer keeps the padding and truncation of its last call; a saved
    # model checks the fingerprint of a fresh encoder against an encoder that ran.
    expected = PretrainedWordEncoder(model_dir).fingerprint()
    used = PretrainedWordEncoder(model_dir)
    used.encode(TEXTS)
    assert used.fingerprint() == expected


def test_a_fresh_fingerprint_sees_edited_weights_and_keeps_the_cached_one(model_dir):
    encoder = PretrainedWordEncoder(model_dir)
    kept = encoder.fingerprint()
    assert encoder.fingerprint(fresh=True) == kept
    with torch.no_grad():
        next(encoder.model.parameters()).add_(1.0)
    fresh = encoder.fingerprint(fresh=True)
    assert fresh != kept
    # The cache files its entries under the kept hash until cache_clear.
    assert encoder.fingerprint() == kept
    assert encoder.cache_clear().fingerprint() == fresh


@pytest.mark.parametrize("device", ["tpu", "meta", None, "cuda:99"])
def test_a_device_torch_cannot_use_here_is_refused_naming_the_parameter(encoder, device):
    with pytest.raises(ValueError, match=r"^device"):
        PretrainedWordEncoder(encoder.model, encoder.tokenizer, device=device)
    assert encoder.device.type == "cpu"


def test_a_damaged_disk_cache_entry_is_recomputed_with_a_warning(model_dir, tmp_path):
    written = PretrainedWordEncoder(model_dir, cache_dir=tmp_path).encode(TEXTS)
    entries = sorted(tmp_path.rglob("*.npy"))
    assert len(entries) == len(TEXTS)
    # One bit flipped in the last float of an entry: same shape, another value.
    damaged = next(p for p in entries
                   if np.load(p).shape == written[TEXTS.index("hello")].shape)
    raw = bytearray(damaged.read_bytes())
    raw[-1] ^= 0x01
    damaged.write_bytes(bytes(raw))
    reader = PretrainedWordEncoder(model_dir, cache_dir=tmp_path)
    with pytest.warns(UserWarning, match=r"1 text\(s\) cached in cache_dir=.* failed their checksum"):
        read = reader.encode(TEXTS)
    for a, b in zip(written, read, strict=True):
        np.testing.assert_array_equal(a, b)
    assert reader.cache_info() == (0, len(TEXTS) - 1, 1, len(TEXTS))
    # The entry was rewritten: a third encoder reads every text from disk, silently.
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        third = PretrainedWordEncoder(model_dir, cache_dir=tmp_path)
        third.encode(TEXTS)
    assert third.cache_info().disk_hits == len(TEXTS)
    assert len(list(tmp_path.rglob("*.sha256"))) == len(TEXTS)


def test_an_unwritable_cache_dir_falls_back_to_memory_with_one_warning(encoder, tmp_path):
    # Below a file, no folder can be made (even for root, whom permissions do not stop).
    (tmp_path / "a-file").write_text("")
    cache_dir = tmp_path / "a-file" / "cache"
    unwritable = PretrainedWordEncoder(encoder.model, encoder.tokenizer, cache_dir=cache_dir)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        first = unwritable.encode(TEXTS)
        again = unwritable.encode(TEXTS + ["a new text"])
    messages = [str(w.message) for w in caught]
    assert len(messages) == 1 and "cache_dir=" in messages[0] and "memory" in messages[0]
    for a, b in zip(first, encoder.encode(TEXTS), strict=True):
        np.testing.assert_array_equal(a, b)
    assert len(again) == len(TEXTS) + 1
    assert unwritable.cache_info() == (len(TEXTS), 0, len(TEXTS) + 1, len(TEXTS) + 1)


def test_a_model_folder_without_its_tokenizer_files_is_refused_with_the_sizes(model_dir,
                                                                              tmp_path):
    # transformers builds a tokenizer of the 5 special tokens for such a folder.
    bare = tmp_path / "bare"
    bare.mkdir()
    for name in ("config.json", "model.safetensors"):
        shutil.copy(model_dir / name, bare / name)
    with pytest.raises(ValueError, match=r"has 5 tokens but the model's vocabulary \(config "
                                         r"vocab_size\) has 29.*tokenizer files"):
        PretrainedWordEncoder(bare)
    beside = PretrainedWordEncoder(bare, tokenizer=model_dir)
    cat, mat = beside.encode(["cat", "mat"])
    assert not np.allclose(cat, mat)
    assert beside.fingerprint() == PretrainedWordEncoder(model_dir).fingerprint()


def test_a_tokenizer_with_ids_past_the_models_vocabulary_is_refused(encoder):
    config = copy.deepcopy(encoder.model.config)
    config.vocab_size = 20
    with pytest.raises(ValueError, match=r"has 29 tokens but .* has 20: its ids past 19"):
        PretrainedWordEncoder(transformers.BertModel(config), encoder.tokenizer)


def test_unknown_words_are_counted_and_warned_with_the_numbers(encoder):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert check_unknown_words(encoder, TEXTS + [""]) == 0.0
    with pytest.warns(UserWarning, match=r"75% of the 4 words of the training texts \(3\) are "
                                         r"read as .* '\[UNK\]' \(most often 'zebra', 'quokka'"):
        share = check_unknown_words(encoder, ["zebra zebra cat", "quokka"])
    assert share == 0.75
    # Under the 20% threshold: counted, not warned.
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert check_unknown_words(encoder, ["zebra the cat sat on the mat"]) == 1 / 7
