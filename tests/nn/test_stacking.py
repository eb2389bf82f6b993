"""The lexical path fitted first (``lexical_fit="stacked"``)."""

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
import torch
from sklearn.linear_model import LogisticRegression, Ridge

from skhanrock import (
    ConversationStream,
    HanRockClassifier,
    HanRockRegressor,
    load_model,
    save_model,
)
from skhanrock._testing import TINY
from skhanrock.datasets import make_conversations
from skhanrock.nn import ConversationValidSplit, FrameValidSplit, HanModule
from skhanrock.nn._stacking import LINEAR_STRENGTHS, context_bag_matrix, fit_stacked_lexical

STACKED = {"lexical_ngrams": (1, 2), "lexical_fit": "stacked", "lexical_context": 1}


@pytest.fixture(scope="module")
def scripted():
    return make_conversations(n_conversations=12, scripted=0.6, signal_words=0.0,
                              random_state=0)


@pytest.fixture(scope="module")
def stacked(scripted):
    X, y = scripted
    return HanRockClassifier(**TINY, **STACKED).fit(X, y)


def _sorted_matrix(net, X, context=None):
    """The context bag matrix of ``X``'s talkturns in the estimator's sorted order."""
    order = np.lexsort((X["turn"].to_numpy(), X["conversation"].to_numpy()))
    bags = net.encoding_.lexical_bags(X, order)
    codes = pd.factorize(X["conversation"].to_numpy()[order])[0]
    context = net.lexical_context_ if context is None else context
    return context_bag_matrix(bags, codes, net.encoding_.n_lexical_features, context), order


def _held_out_score(net, X, y, context):
    """The best held-out score of the stacked linear model over ``context`` earlier talkturns."""
    matrix, order = _sorted_matrix(net, X, context)
    codes = net.target_.encode(y.iloc[order])
    conversations = pd.factorize(X["conversation"].to_numpy()[order])[0]
    fitted = fit_stacked_lexical(matrix, codes, codes >= 0, conversations, "classification",
                                 len(net.classes_))
    return min(fitted.held_out_scores.values())


# -- the bag matrix ---------------------------------------------------------------------


def test_the_matrix_reads_earlier_talkturns_of_the_same_conversation_only():
    rng = np.random.default_rng(0)
    dense = rng.random((6, 3)) * (rng.random((6, 3)) > 0.4)
    current = sp.csr_matrix(dense)
    bags = (current.indices, current.indptr[:-1], current.data)
    codes = np.array([0, 0, 0, 1, 1, 2])
    matrix = context_bag_matrix(bags, codes, 3, 2).toarray()
    assert matrix.shape == (6, 9)
    for row in range(6):
        for k in range(3):
            source = row - k
            same = source >= 0 and codes[source] == codes[row]
            expected = dense[source] if same else np.zeros(3)
            np.testing.assert_array_equal(matrix[row, 3 * k:3 * (k + 1)], expected)


# -- the closed-form fit ----------------------------------------------------------------


@pytest.fixture(scope="module")
def toy():
    rng = np.random.default_rng(1)
    dense = rng.random((60, 8))
    targets = (dense[:, 0] + dense[:, 1] > 1).astype(int) + (dense[:, 2] > 0.7)
    conversations = np.arange(60) // 6
    return sp.csr_matrix(dense), targets, conversations


