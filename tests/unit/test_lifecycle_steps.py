"""The lifecycle's use cases with in-memory fakes: each rule tested where it lives (jobs,
deployments, Tear Down, the cleanup after an aborted run, the janitor, request files)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from customization.core.deployments import check_deployment, deploy_model
from customization.core.janitor import sweep
from customization.core.jobs import check_job, submit_job
from customization.core.teardown import clean_up_after, clean_up_run, tear_down
from customization.core.triggers import start_from_request_file
from customization.errors import (
    DeploymentFailedError,
    DeploymentTimeoutError,
    JobFailedError,
    JobStoppedError,
    JobTimeoutError,
)
from customization.models.steps import DeploymentState, EvaluationSummary, JobState, StepInput
from customization.vocabulary import TAG_EXECUTION, TAG_EXPIRES, TAG_STACK, ResourceKind
from tests.fakes import FakeBedrock, FakeExecutions, FakeLedger, FakeNotifier, FakeStore
from tests.runs import BUCKET, run_context

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
ROLE = "arn:aws:iam::123456789012:role/bedrock"


# -- Submit Job and Check Job ---------------------------------------------------------------


def test_submit_job_records_the_intent_before_the_create_call_and_tags_the_job():
    # Given a run, a control plane and a ledger
    run, bedrock, ledger = run_context(), FakeBedrock(), FakeLedger()
    # When the job is submitted
    job = submit_job(run, role_arn=ROLE, bedrock=bedrock, ledger=ledger, store=FakeStore())
    # Then it is created once, tagged with the run, and the ledger holds it as created
    (request,) = bedrock.job_requests
    assert request.job_name == run.names.job_name and request.token == run.names.job_token
    assert request.tags == {TAG_EXECUTION: "run-1", TAG_STACK: "Stack"}
    assert ledger.status("run-1", ResourceKind.CUSTOMIZATION_JOB, job.job_name) == "created"
    assert job.status == "InProgress"


def test_a_completed_job_records_its_custom_model():
    run, bedrock, ledger = run_context(), FakeBedrock(), FakeLedger()
    job = submit_job(run, role_arn=ROLE, bedrock=bedrock, ledger=ledger, store=FakeStore())
    bedrock.set(job.job_arn, status="Completed", custom_model_arn=f"{job.job_arn}/model", created=NOW - timedelta(minutes=30))
    checked = check_job(run, job, bedrock=bedrock, ledger=ledger, now=NOW)
    assert checked.custom_model_arn == f"{job.job_arn}/model" and checked.duration_minutes == 30
    assert ledger.status("run-1", ResourceKind.CUSTOM_MODEL, run.names.custom_model_name) == "created"


@pytest.mark.parametrize(
    ("status", "failure", "error", "message"),
    [
        ("Failed", "bad record 3", JobFailedError, "failed: bad record 3"),
        ("Failed", None, JobFailedError, "Bedrock gave no failureMessage"),
        ("Stopped", None, JobStoppedError, "was stopped before it completed"),
    ],
)
def test_a_job_that_ended_badly_raises_its_typed_error(status, failure, error, message):
    run, bedrock, ledger = run_context(), FakeBedrock(), FakeLedger()
    job = submit_job(run, role_arn=ROLE, bedrock=bedrock, ledger=ledger, store=FakeStore())
    bedrock.set(job.job_arn, status=status, failure=failure)
    with pytest.raises(error, match=message):
        check_job(run, job, bedrock=bedrock, ledger=ledger, now=NOW)


def test_a_job_past_its_time_limit_is_stopped_and_recorded_as_stopped():
    run, bedrock, ledger = run_context(timeouts={"job_hours": 2}), FakeBedrock(), FakeLedger()
    job = submit_job(run, role_arn=ROLE, bedrock=bedrock, ledger=ledger, store=FakeStore())
    bedrock.set(job.job_arn, created=NOW - timedelta(hours=2, minutes=1))
    with pytest.raises(JobTimeoutError, match="ran 2.0 h, past the request's limit of 2.0 h"):
        check_job(run, job, bedrock=bedrock, ledger=ledger, now=NOW)
    assert ("stop_job", job.job_arn) in bedrock.calls
    assert ledger.status("run-1", ResourceKind.CUSTOMIZATION_JOB, job.job_name) == "stopped"
    # Within the limit nothing is stopped.
    bedrock.set(job.job_arn, status="InProgress", created=NOW - timedelta(hours=1))
    assert check_job(run, job, bedrock=bedrock, ledger=ledger, now=NOW).status == "InProgress"


# -- Deploy Model and Check Deployment -------------------------------------------------------


def completed_job(run) -> JobState:
    return JobState(job_arn="arn:job", job_name=run.names.job_name, status="Completed", custom_model_arn="arn:model")


def test_a_provisioned_deployment_carries_its_expiry_for_the_janitor():
    run, bedrock, ledger = run_context(deployment={"mode": "provisioned", "model_units": 2, "max_hours": 3}), FakeBedrock(), FakeLedger()
    deployment = deploy_model(run, completed_job(run), bedrock=bedrock, ledger=ledger, now=NOW)
    assert deployment.kind == ResourceKind.PROVISIONED_THROUGHPUT and deployment.created_at == NOW
    assert ("create_provisioned_throughput", run.names.provisioned_model_name, 2) in bedrock.calls
    assert bedrock.tags(deployment.arn)[TAG_EXPIRES] == "2026-12-01T15:00:00Z"
    assert ledger.status("run-1", ResourceKind.PROVISIONED_THROUGHPUT, deployment.name) == "created"


def test_on_demand_and_no_deployment():
    run, bedrock, ledger = run_context(deployment={"mode": "on_demand"}), FakeBedrock(), FakeLedger()
    on_demand = deploy_model(run, completed_job(run), bedrock=bedrock, ledger=ledger, now=NOW)
    assert on_demand.kind == ResourceKind.CUSTOM_MODEL_DEPLOYMENT and bedrock.calls == [("create_deployment", run.names.deployment_name)]
    none = deploy_model(run_context(deployment={"mode": "none"}), completed_job(run), bedrock=bedrock, ledger=ledger, now=NOW)
    assert none == DeploymentState(kind="none", status="NotRequested") and len(bedrock.calls) == 1


def test_a_job_without_an_output_model_cannot_be_deployed():
    run = run_context()
    job = completed_job(run).model_copy(update={"custom_model_arn": None})
    with pytest.raises(DeploymentFailedError, match="completed without an output model ARN"):
        deploy_model(run, job, bedrock=FakeBedrock(), ledger=FakeLedger(), now=NOW)


def test_check_deployment_reports_ready_failed_and_too_slow():
    run, bedrock, ledger = run_context(timeouts={"deployment_ready_minutes": 30}), FakeBedrock(), FakeLedger()
    deployment = deploy_model(run, completed_job(run), bedrock=bedrock, ledger=ledger, now=NOW)
    bedrock.set(deployment.arn, status="InService")
    assert check_deployment(run, deployment, bedrock=bedrock, now=NOW).ready is True
    bedrock.set(deployment.arn, status="Creating", created=NOW - timedelta(minutes=31))
    with pytest.raises(DeploymentTimeoutError, match="was not ready after 31 min"):
        check_deployment(run, deployment, bedrock=bedrock, now=NOW)
    bedrock.set(deployment.arn, status="Failed", failure="no capacity")
    with pytest.raises(DeploymentFailedError, match="failed: no capacity"):
        check_deployment(run, deployment, bedrock=bedrock, now=NOW)


# -- Tear Down and the cleanups ----------------------------------------------------------------


def deployed_run(**request):
    run, bedrock, ledger = run_context(**request), FakeBedrock(), FakeLedger()
    job = submit_job(run, role_arn=ROLE, bedrock=bedrock, ledger=ledger, store=FakeStore())
    model_arn = bedrock.add(ResourceKind.CUSTOM_MODEL, run.names.custom_model_name, "Active")
    bedrock.set(job.job_arn, status="Completed", custom_model_arn=model_arn)
    job = check_job(run, job, bedrock=bedrock, ledger=ledger, now=NOW)
    deployment = deploy_model(run, job, bedrock=bedrock, ledger=ledger, now=NOW)
    return run, bedrock, ledger, job, deployment


def test_tear_down_deletes_the_deployment_first_and_keeps_the_model_by_default():
    run, bedrock, ledger, job, deployment = deployed_run()
    outcome = tear_down(StepInput(run=run, job=job, deployment=deployment), ledger=ledger, bedrock=bedrock)
    assert outcome.deleted == [{"type": "provisioned_throughput", "id": deployment.name}]
    assert outcome.retained == [{"type": "custom_model", "id": run.names.custom_model_name}]
    deletes = [call for call in bedrock.calls if call[0].startswith("delete")]
    assert deletes == [("delete_provisioned_throughput", deployment.arn)]
    # Run again (a retried step): nothing left to delete, nothing fails.
    again = tear_down(StepInput(run=run, job=job, deployment=deployment), ledger=ledger, bedrock=bedrock)
    assert again.deleted == [] and again.already_gone == []


def summary(promoted: bool) -> EvaluationSummary:
    return EvaluationSummary(
        samples=5, failed=0, source="s3://b/t", base_model="m", custom_model="c", primary_metric="rougeL", base={}, custom={},
        delta=0.1, ci95=[0.0, 0.2], promoted=promoted, why="w", custom_is_better=promoted, verdict="v", training_flags=[],
        report_uri=None, report_html_uri=None,
    )


@pytest.mark.parametrize(("promoted", "deleted"), [(False, True), (True, False)])
def test_a_rejected_model_is_deleted_only_when_the_request_says_so(promoted, deleted):
    run, bedrock, ledger, job, deployment = deployed_run(teardown={"delete_rejected_model": True})
    state = StepInput(run=run, job=job, deployment=deployment, evaluation=summary(promoted))
    outcome = tear_down(state, ledger=ledger, bedrock=bedrock)
    assert ({"type": "custom_model", "id": run.names.custom_model_name} in outcome.deleted) is deleted


def test_tear_down_stops_a_job_still_training_and_reads_the_caught_error():
    run, bedrock, ledger = run_context(), FakeBedrock(), FakeLedger()
    submit_job(run, role_arn=ROLE, bedrock=bedrock, ledger=ledger, store=FakeStore())
    error = {"Error": "DeploymentFailedError", "Cause": json.dumps({"errorMessage": "no capacity"})}
    outcome = tear_down(StepInput(run=run, error=error), ledger=ledger, bedrock=bedrock)
    assert outcome.stopped == [{"type": "customization_job", "id": run.names.job_name}]
    assert (outcome.failure.error, outcome.failure.cause) == ("DeploymentFailedError", "no capacity")


def test_a_resource_already_gone_counts_as_deleted():
    run, bedrock, ledger, job, deployment = deployed_run()
    del bedrock.resources[deployment.arn]  # deleted by hand
    outcome = clean_up_run(run.execution_name, delete_custom_model=False, ledger=ledger, bedrock=bedrock)
    assert outcome.already_gone == [{"type": "provisioned_throughput", "id": deployment.name}] and outcome.deleted == []
    assert ledger.status(run.execution_name, ResourceKind.PROVISIONED_THROUGHPUT, deployment.name) == "gone"


def test_the_cleanup_after_an_aborted_run_reads_its_options_from_the_ledger():
    run, bedrock, ledger, job, deployment = deployed_run()
    assert clean_up_after(run.execution_name, ledger=ledger, bedrock=bedrock) is None  # never passed validation
    ledger.record_run(run.execution_name, {"delete_custom_model": True})
    outcome = clean_up_after(run.execution_name, ledger=ledger, bedrock=bedrock)
    assert {r["type"] for r in outcome.deleted} == {"provisioned_throughput", "custom_model"}


# -- the janitor --------------------------------------------------------------------------------


def test_the_janitor_deletes_only_this_stacks_deployments_whose_run_ended_or_expired():
    bedrock, ledger = FakeBedrock(), FakeLedger()
    ours = {TAG_STACK: "Stack"}
    running = bedrock.add(ResourceKind.PROVISIONED_THROUGHPUT, "pt-running", "InService", tags={**ours, TAG_EXECUTION: "live"})
    expired = bedrock.add(ResourceKind.PROVISIONED_THROUGHPUT, "pt-expired", "InService",
                          tags={**ours, TAG_EXECUTION: "long", TAG_EXPIRES: "2026-12-01T11:00:00Z"})
    finished = bedrock.add(ResourceKind.CUSTOM_MODEL_DEPLOYMENT, "deploy-done", "Active", tags={**ours, TAG_EXECUTION: "done"})
    foreign = bedrock.add(ResourceKind.PROVISIONED_THROUGHPUT, "pt-theirs", "InService", tags={TAG_STACK: "Other"})
    executions = FakeExecutions({"live": "RUNNING", "long": "RUNNING", "done": "SUCCEEDED"})

    report = sweep(stack_name="Stack", bedrock=bedrock, executions=executions, ledger=ledger, now=NOW)

    assert {r["id"]: r["reason"] for r in report.deleted} == {"pt-expired": "its time limit passed",
                                                               "deploy-done": "its run is SUCCEEDED"}
    assert [r["id"] for r in report.kept] == ["pt-running"] and report.untouched_foreign == 1
    assert running in bedrock.resources and foreign in bedrock.resources
    assert expired not in bedrock.resources and finished not in bedrock.resources
    assert ledger.status("done", ResourceKind.CUSTOM_MODEL_DEPLOYMENT, "deploy-done") == "deleted"


# -- request files ------------------------------------------------------------------------------


def test_a_request_file_starts_one_run_per_key_and_version_and_a_bad_one_leaves_a_rejection():
    valid = json.dumps({"base_model": "nova-lite", "training_data": f"s3://{BUCKET}/data/train.jsonl"}).encode()
    store = FakeStore({f"s3://{BUCKET}/requests/a.json": valid, f"s3://{BUCKET}/requests/bad.json": b'{"base_model": "gpt-4"}'})
    # (an unknown model is named even beside a missing field)
    executions, notifier = FakeExecutions(), FakeNotifier()

    first = start_from_request_file(BUCKET, "requests/a.json", "v1", store=store, executions=executions, notifier=notifier)
    again = start_from_request_file(BUCKET, "requests/a.json", "v1", store=store, executions=executions, notifier=notifier)
    bad = start_from_request_file(BUCKET, "requests/bad.json", "v1", store=store, executions=executions, notifier=notifier)

    assert first.started and not again.started and again.duplicate and len(executions.started) == 1
    assert not bad.started and "unknown base model 'gpt-4'" in bad.rejected
    assert store.read_text(f"s3://{BUCKET}/requests/bad.rejected.txt").startswith("requests/bad.json was not started")
    assert [subject for subject, _ in notifier.sent] == ["Rejected request requests/bad.json"]
