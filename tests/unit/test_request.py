import json
from pathlib import Path

import pytest

from bedrock_customize.cli import SCHEMA_PATH, request_schema
from customization.core.request_rules import parse_request
from customization.errors import RequestInvalidError
from customization.registry import load_registry

BUCKET = "pipeline-bucket"
VALID = {"base_model": "nova-lite", "training_data": f"s3://{BUCKET}/data/train.jsonl"}


def test_defaults_fill_everything_but_the_data():
    request = parse_request(VALID, bucket=BUCKET)
    assert request.customization_type == "FINE_TUNING"
    assert request.deployment.model_units == 1
    assert request.teardown.delete_custom_model is False


@pytest.mark.parametrize(
    ("change", "mode", "because"),
    [
        ({}, "on_demand", "the cheapest Amazon Nova Lite offers for the evaluation (billed per token"),
        ({"base_model": "haiku"}, "provisioned", "Anthropic Claude 3 Haiku has no on-demand deployment"),
        ({"evaluation": {"bedrock_evaluation_job": True}}, "provisioned", "Bedrock's evaluation job"),
        ({"deployment": {"mode": "provisioned"}}, "provisioned", None),  # chosen: kept, nothing to explain
        ({"deployment": {"max_hours": 2}}, "on_demand", "not given: on_demand"),
    ],
)
def test_a_request_that_does_not_choose_a_deployment_gets_the_cheapest_its_model_offers(change, mode, because):
    request = parse_request({**VALID, **change}, bucket=BUCKET)
    assert request.deployment.mode == mode
    if because is None:
        assert request.deployment.chosen_because is None
    else:
        assert because in request.deployment.chosen_because


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"base_model": "gpt-4"}, "base_model", "unknown base model 'gpt-4'; known: amazon.nova-micro"),
        ({"base_model": ""}, "base_model", "at least 1 character"),
        ({"customization_type": "CONTINUED_PRE_TRAINING"}, "customization_type", "does not support CONTINUED_PRE_TRAINING"),
        ({"customization_type": "IMPORTED"}, "customization_type", "Input should be 'FINE_TUNING'"),
        ({"customization_type": "REINFORCEMENT_FINE_TUNING"}, "customization_type", "does not support REINFORCEMENT_FINE_TUNING"),
        # Distillation: a teacher that may teach the student, named as the user guide's table says.
        ({"customization_type": "DISTILLATION"}, "request",
         "DISTILLATION needs distillation.teacher; for amazon.nova-lite-v1:0:300k: amazon.nova-pro-v1:0 (nova-pro), "
         "amazon.nova-premier-v1:0 (nova-premier)"),
        ({"customization_type": "DISTILLATION", "distillation": {"teacher": "llama3.1-405b"}}, "distillation.teacher",
         "Meta Llama 3.1 405B Instruct cannot teach amazon.nova-lite-v1:0:300k; the teachers that can: amazon.nova-pro-v1:0"),
        ({"customization_type": "DISTILLATION", "distillation": {"teacher": "gpt-5"}}, "distillation.teacher",
         "unknown teacher model 'gpt-5'; known: amazon.nova-pro-v1:0 (nova-pro)"),
        ({"base_model": "haiku", "customization_type": "DISTILLATION"}, "customization_type",
         "does not support DISTILLATION"),
        ({"customization_type": "DISTILLATION", "distillation": {"teacher": "claude-3.5-sonnet-v2"}}, "distillation.teacher",
         "Anthropic Claude 3.5 Sonnet v2 no longer teaches: the current page says distillation is not available"),
        ({"customization_type": "DISTILLATION", "distillation": {"teacher": "nova-pro", "max_response_length": 6000}},
         "distillation.max_response_length", "6000 is above Amazon Nova Pro's output limit of 5000 tokens"),
        ({"customization_type": "DISTILLATION", "distillation": {"teacher": "nova-pro", "max_response_length": 0}},
         "distillation.max_response_length", "greater than or equal to 1"),
        ({"customization_type": "DISTILLATION", "distillation": {"teacher": "nova-pro"}, "hyperparameters": {"epochCount": 2}},
         "request", "unknown name(s) epochCount"),
        ({"distillation": {"teacher": "nova-pro"}}, "distillation", "a teacher is only for customization_type DISTILLATION"),
        ({"hyperparameters": {"epochs": 2}}, "request", "unknown name(s) epochs; allowed"),
        ({"hyperparameters": {"epochCount": 9}}, "request", "outside the allowed range"),
        ({"training_data": "data/train.jsonl"}, "training_data", "expected an s3://bucket/key URI"),
        ({"training_data": "s3://other-bucket/train.jsonl"}, "training_data", "outside the pipeline bucket"),
        ({"validation_data": "https://example.com/v.jsonl"}, "validation_data", "s3://bucket/key"),
        ({"test_data": "s3://other-bucket/t.jsonl"}, "test_data", "outside the pipeline bucket"),
        ({"deployment": {"model_units": 0}}, "deployment.model_units", "greater than or equal to 1"),
        ({"deployment": {"mode": "serverless"}}, "deployment.mode", "'provisioned', 'on_demand' or 'none'"),
        ({"base_model": "haiku", "deployment": {"mode": "on_demand"}}, "request", "does not support on-demand"),
        ({"wait_seconds": {"job": -1}}, "wait_seconds.job", "greater than or equal to 0"),
        ({"evaluation": {"max_samples": 0}}, "evaluation.max_samples", "greater than or equal to 1"),
        ({"budget": {"max_usd": 0}}, "budget.max_usd", "greater than 0"),
        ({"teardown": {"delete_model": True}}, "teardown.delete_model", "Extra inputs are not permitted"),
        ({"epochs": 3}, "epochs", "Extra inputs are not permitted"),
        (
            {"base_model": "nova-2-lite", "validation_data": f"s3://{BUCKET}/v.jsonl"},
            "request",
            "validation_data: Amazon Nova 2 Lite takes no validation set",
        ),
        ({"base_model": "haiku", "hyperparameters": {"earlyStoppingPatience": 3}}, "request", "early stopping needs validation_data"),
        ({"base_model": "llama3.2-1b", "deployment": {"mode": "on_demand"}}, "request", "does not support on-demand"),
        ({"base_model": "titan-lite", "hyperparameters": {"batchSize": 65}}, "request", "batchSize: 65 is outside"),
        ({"base_model": None}, "base_model", "Input should be a valid string"),
        ({"customization_type": "fine_tuning"}, "customization_type", "Input should be 'FINE_TUNING'"),
        ({"hyperparameters": {"learningRate": "fast"}}, "request", "learningRate: expected a number"),
        ({"hyperparameters": {"epochCount": 2.5}}, "request", "epochCount: expected an integer"),
        ({"hyperparameters": ["epochCount", 2]}, "hyperparameters", "valid dictionary"),
        ({"training_data": "s3://bucket-only"}, "training_data", "expected an s3://bucket/key URI"),
        ({"deployment": {"model_units": -3}}, "deployment.model_units", "greater than or equal to 1"),
        ({"deployment": {"max_hours": 0}}, "deployment.max_hours", "greater than 0"),
        ({"timeouts": {"job_hours": 0}}, "timeouts.job_hours", "greater than 0"),
        ({"timeouts": {"deployment_ready_minutes": -5}}, "timeouts.deployment_ready_minutes", "greater than 0"),
        ({"evaluation": {"temperature": 2}}, "evaluation.temperature", "less than or equal to 1"),
        ({"wait_seconds": {"deployment": -10}}, "wait_seconds.deployment", "greater than or equal to 0"),
        ({"wait_seconds": {"job": 100_000}}, "wait_seconds.job", "less than or equal to 86400"),
        ({"deployment": {"mode": "provisioned", "commitment": "OneMonth"}}, "deployment.commitment", "Extra inputs"),
    ],
)
def test_bad_requests_are_rejected_naming_the_field(change, field, message):
    assert_refused(change, field, message)


