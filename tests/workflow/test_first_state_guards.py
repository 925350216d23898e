"""The first state's guards end to end: pre-flight (model access, quotas) and the budget hold a
run before anything is created; the report carries the estimate beside what was measured."""

from __future__ import annotations

import json

from bedrock_customize.offline.simulator import Faults
from infra import constants as c
from tests.workflow.conftest import PREFLIGHT_READS


def test_a_run_over_budget_fails_in_its_first_state_naming_budget_and_estimate(runner):
    result = runner.run("nova-lite", request={"budget": {"max_usd": 5}})

    assert result.status == "FAILED" and result.error["error"] == "BudgetExceededError"
    cause = result.error["cause"]
    assert "budget of $5.00" in cause and "estimated cost $1" in cause and "provisioned throughput" in cause
    assert result.states == [c.RAW_DATA, c.VALIDATE_REQUEST, c.VALIDATION_FAILED, c.RUN_NOT_STARTED]
    assert result.resources["created"] == [] and result.simulator.calls == PREFLIGHT_READS
    report = json.loads(result.objects["validation-report.json"])
    assert report["budget_usd"] == 5 and report["cost_estimate"]["total_usd"] > 5


def test_a_budget_that_cannot_be_checked_fails_closed_until_the_price_is_given(runner):
    # The registry has no provisioned-throughput price for Nova Micro.
    unpriced = runner.run("nova-micro", request={"budget": {"max_usd": 1000}})
    assert unpriced.status == "FAILED" and unpriced.error["error"] == "BudgetExceededError"
    assert "provisioned_per_model_unit_hour" in unpriced.error["cause"] and "budget.prices" in unpriced.error["cause"]
    assert unpriced.resources["created"] == []

    priced = runner.run("nova-micro", request={"budget": {"max_usd": 1000, "prices": {"provisioned_per_model_unit_hour": 40}}})
    assert priced.status == "SUCCEEDED", priced.error


def test_the_report_carries_the_estimate_and_the_measured_inference(runner):
    result = runner.run("nova-lite", request={"budget": {"max_usd": 500}})
    assert result.status == "SUCCEEDED", result.error

    cost = json.loads(result.objects["evaluation/report.json"])["cost"]
    estimate = cost["estimate"]
    assert cost["budget_usd"] == 500 and cost["estimated_total_usd"] == estimate["total_usd"]
    items = {line["item"]: line for line in estimate["lines"]}
    # 1 model unit for a whole hour at the registry's Nova Lite rate.
    assert items["provisioned throughput"]["usd"] == 108.15
    assert estimate["total_usd"] == round(sum(line["usd"] for line in estimate["lines"]), 4)
    measured = cost["measured"]
    assert measured["base_input_tokens"] > 0 and measured["custom_output_tokens"] > 0
    assert 0 < measured["inference_usd"] < 0.01
    # The throughput existed for a moment offline: one whole model-unit hour, as AWS would bill it.
    assert 0 <= measured["deployment_hours"] < 0.1 and measured["deployment_usd"] == 108.15
    assert "Estimated before the run" in result.objects["evaluation/report.html"].decode()


def test_no_room_for_the_model_units_rejects_the_run_in_pre_flight(runner):
    units = "Model units no-commitment Provisioned Throughputs across custom models"
    result = runner.run("nova-lite", request={"deployment": {"model_units": 2}}, faults=Faults(quota_values={units: 1}))
    assert result.status == "FAILED" and result.error["error"] == "QuotaExceededError"
    assert f"'{units}' is 1 and 0 are in use, so the 2 this run needs do not fit" in result.error["cause"]
    assert result.resources["created"] == [] and result.simulator.calls == PREFLIGHT_READS


def test_unreadable_quotas_do_not_block_a_run_and_the_report_says_so(runner):
    result = runner.run("nova-lite", faults=Faults(quotas_denied=True))
    assert result.status == "SUCCEEDED", result.error
    checked = json.loads(result.objects["validation-report.json"])["preflight"]
    assert "quotas not checked: Service Quotas did not answer for Amazon Bedrock in this account" in checked
    # The rest of the pre-flight ran against the emulated account: the stack's own role and bucket.
    assert any(line.endswith("trusts bedrock.amazonaws.com") for line in checked)
    assert any(line.startswith("bucket ") and line.endswith(" is in us-east-1") for line in checked)


def test_a_model_the_account_has_no_access_to_is_refused_in_pre_flight(runner):
    result = runner.run("nova-lite", faults=Faults(model_access_missing=True))
    assert result.status == "FAILED" and result.error["error"] == "RequestInvalidError"
    assert "amazon.nova-lite-v1:0 cannot be used here: model access has not been granted" in result.error["cause"]
    assert result.resources["created"] == [] and result.simulator.calls == ["GetFoundationModel", "GetFoundationModelAvailability"]
