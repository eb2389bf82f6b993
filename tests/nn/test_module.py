"""Parameter checks of the public torch modules and of the multi-task loss."""

import math

import numpy as np
import pytest
import torch

from skhanrock import HanRockClassifier, HanRockRegressor
from skhanrock._testing import TINY
from skhanrock.nn import (
    AdditiveAttention,
    ClassificationTarget,
    HanModule,
    MaskedBiGRU,
    MultiTaskLoss,
    RegressionTarget,
    WindowBiGRU,
)


@pytest.mark.parametrize("architecture", ["rock", "flat"])
def test_padding_never_changes_a_prediction(architecture):
    torch.manual_seed(0)
    module = HanModule(vocabulary_size=20, embedding_dim=4, architecture=architecture,
                       primary_units=3, aux_units=2, n_primary_outputs=3, n_aux_targets=2,
                       n_label_offsets=2, n_offset_outputs=4).eval()
    tokens = torch.tensor([[3, 4, 5], [6, 7, 0], [8, 0, 0]])
    lengths = torch.tensor([3, 2, 1])
    windows = torch.tensor([[0, 1], [2, 2]])
    window_lengths = torch.tensor([2, 1])
    padded_tokens = torch.cat([tokens, torch.zeros(3, 4, dtype=torch.long)], dim=1)
    padded_windows = torch.tensor([[0, 1, 2, 0], [2, 1, 0, 1]])
    with torch.no_grad():
        plain = module(tokens, lengths, windows, window_lengths)
        padded = module(padded_tokens, lengths, padded_windows, window_lengths)
        bucketed = module(tokens, lengths, windows, window_lengths, word_buckets=(0, 1, 3))
    for a, b, c in zip(plain[:3], padded[:3], bucketed[:3], strict=True):
        np.testing.assert_allclose(a.numpy(), b.numpy(), atol=1e-6)
        np.testing.assert_allclose(a.numpy(), c.numpy(), atol=1e-6)


def _regression_batch(n_aux=0, n_offsets=0):
    """Outputs and targets of two samples whose primary predictions miss by 2 and 0."""
    outputs = (torch.tensor([3.0, 1.0]), torch.zeros(2, n_aux), torch.zeros(2, n_offsets), {})
    targets = {"primary": torch.tensor([1.0, 1.0]), "aux": torch.zeros(2, n_aux),
               "offsets": torch.zeros(2, n_offsets)}
    return outputs, targets


def _classification_batch():
    outputs = (torch.tensor([[2.0, 0.0], [0.0, 2.0]]), torch.zeros(2, 0),
               torch.zeros(2, 1, 3), {})
    targets = {"primary": torch.tensor([0, 1]), "aux": torch.zeros(2, 0),
               "offsets": torch.tensor([[2], [0]])}
    return outputs, targets


# ------------------------------------------------------------ MultiTaskLoss
@pytest.mark.parametrize("loss, expected", [("l1", 1.0), ("l2", 2.0)])
def test_loss_computes_the_chosen_regression_loss(loss, expected):
    outputs, targets = _regression_batch()
    value = MultiTaskLoss("regression", loss=loss)(outputs, targets, torch.tensor([1.0]))
    assert value.item() == pytest.approx(expected)


@pytest.mark.parametrize("loss", ["huber", "L1", "mse", None, 1])
def test_loss_refuses_an_unknown_regression_loss(loss):
    # Anything but "l1" used to be squared, so these trained silently with L2.
    with pytest.raises(ValueError, match=r"loss must be one of \('l1', 'l2'\), got"):
        MultiTaskLoss("regression", loss=loss)


@pytest.mark.parametrize("target_type", ["classifcation", "Regression", "", None])
def test_loss_refuses_an_unknown_target_type(target_type):
    # Anything but "classification" used to become regression.
    with pytest.raises(ValueError, match=r"target_type must be one of \('classification', "
                                         r"'regression'\), got"):
        MultiTaskLoss(target_type)


def test_the_old_task_keyword_names_target_type():
    # "task" means one loss head; the kind of y is target_type everywhere.
    with pytest.raises(TypeError, match="MultiTaskLoss got task='regression': the parameter is "
                                        "now target_type; pass target_type='regression'"):
        MultiTaskLoss(task="regression")
    assert MultiTaskLoss(target_type="regression").target_type == "regression"
    with pytest.raises(AttributeError, match="MultiTaskLoss.task is gone: use target_type"):
        MultiTaskLoss().task  # noqa: B018 - the read is the test
    with pytest.raises(AttributeError, match="has no attribute 'bogus'"):
        MultiTaskLoss().bogus  # noqa: B018 - other missing names keep torch's message
    for kind in (ClassificationTarget, RegressionTarget):
        with pytest.raises(AttributeError, match=rf"{kind.__name__}.task is gone: use target_type"):
            kind().task  # noqa: B018 - the read is the test
    assert RegressionTarget().criterion_kwargs() == {"target_type": "regression", "loss": "l1"}