def assert_refused(change: dict, field: str, message: str) -> None:
    with pytest.raises(RequestInvalidError) as caught:
        parse_request({**VALID, **change}, bucket=BUCKET)
    assert f"{field}: " in str(caught.value)
    assert message in str(caught.value)


def test_a_missing_required_field_is_named():
    with pytest.raises(RequestInvalidError, match="training_data: Field required"):
        parse_request({"base_model": "nova-lite"}, bucket=BUCKET)


def test_the_committed_json_schema_matches_the_model():
    assert json.loads(Path(SCHEMA_PATH).read_text()) == request_schema(), "run `make schema`"


def test_the_readme_request_reference_is_generated_from_the_schema():
    from bedrock_customize.reference import README, StaleReadmeError, render, updated_readme
    from customization.registry import load_registry

    text = README.read_text()
    assert updated_readme(text, request_schema(), load_registry()) == text, "run `make schema`"
    reference = render(request_schema())
    # Every leaf of the request appears, nested settings by their dotted path.
    for path in ("`base_model`", "`budget.max_usd`", "`budget.prices`", "`evaluation.primary_metric`", "`timeouts.job_hours`"):
        assert f"| {path} |" in reference
    assert "| `training_data` | string | none | s3://bucket/key of the training JSONL" in reference
    assert "required unless prepare or invocation_logs is given" in reference and "| `prepare.source` | string | required |" in reference
    with pytest.raises(StaleReadmeError):
        updated_readme("no markers", request_schema(), load_registry())


