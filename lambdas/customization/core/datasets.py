"""Dataset records per data format: structural checks with line numbers, and the
prompt/reference pairs the evaluation scores.

The full rule set (record counts, token estimates, media, reserved words) grows here; every
problem names its 1-based line and the rule it breaks.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from customization.registry import DataFormat

MAX_LISTED_PROBLEMS = 20


@dataclass(frozen=True)
class Problem:
    line: int
    rule: str
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.rule}: {self.message}"


@dataclass
class DatasetReport:
    records: int = 0
    problems: list[Problem] = field(default_factory=list)
    problem_count: int = 0

    @property
    def valid(self) -> bool:
        return self.problem_count == 0 and self.records > 0

    def add(self, problem: Problem) -> None:
        self.problem_count += 1
        if len(self.problems) < MAX_LISTED_PROBLEMS:
            self.problems.append(problem)

    def describe(self, name: str) -> str:
        if self.records == 0 and self.problem_count == 0:
            return f"{name}: the file holds no records"
        listed = "; ".join(str(p) for p in self.problems)
        more = self.problem_count - len(self.problems)
        return f"{name}: {self.problem_count} problem(s): {listed}" + (f"; and {more} more" if more else "")


@dataclass(frozen=True)
class Sample:
    """One evaluation sample: Converse `system` and `messages`, and the reference answer."""

    system: list[dict[str, str]]
    messages: list[dict[str, Any]]
    reference: str


def _text_blocks(content: Any) -> list[dict[str, str]]:
    return [{"text": block["text"]} for block in content if isinstance(block, dict) and "text" in block]


def _check_turns(roles: list[Any]) -> str | None:
    if not roles:
        return "messages must not be empty"
    for index, role in enumerate(roles):
        expected = "user" if index % 2 == 0 else "assistant"
        if role != expected:
            return f"messages[{index}].role is {role!r}; turns start with user and alternate user/assistant"
    if roles[-1] != "assistant":
        return "the last message must be the assistant's"
    return None


def _problems_conversation(record: dict[str, Any]) -> Iterator[tuple[str, str]]:
    unknown = set(record) - {"schemaVersion", "system", "messages"}
    if unknown:
        yield "unknown-field", f"unexpected field(s): {', '.join(sorted(unknown))}"
    system = record.get("system", [])
    if not isinstance(system, list) or not all(isinstance(b, dict) and isinstance(b.get("text"), str) for b in system):
        yield "system", 'system must be a list of {"text": "..."} blocks'
    messages = record.get("messages")
    if not isinstance(messages, list):
        yield "messages", "messages must be a list"
        return
    for index, message in enumerate(messages):
        if not isinstance(message, dict) or not isinstance(message.get("content"), list) or not message["content"]:
            yield "content", f"messages[{index}] needs a non-empty content list"
            return
        for block in message["content"]:
            if not isinstance(block, dict) or not ({"text", "image", "video"} & set(block)):
                yield "content", f"messages[{index}] has a content block without text, image or video"
                return
    problem = _check_turns([m.get("role") for m in messages])
    if problem:
        yield "roles", problem


def _problems_claude(record: dict[str, Any]) -> Iterator[tuple[str, str]]:
    unknown = set(record) - {"system", "messages"}
    if unknown:
        yield "unknown-field", f"unexpected field(s): {', '.join(sorted(unknown))}"
    if "system" in record and not isinstance(record["system"], str):
        yield "system", "system must be a string"
    messages = record.get("messages")
    if not isinstance(messages, list):
        yield "messages", "messages must be a list"
        return
    for index, message in enumerate(messages):
        if not isinstance(message, dict) or not isinstance(message.get("content"), str):
            yield "content", f"messages[{index}].content must be a string"
            return
    problem = _check_turns([m.get("role") for m in messages])
    if problem:
        yield "roles", problem


def _problems_fields(record: dict[str, Any], required: tuple[str, ...]) -> Iterator[tuple[str, str]]:
    for name in required:
        if not isinstance(record.get(name), str) or not record[name].strip():
            yield "required-field", f"{name!r} must be a non-empty string"
    unknown = set(record) - set(required)
    if unknown:
        yield "unknown-field", f"unexpected field(s): {', '.join(sorted(unknown))}"


def record_problems(record: Any, data_format: DataFormat) -> list[tuple[str, str]]:
    if not isinstance(record, dict):
        return [("json-object", "each line must be one JSON object")]
    if data_format == "conversation":
        return list(_problems_conversation(record))
    if data_format == "claude_messages":
        return list(_problems_claude(record))
    if data_format == "prompt_completion":
        return list(_problems_fields(record, ("prompt", "completion")))
    return list(_problems_fields(record, ("input",)))


def iter_records(lines: Iterable[bytes]) -> Iterator[tuple[int, Any, Problem | None]]:
    """(line number, parsed record or None, problem or None) for each non-blank line."""
    for number, raw in enumerate(lines, start=1):
        if not raw.strip():
            continue
        try:
            yield number, json.loads(raw.decode("utf-8")), None
        except UnicodeDecodeError:
            yield number, None, Problem(number, "utf-8", "the line is not valid UTF-8")
        except json.JSONDecodeError as exc:
            yield number, None, Problem(number, "json", f"not valid JSON ({exc.msg} at column {exc.colno})")


def validate_lines(lines: Iterable[bytes], data_format: DataFormat) -> DatasetReport:
    report = DatasetReport()
    for number, record, problem in iter_records(lines):
        report.records += 1
        if problem:
            report.add(problem)
            continue
        for rule, message in record_problems(record, data_format):
            report.add(Problem(number, rule, message))
    return report


def to_sample(record: dict[str, Any], data_format: DataFormat) -> Sample:
    """The prompt (every turn but the last) and the reference (the last assistant turn)."""
    if data_format == "conversation":
        *turns, last = record["messages"]
        messages = [{"role": t["role"], "content": _text_blocks(t["content"])} for t in turns]
        reference = " ".join(block["text"] for block in _text_blocks(last["content"]))
        return Sample(system=_text_blocks(record.get("system", [])), messages=messages, reference=reference)
    if data_format == "claude_messages":
        *turns, last = record["messages"]
        messages = [{"role": t["role"], "content": [{"text": t["content"]}]} for t in turns]
        system = [{"text": record["system"]}] if record.get("system") else []
        return Sample(system=system, messages=messages, reference=last["content"])
    if data_format == "prompt_completion":
        return Sample(system=[], messages=[_user(record["prompt"])], reference=record["completion"])
    words = record["input"].split()
    half = max(1, len(words) // 2)
    return Sample(
        system=[{"text": "Continue the text."}],
        messages=[_user(" ".join(words[:half]))],
        reference=" ".join(words[half:]),
    )


def _user(text: str) -> dict[str, Any]:
    return {"role": "user", "content": [{"text": text}]}


def read_samples(lines: Iterable[bytes], data_format: DataFormat, limit: int) -> list[Sample]:
    samples: list[Sample] = []
    for _, record, problem in iter_records(lines):
        if problem or record_problems(record, data_format):
            continue
        samples.append(to_sample(record, data_format))
        if len(samples) >= limit:
            break
    return samples
