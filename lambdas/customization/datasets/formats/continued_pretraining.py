"""`{"input": ...}`: unlabelled text for continued pre-training (Titan Text)."""

from __future__ import annotations

from typing import Any

from customization.datasets.formats.base import (
    DataFormat,
    Dialogue,
    Exchange,
    UnfitRecord,
    check_fields,
    check_object,
    user_turn,
)
from customization.datasets.report import DatasetReport

FIELDS = frozenset({"input"})


class ContinuedPretraining(DataFormat):
    name = "continued_pretraining"
    description = "one text per line, no labels"

    def check(self, record: Any, line: int, report: DatasetReport) -> int:
        if not check_object(record, line, report):
            return 0
        text = record.get("input")
        if type(text) is not str or not text.strip():
            report.error(line, "required-field", '"input" must be a non-empty string')
            text = ""
        if len(record) != 1:
            check_fields(record, FIELDS, "only input", line, report)
        return self.rules.tokens(len(text))

    @staticmethod
    def exchange(record: dict[str, Any]) -> Exchange:
        """The first half of the text as the prompt, the second half as the reference: how well
        the model continues text of the domain."""
        words = record["input"].split()
        if len(words) < 2:
            raise ValueError("too short to split into a prompt and a continuation")
        half = len(words) // 2
        return Exchange(
            system=[{"text": "Continue the text."}], messages=[user_turn(" ".join(words[:half]))],
            reference=" ".join(words[half:]),
        )

    @staticmethod
    def parse(record: dict[str, Any]) -> Dialogue:
        if not isinstance(record["input"], str):
            raise TypeError("input must be a string")
        return Dialogue(text=record["input"])

    @staticmethod
    def render(conversation: Dialogue) -> dict[str, Any]:
        if conversation.text is None:
            raise UnfitRecord("a conversation; continued pre-training takes unlabelled text")
        return {"input": conversation.text}
