import numpy as np
import pytest
from scipy.stats import randint
from sklearn.model_selection import RandomizedSearchCV
from sklearn.pipeline import Pipeline

from skhanrock import HanRockClassifier, MutualInfoLossWeights
from skhanrock._testing import TINY
from skhanrock.model_selection import (
    SpeakerGroupKFold,
    ZeroOrLogUniform,
    check_search_space,
    paper_search_space,
)


def test_paper_search_space_draws_valid_parameters(many_speakers):
    X, y = many_speakers
    space = paper_search_space()
    assert space["han__primary_units"] == [1, 64, 128, 192, 256]
    assert set(space["weights__assignment"]) == {"random", "linear", "softmax"}
    rng = np.random.default_rng(0)
    learning_rates = space["han__lr"].rvs(size=500, random_state=0)
    assert learning_rates.min() >= 2 ** -10 and learning_rates.max() <= 2 ** -5
    decay = space["han__optimizer__weight_decay"].rvs(size=500, random_state=0)
    assert (decay == 0).any() and decay.max() <= 0.5 and rng is not None
    assert space["han__context_size"].rvs(size=200, random_state=0).min() >= 1
    pipe = Pipeline([("weights", MutualInfoLossWeights()), ("han", HanRockClassifier())])
    check_search_space(pipe, space)
    small = {"han__lr": space["han__lr"], "han__context_size": randint(1, 3),
             "han__optimizer__weight_decay": ZeroOrLogUniform(1e-4, 0.5),
             "weights__assignment": space["weights__assignment"]}
    pipe.set_params(han__primary_units=4, han__aux_units=2, han__max_epochs=1,
                    han__embedding_dim=8, han__random_state=0)
    RandomizedSearchCV(pipe, small, n_iter=2, cv=SpeakerGroupKFold(2), random_state=0).fit(X, y)


def test_successive_halving_spends_epochs_as_its_resource(many_speakers):
    from sklearn.experimental import enable_halving_search_cv  # noqa: F401
    from sklearn.model_selection import HalvingRandomSearchCV

    X, y = many_speakers
    pipe = Pipeline([("weights", MutualInfoLossWeights()),
                     ("han", HanRockClassifier(**{**TINY, "max_epochs": 1}))])
    search = HalvingRandomSearchCV(
        pipe, {"han__lr": [0.003, 0.01, 0.03, 0.1]}, resource="han__max_epochs",
        min_resources=1, max_resources=4, factor=2, n_candidates=4,
        cv=SpeakerGroupKFold(2), random_state=0).fit(X, y)
    assert search.n_resources_ == [1, 2, 4]
    assert search.n_candidates_ == [4, 2, 1]
    assert search.best_estimator_.named_steps["han"].max_epochs == 4
    assert len(search.best_estimator_.named_steps["han"].history) == 4


def test_successive_halving_on_a_bare_estimator(many_speakers):
    from sklearn.experimental import enable_halving_search_cv  # noqa: F401
    from sklearn.model_selection import HalvingRandomSearchCV

    X, y = many_speakers
    search = HalvingRandomSearchCV(
        HanRockClassifier(**{**TINY, "max_epochs": 1}), {"lr": [0.003, 0.01, 0.03, 0.1]},
        resource="max_epochs", min_resources=1, max_resources=4, factor=2, n_candidates=4,
        cv=SpeakerGroupKFold(2), random_state=0).fit(X, y)
    assert search.n_resources_ == [1, 2, 4]
    assert len(search.best_estimator_.history) == search.best_params_["max_epochs"] == 4


def test_unknown_search_key_is_named():
    with pytest.raises(ValueError, match="han__learning_rate"):
        check_search_space(Pipeline([("han", HanRockClassifier())]),
                           {"han__learning_rate": [0.1]})
    # a list of spaces, as RandomizedSearchCV and GridSearchCV take it
    pipe = Pipeline([("han", HanRockClassifier())])
    check_search_space(pipe, [{"han__lr": [0.1]}, {"han__context_size": [2]}])
    with pytest.raises(ValueError, match="'han__dropout'"):
        check_search_space(pipe, [{"han__lr": [0.1]}, {"han__dropout": [0.2]}])


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"p_zero": 2}, r"p_zero must be a number in \[0, 1\], got 2"),
    ({"p_zero": float("nan")}, r"p_zero must be a number in \[0, 1\], got nan"),
    ({"p_zero": -1}, r"p_zero must be a number in \[0, 1\], got -1"),
    ({"low": 0}, r"needs 0 < low < high .* got low=0 and high=0.5"),
    ({"low": -1e-4}, r"needs 0 < low < high"),
    ({"low": 0.5, "high": 1e-4}, r"needs 0 < low < high .* got low=0.5 and high=0.0001"),
    ({"high": float("inf")}, r"ZeroOrLogUniform high must be a finite number, got inf"),
    ({"low": "1e-4"}, r"ZeroOrLogUniform low must be a finite number, got '1e-4'"),
])
def test_zero_or_log_uniform_checks_its_arguments_when_made(kwargs, message):
    # at construction, not at the first draw inside a search (scipy's "Domain error")
    with pytest.raises(ValueError, match=message):
        ZeroOrLogUniform(**{"low": 1e-4, "high": 0.5, **kwargs})
    always = ZeroOrLogUniform(1e-4, 0.5, p_zero=1).rvs(size=20, random_state=0)
    assert (always == 0).all()
