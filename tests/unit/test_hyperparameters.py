import pytest

from customization.core.hyperparameters import HyperparameterError, plan_hyperparameters, resolve_hyperparameters
from customization.registry import load_registry

NOVA = load_registry().resolve("nova-lite").customization("FINE_TUNING").hyperparameters
HAIKU = load_registry().resolve("haiku").customization("FINE_TUNING").hyperparameters


def test_overrides_merge_over_defaults_and_render_as_strings():
    resolved = resolve_hyperparameters({"epochCount": 3}, NOVA)
    assert resolved == {"epochCount": "3", "learningRate": "1e-05", "learningRateWarmupSteps": "10"}
    assert all(isinstance(v, str) for v in resolved.values())


def test_numeric_strings_are_accepted_as_bedrock_writes_them():
    assert resolve_hyperparameters({"batchSize": "64", "learningRateMultiplier": "0.5"}, HAIKU)["batchSize"] == "64"


def test_unknown_names_are_rejected_with_the_allowed_list():
    with pytest.raises(HyperparameterError, match="unknown name.*batchSize.*allowed: epochCount, learningRate"):
        resolve_hyperparameters({"batchSize": 8}, NOVA)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"epochCount": 6}, r"epochCount: 6 is outside the allowed range \[1, 5\]"),
        ({"epochCount": 0}, "outside the allowed range"),
        ({"epochCount": 2.5}, "expected an integer"),
        ({"learningRate": "fast"}, "expected a number"),
        ({"learningRate": True}, "expected a number"),
        ({"learningRate": float("nan")}, "finite"),
        ({"learningRate": 1.0}, "outside the allowed range"),
    ],
)
def test_bad_values_name_the_hyperparameter_and_the_rule(overrides, message):
    with pytest.raises(HyperparameterError, match=message):
        resolve_hyperparameters(overrides, NOVA)


def test_nova_warmup_defaults_follow_the_dataset_size():
    spec = load_registry().resolve("nova-lite").customization("FINE_TUNING")
    plan = plan_hyperparameters({}, spec, training_records=1600, has_validation=True)
    assert plan.values["learningRateWarmupSteps"] == "10"  # 1,600 / 160 is the default already
    plan = plan_hyperparameters({}, spec, training_records=800, has_validation=True)
    assert plan.values["learningRateWarmupSteps"] == "5"
    assert plan.adjustments == [
        "learningRateWarmupSteps: 5 instead of the default 10 (800 training records / 160, "
        "the rule of the Nova user guide, within [0, 100])"
    ]
    assert plan_hyperparameters({}, spec, training_records=20000, has_validation=True).values["learningRateWarmupSteps"] == "100"
    micro = load_registry().resolve("nova-micro").customization("FINE_TUNING")
    assert plan_hyperparameters({}, micro, training_records=1280, has_validation=False).values["learningRateWarmupSteps"] == "2"


def test_a_warmup_the_request_sets_is_kept():
    spec = load_registry().resolve("nova-lite").customization("FINE_TUNING")
    plan = plan_hyperparameters({"learningRateWarmupSteps": 7}, spec, training_records=800, has_validation=False)
    assert plan.values["learningRateWarmupSteps"] == "7" and plan.adjustments == []


def test_haiku_early_stopping_is_left_out_without_a_validation_set():
    spec = load_registry().resolve("haiku").customization("FINE_TUNING")
    without = plan_hyperparameters({}, spec, training_records=100, has_validation=False)
    assert "earlyStoppingPatience" not in without.values and "earlyStoppingThreshold" not in without.values
    assert "early stopping watches validation loss" in without.adjustments[0]
    with_validation = plan_hyperparameters({}, spec, training_records=100, has_validation=True)
    assert with_validation.values["earlyStoppingPatience"] == "2" and with_validation.adjustments == []
