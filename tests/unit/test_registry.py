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
                if spec.type == "choice":
                    assert spec.default in spec.choices, (model.model_id, name)
                else:
                    low, high = spec.bounds
                    assert low <= float(spec.default) <= high, (model.model_id, name)


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
    document["models"][0]["aliases"] = ["nova-lite"]
    with pytest.raises(ValidationError, match="more than one model"):
        Registry.model_validate(document)


EVERY_CUSTOMIZABLE_TEXT_MODEL = {
    "amazon.nova-micro-v1:0:128k": {"FINE_TUNING", "DISTILLATION"},
    "amazon.nova-lite-v1:0:300k": {"FINE_TUNING", "DISTILLATION"},
    "amazon.nova-pro-v1:0:300k": {"FINE_TUNING", "DISTILLATION"},
    "amazon.nova-2-lite-v1:0:256k": {"FINE_TUNING", "REINFORCEMENT_FINE_TUNING"},
    "anthropic.claude-3-haiku-20240307-v1:0:200k": {"FINE_TUNING"},
    "meta.llama3-1-8b-instruct-v1:0:128k": {"FINE_TUNING", "DISTILLATION"},
    "meta.llama3-1-70b-instruct-v1:0:128k": {"FINE_TUNING", "DISTILLATION"},
    "meta.llama3-2-1b-instruct-v1:0:128k": {"FINE_TUNING", "DISTILLATION"},
    "meta.llama3-2-3b-instruct-v1:0:128k": {"FINE_TUNING", "DISTILLATION"},
    "meta.llama3-2-11b-instruct-v1:0:128k": {"FINE_TUNING"},
    "meta.llama3-2-90b-instruct-v1:0:128k": {"FINE_TUNING"},
    "meta.llama3-3-70b-instruct-v1:0:128k": {"FINE_TUNING", "DISTILLATION"},
    "amazon.titan-text-lite-v1:0:4k": {"FINE_TUNING", "CONTINUED_PRE_TRAINING"},
    "amazon.titan-text-express-v1:0:8k": {"FINE_TUNING", "CONTINUED_PRE_TRAINING"},
}


def test_the_registry_holds_every_customizable_text_model():
    registry = load_registry()
    assert {m.model_id: set(m.customizations) for m in registry.models} == EVERY_CUSTOMIZABLE_TEXT_MODEL


def test_every_model_cites_its_sources_and_has_an_alias():
    for model in load_registry().models:
        assert model.aliases, model.model_id
        assert {"ids_regions_types", "hyperparameters", "records", "tokens", "file_sizes"} <= set(model.sources), model.model_id


def test_on_demand_deployment_is_flagged_where_documented():
    on_demand = {m.model_id for m in load_registry().models if m.on_demand_deployment}
    assert on_demand == {
        "amazon.nova-micro-v1:0:128k", "amazon.nova-lite-v1:0:300k", "amazon.nova-pro-v1:0:300k",
        "amazon.nova-2-lite-v1:0:256k", "meta.llama3-3-70b-instruct-v1:0:128k",
    }


def test_where_sources_disagree_the_current_guide_or_the_observed_figure_is_used():
    registry = load_registry()
    for model in ("nova-micro", "nova-lite", "nova-pro"):
        warmup = registry.resolve(model).customization("FINE_TUNING").hyperparameters["learningRateWarmupSteps"]
        assert (warmup.min, warmup.max, warmup.default) == (0, 100, 10)  # the current Bedrock page, not an older 0-20
        assert "0-20" in registry.resolve(model).sources["hyperparameters"]  # the disagreement is recorded
    titan = load_registry().resolve("titan-text-express").customization("CONTINUED_PRE_TRAINING")
    assert titan.limits.chars_per_token == 4  # observed ~4.07 over the guide's 6
    assert [limit.tokens for limit in titan.limits.tokens_per_record] == [4096, 2048]


def test_the_last_token_limit_must_cover_every_batch_size():
    document = json.loads(REGISTRY_FILE.read_text())
    document["models"][0]["customizations"]["FINE_TUNING"]["limits"]["tokens_per_record"] = [{"max_batch_size": 4, "tokens": 10}]
    with pytest.raises(ValidationError, match="any batch size"):
        Registry.model_validate(document)


def test_every_format_the_registry_names_has_its_module():
    from customization.datasets.formats import UnknownFormatError, format_for, known_formats

    named = {c.data_format for m in load_registry().models for c in m.customizations.values()}
    assert named <= set(known_formats()), named - set(known_formats())
    with pytest.raises(UnknownFormatError, match="no data format 'csv'; known: claude_messages, continued_pretraining"):
        format_for("csv")


def test_inference_profiles_are_resolved_by_the_registrys_geographies():
    registry = load_registry()
    assert registry.profile_geography("meta.llama3-1-8b-instruct-v1:0") is None  # a foundation model
    assert "us-east-2" in registry.profile_geography("us.meta.llama3-2-1b-instruct-v1:0").regions
    assert registry.profile_geography("global.anthropic.claude-sonnet-4-5-v1:0").regions == ("",)
    with pytest.raises(ValueError, match="geography 'mars', which the registry does not list; known: apac, eu, global, us"):
        registry.profile_geography("mars.amazon.nova-lite-v1:0")


