import json

import pytest
from pydantic import ValidationError

from customization.registry import REGISTRY_FILE, Registry, UnknownBaseModelError, load_registry

NOTEBOOK_MODELS = {
    "amazon.nova-lite-v1:0:300k": "FINE_TUNING",
    "anthropic.claude-3-haiku-20240307-v1:0:200k": "FINE_TUNING",
    "meta.llama3-2-11b-instruct-v1:0:128k": "FINE_TUNING",
    "meta.llama3-2-90b-instruct-v1:0:128k": "FINE_TUNING",
    "amazon.titan-text-express-v1:0:8k": "CONTINUED_PRE_TRAINING",
}


def test_every_entry_validates_and_every_default_lies_within_its_bounds():
    registry = load_registry()
    for model in registry.models:
        for customization in model.customizations.values():
            for name, spec in customization.hyperparameters.items():
                assert spec.min <= spec.default <= spec.max, (model.model_id, name)


def test_ids_and_aliases_are_unique():
    names = [name for m in load_registry().models for name in (m.model_id, *m.aliases)]
    assert len(names) == len(set(names))


@pytest.mark.parametrize(("model_id", "customization_type"), NOTEBOOK_MODELS.items())
def test_the_notebook_models_are_present(model_id, customization_type):
    assert customization_type in load_registry().resolve(model_id).customizations


def test_aliases_resolve_and_unknown_names_list_the_known_ids():
    registry = load_registry()
    assert registry.resolve("nova-lite").model_id == "amazon.nova-lite-v1:0:300k"
    with pytest.raises(UnknownBaseModelError, match="amazon.nova-lite-v1:0:300k"):
        registry.resolve("gpt-4")


def test_a_default_outside_its_bounds_is_rejected():
    document = json.loads(REGISTRY_FILE.read_text())
    document["models"][0]["customizations"]["FINE_TUNING"]["hyperparameters"]["epochCount"]["default"] = 99
    with pytest.raises(ValidationError, match="outside"):
        Registry.model_validate(document)


def test_a_duplicate_alias_is_rejected():
    document = json.loads(REGISTRY_FILE.read_text())
    document["models"][1]["aliases"] = ["nova-lite"]
    with pytest.raises(ValidationError, match="more than one model"):
        Registry.model_validate(document)