def test_the_bundled_example_request_fits_the_schema_once_uploaded():
    example = json.loads((Path(__file__).parents[2] / "examples/requests/nova-lite-summarization.json").read_text())
    uploaded = {**example, **{k: f"s3://{BUCKET}/{v}" for k, v in example.items() if k.endswith("_data")}}
    assert parse_request(uploaded, bucket=BUCKET).base_model == "nova-lite"


def test_there_are_at_least_thirty_rejection_cases():
    cases = test_bad_requests_are_rejected_naming_the_field.pytestmark[0].args[1]
    assert len(cases) >= 30


def test_a_distillation_request_names_the_teacher_as_bedrock_invokes_it():
    request = parse_request({**VALID, "base_model": "nova-micro", "customization_type": "DISTILLATION",
                             "distillation": {"teacher": "nova-premier", "max_response_length": 800}}, bucket=BUCKET)
    assert request.distillation.teacher == "nova-premier" and request.distillation.max_response_length == 800
    assert load_registry().teacher(request.distillation.teacher).invocation_id == "us.amazon.nova-premier-v1:0"


@pytest.mark.parametrize(("extra", "message"), [
    ({"teardown": {"delete_custom_model": True}}, "teardown.delete_custom_model: a run with model_name keeps"),
    ({"deployment": {"mode": "none"}}, "model_name: a version is kept only once the evaluation promotes it"),
])
def test_a_model_name_is_refused_with_settings_that_could_never_keep_a_version(extra, message):
    from customization.core.request_rules import parse_request
    from customization.errors import RequestInvalidError

    raw = {"base_model": "nova-lite", "training_data": "s3://bucket/train.jsonl", "model_name": "summaries", **extra}
    with pytest.raises(RequestInvalidError, match=message):
        parse_request(raw, bucket="bucket")


def test_a_model_name_is_a_plain_name():
    from customization.core.request_rules import parse_request
    from customization.errors import RequestInvalidError

    with pytest.raises(RequestInvalidError, match="model_name"):
        parse_request({"base_model": "nova-lite", "training_data": "s3://bucket/train.jsonl", "model_name": "a/b"}, bucket="bucket")


