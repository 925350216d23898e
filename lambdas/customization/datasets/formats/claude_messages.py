"""`{"system": "...", "messages": [{"role", "content": "..."}]}`: Claude 3 Haiku fine-tuning,
with string contents (not block lists)."""

from __future__ import annotations

from typing import Any

from customization.datasets.formats.base import (
    DataFormat,
    Dialogue,
    Exchange,
    Turn,
    UnfitRecord,
    check_fields,
    check_object,
    check_turns,
)
from customization.datasets.report import DatasetReport

FIELDS = frozenset({"system", "messages"})


class ClaudeMessages(DataFormat):
    name = "claude_messages"
    description = "an optional string system prompt and alternating turns with string contents"

    def check(self, record: Any, line: int, report: DatasetReport) -> int:
        if not check_object(record, line, report):
            return 0
        check_fields(record, FIELDS, "system and messages", line, report)
        rules, model = self.rules, self.rules.model.display_name
        chars = 0
        if "system" in record:
            system = record["system"]
            if type(system) is not str:
                report.error(line, "system", f'"system" must be a string for {model}')
            else:
                chars += len(system)
                rules.check_reserved(system, "system", line, report)
        messages = check_turns(record.get("messages"), line, report)
        for index, message in enumerate(messages or ()):
            content = message.get("content")
            if type(content) is not str:
                report.error(line, "content", f"messages[{index}].content must be a string for {model}, not a block list")
                continue
            if not content.strip():
                report.error(line, "content", f"messages[{index}].content is empty")
            chars += len(content)
            rules.check_reserved(content, f"messages[{index}].content", line, report)
        return rules.tokens(chars)

    @staticmethod
    def exchange(record: dict[str, Any]) -> Exchange:
        *turns, last = record["messages"]
        messages = [{"role": t["role"], "content": [{"text": t["content"]}]} for t in turns]
        system = [{"text": record["system"]}] if record.get("system") else []
        return Exchange(system=system, messages=messages, reference=str(last["content"]))

    @staticmethod
    def parse(record: dict[str, Any]) -> Dialogue:
        turns = [Turn(m["role"], m["content"]) for m in record["messages"]]
        if any(not isinstance(t.text, str) or t.role not in ("user", "assistant") for t in turns):
            raise TypeError("messages of user and assistant turns with string contents")
        system = record.get("system")
        return Dialogue(system=system if isinstance(system, str) and system else None, turns=turns)

    @staticmethod
    def render(conversation: Dialogue) -> dict[str, Any]:
        if any(turn.images for turn in conversation.turns):
            raise UnfitRecord("images; Claude 3 Haiku fine-tuning takes text only")
        record: dict[str, Any] = {"system": conversation.system} if conversation.system else {}
        record["messages"] = [{"role": turn.role, "content": turn.text} for turn in conversation.turns]
        return record
