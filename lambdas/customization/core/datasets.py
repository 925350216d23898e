"""Evaluation samples from dataset records: the prompt (every turn but the last) and the
reference answer (the last assistant turn), in the Converse API's shape."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from customization.registry import DataFormat


@dataclass(frozen=True)
class Sample:
    system: list[dict[str, str]]
    messages: list[dict[str, Any]]
    reference: str


def _text_blocks(content: Any) -> list[dict[str, str]]:
    return [{"text": block["text"]} for block in content if isinstance(block, dict) and isinstance(block.get("text"), str)]


def _user(text: str) -> dict[str, Any]:
    return {"role": "user", "content": [{"text": text}]}


def to_sample(record: dict[str, Any], data_format: DataFormat) -> Sample:
    """Raises KeyError, TypeError or ValueError for a record that does not fit the format."""
    if data_format == "conversation":
        *turns, last = record["messages"]
        messages = [{"role": t["role"], "content": _text_blocks(t["content"])} for t in turns]
        reference = " ".join(block["text"] for block in _text_blocks(last["content"]))
        return Sample(system=_text_blocks(record.get("system", [])), messages=messages, reference=reference)
    if data_format == "claude_messages":
        *turns, last = record["messages"]
        messages = [{"role": t["role"], "content": [{"text": t["content"]}]} for t in turns]
        system = [{"text": record["system"]}] if record.get("system") else []
        return Sample(system=system, messages=messages, reference=str(last["content"]))
    if data_format == "prompt_completion":
        return Sample(system=[], messages=[_user(record["prompt"])], reference=str(record["completion"]))
    words = record["input"].split()
    if len(words) < 2:
        raise ValueError("too short to split into a prompt and a continuation")
    half = len(words) // 2
    return Sample(system=[{"text": "Continue the text."}], messages=[_user(" ".join(words[:half]))], reference=" ".join(words[half:]))


def iter_samples(lines: Iterable[bytes], data_format: DataFormat) -> Iterator[Sample]:
    """Samples of the records that parse and fit the format; others are passed over (the
    validator has already reported them)."""
    for raw in lines:
        if not raw.strip():
            continue
        try:
            sample = to_sample(json.loads(raw), data_format)
        except (ValueError, KeyError, TypeError, IndexError, AttributeError):
            continue
        if sample.messages and sample.messages[-1]["role"] == "user" and sample.reference:
            yield sample


def read_samples(lines: Iterable[bytes], data_format: DataFormat, limit: int) -> list[Sample]:
    samples = []
    for sample in iter_samples(lines, data_format):
        samples.append(sample)
        if len(samples) >= limit:
            break
    return samples
