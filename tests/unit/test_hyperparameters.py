import pytest

from customization.core.hyperparameters import HyperparameterError, resolve_hyperparameters
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
