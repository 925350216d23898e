"""Bedrock's model invocation logs as a distillation dataset: the log objects under a prefix
(JSON lines, gzipped as Bedrock writes them, or plain), each `ModelInvocationLog` record one
logged prompt with its response, its token counts and the request metadata the caller gave.

`check_logs` reads them as Bedrock will (the request's metadata filter, the teacher's own
responses when they are to be used) into the same DatasetReport a prompts file gets, so the
rest of Validate Request (the test set, the workload, the estimate) treats both alike.
The user guide's rules: at least 100 prompts (from any model), or 100 prompt-response pairs
from the teacher itself when its logged responses are used; Bedrock takes at most 15,000."""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterable
from typing import Any

from customization.datasets.report import DatasetReport
from customization.models.request import InvocationLogsSettings, MetadataCondition, MetadataFilter

LOG_SCHEMA = "ModelInvocationLog"
MIN_PROMPTS = 100
MAX_PROMPTS = 15_000


def _condition(metadata: dict[str, str], condition: MetadataCondition | MetadataFilter) -> bool:
    for key, value in (condition.equals or {}).items():
        if metadata.get(key) != value:
            return False
    return all(metadata.get(key) != value for key, value in (condition.not_equals or {}).items())


def passes(metadata: Any, rule: MetadataFilter | None) -> bool:
    """Whether a logged request's metadata passes the filter, as Bedrock's requestMetadataFilters
    read it: equals, notEquals, andAll or orAll of such conditions."""
    if rule is None:
        return True
    values = {str(k): str(v) for k, v in metadata.items()} if isinstance(metadata, dict) else {}
    if rule.all_of is not None:
        return all(_condition(values, condition) for condition in rule.all_of)
    if rule.any_of is not None:
        return any(_condition(values, condition) for condition in rule.any_of)
    return _condition(values, rule)


def _bare(model_id: str) -> str:
    """A logged model id, an ARN or a profile's, as the model id it names."""
    return model_id.rsplit("/", 1)[-1]


def _lines(body: bytes) -> list[bytes]:
    return (gzip.decompress(body) if body[:2] == b"\x1f\x8b" else body).splitlines()


def check_logs(
    settings: InvocationLogsSettings, objects: Iterable[tuple[str, bytes]], *, teacher_ids: set[str], teacher: str,
) -> DatasetReport:
    """The logs as the job's training data: what passes the filter, counted up to Bedrock's
    maximum (the objects after that are not read: production logs can be large), with tokens
    from the logs' own counts."""
    report = DatasetReport(role="training", source=settings.source)
    files = logged = passed = 0
    remaining = iter(objects)
    while passed < MAX_PROMPTS and (item := next(remaining, None)) is not None:
        key, body = item
        files += 1
        try:
            lines = _lines(body)
        except (OSError, EOFError):
            report.warn(0, "log-unreadable", f"{key} is neither JSON lines nor gzipped JSON lines; passed over")
            continue
        for number, raw in enumerate(lines, 1):
            if not raw.strip():
                continue
            try:
                entry = json.loads(raw)
            except ValueError:
                report.warn(number, "log-unreadable", f"{key} line {number} is not JSON; passed over")
                continue
            if not isinstance(entry, dict) or entry.get("schemaType") != LOG_SCHEMA:
                continue  # Bedrock also writes a permission-check object beside the logs
            logged += 1
            if not passes(entry.get("requestMetadata"), settings.metadata):
                continue
            if settings.use_responses and _bare(str(entry.get("modelId", ""))) not in teacher_ids:
                continue
            if passed >= MAX_PROMPTS:
                break
            passed += 1
            tokens = (entry.get("input") or {}).get("inputTokenCount") or 0
            if settings.use_responses:
                tokens += (entry.get("output") or {}).get("outputTokenCount") or 0
            report.estimated_tokens += int(tokens)
            report.max_record_tokens = max(report.max_record_tokens, int(tokens))
    report.records = report.lines = passed
    if files == 0:
        report.error(0, "invocation-logs", f"no objects under {settings.source}: turn on model invocation logging to it "
                     "(the stage's invocation_logging) and invoke models first")
    elif passed < MIN_PROMPTS:
        which = "pass the metadata filter" if settings.metadata else "are logged"
        if settings.use_responses:
            which += f" and were answered by the teacher {teacher} (its logged responses are to be used)"
        report.error(0, "invocation-logs", f"{passed} of the {logged} logged requests under {settings.source} {which}; "
                     f"distillation needs at least {MIN_PROMPTS}")
    if passed >= MAX_PROMPTS:
        report.warn(0, "invocation-logs-maximum", f"Bedrock distils from at most {MAX_PROMPTS:,} logged requests; the "
                    "estimate counts that many")
    return report
