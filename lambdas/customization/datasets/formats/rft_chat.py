"""Reinforcement fine-tuning prompts: OpenAI chat-completion records, `{"messages": [{"role",
"content": "..."}], "reference_answer": ...}`. The model answers the last (user) turn itself;
the grader scores each answer against `reference_answer` (any JSON value) and may read any
other field of the record, which Bedrock passes on to it."""

from __future__ import annotations

import json
from typing import Any

from customization.datasets.formats.base import DataFormat, Dialogue, Exchange, Turn, UnfitRecord, check_object
from customization.datasets.report import DatasetReport

ROLES = ("system", "user", "assistant")
REFERENCE = "reference_answer"


def reference_text(value: Any) -> str:
    """A reference answer as text, for the metrics that compare strings."""
    return value if isinstance(value, str) else json.dumps(value, sort_keys=True)


class RftChat(DataFormat):
    name = "rft_chat"
    description = "OpenAI chat-completion prompts ending with the user's turn, each with a reference_answer for the grader"

    def check(self, record: Any, line: int, report: DatasetReport) -> int:
        if not check_object(record, line, report):
            return 0
        messages = record.get("messages")
        if type(messages) is not list or not messages:
            report.error(line, "messages", '"messages" must be a non-empty list of {"role", "content"} objects')
            return 0
        chars = 0
        for index, message in enumerate(messages):
            role = message.get("role") if type(message) is dict else None
            if role not in ROLES:
                report.error(line, "role", f"messages[{index}].role is {role!r}; allowed: {', '.join(ROLES)}")
                continue
            if role == "system" and index:
                report.error(line, "turn-order", f"messages[{index}] is a system message; only the first message may be one")
            content = message.get("content")
            if type(content) is not str or not content.strip():
                report.error(line, "content", f"messages[{index}].content must be a non-empty string")
                continue
            chars += len(content)
        if type(messages[-1]) is dict and messages[-1].get("role") in ("system", "assistant"):
            report.error(line, "turn-order", "the last message must be the user's: the model writes the answer the grader scores")
        reference = record.get(REFERENCE)
        if reference is None or reference == "" or reference == {}:
            report.error(line, "reference-answer", f'"{REFERENCE}" is required: what the grader scores the answer against')
        else:
            chars += len(reference_text(reference))
        return self.rules.tokens(chars)

    @staticmethod
    def exchange(record: dict[str, Any]) -> Exchange:
        *turns, last = record["messages"]
        system = [{"text": turns.pop(0)["content"]}] if turns and turns[0]["role"] == "system" else []
        messages = [{"role": t["role"], "content": [{"text": t["content"]}]} for t in (*turns, last)]
        grading = {key: value for key, value in record.items() if key != "messages"}
        return Exchange(system=system, messages=messages, reference=reference_text(record[REFERENCE]), grading=grading)

    @staticmethod
    def parse(record: dict[str, Any]) -> Dialogue:
        messages = record["messages"]
        system = messages[0]["content"] if messages and messages[0]["role"] == "system" else None
        turns = [Turn(m["role"], m["content"]) for m in messages[1 if system is not None else 0:]]
        if any(not isinstance(t.text, str) or t.role not in ("user", "assistant") for t in turns):
            raise TypeError("messages of user and assistant turns with string contents")
        turns.append(Turn("assistant", reference_text(record[REFERENCE])))
        return Dialogue(system=system, turns=turns)

    @staticmethod
    def render(conversation: Dialogue) -> dict[str, Any]:
        if conversation.text is not None:
            raise UnfitRecord("unlabelled text is not a prompt with a reference answer")
        if any(turn.images for turn in conversation.turns):
            raise UnfitRecord("images; reinforcement fine-tuning takes text prompts")
        *turns, last = conversation.turns
        if last.role != "assistant" or not turns:
            raise UnfitRecord("no answer to take as the reference_answer")
        messages = [{"role": "system", "content": conversation.system}] if conversation.system else []
        messages += [{"role": turn.role, "content": turn.text} for turn in turns]
        return {"messages": messages, REFERENCE: last.text}
