"""Helpers and settings shared by this folder's test modules."""


from scipy.stats import loguniform, randint
from skorch.callbacks import Callback  # noqa: E402

from skhanrock._testing import TINY
from skhanrock.exceptions import TrainingDivergedError  # noqa: E402

SMALL_SPACE = {"han__lr": loguniform(1e-3, 3e-2), "han__context_size": randint(1, 4),
               "weights__assignment": ["random", "linear", "softmax"]}


# The network's sizes of TINY; epochs, context and seeds are the experiment's to set.
TINY_FIXED = {f"han__{name}": TINY[name]
              for name in ("primary_units", "aux_units", "embedding_dim", "batch_size")}


SETTINGS = {"max_epochs": 1, "search_space": SMALL_SPACE, "fixed_params": TINY_FIXED,
            "n_resamples": 50}


# Two flat trials whose balanced accuracy on dev is 19/30 for both, which scikit-learn
# computes as 0.6333333333333333 for one and 0.6333333333333334 for the other, and the
# bootstrap's vectorised metric the other way round.
TIED_DEV = [2, 0, 1, 0, 2, 1, 1, 1, 0, 0, 1, 2, 2, 2]


TIED = {"a": [2, 0, 2, 2, 1, 1, 1, 1, 0, 2, 1, 0, 2, 2],
        "b": [2, 0, 2, 2, 2, 1, 1, 0, 0, 2, 1, 2, 0, 2]}


TIED_TEST = {"a": [0, 1] * 5, "b": [1, 0] * 5}


class DivergeInTrials(Callback):
    """Raise TrainingDivergedError in the trials seeded ``seeds`` of ``architecture``.

    Stands in for an estimator whose loss became NaN: trial ``t`` of an experiment
    with random_state=0 seeds its net with ``t``.
    """

    def __init__(self, seeds=(), architecture=None):
        self.seeds = seeds
        self.architecture = architecture

    def on_epoch_end(self, net, **kwargs):
        if net.random_state in self.seeds and self.architecture in (None, net.architecture):
            epoch = len(net.history)
            raise TrainingDivergedError(
                f"train_loss is nan at epoch {epoch}; try a smaller lr.", epoch=epoch,
                loss_name="train_loss", value=float("nan"))


def _diverging(seeds, architecture=None):
    return {**SETTINGS, "fixed_params": {
        **TINY_FIXED, "han__callbacks": [("diverge", DivergeInTrials(seeds, architecture))]}}

