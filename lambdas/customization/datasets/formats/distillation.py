"""Distillation prompts: `bedrock-conversation-2024` records whose last turn may be the user's
(the teacher answers it); an assistant turn, when given, is a reference answer. `schemaVersion`
is required here. Students taught by Meta teachers take one user prompt per record."""

from __future__ import annotations

from typing import Any

from customization.datasets.formats.base import Dialogue, Exchange, UnfitRecord
from customization.datasets.formats.conversation import SCHEMA_VERSION, Conversation
from customization.datasets.report import DatasetReport


class Distillation(Conversation):
    name = "distillation"
    description = "bedrock-conversation-2024 prompts for a teacher; the assistant turn optional"

    def check(self, record: Any, line: int, report: DatasetReport) -> int:
        if type(record) is dict and record.get("schemaVersion") != SCHEMA_VERSION:
            got = record.get("schemaVersion", "missing")
            report.error(line, "schema-version", f'"schemaVersion" must be "{SCHEMA_VERSION}" for distillation, got {got!r}')
        messages = record.get("messages") if type(record) is dict else None
        prompt_only = type(messages) is list and bool(messages) and type(messages[-1]) is dict and messages[-1].get("role") == "user"
        if prompt_only:  # the teacher writes the answer: checked as if it were there
            record = {**record, "messages": [*messages, {"role": "assistant", "content": [{"text": ""}]}]}
        tokens = super().check(record, line, report)
        if self.rules.spec.single_turn and type(messages) is list:
            users = sum(1 for m in messages if type(m) is dict and m.get("role") == "user")
            if users > 1:
                report.error(line, "single-turn", f"{users} user turns; distillation for "
                             f"{self.rules.model.display_name} takes one user prompt per record")
        return tokens

    @staticmethod
    def exchange(record: dict[str, Any]) -> Exchange:
        if record["messages"][-1]["role"] != "assistant":
            raise ValueError("a prompt without a reference answer cannot be scored")
        return Conversation.exchange(record)

    @staticmethod
    def parse(record: dict[str, Any]) -> Dialogue:
        return Conversation.parse(record)

    @staticmethod
    def render(conversation: Dialogue) -> dict[str, Any]:
        if conversation.text is not None:
            raise UnfitRecord("unlabelled text is not a prompt")
        return Conversation.render(conversation)



