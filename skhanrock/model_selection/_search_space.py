"""The paper's random-search space as scipy distributions."""

import numpy as np
from scipy.stats import loguniform, randint, uniform
from sklearn.utils import check_random_state

from .._utils.validation import check_number

__all__ = ["ZeroOrLogUniform", "check_search_space", "paper_search_space"]


class ZeroOrLogUniform:
    """Zero with probability ``p_zero``, otherwise log-uniform in [low, high].

    The L2 penalty of the paper's search ranges over [0, 0.5] "including zero":
    a log-uniform distribution cannot reach zero, so zero gets its own mass.

    Parameters
    ----------
    low, high : float
        Bounds of the log-uniform part, finite and ``0 < low < high``.
    p_zero : float, default=0.2
        Probability of drawing exactly zero, in [0, 1].

    Raises
    ------
    ValueError
        At construction, naming the bound or probability that is out of range
        (rather than at the first draw, inside a search).

    Examples
    --------
    >>> draws = ZeroOrLogUniform(1e-4, 0.5).rvs(size=1000, random_state=0)
    >>> bool((draws == 0).any() and draws.max() <= 0.5)
    True
    """

    def __init__(self, low, high, p_zero=0.2):
        # A distribution, not an estimator: checking here names the mistake
        # where it is written, not at the first draw inside a search.
        for name, value in (("low", low), ("high", high)):
            check_number(f"ZeroOrLogUniform {name}", value)
        if not 0 < low < high:
            raise ValueError(f"ZeroOrLogUniform needs 0 < low < high (the log-uniform part "
                             f"cannot reach zero; p_zero gives zero its mass), got low={low!r} "
                             f"and high={high!r}.")
        check_number("ZeroOrLogUniform p_zero", p_zero, low=0, high=1)
        self.low = low
        self.high = high
        self.p_zero = p_zero

    def rvs(self, size=None, random_state=None):
        """Draw values (scipy's interface, as ``RandomizedSearchCV`` calls it).

        Parameters
        ----------
        size : int, tuple or None, default=None
            Shape of the draws; None draws one float.
        random_state : int, RandomState or None, default=None

        Returns
        -------
        float or ndarray
        """
        rng = check_random_state(random_state)
        values = loguniform(self.low, self.high).rvs(size=size, random_state=rng)
        zero = rng.random_sample(size) < self.p_zero
        return np.where(zero, 0.0, values) if size is not None else (0.0 if zero else values)

    def __repr__(self):
        return f"ZeroOrLogUniform(low={self.low}, high={self.high}, p_zero={self.p_zero})"


def paper_search_space(prefix="han__", weights_prefix="weights__"):
    """The random-search space of the paper, for ``param_distributions``.

    Learning rate log-uniform in [2^-10, 2^-5]; batch size uniform in 32..256;
    primary units P in {1, 64, 128, 192, 256} (the estimator's default
    ``aux_units=None`` gives A = 257 - P); loss-weight assignment in {random,
    linear, softmax}; L2 (``optimizer__weight_decay``) in [0, 0.5] with zero
    included, log-uniform over the non-zero part; context size 1..30; GRU
    dropout and recurrent dropout uniform in [0.01, 0.50].

    Parameters
    ----------
    prefix : str
        Pipeline prefix of the estimator's parameters, ``"han__"`` by default
        (``""`` for a bare estimator).
    weights_prefix : str or None
        Pipeline prefix of the :class:`~skhanrock.MutualInfoLossWeights` step,
        ``"weights__"`` by default; None leaves the assignment out.

    Returns
    -------
    dict

    Examples
    --------
    >>> from skhanrock.model_selection import paper_search_space
    >>> sorted(paper_search_space(prefix="", weights_prefix=None))[:3]
    ['batch_size', 'context_size', 'gru_dropout']
    """
    space = {
        "lr": loguniform(2 ** -10, 2 ** -5),
        "batch_size": randint(32, 257),
        "primary_units": [1, 64, 128, 192, 256],
        "optimizer__weight_decay": ZeroOrLogUniform(1e-4, 0.5),
        "context_size": randint(1, 31),
        "gru_dropout": uniform(0.01, 0.49),
        "recurrent_dropout": uniform(0.01, 0.49),
    }
    space = {prefix + name: value for name, value in space.items()}
    if weights_prefix is not None:
        space[weights_prefix + "assignment"] = ["random", "linear", "softmax"]
    return space


_NET_ROUTED = ("optimizer__", "module__", "criterion__", "iterator_train__",
               "iterator_valid__", "callbacks__", "dataset__")


def _routed_to_net(estimator, key):
    """Whether ``key`` is a skorch-routed parameter (``optimizer__...``) of a net in place."""
    from skorch import NeuralNet

    for routed in _NET_ROUTED:
        owner, found, _ = key.partition(routed)
        if not found or (owner and not owner.endswith("__")):
            continue
        target = estimator if not owner else estimator.get_params(deep=True).get(owner[:-2])
        if isinstance(target, NeuralNet):
            return True
    return False


def check_search_space(estimator, param_distributions):
    """Raise a clear error for a key the estimator (or pipeline) does not have.

    Keys routed by skorch to a net's optimizer, module, criterion, iterators
    or callbacks (``optimizer__weight_decay``) are accepted where a net is.

    Parameters
    ----------
    estimator : estimator or Pipeline
        What the search will fit.
    param_distributions : dict or list of dict
        The search space, as ``RandomizedSearchCV`` (or ``GridSearchCV``) takes it.

    Returns
    -------
    None
        The check only raises.

    Raises
    ------
    ValueError
        Naming the first key that is not a parameter, and the estimator's parameters.

    Examples
    --------
    >>> from skhanrock import HanRockClassifier
    >>> check_search_space(HanRockClassifier(), {"lr": [0.01], "optimizer__weight_decay": [0]})
    >>> check_search_space(HanRockClassifier(), {"learning_rate": [0.01]})
    Traceback (most recent call last):
    ...
    ValueError: The search space key 'learning_rate' is not a parameter of HanRockClassifier...
    """
    valid = set(estimator.get_params(deep=True))
    spaces = param_distributions if isinstance(param_distributions, list | tuple) \
        else [param_distributions]
    for key in (key for space in spaces for key in space):
        if key in valid or _routed_to_net(estimator, key):
            continue
        top_level = sorted(k for k in valid if "__" not in k)
        raise ValueError(
            f"The search space key {key!r} is not a parameter of {type(estimator).__name__}; "
            f"its parameters are {top_level} (in a pipeline: '<step>__<parameter>').")
