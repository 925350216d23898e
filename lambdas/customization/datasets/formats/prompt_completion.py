"""`{"prompt": ..., "completion": ...}`: Titan Text and Llama 3.1 fine-tuning."""

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
    user_turn,
)
from customization.datasets.report import DatasetReport

FIELDS = frozenset({"prompt", "completion"})


class PromptCompletion(DataFormat):
    name = "prompt_completion"
    description = "one prompt and its completion per line"

    def check(self, record: Any, line: int, report: DatasetReport) -> int:
        if not check_object(record, line, report):
            return 0
        prompt, completion = record.get("prompt"), record.get("completion")
        for name, value in (("prompt", prompt), ("completion", completion)):
            if type(value) is not str or not value.strip():
                report.error(line, "required-field", f'"{name}" must be a non-empty string')
        if len(record) != 2:
            check_fields(record, FIELDS, "prompt and completion", line, report)
        chars = (len(prompt) if type(prompt) is str else 0) + (len(completion) if type(completion) is str else 0)
        return self.rules.tokens(chars)

    @staticmethod
    def exchange(record: dict[str, Any]) -> Exchange:
        return Exchange(system=[], messages=[user_turn(record["prompt"])], reference=str(record["completion"]))

    @staticmethod
    def parse(record: dict[str, Any]) -> Dialogue:
        prompt, completion = record["prompt"], record["completion"]
        if not isinstance(prompt, str) or not isinstance(completion, str):
            raise TypeError("prompt and completion must be strings")
        return Dialogue(turns=[Turn("user", prompt), Turn("assistant", completion)])

    @staticmethod
    def render(conversation: Dialogue) -> dict[str, Any]:
        turns = conversation.turns
        if len(turns) != 2:
            raise UnfitRecord(f"{len(turns)} turns; a prompt/completion record holds one exchange")
        if any(turn.images for turn in turns):
            raise UnfitRecord("images; a prompt/completion record holds text only")
        prompt = f"{conversation.system}\n\n{turns[0].text}" if conversation.system else turns[0].text
        return {"prompt": prompt, "completion": turns[1].text}
