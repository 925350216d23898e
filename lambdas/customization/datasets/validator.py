"""The dataset validator: every documented rule of the base model's format, checked locally
and in the pipeline by the same code, before anything is spent.

It streams: one line in memory at a time, whatever the file size (the duplicate index is
bounded). Every problem names its 1-based line and the rule it breaks; warnings never fail
validation. Token counts are estimates (characters / the model's characters-per-token
rule) and are labelled as such. What a record must look like is its format's business
(`formats/`); this module owns what holds for every format: JSON lines, counts, sizes,
duplicates and the token limit.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from customization.datasets.formats import format_for
from customization.datasets.media import MediaLookups
from customization.datasets.report import DatasetReport
from customization.datasets.rules import RecordRules
from customization.models.s3 import S3_URI
from customization.registry import BaseModelSpec, CustomizationSpec, HyperparameterSpec
from customization.vocabulary import DataRole

MAX_DUPLICATE_INDEX = 200_000  # above every model's record limit; bounds memory on huge files


def _plural(count: int, word: str) -> str:
    return f"{count:,} {word}{'' if count == 1 else 's'}"


def batch_size_for(overrides: dict[str, object], hyperparameters: dict[str, HyperparameterSpec]) -> int | None:
    """The batch size the job will train with (the request's, else the model's default), which
    picks the token limit per record; None for a model without one."""
    if "batchSize" in overrides:
        return int(float(str(overrides["batchSize"])))
    spec = hyperparameters.get("batchSize")
    return int(float(spec.default)) if spec else None


def validate_dataset(
    lines: Iterable[bytes],
    rules: RecordRules,
    *,
    role: str = DataRole.TRAINING,
    source: str = "",
    size_bytes: int | None = None,
) -> DatasetReport:
    """Check every line of one dataset, then the dataset-wide limits of its role."""
    report = DatasetReport(role=role, source=source, size_bytes=size_bytes)
    limits = rules.spec.limits
    record_range = {DataRole.TRAINING: limits.training_records, DataRole.VALIDATION: limits.validation_records}.get(role)
    max_records = record_range.max if record_range else None
    seen: dict[int, int] = {}
    check, token_limit, loads = format_for(rules.format)(rules).check, rules.token_limit, json.loads
    number = 0
    for number, raw in enumerate(lines, start=1):  # noqa: B007 - number is read after the loop
        if not raw or raw.isspace():
            report.warn(number, "blank-line", "blank line ignored")
            continue
        report.records += 1
        if max_records is not None and report.records == max_records + 1:
            report.error(number, "record-count", f"more than {max_records:,} {role} records, the most {rules.model.display_name} accepts")
        key = hash(raw)
        first = seen.get(key)
        if first is not None:
            report.warn(number, "duplicate", f"same record as line {first}")
        elif len(seen) < MAX_DUPLICATE_INDEX:
            seen[key] = number
        try:
            record = loads(raw)
        except UnicodeDecodeError:
            report.error(number, "utf-8", "the line is not valid UTF-8")
            continue
        except ValueError as exc:
            message = exc.msg if isinstance(exc, json.JSONDecodeError) else str(exc)
            report.error(number, "json", f"not valid JSON: {message}")
            continue
        tokens = check(record, number, report)
        report.estimated_tokens += tokens
        if tokens > report.max_record_tokens:
            report.max_record_tokens = tokens
        if tokens > token_limit:
            batch = f" at batch size {rules.batch_size}" if len(limits.tokens_per_record) > 1 else ""
            report.error(
                number, "tokens",
                f"about {tokens:,} tokens (estimated at {rules.chars_per_token:g} characters per token) exceeds the "
                f"{token_limit:,}-token limit per record{batch}",
            )
    report.lines = number
    rules.finish(report)
    if len(seen) >= MAX_DUPLICATE_INDEX:
        report.skip("duplicate", f"duplicates are looked for in the first {MAX_DUPLICATE_INDEX:,} records only")
    if report.records == 0:
        report.error(max(number, 1), "empty", "the file holds no records")
    elif record_range and record_range.min and report.records < record_range.min:
        report.error(
            number, "record-count",
            f"{_plural(report.records, role + ' record')}; {rules.model.display_name} needs at least {record_range.min:,}",
        )
    advice = rules.spec.advice
    if role == DataRole.VALIDATION and advice and advice.min_validation_records and 0 < report.records < advice.min_validation_records:
        report.warn(number, "validation-record-count", f"{_plural(report.records, 'validation record')}; {advice.source}")
    file_limit = {DataRole.TRAINING: limits.training_file_bytes, DataRole.VALIDATION: limits.validation_file_bytes}.get(role)
    if size_bytes is not None and file_limit is not None and size_bytes > file_limit:
        report.error(number, "file-size", f"{size_bytes:,} bytes; the {role} file may be at most {file_limit:,} bytes")
    return report


def check_totals(training: DatasetReport, validation: DatasetReport | None, rules: RecordRules) -> None:
    """Limits on training and validation records together (reported on the validation set)."""
    total = rules.spec.limits.total_records
    if total is None:
        return
    count = training.records + (validation.records if validation else 0)
    target = validation or training
    if total.max is not None and count > total.max:
        target.error(target.lines, "total-record-count", f"{count:,} training and validation records; at most {total.max:,} together")
    if total.min is not None and count < total.min:
        target.error(target.lines, "total-record-count", f"{count:,} training and validation records; at least {total.min:,} together")


def check_object_key(source: DatasetSource, customization: CustomizationSpec, model: BaseModelSpec, report: DatasetReport) -> None:
    """The dataset's own S3 key follows the model's character set, as its media keys do."""
    pattern = customization.dataset_key_pattern
    match = S3_URI.match(source.name) if source.bucket else None
    if pattern and match and not re.match(pattern, match["key"]):
        report.error(1, "object-key", f"the object key {match['key']!r} may use only letters, digits and _ - / . for {model.display_name}")


@dataclass(frozen=True)
class DatasetSource:
    """One dataset to validate: its role (training, validation or test), a name for messages,
    its lines (streamed), its size when known and its S3 bucket when it is in S3."""

    role: str
    name: str
    lines: Callable[[], Iterable[bytes]]
    size_bytes: int | None = None
    bucket: str | None = None


def validate_sources(
    model: BaseModelSpec,
    customization: CustomizationSpec,
    sources: list[DatasetSource],
    *,
    batch_size: int | None,
    media: MediaLookups | None = None,
) -> list[DatasetReport]:
    reports = []
    for source in sources:
        rules = RecordRules(model, customization, batch_size=batch_size, dataset_bucket=source.bucket, media=media)
        if source.role == DataRole.VALIDATION and customization.limits.validation_records is None:
            report = DatasetReport(role=DataRole.VALIDATION, source=source.name)
            report.error(1, "validation-set", f"{model.display_name} takes no validation set for this customization")
        else:
            report = validate_dataset(source.lines(), rules, role=source.role, source=source.name, size_bytes=source.size_bytes)
        check_object_key(source, customization, model, report)
        reports.append(report)
    by_role = {r.role: r for r in reports}
    if DataRole.TRAINING in by_role:
        rules = RecordRules(model, customization, batch_size=batch_size, dataset_bucket=None, media=None)
        check_totals(by_role[DataRole.TRAINING], by_role.get(DataRole.VALIDATION), rules)
    return reports
