"""The dataset validator: every documented rule of the base model's format, checked locally
and in the pipeline by the same code, before anything is spent.

It streams: one line in memory at a time, whatever the file size (the duplicate index is
bounded). Every problem names its 1-based line and the rule it breaks; warnings never fail
validation. Token counts are estimates (characters / the model's characters-per-token
rule) and are labelled as such.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from customization.registry import BaseModelSpec, CustomizationSpec, DataFormat, MediaRules

MAX_LISTED = 20
MAX_DUPLICATE_INDEX = 200_000  # above every model's record limit; bounds memory on huge files
CONVERSATION_FIELDS = frozenset({"schemaVersion", "system", "messages"})
S3_URI = re.compile(r"^s3://([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])/(.+)$")

# (uri) -> object size in bytes, or None when the object does not exist
MediaProbe = Callable[[str], "int | None"]


@dataclass(frozen=True)
class Finding:
    line: int
    rule: str
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {"line": self.line, "rule": self.rule, "message": self.message}

    def __str__(self) -> str:
        return f"line {self.line}: {self.rule}: {self.message}"


@dataclass
class DatasetReport:
    role: str
    source: str
    records: int = 0
    lines: int = 0
    size_bytes: int | None = None
    estimated_tokens: int = 0
    max_record_tokens: int = 0
    errors: list[Finding] = field(default_factory=list)
    error_count: int = 0
    warnings: list[Finding] = field(default_factory=list)
    warning_count: int = 0
    skipped: list[dict[str, str]] = field(default_factory=list)
    media_kinds: set[str] = field(default_factory=set)

    @property
    def valid(self) -> bool:
        return self.error_count == 0

    def error(self, line: int, rule: str, message: str) -> None:
        self.error_count += 1
        if len(self.errors) < MAX_LISTED:
            self.errors.append(Finding(line, rule, message))

    def warn(self, line: int, rule: str, message: str) -> None:
        self.warning_count += 1
        if len(self.warnings) < MAX_LISTED:
            self.warnings.append(Finding(line, rule, message))

    def skip(self, rule: str, reason: str) -> None:
        if all(s["rule"] != rule for s in self.skipped):
            self.skipped.append({"rule": rule, "reason": reason})

    def describe(self) -> str:
        """One line for an error message: the count, the first problems, the rest counted."""
        listed = "; ".join(str(f) for f in self.errors[:5])
        more = self.error_count - min(5, len(self.errors))
        return f"{self.role} data {self.source}: {self.error_count} problem(s): {listed}" + (f"; and {more} more" if more else "")

    def as_dict(self) -> dict[str, Any]:
        return {
            "role": self.role,
            "source": self.source,
            "valid": self.valid,
            "records": self.records,
            "size_bytes": self.size_bytes,
            "estimated_tokens": self.estimated_tokens,
            "max_record_tokens": self.max_record_tokens,
            "error_count": self.error_count,
            "errors": [f.as_dict() for f in self.errors],
            "warning_count": self.warning_count,
            "warnings": [f.as_dict() for f in self.warnings],
            "skipped": self.skipped,
        }


class ReservedScanner:
    """Finds reserved strings fast: a memchr-speed scan for each string's last character,
    and a suffix test only where that character occurs (a regex alternation or `in` per
    string costs more than parsing the record)."""

    def __init__(self, strings: tuple[str, ...]) -> None:
        by_last: dict[str, list[str]] = {}
        for value in strings:
            by_last.setdefault(value[-1], []).append(value)
        self._groups = [(last, tuple(values)) for last, values in by_last.items()]

    def search(self, text: str) -> str | None:
        for last, values in self._groups:
            position = text.find(last)
            while position != -1:
                if text.endswith(values, 0, position + 1):
                    return next(v for v in values if text.endswith(v, 0, position + 1))
                position = text.find(last, position + 1)
        return None


def _plural(count: int, word: str) -> str:
    return f"{count:,} {word}{'' if count == 1 else 's'}"


class RecordRules:
    """The checks of one base model, customization type and batch size, compiled once."""

    def __init__(
        self,
        model: BaseModelSpec,
        customization: CustomizationSpec,
        *,
        batch_size: int | None,
        dataset_bucket: str | None,
        media_probe: MediaProbe | None,
    ) -> None:
        self.model = model
        self.spec = customization
        self.format: DataFormat = customization.data_format
        self.chars_per_token = customization.limits.chars_per_token
        self.token_limit = customization.limits.tokens_limit(batch_size)
        self.batch_size = batch_size
        self.media: MediaRules | None = customization.media
        self.dataset_bucket = dataset_bucket
        self.media_probe = media_probe
        self.reserved = ReservedScanner(customization.reserved_strings) if customization.reserved_strings else None
        self.key_pattern = re.compile(self.media.key_pattern) if self.media and self.media.key_pattern else None
        self.check: Callable[[Any, int, DatasetReport], int] = {
            "conversation": self._conversation,
            "claude_messages": self._claude,
            "prompt_completion": self._prompt_completion,
            "continued_pretraining": self._continued_pretraining,
        }[self.format]

    # -- helpers -------------------------------------------------------------------------

    def _reserved(self, text: str, where: str, line: int, report: DatasetReport) -> None:
        if self.reserved is not None:
            found = self.reserved.search(text)
            if found:
                report.error(
                    line, "reserved-keyword",
                    f"{where} contains {found!r}, which {self.model.display_name} reserves; reword it",
                )

    def _tokens(self, chars: int) -> int:
        return math.ceil(chars / self.chars_per_token)

    # -- formats -------------------------------------------------------------------------

    def _prompt_completion(self, record: Any, line: int, report: DatasetReport) -> int:
        if type(record) is not dict:
            report.error(line, "json-object", "each line must be one JSON object")
            return 0
        prompt, completion = record.get("prompt"), record.get("completion")
        for name, value in (("prompt", prompt), ("completion", completion)):
            if type(value) is not str or not value.strip():
                report.error(line, "required-field", f'"{name}" must be a non-empty string')
        if len(record) != 2:
            extra = sorted(set(record) - {"prompt", "completion"})
            if extra:
                report.error(line, "unknown-field", f"unexpected field(s) {', '.join(extra)}; expected prompt and completion")
        chars = (len(prompt) if type(prompt) is str else 0) + (len(completion) if type(completion) is str else 0)
        return self._tokens(chars)

    def _continued_pretraining(self, record: Any, line: int, report: DatasetReport) -> int:
        if type(record) is not dict:
            report.error(line, "json-object", "each line must be one JSON object")
            return 0
        text = record.get("input")
        if type(text) is not str or not text.strip():
            report.error(line, "required-field", '"input" must be a non-empty string')
            text = ""
        if len(record) != 1:
            extra = sorted(set(record) - {"input"})
            if extra:
                report.error(line, "unknown-field", f"unexpected field(s) {', '.join(extra)}; expected only input")
        return self._tokens(len(text))

    def _turns(self, messages: Any, line: int, report: DatasetReport) -> list[dict[str, Any]] | None:
        if type(messages) is list and len(messages) == 2:  # the common single exchange, kept cheap
            first, second = messages
            if type(first) is dict and type(second) is dict and first.get("role") == "user" and second.get("role") == "assistant":
                return messages
        elif type(messages) is list and messages and all(type(m) is dict for m in messages):
            roles = [m.get("role") for m in messages]
            half = len(roles) // 2
            if len(roles) % 2 == 0 and roles[0::2].count("user") == half and roles[1::2].count("assistant") == half:
                return messages  # user/assistant alternating, user first, assistant last
        if type(messages) is not list or not messages:
            report.error(line, "messages", '"messages" must be a non-empty list of turns')
            return None
        roles = []
        for index, message in enumerate(messages):
            if type(message) is not dict:
                report.error(line, "messages", f"messages[{index}] must be an object with role and content")
                return None
            role = message.get("role")
            if role not in ("user", "assistant"):
                report.error(line, "role", f"messages[{index}].role is {role!r}; only user and assistant are allowed")
                return None
            roles.append(role)
        if roles[0] != "user":
            report.error(line, "turn-order", "the first turn must be the user's")
        elif roles[-1] != "assistant":
            report.error(line, "turn-order", "the last turn must be the assistant's")
        else:
            for index in range(1, len(roles)):
                if roles[index] == roles[index - 1]:
                    report.error(line, "turn-order", f"messages[{index}] repeats the role {roles[index]!r}; turns must alternate")
                    break
        return messages

    def _claude(self, record: Any, line: int, report: DatasetReport) -> int:
        if type(record) is not dict:
            report.error(line, "json-object", "each line must be one JSON object")
            return 0
        extra = sorted(set(record) - {"system", "messages"})
        if extra:
            report.error(line, "unknown-field", f"unexpected field(s) {', '.join(extra)}; expected system and messages")
        chars = 0
        if "system" in record:
            system = record["system"]
            if type(system) is not str:
                report.error(line, "system", '"system" must be a string for Claude 3 Haiku')
            else:
                chars += len(system)
                self._reserved(system, "system", line, report)
        messages = self._turns(record.get("messages"), line, report)
        for index, message in enumerate(messages or ()):
            content = message.get("content")
            if type(content) is not str:
                report.error(line, "content", f"messages[{index}].content must be a string for Claude 3 Haiku, not a block list")
                continue
            if not content.strip():
                report.error(line, "content", f"messages[{index}].content is empty")
            chars += len(content)
            self._reserved(content, f"messages[{index}].content", line, report)
        return self._tokens(chars)

    def _conversation(self, record: Any, line: int, report: DatasetReport) -> int:
        if type(record) is not dict:
            report.error(line, "json-object", "each line must be one JSON object")
            return 0
        if not record.keys() <= CONVERSATION_FIELDS:
            extra = sorted(set(record) - CONVERSATION_FIELDS)
            report.error(line, "unknown-field", f"unexpected field(s) {', '.join(extra)}; expected schemaVersion, system, messages")
        if type(record.get("schemaVersion")) is not str:
            report.error(line, "schema-version", '"schemaVersion" must be a string, e.g. "bedrock-conversation-2024"')
        chars = 0
        prompts: list[str] = []  # user and system texts, searched once for reserved keywords
        system = record.get("system", [])
        if type(system) is not list:
            report.error(line, "system", '"system" must be a list of {"text": ...} blocks')
        else:
            for index, block in enumerate(system):
                text = block.get("text") if type(block) is dict and len(block) == 1 else None
                if type(text) is not str:
                    report.error(line, "system", f'system[{index}] must be {{"text": "..."}}')
                    continue
                chars += len(text)
                prompts.append(text)
        messages = self._turns(record.get("messages"), line, report)
        images = videos = 0
        for index, message in enumerate(messages or ()):
            content = message.get("content")
            if type(content) is not list or not content:
                report.error(line, "content", f"messages[{index}].content must be a non-empty list of blocks")
                continue
            from_user = message["role"] == "user"
            position = -1
            for block in content:
                position += 1
                if type(block) is dict and len(block) == 1:
                    text = block.get("text")
                    if type(text) is str:  # the common case, kept cheap
                        chars += len(text)
                        if from_user:
                            prompts.append(text)
                        continue
                    kind, value = next(iter(block.items()))
                else:
                    kind, value = None, None
                where = f"messages[{index}].content[{position}]"
                if kind is None:
                    report.error(line, "content-block", f"{where} must hold exactly one of text, image or video")
                elif kind == "text":
                    report.error(line, "content-block", f"{where}.text must be a string")
                elif kind in ("image", "video"):
                    if not from_user:
                        report.error(line, "media-in-assistant", f"{where}: assistant turns may not carry {kind}s")
                    elif self._media_block(kind, value, where, line, report):
                        images += kind == "image"
                        videos += kind == "video"
                elif kind == "reasoningContent" and not from_user and self.model.model_id.startswith("amazon.nova-2"):
                    continue
                else:
                    report.error(line, "content-block", f"{where} has an unsupported block type {kind!r}")
        if self.reserved is not None:
            search = self.reserved.search
            for text in prompts:
                if search(text):
                    self._locate_reserved(record, line, report)
                    break
        if images or videos:
            self._count_media(images, videos, line, report)
        return self._tokens(chars)

    def _locate_reserved(self, record: dict[str, Any], line: int, report: DatasetReport) -> None:
        """The rare path: name the field that holds the reserved keyword."""
        for index, block in enumerate(record.get("system") or ()):
            self._reserved(block["text"], f"system[{index}].text", line, report)
        for index, message in enumerate(record.get("messages") or ()):
            if message.get("role") == "user":
                for position, block in enumerate(message.get("content") or ()):
                    if type(block) is dict and type(block.get("text")) is str:
                        self._reserved(block["text"], f"messages[{index}].content[{position}].text", line, report)

    def _count_media(self, images: int, videos: int, line: int, report: DatasetReport) -> None:
        media = self.media
        if media is None:
            return
        if images > media.max_images_per_record:
            report.error(line, "too-many-images", f"{images} images; at most {media.max_images_per_record} per record")
        if videos > media.max_videos_per_record:
            report.error(line, "too-many-videos", f"{videos} videos; at most {media.max_videos_per_record} per record")
        if images and videos and not media.mixed_media:
            report.error(line, "mixed-media", "a record may hold images or a video, not both")
        for kind, count in (("image", images), ("video", videos)):
            if count:
                if kind not in report.media_kinds and report.media_kinds and not media.mixed_media:
                    report.error(line, "mixed-media", f"the dataset already holds {next(iter(report.media_kinds))}s; it may not also hold {kind}s")
                report.media_kinds.add(kind)

    def _media_block(self, kind: str, value: Any, where: str, line: int, report: DatasetReport) -> bool:
        media = self.media
        if media is None or not (media.images if kind == "image" else media.video):
            report.error(line, "media-unsupported", f"{where}: {self.model.display_name} takes no {kind}s")
            return False
        formats = media.image_formats if kind == "image" else media.video_formats
        if type(value) is not dict or value.get("format") not in formats:
            got = value.get("format") if type(value) is dict else value
            report.error(line, f"{kind}-format", f"{where}: format {got!r}; allowed: {', '.join(formats)}")
            return False
        location = value.get("source", {}).get("s3Location", {}) if type(value.get("source")) is dict else {}
        uri = location.get("uri") if type(location) is dict else None
        match = S3_URI.match(uri) if type(uri) is str else None
        if not match:
            report.error(line, f"{kind}-source", f'{where}: needs "source": {{"s3Location": {{"uri": "s3://bucket/key"}}}}')
            return False
        bucket, key = match.groups()
        if self.key_pattern and not self.key_pattern.match(key):
            report.error(line, "media-key", f"{where}: {uri} may use only letters, digits and _ - / . in its key")
        if media.same_bucket:
            if self.dataset_bucket is None:
                report.skip("media-bucket", "the dataset is a local file, so its bucket is not known")
            elif bucket != self.dataset_bucket:
                report.error(line, "media-bucket", f"{where}: {uri} must sit in the dataset's bucket {self.dataset_bucket}")
        if self.media_probe is None:
            report.skip("media-size", "media objects can only be checked when the dataset is in S3")
        else:
            size = self.media_probe(uri)
            limit = media.max_image_bytes if kind == "image" else media.max_video_bytes
            if size is None:
                report.error(line, "media-missing", f"{where}: {uri} does not exist or cannot be read")
            elif size > limit:
                report.error(line, "media-size", f"{where}: {uri} is {size:,} bytes; the limit is {limit:,}")
        return True


def validate_dataset(
    lines: Iterable[bytes],
    rules: RecordRules,
    *,
    role: str = "training",
    source: str = "",
    size_bytes: int | None = None,
) -> DatasetReport:
    """Check every line of one dataset, then the dataset-wide limits of its role."""
    report = DatasetReport(role=role, source=source, size_bytes=size_bytes)
    limits = rules.spec.limits
    record_range = {"training": limits.training_records, "validation": limits.validation_records}.get(role)
    max_records = record_range.max if record_range else None
    seen: dict[int, int] = {}
    check, token_limit, loads = rules.check, rules.token_limit, json.loads
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
    if len(seen) >= MAX_DUPLICATE_INDEX:
        report.skip("duplicate", f"duplicates are looked for in the first {MAX_DUPLICATE_INDEX:,} records only")
    if report.records == 0:
        report.error(max(number, 1), "empty", "the file holds no records")
    elif record_range and record_range.min and report.records < record_range.min:
        report.error(
            number, "record-count",
            f"{_plural(report.records, role + ' record')}; {rules.model.display_name} needs at least {record_range.min:,}",
        )
    file_limit = {"training": limits.training_file_bytes, "validation": limits.validation_file_bytes}.get(role)
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
    media_probe: MediaProbe | None = None,
) -> list[DatasetReport]:
    reports = []
    for source in sources:
        rules = RecordRules(model, customization, batch_size=batch_size, dataset_bucket=source.bucket, media_probe=media_probe)
        if source.role == "validation" and customization.limits.validation_records is None:
            report = DatasetReport(role="validation", source=source.name)
            report.error(1, "validation-set", f"{model.display_name} takes no validation set for this customization")
        else:
            report = validate_dataset(source.lines(), rules, role=source.role, source=source.name, size_bytes=source.size_bytes)
        reports.append(report)
    by_role = {r.role: r for r in reports}
    if "training" in by_role:
        rules = RecordRules(model, customization, batch_size=batch_size, dataset_bucket=None, media_probe=None)
        check_totals(by_role["training"], by_role.get("validation"), rules)
    return reports
