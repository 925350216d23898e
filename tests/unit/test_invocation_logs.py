"""Distillation from model invocation logs without AWS: the logs read as a dataset (the
metadata filter, the teacher's own responses, Bedrock's minimum and maximum), the request's
rules, the job's invocationLogsConfig and the estimate."""

from __future__ import annotations

import gzip
import json
from typing import Any

import pytest

from customization.core.costs import Workload, estimate_cost
from customization.core.jobs import invocation_logs_config, submit_job
from customization.core.request_rules import parse_request
from customization.datasets.invocation_logs import MAX_PROMPTS, check_logs, passes
from customization.errors import RequestInvalidError
from customization.models.request import InvocationLogsSettings, MetadataFilter
from customization.registry import load_registry
from tests.fakes import FakeBedrock, FakeLedger, FakeStore
from tests.runs import BUCKET, run_context

LOGS = f"s3://{BUCKET}/invocation-logs/AWSLogs/123456789012/BedrockModelInvocationLogs/"
TEACHER = {"amazon.nova-pro-v1:0"}


def logged(index: int, *, model: str = "amazon.nova-pro-v1:0", metadata: dict[str, str] | None = None) -> dict[str, Any]:
    return {"schemaType": "ModelInvocationLog", "modelId": model, "operation": "Converse", "requestId": f"r{index}",
            "requestMetadata": metadata or {"use_case": "support"},
            "input": {"inputTokenCount": 10, "inputBodyJson": {"messages": [{"role": "user", "content": [{"text": "q"}]}]}},
            "output": {"outputTokenCount": 5}}


def objects(*records: dict[str, Any], compress: bool = True) -> list[tuple[str, bytes]]:
    body = "".join(json.dumps(r) + "\n" for r in records).encode()
    return [("part-1.json.gz" if compress else "part-1.json", gzip.compress(body) if compress else body)]


def settings(**fields: Any) -> InvocationLogsSettings:
    return InvocationLogsSettings(source=LOGS, **fields)


def test_logs_under_the_prefix_are_the_training_data_with_their_token_counts():
    report = check_logs(settings(), objects(*[logged(i) for i in range(120)]), teacher_ids=TEACHER, teacher="Nova Pro")
    assert report.valid and report.records == 120 and report.estimated_tokens == 1200  # prompts only: input tokens
    both = check_logs(settings(use_responses=True), objects(*[logged(i) for i in range(120)], compress=False),
                      teacher_ids=TEACHER, teacher="Nova Pro")
    assert both.valid and both.estimated_tokens == 1800  # the logged responses are trained on too


def test_an_empty_prefix_and_too_few_prompts_are_refused_naming_the_rule():
    (empty,) = check_logs(settings(), [], teacher_ids=TEACHER, teacher="Nova Pro").errors
    assert empty.rule == "invocation-logs" and f"no objects under {LOGS}" in empty.message
    few = check_logs(settings(metadata={"equals": {"use_case": "support"}}),
                     objects(*[logged(i) for i in range(99)], *[logged(i, metadata={"use_case": "chat"}) for i in range(50)]),
                     teacher_ids=TEACHER, teacher="Nova Pro")
    assert "99 of the 149 logged requests under" in few.describe() and "pass the metadata filter" in few.describe()
    assert "at least 100" in few.describe()


def test_the_logged_responses_count_only_when_the_teacher_gave_them():
    records = [*[logged(i) for i in range(60)], *[logged(i, model="amazon.nova-lite-v1:0") for i in range(60)]]
    report = check_logs(settings(use_responses=True), objects(*records), teacher_ids=TEACHER, teacher="Amazon Nova Pro")
    assert not report.valid and "60 of the 120 logged requests" in report.describe()
    assert "answered by the teacher Amazon Nova Pro" in report.describe()
    profile = [logged(i, model="arn:aws:bedrock:us-east-1:123456789012:inference-profile/amazon.nova-pro-v1:0") for i in range(100)]
    assert check_logs(settings(use_responses=True), objects(*profile), teacher_ids=TEACHER, teacher="Nova Pro").valid


def test_unreadable_lines_and_other_objects_are_passed_over_with_a_warning():
    body = gzip.compress(b"not json\n" + "".join(json.dumps(logged(i)) + "\n" for i in range(100)).encode())
    check = json.dumps({"schemaType": "BedrockPermissionCheck"}).encode()
    report = check_logs(settings(), [("a.json.gz", body), ("check.json", check)], teacher_ids=TEACHER, teacher="x")
    assert report.valid and report.records == 100 and [w.rule for w in report.warnings] == ["log-unreadable"]


def test_bedrock_distils_from_at_most_its_maximum(monkeypatch):
    import customization.datasets.invocation_logs as logs

    monkeypatch.setattr(logs, "MAX_PROMPTS", 150)

    def then_more():  # the objects after the maximum are never read
        yield from objects(*[logged(i) for i in range(200)])
        raise AssertionError("read past Bedrock's maximum")

    report = check_logs(settings(), then_more(), teacher_ids=TEACHER, teacher="x")
    assert report.records == 150 and [w.rule for w in report.warnings] == ["invocation-logs-maximum"]
    assert MAX_PROMPTS == 15_000


