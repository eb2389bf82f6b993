import pytest
from scipy.stats import loguniform, randint

from skhanrock.datasets import make_conversations
from skhanrock.experiments import (
    HYPOTHESES,
    Hypothesis,
)

SMALL_SPACE = {"han__lr": loguniform(1e-3, 3e-2), "han__context_size": randint(1, 4),
               "weights__assignment": ["random", "linear", "softmax"]}


TINY_FIXED = {"han__primary_units": 6, "han__aux_units": 2, "han__embedding_dim": 8,
              "han__batch_size": 32}


SETTINGS = {"max_epochs": 1, "search_space": SMALL_SPACE, "fixed_params": TINY_FIXED,
            "n_resamples": 50}


@pytest.fixture(scope="module")
def conversations_of_many_speakers():
    return make_conversations(n_conversations=15, min_turns=4, max_turns=7, n_speakers=45,
                              random_state=0)


def test_h2_fixes_the_capacity_of_each_arm():
    arms = HYPOTHESES["H2"].arms
    assert [a["han__primary_units"] for a in arms.values()] == [1, 64, 128, 192, 256]
    assert HYPOTHESES["H2"].baseline == "P=256" and HYPOTHESES["H3"].baseline == "flat"


# Two flat trials whose balanced accuracy on dev is 19/30 for both, which scikit-learn
# computes as 0.6333333333333333 for one and 0.6333333333333334 for the other, and the
# bootstrap's vectorised metric the other way round.
TIED_DEV = [2, 0, 1, 0, 2, 1, 1, 1, 0, 0, 1, 2, 2, 2]


TIED = {"a": [2, 0, 2, 2, 1, 1, 1, 1, 0, 2, 1, 0, 2, 2],
        "b": [2, 0, 2, 2, 2, 1, 1, 0, 0, 2, 1, 2, 0, 2]}


TIED_TEST = {"a": [0, 1] * 5, "b": [1, 0] * 5}


def test_hypothesis_arms_name_their_auxiliary_families(conversations_of_many_speakers):
    assert all("aux_families" in arm and "families" not in arm
               for hypothesis in HYPOTHESES.values() for arm in hypothesis.arms.values())
    given = {"low": {"families": "ap", "han__gru_dropout": 0.05},
             "high": {"aux_families": "ap", "han__gru_dropout": 0.4}}
    with pytest.warns(FutureWarning, match=r"arm 'low': the key 'families' was renamed "
                                           r"'aux_families'.*\{'aux_families': 'ap'\}"):
        dropout = Hypothesis("GRU dropout", "low", given)
    assert dropout.arms["low"] == {"aux_families": "ap", "han__gru_dropout": 0.05}
    assert given["low"] == {"families": "ap", "han__gru_dropout": 0.05}  # not modified
    with pytest.raises(ValueError, match="arm 'x' gives both 'aux_families' and the deprecated"):
        Hypothesis("q", "x", {"x": {"aux_families": "a", "families": "a"}})


def test_arm_settings_split_into_families_and_pipeline_parameters():
    from skhanrock.experiments._hypotheses import arm_params

    assert arm_params({"aux_families": "ap", "han__lr": 0.1}) == ("ap", {"han__lr": 0.1})
    assert arm_params({"han__lr": 0.1}) == ("", {"han__lr": 0.1})
