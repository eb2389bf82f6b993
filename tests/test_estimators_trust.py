"""Estimator behaviours of issue 12: divergence, target kinds, weights, scoring, skorch parameters."""

import numpy as np
import pandas as pd
import pytest
import sklearn
from conftest import TINY
from sklearn.metrics import f1_score
from sklearn.model_selection import GroupKFold, cross_validate
from skorch.callbacks import EarlyStopping, EpochScoring

from skhanrock import HanRockClassifier, HanRockRegressor
from skhanrock.exceptions import TrainingDivergedError
from skhanrock.nn import ConversationValidSplit, FrameValidSplit


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
    script = (
        "import numpy as np, pandas as pd, pickle, sys\n"
        "pickle.load = None  # the model must load without unpickling\n"
        f"from skhanrock import {cls.__name__} as cls\n"
        f"net = cls.load({str(path)!r})\n"
        f"X = pd.read_pickle({str(tmp_path / 'X.pkl')!r})\n"
        f"got = net.{method}(X)\n"
        f"np.testing.assert_array_equal(got, np.load({str(tmp_path / 'expected.npy')!r}))\n"
        "print(net.loss_weights_.round(3).to_dict(), net.label_offsets_)\n")
    import subprocess
    import sys
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                            check=False)
    assert result.returncode == 0, result.stderr
    assert "(-1, 2)" in result.stdout
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