VALIDATION = f"s3://{BUCKET}/data/validation.jsonl"
TEST = f"s3://{BUCKET}/data/test.jsonl"
GRID = {"grid": {"learningRate": [1e-05, 2e-05]}}


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"sweep": {}}, "sweep", "give grid or candidates (one of them)"),
        ({"sweep": {**GRID, "candidates": [{"epochCount": 1}]}}, "sweep", "give grid or candidates"),
        ({"sweep": {"grid": {"learningRate": [1e-05]}}}, "sweep", "a sweep has 2 to 20 candidates; this one has 1"),
        ({"sweep": {"grid": {"learningRate": [1e-5, 2e-5, 3e-5], "epochCount": [1, 2, 3, 4, 5], "batchSize": [1, 2]}}},
         "sweep", "this one has 30"),
        # Each candidate's hyperparameters, over the request's, within the registry's ranges.
        ({"validation_data": VALIDATION, "sweep": {"candidates": [{"learningRate": 1e-05}, {"learningRate": 0.5}]}},
         "sweep", "candidate 2 (learningRate=0.5): hyperparameters.learningRate: 0.5 is outside the allowed range"),
        ({"sweep": GRID}, "sweep.select_by", "validation_loss compares the candidates' validation loss: give validation_data"),
        ({"validation_data": VALIDATION, "sweep": {**GRID, "select_by": "primary_metric"}, "deployment": {"mode": "none"}},
         "sweep.select_by", "primary_metric evaluates every candidate; deployment.mode 'none' evaluates nothing"),
        # Haiku has no on-demand deployment: each candidate would take a provisioned throughput.
        ({"base_model": "haiku", "sweep": {"grid": {"epochCount": [1, 2]}, "select_by": "primary_metric"}}, "sweep.select_by",
         "set sweep.accept_provisioned_cost to accept that cost"),
        ({"validation_data": VALIDATION, "sweep": GRID, "stages": [{"training_data": VALIDATION}], "test_data": TEST},
         "request", "sweep and stages: a run is a sweep or a multi-stage run, not both"),
        # Stages: a later stage starts from the earlier model only where the guide says the model allows it.
        ({"base_model": "titan-text-express", "customization_type": "CONTINUED_PRE_TRAINING", "test_data": TEST,
          "stages": [{"training_data": VALIDATION}]}, "stages[0].customization_type",
         "Amazon Titan Text G1 - Express's FINE_TUNING cannot start from the CONTINUED_PRE_TRAINING model of the stage "
         "before: Bedrock customizes it only from the foundation model"),
        ({"base_model": "nova-lite", "test_data": TEST, "stages": [{"customization_type": "DISTILLATION", "training_data": VALIDATION}]},
         "stages[0].customization_type", "DISTILLATION cannot start from the FINE_TUNING model"),
        ({"base_model": "llama3.1-8b", "test_data": TEST, "stages": [{"training_data": VALIDATION}]},
         "stages[0].customization_type", "the registry records no guide statement"),
        ({"stages": [{"training_data": VALIDATION}]}, "request", "stages: give test_data (records of the last stage's task)"),
        ({"test_data": TEST, "stages": [{"training_data": VALIDATION, "hyperparameters": {"epochCount": 99}}]},
         "stages[0].hyperparameters", "hyperparameters.epochCount: 99 is outside the allowed range [1, 5]"),
        ({"evaluate_stages": True}, "evaluate_stages", "is for a run with stages"),
        ({"test_data": TEST, "stages": [{"training_data": "s3://elsewhere/x.jsonl"}]}, "stages.0.training_data",
         "outside the pipeline bucket"),
    ],
)
def test_bad_sweeps_and_stages_are_refused_naming_the_field_and_the_rule(change, field, message):
    assert_refused(change, field, message)


def test_a_refused_stage_names_where_the_guide_allows_more():
    """Nova Lite's fine-tuning may start from a fine-tuned or distilled Nova Lite: a refusal of
    another chain names that rule and its source."""
    with pytest.raises(RequestInvalidError) as caught:
        parse_request({**VALID, "customization_type": "DISTILLATION", "distillation": {"teacher": "nova-pro"}, "test_data": TEST,
                       "stages": [{"customization_type": "DISTILLATION", "training_data": VALIDATION}]}, bucket=BUCKET)
    assert "DISTILLATION" in str(caught.value)
    accepted = parse_request({**VALID, "customization_type": "DISTILLATION", "distillation": {"teacher": "nova-pro"},
                              "test_data": TEST, "stages": [{"training_data": VALIDATION}]}, bucket=BUCKET)
    assert accepted.stages[0].customization_type == "FINE_TUNING"
    spec = load_registry().resolve("nova-lite").customization("FINE_TUNING")
    assert spec.continues_from == ("FINE_TUNING", "DISTILLATION") and "Iterative fine-tuning" in spec.continues_source


def test_a_grid_expands_to_every_combination_in_order():
    request = parse_request({**VALID, "validation_data": VALIDATION, "hyperparameters": {"epochCount": 2},
                             "sweep": {"grid": {"learningRate": [1e-05, 2e-05], "epochCount": [1, 3]}}}, bucket=BUCKET)
    assert request.sweep.expand() == [{"learningRate": 1e-05, "epochCount": 1}, {"learningRate": 1e-05, "epochCount": 3},
                                      {"learningRate": 2e-05, "epochCount": 1}, {"learningRate": 2e-05, "epochCount": 3}]
    accepted = parse_request({**VALID, "base_model": "haiku", "sweep": {
        "grid": {"epochCount": [1, 2]}, "select_by": "primary_metric", "accept_provisioned_cost": True}}, bucket=BUCKET)
    assert accepted.deployment.mode == "provisioned"