def test_a_model_invoked_through_an_unknown_geography_fails_the_registry():
    data = json.loads(REGISTRY_FILE.read_text())
    data["models"][0]["invocation_id"] = "ca.amazon.nova-micro-v1:0"
    with pytest.raises(ValueError, match="geography 'ca', which the registry does not list"):
        Registry.model_validate(data)


def test_titan_text_is_legacy_with_its_source_and_still_usable():
    titan = load_registry().resolve("titan-text-express")
    assert "custom-model-fine-tuning.html" in titan.legacy
    assert titan.legacy_warning().startswith("warning: Amazon Titan Text")
    assert load_registry().resolve("nova-lite").legacy_warning() is None


# The user guide's distillation table (prequisites-model-distillation.html): teacher -> students.
DISTILLATION_PAIRS = {
    "amazon.nova-pro-v1:0": {"amazon.nova-lite-v1:0:300k", "amazon.nova-micro-v1:0:128k"},
    "amazon.nova-premier-v1:0": {"amazon.nova-lite-v1:0:300k", "amazon.nova-micro-v1:0:128k", "amazon.nova-pro-v1:0:300k"},
    "meta.llama3-1-405b-instruct-v1:0": {"meta.llama3-1-8b-instruct-v1:0:128k", "meta.llama3-1-70b-instruct-v1:0:128k",
                                         "meta.llama3-2-1b-instruct-v1:0:128k", "meta.llama3-3-70b-instruct-v1:0:128k"},
    "meta.llama3-1-70b-instruct-v1:0": {"meta.llama3-1-8b-instruct-v1:0:128k", "meta.llama3-2-1b-instruct-v1:0:128k",
                                        "meta.llama3-2-3b-instruct-v1:0:128k"},
    "meta.llama3-3-70b-instruct-v1:0": {"meta.llama3-1-8b-instruct-v1:0:128k", "meta.llama3-2-1b-instruct-v1:0:128k",
                                        "meta.llama3-2-3b-instruct-v1:0:128k"},
}


def test_the_distillation_pairs_are_the_user_guide_s_and_anthropic_s_are_withdrawn():
    registry = load_registry()
    active = {t.model_id: set(t.students) for t in registry.distillation_teachers if not t.withdrawn}
    assert active == DISTILLATION_PAIRS
    (claude,) = [t for t in registry.distillation_teachers if t.withdrawn]
    assert "not available for Anthropic models" in claude.withdrawn
    assert registry.teacher("nova-premier").invocation_id == "us.amazon.nova-premier-v1:0"  # inference profile only
    assert {t.model_id for t in registry.teachers_of("meta.llama3-2-3b-instruct-v1:0:128k")} == {
        "meta.llama3-1-70b-instruct-v1:0", "meta.llama3-3-70b-instruct-v1:0"}
    assert registry.resolve("llama3.1-8b").customization("DISTILLATION").single_turn
    assert not registry.resolve("nova-lite").customization("DISTILLATION").single_turn


def test_a_teacher_naming_a_student_without_distillation_fails_the_registry():
    document = json.loads(REGISTRY_FILE.read_text())
    document["distillation_teachers"][0]["students"].append("amazon.titan-text-express-v1:0:8k")
    with pytest.raises(ValidationError, match="student amazon.titan-text-express-v1:0:8k has no DISTILLATION"):
        Registry.model_validate(document)


def test_a_model_is_invoked_by_its_geographys_profile_or_a_global_one_or_not_at_all():
    registry = load_registry()
    micro, nova2, llama = (registry.resolve(m) for m in ("nova-micro", "amazon.nova-2-lite-v1:0:256k", "meta.llama3-1-8b-instruct-v1:0:128k"))
    assert micro.invocation_id_in("us") == "amazon.nova-micro-v1:0" and micro.invocation_id_in("eu") == "eu.amazon.nova-micro-v1:0"
    assert nova2.invocation_id_in("apac") == "global.amazon.nova-2-lite-v1:0"  # no APAC profile: the global one
    assert llama.invocation_id_in("eu") is None
    assert registry.teacher("eu.amazon.nova-pro-v1:0").model_id == "amazon.nova-pro-v1:0"


def test_a_profile_geography_the_registry_does_not_list_is_refused():
    data = json.loads(REGISTRY_FILE.read_text())
    data["models"][0]["profile_geographies"] = ["mars"]
    with pytest.raises(ValueError, match="mars"):
        Registry.model_validate(data)


@pytest.mark.parametrize(("region", "expected"), [("us-east-1", "amazon.nova-pro-v1:0"), ("eu-west-1", "eu.amazon.nova-pro-v1:0"),
                                                  ("ap-southeast-1", "apac.amazon.nova-pro-v1:0")])
def test_a_judge_is_asked_as_it_is_invoked_from_the_runtimes_region(region, expected):
    from customization.evaluation.judging import bedrock_judge
    from tests.fakes import FakeRuntime

    runtime = FakeRuntime()
    runtime.region = region
    bedrock_judge(runtime, "nova-pro")("system", "prompt")
    assert runtime.calls == [(expected, "prompt")]


def test_a_judge_without_a_profile_in_the_runtimes_geography_is_refused_by_name():
    from customization.evaluation.judging import bedrock_judge
    from tests.fakes import FakeRuntime

    runtime = FakeRuntime()
    runtime.region = "eu-west-1"
    with pytest.raises(ValueError, match="Nova Premier has no inference profile in eu-west-1"):
        bedrock_judge(runtime, "us.amazon.nova-premier-v1:0")