def test_loss_weighs_each_task_with_its_weight():
    outputs, targets = _regression_batch(n_aux=1, n_offsets=1)
    outputs[1][:] = 4.0  # auxiliary L1 loss 4; the history/future loss is 0
    value = MultiTaskLoss("regression")(outputs, targets, torch.tensor([1.0, 0.5, 7.0]))
    assert value.item() == pytest.approx(1.0 + 0.5 * 4.0)


@pytest.mark.parametrize("n_aux, n_offsets, weights, n_tasks", [
    (0, 0, torch.tensor([1.0, 0.1, 0.0]), 1),  # used to broadcast to a total of 1.1
    (1, 1, torch.tensor([1.0, 1.0]), 3),
    (1, 1, torch.tensor(1.0), 3),
    (1, 1, torch.ones(1, 3), 3),
])
def test_loss_refuses_weights_that_are_not_one_per_task(n_aux, n_offsets, weights, n_tasks):
    outputs, targets = _regression_batch(n_aux, n_offsets)
    with pytest.raises(ValueError, match=rf"weights must have one entry per task, 1 primary \+ "
                                         rf"{n_aux} auxiliary \+ {n_offsets} history/future "
                                         rf"= {n_tasks}, got shape"):
        MultiTaskLoss("regression")(outputs, targets, weights)


def test_loss_accepts_classification_outputs_and_refuses_regression_ones():
    outputs, targets = _classification_batch()
    value = MultiTaskLoss("classification")(outputs, targets, torch.tensor([0.5, 0.5]))
    assert torch.isfinite(value)
    with pytest.raises(ValueError, match="target_type='regression' needs one primary output per sample"):
        MultiTaskLoss("regression")(outputs, targets, torch.tensor([0.5, 0.5]))
    regression_outputs, regression_targets = _regression_batch()
    with pytest.raises(ValueError, match="target_type='classification' needs primary outputs of shape"):
        MultiTaskLoss("classification")(regression_outputs, regression_targets, torch.ones(1))


def test_regressor_refuses_an_unknown_criterion_loss(regression_conversations):
    X, y = regression_conversations
    with pytest.raises(ValueError, match=r"loss must be one of \('l1', 'l2'\), got 'huber'"):
        HanRockRegressor(criterion__loss="huber", **TINY).fit(X, y)


def test_classifier_refuses_a_regression_criterion(conversations):
    X, y = conversations
    with pytest.raises(ValueError, match="a classifier's criterion needs target_type='classification'"):
        HanRockClassifier(criterion__target_type="regression", **{**TINY, "max_epochs": 1}).fit(X, y)


# ----------------------------------------------------- module constructors
@pytest.mark.parametrize("kwargs, name", [
    ({"input_size": 0, "attention_size": 3}, "input_size"),
    ({"input_size": 4, "attention_size": 0}, "attention_size"),
    ({"input_size": 4, "attention_size": 3, "groups": 0}, "groups"),
    ({"input_size": 4.0, "attention_size": 3}, "input_size"),
    ({"input_size": True, "attention_size": 3}, "input_size"),
])
def test_attention_refuses_sizes_that_are_not_positive_integers(kwargs, name):
    with pytest.raises(ValueError, match=f"AdditiveAttention: {name} must be an integer >= 1"):
        AdditiveAttention(**kwargs)


@pytest.mark.parametrize("kwargs, match", [
    ({"input_size": 0}, r"input_size must be an integer >= 1, got 0"),
    ({"group_sizes": ()}, r"group_sizes must be a non-empty sequence"),
    ({"group_sizes": 4}, r"group_sizes must be a non-empty sequence"),
    ({"group_sizes": (4, 0)}, r"group_sizes\[1\] must be an integer >= 1, got 0"),
    ({"group_sizes": (2.5,)}, r"group_sizes\[0\] must be an integer >= 1, got 2.5"),
    ({"dropout": -0.1}, r"dropout must be a number in \[0, 1\), got -0.1"),
    ({"recurrent_dropout": 1.0}, r"recurrent_dropout must be a number in \[0, 1\), got 1.0"),
    ({"recurrent_dropout": math.nan}, r"recurrent_dropout must be a number in \[0, 1\)"),
])
def test_masked_bigru_refuses_bad_sizes_and_dropouts(kwargs, match):
    with pytest.raises(ValueError, match="MaskedBiGRU: " + match):
        MaskedBiGRU(**{"input_size": 3, "group_sizes": (4,), **kwargs})


def test_masked_bigru_accepts_numpy_sizes():
    gru = MaskedBiGRU(np.int64(3), np.array([2, 1]))
    assert gru.group_sizes == (2, 1)


