"""From raw records to a dataset Bedrock accepts, for one base model and customization type.

Each raw record (a row of a CSV, a line of a JSONL file, a text document) is recognised by its
shape (OpenAI chat, ShareGPT, Alpaca, Dolly, prompt/completion, any Bedrock format) or read
through an explicit field mapping, becomes a canonical Dialogue, and is written in the target
model's format. The target format's own checks judge every written record, so what `prepare`
writes is what the validator accepts; a record that breaks a rule is dropped, and every record
dropped or changed is reported with its line or row and the rule. Streams: one record in memory
at a time (the duplicate index is bounded); the split is seeded and reproducible.
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from customization.datasets.formats import Dialogue, format_for
from customization.datasets.formats.base import Turn, UnfitRecord
from customization.datasets.report import DatasetReport
from customization.datasets.rules import RecordRules
from customization.datasets.validator import MAX_DUPLICATE_INDEX, batch_size_for
from customization.registry import BaseModelSpec, CustomizationSpec
from customization.vocabulary import DataRole

ROLES = ("prompt", "completion", "system", "image", "text")
_SENTENCE = re.compile(r"(?<=[.!?])\s+")
_PARAGRAPH = re.compile(r"\n\s*\n")


class ConversionError(ValueError):
    """The input cannot become a dataset for this model (a mapping names a missing field, ...)."""


@dataclass(frozen=True)
class RawRecord:
    where: str  # "line 3", "row 7", "notes.md"
    value: Any  # a dict (JSON object, CSV row) or a str (a text document)


@dataclass
class Change:
    where: str
    action: str  # dropped | changed
    rule: str
    reason: str

    def as_dict(self) -> dict[str, str]:
        return {"where": self.where, "action": self.action, "rule": self.rule, "reason": self.reason}


@dataclass
class ConversionReport:
    base_model: str
    customization_type: str
    data_format: str
    read: int = 0
    written: dict[str, int] = field(default_factory=dict)
    shapes: dict[str, int] = field(default_factory=dict)
    changes: list[Change] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def change(self, where: str, action: str, rule: str, reason: str) -> None:
        self.changes.append(Change(where, action, rule, reason))

    def as_dict(self) -> dict[str, Any]:
        dropped = sum(1 for c in self.changes if c.action == "dropped")
        return {
            "base_model": self.base_model, "customization_type": self.customization_type, "data_format": self.data_format,
            "records_read": self.read, "records_written": self.written, "records_dropped": dropped,
            "shapes": self.shapes, "notes": self.notes, "changes": [c.as_dict() for c in self.changes],
        }


# -- shapes people start from ----------------------------------------------------------------


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _chat(messages: Any, system: str | None = None) -> Dialogue | None:
    """OpenAI chat (and Claude's messages): role/content strings, system turns folded into the system prompt."""
    if not isinstance(messages, list) or not messages or not all(isinstance(m, dict) for m in messages):
        return None
    turns, systems = [], [system] if system else []
    for message in messages:
        role, content = message.get("role"), _text(message.get("content"))
        if content is None:
            return None
        if role == "system":
            systems.append(content)
        elif role in ("user", "assistant"):
            turns.append(Turn(role, content))
        else:
            return None
    return Dialogue(system="\n\n".join(systems) or None, turns=turns)


SHAREGPT_ROLES = {"human": "user", "user": "user", "gpt": "assistant", "assistant": "assistant", "system": "system"}
PLACEHOLDER = "<image>"


def _image_refs(value: Any) -> list[str]:
    if isinstance(value, str) and value:
        return [value]
    return [v for v in value if isinstance(v, str) and v] if isinstance(value, list) else []


def _with_images(turn: Turn, images: list[str]) -> Turn:
    """The record's images on its first user turn, at its `<image>` placeholders if it has them."""
    pieces = turn.text.split(PLACEHOLDER)
    if len(pieces) == 1:
        return Turn(turn.role, turn.text, images)
    if len(pieces) - 1 != len(images):
        raise ConversionError(f"{len(pieces) - 1} {PLACEHOLDER} placeholder(s) for {len(images)} image(s)")
    return Turn(turn.role, " ".join(p.strip() for p in pieces if p.strip()), images, [p.strip() for p in pieces])


def _sharegpt(record: dict[str, Any]) -> Dialogue | None:
    turns, systems = [], []
    for message in record["conversations"]:
        role = SHAREGPT_ROLES.get(str(message.get("from", "")).lower()) if isinstance(message, dict) else None
        value = _text(message.get("value")) if isinstance(message, dict) else None
        if role is None or value is None:
            return None
        if role == "system":
            systems.append(value)
        else:
            turns.append(Turn(role, value))  # type: ignore[arg-type]
    images = _image_refs(record.get("image") or record.get("images"))
    if images and turns and turns[0].role == "user":
        turns[0] = _with_images(turns[0], images)
    return Dialogue(system="\n\n".join(systems) or _text(record.get("system")), turns=turns)


def _exchange(prompt: str, answer: str, system: str | None = None) -> Dialogue:
    return Dialogue(system=system, turns=[Turn("user", prompt), Turn("assistant", answer)])


def _joined(*parts: Any) -> str:
    return "\n\n".join(part for part in parts if isinstance(part, str) and part.strip())


def recognise(record: Any) -> tuple[str, Dialogue] | None:
    """(shape, dialogue) of a raw record in a shape people start from, None if none fits."""
    if isinstance(record, str):
        return "text", Dialogue(text=record)
    if not isinstance(record, dict):
        return None
    messages = record.get("messages")
    if isinstance(messages, list) and messages and all(isinstance(m, dict) and isinstance(m.get("content"), list) for m in messages):
        try:
            return "bedrock-conversation", format_for("conversation").parse(record)
        except (KeyError, TypeError, ValueError):
            return None
    if messages is not None:
        dialogue = _chat(messages, _text(record.get("system")))
        return ("openai-chat", dialogue) if dialogue else None
    if isinstance(record.get("conversations"), list):
        dialogue = _sharegpt(record)
        return ("sharegpt", dialogue) if dialogue else None
    if isinstance(record.get("instruction"), str) and "output" in record:
        return "alpaca", _exchange(_joined(record["instruction"], record.get("input")), str(record["output"]))
    if isinstance(record.get("instruction"), str) and "response" in record:
        return "dolly", _exchange(_joined(record["instruction"], record.get("context")), str(record["response"]))
    if isinstance(record.get("prompt"), str) and "completion" in record:
        return "prompt-completion", _exchange(record["prompt"], str(record["completion"]))
    for key in ("input", "text"):
        if isinstance(record.get(key), str) and len(record) == 1:
            return "text", Dialogue(text=record[key])
    return None


def mapped(record: Any, mapping: dict[str, str]) -> Dialogue:
    """A record read through `--map ROLE=FIELD`; the fields were checked to exist."""
    if "text" in mapping:
        return Dialogue(text=str(record[mapping["text"]]))
    system = str(record[mapping["system"]]) if "system" in mapping and record.get(mapping["system"]) else None
    dialogue = _exchange(str(record[mapping["prompt"]]), str(record[mapping["completion"]]), system)
    images = _image_refs(record.get(mapping["image"])) if "image" in mapping else []
    if images:
        dialogue.turns[0] = _with_images(dialogue.turns[0], images)
    return dialogue


def check_roles(mapping: dict[str, str]) -> None:
    unknown = sorted(set(mapping) - set(ROLES))
    if unknown:
        raise ConversionError(f"--map: unknown role(s) {', '.join(unknown)}; roles are {', '.join(ROLES)}")
    if "text" not in mapping and not {"prompt", "completion"} <= set(mapping):
        raise ConversionError("--map: give prompt=FIELD and completion=FIELD (or text=FIELD for continued pre-training)")


def check_mapping(mapping: dict[str, str], fields: Iterable[str]) -> None:
    """Fail at once (before anything is written) for a role we do not know or a missing field."""
    check_roles(mapping)
    known = list(fields)
    missing = [f"{role}={name}" for role, name in mapping.items() if name not in known]
    if missing:
        raise ConversionError(f"--map: no field {', '.join(missing)} in the input; its fields are {', '.join(known)}")


# -- continued pre-training: chunks under the token limit, no text lost -------------------------


def chunks(text: str, max_chars: int) -> list[str]:
    """Paragraphs, then sentences, then words, packed into chunks of at most `max_chars`; pieces
    of one paragraph are joined by a space, paragraphs by a blank line, as in the text."""
    pieces: list[tuple[str, str]] = []  # (piece, what joins it to the one before)
    for paragraph in (p.strip() for p in _PARAGRAPH.split(text) if p.strip()):
        joiner = "\n\n"
        if len(paragraph) <= max_chars:
            pieces.append((paragraph, joiner))
            continue
        for sentence in _SENTENCE.split(paragraph):
            while len(sentence) > max_chars:  # a sentence longer than the limit: at a space, else hard
                cut = sentence.rfind(" ", 0, max_chars)
                cut = cut if cut > 0 else max_chars
                pieces.append((sentence[:cut], joiner))
                sentence, joiner = sentence[cut:].lstrip(), " "
            if sentence:
                pieces.append((sentence, joiner))
                joiner = " "
    packed: list[str] = []
    for piece, joiner in pieces:
        if packed and len(packed[-1]) + len(joiner) + len(piece) <= max_chars:
            packed[-1] += joiner + piece
        else:
            packed.append(piece)
    return packed


# -- the conversion ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ConversionOptions:
    # (where, image reference as the input gives it) -> the S3 URI the record will name; None: no
    # images can be resolved (the caller has no media root or URI)
    resolve_image: Callable[[str, str], str] | None = None
    mapping: dict[str, str] = field(default_factory=dict)
    system: str | None = None
    validation_fraction: float = 0.0
    test_fraction: float = 0.0
    seed: int = 42


class Converter:
    """Converts raw records for one model; `write(role, record)` receives what to write."""

    def __init__(
        self, model: BaseModelSpec, customization_type: str, options: ConversionOptions,
        write: Callable[[str, dict[str, Any]], None],
    ) -> None:
        self.model, self.options, self.write = model, options, write
        self.spec: CustomizationSpec = model.customization(customization_type)
        self.format = format_for(self.spec.data_format)
        self.rules = RecordRules(model, self.spec, batch_size=batch_size_for({}, self.spec.hyperparameters),
                                 dataset_bucket=None, media=None)
        self.checker = self.format(self.rules)
        self.report = ConversionReport(model.model_id, customization_type, self.spec.data_format)
        self._rng = random.Random(options.seed)
        self._seen: set[int] = set()
        validation = self.spec.limits.validation_records
        self._validation_max = (validation.max or 10**9) if validation is not None else 0
        if options.validation_fraction and self.spec.limits.validation_records is None:
            self.report.notes.append(f"{model.display_name} takes no validation set: no validation.jsonl is written")

    def convert(self, records: Iterable[RawRecord]) -> ConversionReport:
        for raw in records:
            self.report.read += 1
            for where, dialogue in self._dialogues(raw):
                self._emit(where, dialogue)
        return self.report

    def _dialogues(self, raw: RawRecord) -> Iterator[tuple[str, Dialogue]]:
        try:
            found = ("mapped", mapped(raw.value, self.options.mapping)) if self.options.mapping else recognise(raw.value)
        except ConversionError as exc:
            self.report.change(raw.where, "dropped", "image-placeholder", str(exc))
            return
        if found is None:
            self.report.change(raw.where, "dropped", "shape", "no known shape; name the fields with --map ROLE=FIELD")
            return
        shape, dialogue = found
        if any(turn.images for turn in dialogue.turns):
            try:
                self._resolve_images(raw.where, dialogue)
            except FileNotFoundError as exc:
                self.report.change(raw.where, "dropped", "image-missing", str(exc))
                return
        else:
            self._repair_placeholders(raw.where, dialogue)
        self.report.shapes[shape] = self.report.shapes.get(shape, 0) + 1
        if self.options.system and dialogue.text is None and not dialogue.system:
            dialogue.system = self.options.system
        if dialogue.text is not None and self.spec.data_format == "continued_pretraining":
            max_chars = int(self.rules.token_limit * self.rules.chars_per_token)
            parts = chunks(dialogue.text, max_chars)
            if len(parts) > 1:
                self.report.change(raw.where, "changed", "tokens", f"split into {len(parts)} records of at most "
                                   f"{self.rules.token_limit:,} tokens, on paragraph and sentence boundaries")
            for number, part in enumerate(parts, start=1):
                yield (f"{raw.where} part {number}" if len(parts) > 1 else raw.where), Dialogue(text=part)
            return
        yield raw.where, dialogue

    def _resolve_images(self, where: str, dialogue: Dialogue) -> None:
        media = self.spec.media
        if media is None or not media.images:
            raise ConversionError(f"{where}: the record has images; {self.model.display_name} takes no images "
                                  f"({self.spec.data_format} is text only here)")
        if self.options.resolve_image is None:
            raise ConversionError(f"{where}: the record has images, and nothing here says where they are")
        for turn in dialogue.turns:
            turn.images = [self.options.resolve_image(where, image) for image in turn.images]

    def _repair_placeholders(self, where: str, dialogue: Dialogue) -> None:
        """An `<image>` placeholder with no image is a reserved string to some models: removed, and said."""
        for turn in dialogue.turns:
            if PLACEHOLDER in turn.text:
                turn.text = turn.text.replace(PLACEHOLDER, "").strip()
                self.report.change(where, "changed", "image-placeholder", f"{PLACEHOLDER} without an image removed")

    def _emit(self, where: str, dialogue: Dialogue) -> None:
        if dialogue.turns and not dialogue.turns[-1].text.strip():
            self.report.change(where, "dropped", "empty-answer", "the answer is empty")
            return
        try:
            record = self.format.render(dialogue)
        except UnfitRecord as exc:
            self.report.change(where, "dropped", "format", f"{self.spec.data_format}: {exc}")
            return
        line = json.dumps(record, ensure_ascii=False)
        key = hash(line)
        if key in self._seen:
            self.report.change(where, "dropped", "duplicate", "the same record as an earlier one")
            return
        if len(self._seen) < MAX_DUPLICATE_INDEX:
            self._seen.add(key)
        scratch = DatasetReport(role=DataRole.TRAINING, source=where)
        tokens = self.checker.check(record, 1, scratch)
        if scratch.errors:
            problem = scratch.errors[0]
            self.report.change(where, "dropped", problem.rule, problem.message)
            return
        if tokens > self.rules.token_limit:
            self.report.change(where, "dropped", "tokens", f"about {tokens:,} tokens; the limit is {self.rules.token_limit:,}")
            return
        role = self._split()
        self.report.written[role] = self.report.written.get(role, 0) + 1
        self.write(role, record)

    def _split(self) -> str:
        draw = self._rng.random()
        options = self.options
        if draw < options.test_fraction:
            return DataRole.TEST
        if draw < options.test_fraction + options.validation_fraction and self._validation_max:
            if self.report.written.get(DataRole.VALIDATION, 0) < self._validation_max:
                return DataRole.VALIDATION
        return DataRole.TRAINING
