"""`bedrock-conversation-2024`: Nova and Llama 3.2+ fine-tuning. System blocks, turns whose
contents are lists of text, image and video blocks (media in user turns only, from S3)."""

from __future__ import annotations

from typing import Any

from customization.datasets.formats.base import (
    DataFormat,
    Dialogue,
    Exchange,
    Turn,
    check_fields,
    check_object,
    check_turns,
)
from customization.datasets.report import DatasetReport

FIELDS = frozenset({"schemaVersion", "system", "messages"})
SCHEMA_VERSION = "bedrock-conversation-2024"
IMAGE_FORMATS = {"jpg": "jpeg", "jpeg": "jpeg", "png": "png", "gif": "gif", "webp": "webp"}
_ABSENT = object()


def _content(turn: Turn) -> list[dict[str, Any]]:
    """Text and image blocks in their order: the images where the text placed them, else first."""
    if not turn.segments:
        return [*(_image_block(uri) for uri in turn.images), {"text": turn.text}]
    blocks: list[dict[str, Any]] = []
    for index, piece in enumerate(turn.segments):
        if piece.strip():
            blocks.append({"text": piece.strip()})
        if index < len(turn.images):
            blocks.append(_image_block(turn.images[index]))
    return blocks if any("text" in block for block in blocks) else [*blocks, {"text": turn.text}]


def _image_block(uri: str) -> dict[str, Any]:
    extension = uri.rsplit(".", 1)[-1].lower()
    return {"image": {"format": IMAGE_FORMATS.get(extension, extension), "source": {"s3Location": {"uri": uri}}}}


def _text_blocks(content: Any) -> list[dict[str, str]]:
    return [{"text": block["text"]} for block in content if isinstance(block, dict) and isinstance(block.get("text"), str)]


def _prompt_blocks(content: Any) -> list[dict[str, Any]]:
    """A turn as the models are asked it: its text, and its images and videos (Converse's own
    block shapes, as the dataset holds them)."""
    return [{"text": block["text"]} if "text" in block else {kind: block[kind] for kind in ("image", "video") if kind in block}
            for block in content if isinstance(block, dict) and (isinstance(block.get("text"), str) or "image" in block or "video" in block)]


class Conversation(DataFormat):
    name = "conversation"
    description = "bedrock-conversation-2024: system blocks and turns of text, image and video blocks"

    def check(self, record: Any, line: int, report: DatasetReport) -> int:
        if not check_object(record, line, report):
            return 0
        check_fields(record, FIELDS, "schemaVersion, system, messages", line, report)
        rules = self.rules
        version = record.get("schemaVersion", _ABSENT)
        if version is not _ABSENT and type(version) is not str:  # optional, but a string when given
            report.error(line, "schema-version", '"schemaVersion" must be a string, e.g. "bedrock-conversation-2024"')
        expected = rules.advised_schema_version
        if expected is not None and version != expected:
            got = "missing" if version is _ABSENT else repr(version)
            report.warn(line, "schema-version", f"schemaVersion is {got}; {rules.spec.advice.source}")  # type: ignore[union-attr]
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
        messages = check_turns(record.get("messages"), line, report)
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
                    elif rules.check_media_block(kind, value, where, line, report):
                        images += kind == "image"
                        videos += kind == "video"
                elif kind == "reasoningContent" and not from_user and rules.spec.assistant_reasoning:
                    continue
                else:
                    report.error(line, "content-block", f"{where} has an unsupported block type {kind!r}")
        if rules.reserved is not None:
            search = rules.reserved.search
            for text in prompts:
                if search(text):
                    self._locate_reserved(record, line, report)
                    break
        if images or videos:
            rules.count_media(images, videos, line, report)
        return rules.tokens(chars)

    def _locate_reserved(self, record: dict[str, Any], line: int, report: DatasetReport) -> None:
        """The rare path: name the field that holds the reserved keyword."""
        for index, block in enumerate(record.get("system") or ()):
            self.rules.check_reserved(block["text"], f"system[{index}].text", line, report)
        for index, message in enumerate(record.get("messages") or ()):
            if message.get("role") == "user":
                for position, block in enumerate(message.get("content") or ()):
                    if type(block) is dict and type(block.get("text")) is str:
                        self.rules.check_reserved(block["text"], f"messages[{index}].content[{position}].text", line, report)

    @staticmethod
    def exchange(record: dict[str, Any]) -> Exchange:
        *turns, last = record["messages"]
        messages = [{"role": t["role"], "content": _prompt_blocks(t["content"])} for t in turns]
        reference = " ".join(block["text"] for block in _text_blocks(last["content"]))
        return Exchange(system=_text_blocks(record.get("system", [])), messages=messages, reference=reference)

    @staticmethod
    def parse(record: dict[str, Any]) -> Dialogue:
        turns = []
        for message in record["messages"]:
            content = message["content"]
            if message["role"] not in ("user", "assistant") or not isinstance(content, list):
                raise TypeError("messages of user and assistant turns with lists of content blocks")
            images = [b["image"]["source"]["s3Location"]["uri"] for b in content if isinstance(b, dict) and "image" in b]
            turns.append(Turn(message["role"], " ".join(b["text"] for b in _text_blocks(content)), images))
        system = " ".join(block["text"] for block in _text_blocks(record.get("system", []))) or None
        return Dialogue(system=system, turns=turns)

    @staticmethod
    def render(conversation: Dialogue) -> dict[str, Any]:
        record: dict[str, Any] = {"schemaVersion": SCHEMA_VERSION}
        if conversation.system:
            record["system"] = [{"text": conversation.system}]
        record["messages"] = [{"role": turn.role, "content": _content(turn)} for turn in conversation.turns]
        return record
