"""The cost estimate, the budget rule, the registry's prices and `bedrock-customize estimate`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pydantic import ValidationError

from bedrock_customize.cli import main
from customization.core.costs import Workload, enforce_budget, estimate_cost, render_estimate
from customization.errors import BudgetExceededError
from customization.models.request import CustomizationRequest
from customization.registry import REGISTRY_FILE, Registry, load_registry
from tests.datasets import provisioned_unless_chosen, write_dataset

REGISTRY = load_registry()
WORK = Workload(training_tokens=100_000, test_samples=20, test_tokens_per_sample=150.0)


def request(**fields: object) -> CustomizationRequest:
    return CustomizationRequest.model_validate(
        provisioned_unless_chosen({"base_model": "nova-2-lite", "training_data": "s3://bucket/t.jsonl", **fields}))


def estimate(req: CustomizationRequest, work: Workload = WORK, epochs: int = 3):
    return estimate_cost(req, REGISTRY.resolve(req.base_model), REGISTRY, work, epochs=epochs)


def items(result) -> dict[str, float | None]:
    return {line.item: line.usd for line in result.lines}


def test_training_is_tokens_times_epochs_at_the_registry_price():
    result = estimate(request())
    price = REGISTRY.resolve("nova-2-lite").pricing.training_per_1k_tokens.usd
    assert result.billed_training_tokens == 300_000
    assert items(result)["training"] == pytest.approx(300 * price)


def test_a_provisioned_deployment_bills_whole_model_unit_hours_and_the_worst_case_runs_to_max_hours():
    result = estimate(request(deployment={"mode": "provisioned", "model_units": 2, "max_hours": 5}))
    hourly = REGISTRY.resolve("nova-2-lite").pricing.provisioned_per_model_unit_hour.usd
    assert items(result)["provisioned throughput"] == pytest.approx(2 * 1 * hourly)
    assert result.worst_case_usd == pytest.approx(result.total_usd - 2 * hourly + 2 * 5 * hourly)
    assert result.total_usd == pytest.approx(sum(v for v in items(result).values() if v))


def test_an_on_demand_deployment_bills_tokens_of_both_models_and_no_hours():
    result = estimate(request(deployment={"mode": "on_demand"}, evaluation={"max_tokens": 100}))
    lines = items(result)
    assert "provisioned throughput" not in lines and lines["on-demand deployment"] == 0
    pricing = REGISTRY.resolve("nova-2-lite").pricing
    assert lines["custom model output"] == pytest.approx(20 * 100 / 1000 * pricing.custom_output_per_1k_tokens.usd)
    assert lines["base model input"] == pytest.approx(20 * 150 / 1000 * pricing.base_input_per_1k_tokens.usd)


def test_storage_is_a_month_when_kept_and_a_fraction_when_deleted():
    kept, deleted = estimate(request()), estimate(request(teardown={"delete_custom_model": True}))
    assert items(kept)["custom model storage"] == pytest.approx(1.95)
    assert 0 < items(deleted)["custom model storage"] < 0.01


def test_no_deployment_means_no_evaluation_cost():
    lines = items(estimate(request(deployment={"mode": "none"})))
    assert set(lines) == {"training", "custom model storage"}


def test_request_prices_replace_the_registrys_and_are_named():
    result = estimate(request(budget={"prices": {"training_per_1k_tokens": 0.01}}))
    assert items(result)["training"] == pytest.approx(3.0)
    assert result.overridden_prices == ["training_per_1k_tokens"]


def test_an_unknown_price_leaves_the_total_open_and_a_budget_fails_closed():
    req = request(base_model="nova-micro", budget={"max_usd": 10_000})
    result = estimate(req)
    assert result.total_usd is None and result.unknown_prices == ["provisioned_per_model_unit_hour"]
    assert result.known_usd > 0
    with pytest.raises(BudgetExceededError, match="cannot be checked.*provisioned_per_model_unit_hour.*budget.prices"):
        enforce_budget(result, 10_000)


def test_the_budget_rule_names_the_budget_and_the_estimate():
    result = estimate(request())
    enforce_budget(result, None)
    enforce_budget(result, result.total_usd)  # at the budget is within it
    with pytest.raises(BudgetExceededError) as raised:
        enforce_budget(result, 1.0)
    assert f"${result.total_usd:,.2f}" in str(raised.value) and "budget of $1.00" in str(raised.value)


def test_the_rendered_estimate_shows_the_total_the_verdict_and_the_sources():
    result = estimate(request())
    text = render_estimate(result, max_usd=1.0)
    assert f"total: ${result.total_usd:,.2f}" in text and "the run would be REJECTED" in text
    assert "price-list-2026-08" in text and "(as of 2026-08-02)" in text


def test_every_model_has_dated_sourced_prices_and_unknown_sources_are_refused():
    for model in REGISTRY.models:
        assert model.pricing.training_per_1k_tokens.usd, model.model_id
        assert model.pricing.storage_per_month.usd, model.model_id
    document = json.loads(REGISTRY_FILE.read_text())
    document["models"][0]["pricing"]["storage_per_month"]["source"] = "a blog"
    with pytest.raises(ValidationError, match="unknown source 'a blog'"):
        Registry.model_validate(document)


def test_a_negative_request_price_is_refused():
    with pytest.raises(ValidationError, match="budget.prices.training_per_1k_tokens"):
        request(budget={"prices": {"training_per_1k_tokens": -1}})


@pytest.fixture
def request_file(tmp_path: Path):
    def write(**fields: object) -> Path:
        write_dataset(tmp_path / "train.jsonl", "conversation", 40)
        path = tmp_path / "request.json"
        path.write_text(json.dumps(provisioned_unless_chosen({"base_model": "nova-2-lite", "training_data": "train.jsonl", **fields})))
        return path

    return write


def test_the_estimate_command_prices_a_request_with_local_data(request_file, capsys):
    assert main(["estimate", "--request", str(request_file(budget={"max_usd": 100}))]) == 0
    out = capsys.readouterr().out
    assert "Cost estimate for amazon.nova-2-lite-v1:0:256k" in out and "within budget" in out
    # Nova 2 Lite can be deployed on demand: the far cheaper alternative is named with its total.
    (hint,) = [line for line in out.splitlines() if line.startswith("with deployment.mode")]
    assert hint.startswith('with deployment.mode "on_demand" (this model supports it, billed per token): $')
    assert float(hint.rsplit("$", 1)[1]) < 5


def test_the_estimate_command_exits_1_over_budget_and_prints_json(request_file, capsys):
    assert main(["estimate", "--json", "--request", str(request_file(budget={"max_usd": 1}))]) == 1
    document = json.loads(capsys.readouterr().out)
    assert document["budget_usd"] == 1 and document["total_usd"] > 1
    assert 0 < document["on_demand_total_usd"] < document["total_usd"]
    assert document["training_tokens_per_epoch"] > 0 and document["epochs"] == 2


def test_the_estimate_command_reports_bad_input(tmp_path, request_file, capsys):
    assert main(["estimate", "--request", str(tmp_path / "missing.json")]) == 2
    assert "request file not found" in capsys.readouterr().err
    path = request_file()
    (tmp_path / "train.jsonl").write_text("{oops\n")
    assert main(["estimate", "--request", str(path)]) == 1
    assert "line 1" in capsys.readouterr().err
    bad = request_file(hyperparameters={"epochCount": 99})
    assert main(["estimate", "--request", str(bad)]) == 2
    assert "epochCount: 99 is outside" in capsys.readouterr().err


def test_the_estimate_command_reads_datasets_from_s3(tmp_path, capsys):
    import boto3
    from moto import mock_aws

    data = write_dataset(tmp_path / "train.jsonl", "conversation", 40)
    request = tmp_path / "request.json"
    request.write_text(json.dumps({"base_model": "nova-2-lite", "training_data": "s3://data/train.jsonl"}))
    with mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket="data")
        s3.put_object(Bucket="data", Key="train.jsonl", Body=data.read_bytes())
        assert main(["estimate", "--json", "--request", str(request)]) == 0
    local = tmp_path / "local.json"
    local.write_text(json.dumps({"base_model": "nova-2-lite", "training_data": "train.jsonl"}))
    from_s3 = json.loads(capsys.readouterr().out)
    assert main(["estimate", "--json", "--request", str(local)]) == 0
    assert json.loads(capsys.readouterr().out)["total_usd"] == from_s3["total_usd"] > 0