@pytest.mark.parametrize(("rule", "metadata", "expected"), [
    ({"equals": {"team": "a"}}, {"team": "a"}, True),
    ({"equals": {"team": "a"}}, {"team": "b"}, False),
    ({"not_equals": {"team": "a"}}, {}, True),
    ({"all_of": [{"equals": {"team": "a"}}, {"not_equals": {"stage": "test"}}]}, {"team": "a", "stage": "prod"}, True),
    ({"all_of": [{"equals": {"team": "a"}}, {"not_equals": {"stage": "test"}}]}, {"team": "a", "stage": "test"}, False),
    ({"any_of": [{"equals": {"team": "a"}}, {"equals": {"team": "b"}}]}, {"team": "b"}, True),
    ({"any_of": [{"equals": {"team": "a"}}, {"equals": {"team": "b"}}]}, {"team": "c"}, False),
])
def test_the_metadata_filter_reads_as_bedrocks_request_metadata_filters(rule, metadata, expected):
    assert passes(metadata, MetadataFilter.model_validate(rule)) is expected


@pytest.mark.parametrize(("rule", "config"), [
    ({"equals": {"team": "a"}}, {"equals": {"team": "a"}}),
    ({"all_of": [{"equals": {"team": "a"}, "not_equals": {"stage": "test"}}]},
     {"andAll": [{"equals": {"team": "a"}, "notEquals": {"stage": "test"}}]}),
    ({"any_of": [{"not_equals": {"team": "a"}}]}, {"orAll": [{"notEquals": {"team": "a"}}]}),
])
def test_the_job_gets_the_filter_as_the_api_union(rule, config):
    rendered = invocation_logs_config(settings(use_responses=True, metadata=rule))
    assert rendered == {"invocationLogSource": {"s3Uri": LOGS}, "usePromptResponse": True, "requestMetadataFilters": config}


def distil(**changes: Any) -> dict[str, Any]:
    return {"base_model": "nova-micro", "customization_type": "DISTILLATION", "distillation": {"teacher": "nova-pro"},
            "invocation_logs": {"source": LOGS}, "test_data": f"s3://{BUCKET}/test.jsonl", **changes}


@pytest.mark.parametrize(("changes", "message"), [
    ({"training_data": f"s3://{BUCKET}/t.jsonl"}, "request: invocation_logs: give the logs or a prompts file"),
    ({"test_data": None}, "invocation_logs: give test_data too"),
    ({"customization_type": "FINE_TUNING", "distillation": None}, "invocation_logs: only a DISTILLATION run distils from"),
    ({"invocation_logs": {"source": LOGS, "metadata": {}}}, "give exactly one of equals, not_equals, all_of, any_of"),
    ({"invocation_logs": {"source": LOGS, "metadata": {"equals": {"a": "1", "b": "2"}}}}, "invocation_logs.metadata.equals"),
    ({"invocation_logs": {"source": "s3://other-bucket/logs/"}}, "outside the pipeline bucket"),
])
def test_bad_invocation_log_requests_are_refused_naming_the_field(changes, message):
    raw = {key: value for key, value in distil(**changes).items() if value is not None}
    with pytest.raises(RequestInvalidError) as caught:
        parse_request(raw, bucket=BUCKET)
    assert message in str(caught.value)


def test_without_an_evaluation_no_test_set_is_needed():
    raw = {key: value for key, value in distil(test_data=None, deployment={"mode": "none"}).items() if value is not None}
    assert parse_request(raw, bucket=BUCKET).invocation_logs.source == LOGS


def test_the_logged_responses_need_no_teacher_in_the_estimate():
    registry = load_registry()
    model = registry.resolve("nova-micro")
    for use_responses, teacher_lines in ((False, 2), (True, 0)):
        request = parse_request(distil(invocation_logs={"source": LOGS, "use_responses": use_responses}), bucket=BUCKET)
        estimate = estimate_cost(request, model, registry, Workload(1000, 5, 50.0, training_records=100), epochs=1)
        assert len([line for line in estimate.lines if line.item in ("teacher input", "teacher output")]) == teacher_lines


def test_submit_job_names_the_logs_not_a_training_file():
    run = run_context(base_model="nova-micro", customization_type="DISTILLATION", distillation={"teacher": "nova-pro"},
                      invocation_logs={"source": LOGS}, training_data=None)
    run = run.model_copy(update={"hyperparameters": {}})
    assert run.training_data == LOGS
    bedrock = FakeBedrock()
    submit_job(run, role_arn="arn:aws:iam::123456789012:role/b", bedrock=bedrock, ledger=FakeLedger(), store=FakeStore())
    (request,) = bedrock.job_requests
    assert request.invocation_logs == {"invocationLogSource": {"s3Uri": LOGS}, "usePromptResponse": False}
