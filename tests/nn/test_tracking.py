"""skorch's tracking callbacks (TensorBoard, MlflowLogger) on the estimators, with TaskLosses."""

import numpy as np
import pytest
import torch
from skorch.callbacks import Callback, EpochScoring

from skhanrock import HanRockClassifier
from skhanrock._testing import TINY
from skhanrock.exceptions import TrainingDivergedError
from skhanrock.nn import ConversationValidSplit, TaskLosses
from skhanrock.nn._task_losses import _key_part

TASK_KEYS = ["y", "aux_pitch", "aux_gaze"]


@pytest.fixture(scope="module")
def with_aux(conversations):
    X, y = conversations
    X = X.copy()
    # two auxiliary targets, as the aux families add them (columns "aux:<name>")
    X["aux:pitch"] = np.sin(np.arange(len(X)))
    X["aux:gaze"] = X.groupby("conversation").cumcount() / 10
    return X, y


def tracked(*loggers):
    return HanRockClassifier(**TINY, train_split=ConversationValidSplit(0.25, random_state=0),
                             callbacks=[TaskLosses(),
                                        EpochScoring("accuracy", name="valid_acc"), *loggers])


@pytest.fixture(scope="module")
def fitted(with_aux):
    return tracked().fit(*with_aux)


def test_each_tasks_loss_is_in_the_history_and_they_weigh_up_to_the_loss(fitted):
    weights = fitted.loss_weights_.to_numpy()
    keys = [_key_part(name) for name in fitted.task_names_]
    assert keys[:3] == TASK_KEYS
    for row in fitted.history:
        for side in ("train", "valid"):
            losses = np.array([row[f"{side}_loss_{key}"] for key in keys])
            assert np.isfinite(losses).all()
            assert weights @ losses == pytest.approx(row[f"{side}_loss"], rel=1e-5)


def test_tensorboard_logs_every_tasks_loss_and_the_dev_metric_per_epoch(with_aux, tmp_path):
    pytest.importorskip("tensorboard", reason="the tensorboard extra is not installed")
    from skorch.callbacks import TensorBoard
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    from torch.utils.tensorboard import SummaryWriter

    tracked(TensorBoard(SummaryWriter(tmp_path))).fit(*with_aux)
    events = EventAccumulator(str(tmp_path))
    events.Reload()
    tags = events.Tags()["scalars"]
    expected = ["Loss/train_loss", "Loss/valid_loss", "Loss/valid_acc",
                *[f"Loss/{side}_loss_{key}" for side in ("train", "valid") for key in TASK_KEYS]]
    for tag in expected:
        assert tag in tags
        assert [event.step for event in events.Scalars(tag)] == [1, 2]


def test_mlflow_logs_every_tasks_loss_and_the_dev_metric_per_epoch(with_aux, tmp_path,
                                                                   monkeypatch):
    mlflow = pytest.importorskip("mlflow", reason="the mlflow extra is not installed")
    # MLflow 3 keeps its file store (a local mlruns folder) behind this switch
    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")
    from skorch.callbacks import MlflowLogger

    client = mlflow.MlflowClient(tracking_uri=tmp_path.as_uri())
    experiment = client.create_experiment("estimators")
    run = client.create_run(experiment)
    net = tracked(MlflowLogger(run=run, client=client, create_artifact=False)).fit(*with_aux)
    logged = client.get_run(run.info.run_id)
    assert logged.info.status == "FINISHED"
    for key in ["train_loss", "valid_loss", "valid_acc",
                *[f"{side}_loss_{key}" for side in ("train", "valid") for key in TASK_KEYS]]:
        history = client.get_metric_history(run.info.run_id, key)
        assert [m.step for m in history] == [1, 2]
        assert [m.value for m in history] == pytest.approx(net.history[:, key])


class PoisonWeights(Callback):
    """Make the weights NaN after the first training batch, as an exploding update would."""

    def on_batch_end(self, net, training=False, **kwargs):
        if training:
            with torch.no_grad():
                for parameter in net.module_.parameters():
                    parameter.fill_(float("nan"))


@pytest.mark.parametrize("logger", ["tensorboard", "mlflow"])
def test_the_divergence_guard_still_stops_a_fit_that_logs(with_aux, tmp_path, monkeypatch,
                                                         logger):
    if logger == "mlflow":
        mlflow = pytest.importorskip("mlflow", reason="the mlflow extra is not installed")
        from skorch.callbacks import MlflowLogger

        monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")
        client = mlflow.MlflowClient(tracking_uri=tmp_path.as_uri())
        run = client.create_run(client.create_experiment("diverging"))
        callback = MlflowLogger(run=run, client=client, create_artifact=False)
    else:
        pytest.importorskip("tensorboard", reason="the tensorboard extra is not installed")
        from skorch.callbacks import TensorBoard
        from torch.utils.tensorboard import SummaryWriter

        callback = TensorBoard(SummaryWriter(tmp_path))
    net = tracked(PoisonWeights(), callback)
    with pytest.raises(TrainingDivergedError, match="loss became nan at epoch 1"):
        net.fit(*with_aux)
    if logger == "mlflow":
        # the guard raises before skorch's on_train_end: the run is left open (documented in
        # the sweeps guide); run_experiment's own logging marks such a run FAILED
        assert client.get_run(run.info.run_id).info.status == "RUNNING"
