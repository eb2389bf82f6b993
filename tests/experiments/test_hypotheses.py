import pytest

from skhanrock.experiments import (
    HYPOTHESES,
    Hypothesis,
    hypothesis_pipeline,
)


def test_h2_fixes_the_capacity_of_each_arm():
    arms = HYPOTHESES["H2"].arms
    assert [a["han__primary_units"] for a in arms.values()] == [1, 64, 128, 192, 256]
    assert HYPOTHESES["H2"].baseline == "P=256" and HYPOTHESES["H3"].baseline == "flat"


def test_hypothesis_arms_name_their_auxiliary_families(conversations_of_many_speakers):
    # One name for the auxiliary target families: make_paper_pipeline's and AuxiliaryTargets'.
    assert all("families" in arm and "aux_families" not in arm
               for hypothesis in HYPOTHESES.values() for arm in hypothesis.arms.values())
    given = {"low": {"aux_families": "ap", "han__gru_dropout": 0.05},
             "high": {"families": "ap", "han__gru_dropout": 0.4}}
    with pytest.raises(ValueError, match=r"arm 'low': the key 'aux_families' is now "
                                         r"'families'.*\{'families': 'ap'\}"):
        Hypothesis("GRU dropout", "low", given)
    assert given["low"] == {"aux_families": "ap", "han__gru_dropout": 0.05}  # not modified
    given["low"] = {"families": "ap", "han__gru_dropout": 0.05}
    dropout = Hypothesis("GRU dropout", "low", given)
    given["extra"] = {}
    assert list(dropout.arms) == ["low", "high"]  # a dict of its own


def test_arm_settings_split_into_families_and_pipeline_parameters():
    from skhanrock.experiments._hypotheses import arm_params

    assert arm_params({"families": "ap", "han__lr": 0.1}) == ("ap", {"han__lr": 0.1})
    assert arm_params({"han__lr": 0.1}) == ("", {"han__lr": 0.1})


def test_hypothesis_pipeline_takes_target_type_and_names_it_for_task():
    pipeline = hypothesis_pipeline("ap", target_type="regression")
    assert pipeline.named_steps["aux"].target_type == "regression"
    assert type(pipeline.named_steps["han"]).__name__ == "HanRockRegressor"
    with pytest.raises(TypeError, match="hypothesis_pipeline got task='regression': the "
                                        "parameter is now target_type"):
        hypothesis_pipeline("ap", task="regression")
