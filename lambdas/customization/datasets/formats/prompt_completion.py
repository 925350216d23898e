"""`{"prompt": ..., "completion": ...}`: Titan Text and Llama 3.1 fine-tuning."""

from __future__ import annotations

from typing import Any

from customization.datasets.formats.base import DataFormat, Exchange, check_fields, check_object, user_turn
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