def test_held_out_logits_come_from_a_model_that_never_saw_the_conversation(toy):
    matrix, targets, conversations = toy
    fitted = fit_stacked_lexical(matrix, targets, np.ones(60, bool), conversations,
                                 "classification", 3)
    # Refit the fold of the first conversation by hand: every conversation but its fold's.
    from sklearn.model_selection import GroupKFold
    folds = list(GroupKFold(n_splits=5).split(np.zeros(60), groups=conversations))
    train, held = next((train, held) for train, held in folds if 0 in held)
    model = LogisticRegression(C=fitted.strength, max_iter=3000).fit(matrix[train],
                                                                       targets[train])
    # The folds warm-start each strength from the last: the same optimum, to the solver's
    # tolerance (logits within 0.004 here), not bit for bit.
    np.testing.assert_allclose(fitted.held_out_logits[held], matrix[held] @ model.coef_.T,
                               rtol=0, atol=0.02)
    assert fitted.strength == min(fitted.held_out_scores, key=fitted.held_out_scores.get)
    assert set(fitted.held_out_scores) == set(LINEAR_STRENGTHS["classification"])
    # The full model: every labelled row.
    full = LogisticRegression(C=fitted.strength, max_iter=3000).fit(matrix, targets)
    np.testing.assert_allclose(fitted.coef, full.coef_.T, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(fitted.intercept, full.intercept_, rtol=1e-4, atol=1e-4)


def test_a_binary_model_gives_the_softmax_of_scikit_learns_probabilities(toy):
    matrix, targets, conversations = toy
    binary = (targets > 0).astype(int)
    fitted = fit_stacked_lexical(matrix, binary, np.ones(60, bool), conversations,
                                 "classification", 2)
    model = LogisticRegression(C=fitted.strength, max_iter=3000).fit(matrix, binary)
    probabilities = torch.softmax(torch.as_tensor(matrix @ fitted.coef + fitted.intercept),
                                  dim=1).numpy()
    np.testing.assert_allclose(probabilities, model.predict_proba(matrix), atol=1e-6)


def test_unlabelled_rows_get_logits_and_stay_out_of_the_fit(toy):
    matrix, targets, conversations = toy
    labelled = np.arange(60) % 3 != 0
    fitted = fit_stacked_lexical(matrix, np.where(labelled, targets, -1), labelled,
                                 conversations, "classification", 3)
    model = LogisticRegression(C=fitted.strength, max_iter=3000).fit(matrix[labelled],
                                                                       targets[labelled])
    np.testing.assert_allclose(fitted.coef, model.coef_.T, rtol=1e-4, atol=1e-4)
    assert fitted.held_out_logits.shape == (60, 3)
    assert np.abs(fitted.held_out_logits[~labelled]).sum() > 0


def test_a_regression_target_is_fitted_by_ridge(toy):
    matrix, _, conversations = toy
    values = matrix.toarray() @ np.arange(8.0)
    fitted = fit_stacked_lexical(matrix, values, np.ones(60, bool), conversations,
                                 "regression", 1)
    model = Ridge(alpha=fitted.strength).fit(matrix, values)
    np.testing.assert_allclose(fitted.coef[:, 0], model.coef_, rtol=1e-6)
    assert set(fitted.held_out_scores) == set(LINEAR_STRENGTHS["regression"])


def test_one_labelled_conversation_cannot_give_held_out_logits(toy):
    matrix, targets, _ = toy
    with pytest.raises(ValueError, match="at least two training conversations"):
        fit_stacked_lexical(matrix, targets, np.ones(60, bool), np.zeros(60, int),
                            "classification", 3)


# -- the estimators ---------------------------------------------------------------------


def test_the_layer_holds_the_closed_form_model_and_stays_frozen(stacked, scripted):
    X, y = scripted
    assert stacked.lexical_strength_ in LINEAR_STRENGTHS["classification"]
    assert not stacked.module_.lexical.weight.requires_grad
    matrix, order = _sorted_matrix(stacked, X)
    codes = stacked.target_.encode(y.iloc[order])
    labelled = codes >= 0
    model = LogisticRegression(C=stacked.lexical_strength_, max_iter=3000).fit(
        matrix[labelled], codes[labelled])
    logits = np.stack([item.lexical for item in stacked.predict_attention(X)])
    np.testing.assert_allclose(logits, matrix @ model.coef_.T, rtol=1e-3, atol=1e-4)


def test_training_batches_carry_held_out_logits_and_dev_batches_the_layers(scripted):
    X, y = scripted
    split = ConversationValidSplit(0.25, random_state=0)
    net = HanRockClassifier(**TINY, **STACKED, train_split=split).fit(X, y)
    net.needs_lexical_fit_ = True  # as on a fresh model, for one more split
    training, valid = net.get_split_datasets(X, y)
    base = training.dataset
    held_out = np.setdiff1d(np.arange(len(base)), training.indices)
    matrix, _ = _sorted_matrix(net, X)
    layer_logits = matrix @ net.module_.lexical.weight.numpy().reshape(
        -1, 2, len(net.classes_)).transpose(1, 0, 2).reshape(-1, len(net.classes_))
    np.testing.assert_allclose(base.lexical_logits[held_out].numpy(), layer_logits[held_out],
                               rtol=1e-4, atol=1e-5)
    # Training rows' logits are not the layer's own (fitted on them).
    assert not np.allclose(base.lexical_logits[training.indices].numpy(),
                           layer_logits[training.indices], atol=1e-3)
    batch, _ = base.collate(training.indices[:5])
    np.testing.assert_array_equal(batch.lexical_logits.numpy(),
                                  base.lexical_logits[training.indices[:5]].numpy())
    assert len(valid) == len(held_out)


def test_partial_fit_trains_the_network_on_the_frozen_layer(stacked, scripted):
    X, y = scripted
    net = HanRockClassifier(**TINY, **STACKED).fit(X, y)
    before = net.module_.lexical.weight.clone()
    head = net.module_.primary_head.weight.clone()
    net.partial_fit(X, y)
    torch.testing.assert_close(net.module_.lexical.weight, before, rtol=0, atol=0)
    assert not torch.equal(net.module_.primary_head.weight, head)


def test_a_joint_refit_forgets_the_stacked_strength(scripted):
    X, y = scripted
    net = HanRockClassifier(**TINY, **STACKED).fit(X, y)
    assert net.lexical_strength_ is not None
    net.set_params(lexical_fit="joint").fit(X, y)
    assert net.lexical_fit_ == "joint" and net.lexical_strength_ is None
    assert net.module_.lexical.weight.requires_grad


def test_same_random_state_same_model(stacked, scripted):
    X, y = scripted
    again = HanRockClassifier(**TINY, **STACKED).fit(X, y)
    np.testing.assert_array_equal(again.predict_proba(X), stacked.predict_proba(X))


def test_save_load_and_stream_keep_the_stacked_path(stacked, scripted, tmp_path):
    X, _ = scripted
    restored = load_model(save_model(stacked, tmp_path / "stacked.skhanrock"))
    assert restored.lexical_fit == "stacked" and restored.lexical_fit_ == "stacked"
    assert restored.lexical_strength_ == stacked.lexical_strength_
    assert restored.lexical_context_ == stacked.lexical_context_ == 1
    assert not restored.module_.lexical.weight.requires_grad
    np.testing.assert_array_equal(restored.predict_proba(X), stacked.predict_proba(X))
    stream = ConversationStream(stacked)
    part = X[X["conversation"] == X["conversation"].iloc[0]].sort_values("turn")
    for end, talkturn in enumerate(part.to_dict("records"), start=1):
        stream.add(talkturn)
        np.testing.assert_allclose(stream.predict_proba(),
                                   stacked.predict_proba(part.iloc[:end])[-1], atol=1e-5)


def test_the_regressor_stacks_a_ridge_when_asked_and_trains_jointly_by_default():
    X, y = make_conversations(n_conversations=20, target_type="regression", min_turns=4,
                              max_turns=6, random_state=0)
    auto = HanRockRegressor(**{**TINY, "max_epochs": 1}).fit(X, y)
    assert auto.lexical_fit_ == "joint" and auto.lexical_context_ == 0
    reg = HanRockRegressor(**TINY, **STACKED).fit(X, y)
    assert reg.lexical_strength_ in LINEAR_STRENGTHS["regression"]
    assert np.isfinite(reg.predict(X)).all()
    assert not reg.module_.lexical.weight.requires_grad


def test_auto_stacks_from_twenty_labelled_training_conversations():
    X, y = make_conversations(n_conversations=20, min_turns=4, max_turns=6, random_state=0)
    auto = HanRockClassifier(**{**TINY, "max_epochs": 1}).fit(X, y)
    assert auto.lexical_fit == "auto" and auto.lexical_fit_ == "stacked"
    # lexical_context="auto": none or two previous talkturns (three, at most context_size - 1),
    # whichever linear model scores better on the stacking folds.
    scores = {context: _held_out_score(auto, X, y, context) for context in (0, 2)}
    assert auto.lexical_context == "auto"
    assert auto.lexical_context_ == min(scores, key=scores.get)
    n_ngrams, n_classes = auto.encoding_.n_lexical_features, len(auto.classes_)
    assert auto.module_.lexical.weight.shape == (n_ngrams,
                                                 (1 + auto.lexical_context_) * n_classes)
    assert auto.lexical_strength_ in LINEAR_STRENGTHS["classification"]
    assert not auto.module_.lexical.weight.requires_grad
    # Holding out conversations leaves fewer than 20 to train on: joint.
    held = HanRockClassifier(**{**TINY, "max_epochs": 1},
                             train_split=ConversationValidSplit(0.2, random_state=0)).fit(X, y)
    assert held.lexical_fit_ == "joint" and held.lexical_context_ == 0
    wide = HanRockClassifier(**{**TINY, "max_epochs": 1, "context_size": 8}).fit(X, y)
    scores = {context: _held_out_score(wide, X, y, context) for context in (0, 3)}
    assert wide.lexical_context_ == min(scores, key=scores.get)
    fixed = HanRockClassifier(**{**TINY, "max_epochs": 1, "lexical_context": 1}).fit(X, y)
    assert fixed.lexical_fit_ == "stacked" and fixed.lexical_context_ == 1


def test_joint_keeps_no_strength_and_trains_the_layer(scripted, tmp_path):
    X, y = scripted
    # Twelve conversations: "auto" trains the layer with the network.
    joint = HanRockClassifier(**TINY).fit(X, y)
    assert joint.lexical_fit_ == "joint" and joint.lexical_strength_ is None
    assert joint.lexical_context_ == 0
    assert joint.module_.lexical.weight.requires_grad
    restored = load_model(save_model(joint, tmp_path / "joint.skhanrock"))
    assert restored.lexical_fit_ == "joint" and restored.module_.lexical.weight.requires_grad
    assert restored.lexical_context_ == 0


@pytest.mark.parametrize("params, message", [
    ({"lexical_fit": "first"}, "lexical_fit must be one of"),
    ({"lexical_fit": None}, "lexical_fit must be one of"),
    ({"lexical_fit": "stacked", "lexical_ngrams": None}, "needs lexical_ngrams"),
    ({"lexical_fit": "Stacked"}, "lexical_fit must be one of"),
    ({"lexical_context": "three"}, "lexical_context must be 'auto' or an integer"),
])
def test_bad_lexical_fit_is_refused_by_name(scripted, params, message):
    X, y = scripted
    with pytest.raises(ValueError, match=message):
        HanRockClassifier(**TINY, **params).fit(X, y)


def test_one_training_conversation_is_refused_before_the_fitted_model_is_touched(scripted):
    X, y = scripted
    joint = HanRockClassifier(**TINY).fit(X, y)
    before = joint.predict_proba(X)
    one = X["conversation"] == X["conversation"].iloc[0]
    joint.set_params(lexical_fit="stacked")
    with pytest.raises(ValueError, match="lexical_fit='stacked' needs labelled talkturns"):
        joint.fit(X[one], y[one])
    assert joint.lexical_fit_ == "joint" and joint.lexical_context_ == 0
    np.testing.assert_array_equal(joint.predict_proba(X), before)


def test_a_frame_valid_split_scores_the_layer_on_its_dev_frame(scripted):
    X, y = scripted
    dev = X["conversation"].isin(X["conversation"].unique()[:3])
    net = HanRockClassifier(**TINY, **STACKED,
                            train_split=FrameValidSplit(X[dev], y[dev])).fit(X[~dev], y[~dev])
    assert net.lexical_fit_ == "stacked" and net.lexical_strength_ is not None
    assert np.isfinite(net.history[:, "valid_loss"]).all()


def test_the_module_refuses_lexical_logits_without_a_lexical_path():
    module = HanModule(vocabulary_size=9, embedding_dim=4, primary_units=3, n_primary_outputs=2)
    tokens, lengths = torch.tensor([[3, 4]]), torch.tensor([2])
    windows, window_lengths = torch.tensor([[0]]), torch.tensor([1])
    with pytest.raises(ValueError, match="no lexical path"):
        module(tokens, lengths, windows, window_lengths, lexical_logits=torch.zeros(1, 2))