@pytest.mark.parametrize("kwargs, match", [
    ({"hidden_size": 0}, r"hidden_size must be an integer >= 1, got 0"),
    ({"input_size": -1}, r"input_size must be an integer >= 1, got -1"),
    ({"n_groups": 0}, r"n_groups must be an integer >= 1, got 0"),
    ({"dropout": 1.5}, r"dropout must be a number in \[0, 1\), got 1.5"),
    ({"recurrent_dropout": "0.1"}, r"recurrent_dropout must be a number in \[0, 1\)"),
])
def test_window_gru_refuses_bad_sizes_and_dropouts(kwargs, match):
    with pytest.raises(ValueError, match="WindowBiGRU: " + match):
        WindowBiGRU(**{"input_size": 4, "hidden_size": 2, **kwargs})


def _han_module(**kwargs):
    return HanModule(**{"vocabulary_size": 10, "embedding_dim": 4, "primary_units": 3,
                        "aux_units": 1, "n_aux_targets": 1, "n_label_offsets": 1, **kwargs})


@pytest.mark.parametrize("architecture", ["falt", "ROCK", "", None])
def test_han_module_refuses_an_unknown_architecture(architecture):
    # Anything but "flat" used to build the rock network.
    with pytest.raises(ValueError,
                       match=r"architecture must be one of \('rock', 'flat'\), got"):
        _han_module(architecture=architecture)


@pytest.mark.parametrize("kwargs, match", [
    ({"vocabulary_size": 0}, r"vocabulary_size must be an integer >= 1"),
    ({"embedding_dim": 0}, r"embedding_dim must be an integer >= 1"),
    ({"primary_units": 0}, r"primary_units must be an integer >= 1"),
    ({"aux_units": -1}, r"aux_units must be an integer >= 0"),
    ({"aux_units": 0}, r"aux_units must be at least 1 when architecture='rock' has"),
    ({"n_primary_outputs": 0}, r"n_primary_outputs must be an integer >= 1"),
    ({"n_aux_targets": -1}, r"n_aux_targets must be an integer >= 0"),
    ({"n_label_offsets": 1.0}, r"n_label_offsets must be an integer >= 0"),
    ({"n_offset_outputs": 0}, r"n_offset_outputs must be an integer >= 1"),
    ({"gru_dropout": 1.0}, r"gru_dropout must be a number in \[0, 1\)"),
    ({"recurrent_dropout": -0.5}, r"recurrent_dropout must be a number in \[0, 1\)"),
    ({"freeze_embeddings": "yes"}, r"freeze_embeddings must be True or False"),
    ({"freeze_embeddings": True, "trainable_rows": np.ones(9, dtype=bool)},
     r"trainable_rows must be a boolean array of vocabulary_size \(10\) values"),
    ({"freeze_embeddings": True, "trainable_rows": np.ones(10)},
     r"trainable_rows must be a boolean array"),
    ({"embedding_weights": np.ones((1, 4))},
     r"embedding_weights must have shape \(vocabulary_size, embedding_dim\) = \(10, 4\), "
     r"got \(1, 4\)"),
])
def test_han_module_refuses_bad_parameters(kwargs, match):
    with pytest.raises(ValueError, match="HanModule: " + match):
        _han_module(**kwargs)


@pytest.mark.parametrize("kwargs", [
    {"architecture": "flat", "aux_units": 0},
    {"architecture": "rock", "aux_units": 0, "n_aux_targets": 0, "n_label_offsets": 0},
    {"embedding_weights": np.ones((10, 4)), "freeze_embeddings": np.True_},
    {"primary_units": np.int64(3), "aux_units": np.int64(2), "n_aux_targets": np.int64(1)},
])
def test_han_module_builds_with_valid_edge_parameters(kwargs):
    module = _han_module(**kwargs)
    outputs = module(torch.tensor([[3, 4], [5, 0]]), torch.tensor([2, 1]),
                     torch.tensor([[0, 1]]), torch.tensor([2]))
    assert outputs[0].shape == (1,)


def test_word_vectors_in_place_of_ids_read_like_their_embedding_lookup():
    torch.manual_seed(0)
    with_table = HanModule(vocabulary_size=6, embedding_dim=4, primary_units=3,
                           n_primary_outputs=2)
    without = HanModule(input_size=4, primary_units=3, n_primary_outputs=2)
    shared = {k: v for k, v in with_table.state_dict().items() if k != "embedding.weight"}
    without.load_state_dict(shared)
    tokens, lengths = torch.tensor([[3, 4, 5], [2, 0, 0]]), torch.tensor([3, 1])
    windows, window_lengths = torch.tensor([[0, 1]]), torch.tensor([2])
    with torch.no_grad():
        expected = with_table(tokens, lengths, windows, window_lengths)
        vectors = with_table.embedding(tokens)
        got = without(vectors, lengths, windows, window_lengths)
    torch.testing.assert_close(got[0], expected[0])
    with pytest.raises(ValueError, match="no embedding table"):
        HanModule(vocabulary_size=6, embedding_dim=4, input_size=4)
    with pytest.raises(ValueError, match="input_size"):
        HanModule(input_size=0)
