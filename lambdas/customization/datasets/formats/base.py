"""What a data format is: the rules its records follow, checked line by line; how an
evaluation exchange (a prompt and its reference answer) is taken from a record; and how a
record is read into, and written from, the canonical Dialogue that `prepare` converts
through (so data in any format can become data in any other).

Each format is one module in this package with one DataFormat subclass; the registry names
the format of each model and customization type (`data_format`).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

from customization.datasets.report import DatasetReport
from customization.datasets.rules import RecordRules


@dataclass(frozen=True)
class Exchange:
    """A record as a question to a model: the system prompt and turns in the Converse API's
    shape, ending with the user's turn, and the reference answer."""

    system: list[dict[str, str]]
    messages: list[dict[str, Any]]
    reference: str
    # Reinforcement fine-tuning: the record's fields besides its messages (reference_answer and
    # whatever the grader reads), passed to the grader with each answer.
    grading: dict[str, Any] | None = None


@dataclass
class Turn:
    role: Literal["user", "assistant"]
    text: str
    images: list[str] = field(default_factory=list)  # S3 URIs (or, before `prepare` resolves them, local paths)
    # Where the images stand in the text: len(images) + 1 pieces of text around them; None: images first.
    segments: list[str] | None = None


@dataclass
class Dialogue:
    """A record in no particular format: an optional system prompt and alternating turns, or,
    for unlabelled text (continued pre-training), just `text`."""

    system: str | None = None
    turns: list[Turn] = field(default_factory=list)
    text: str | None = None


class UnfitRecord(ValueError):
    """A conversation this format cannot express (a multi-turn chat as one prompt/completion)."""


class DataFormat(ABC):
    """One format, bound to the compiled rules of the dataset it checks."""

    name: ClassVar[str]
    description: ClassVar[str]

    def __init__(self, rules: RecordRules) -> None:
        self.rules = rules

    @abstractmethod
    def check(self, record: Any, line: int, report: DatasetReport) -> int:
        """Report every rule the parsed JSON `record` breaks; return its estimated tokens."""

    @staticmethod
    @abstractmethod
    def exchange(record: dict[str, Any]) -> Exchange:
        """The evaluation exchange of a valid record; KeyError, TypeError or ValueError when
        the record does not fit the format."""

    @staticmethod
    @abstractmethod
    def parse(record: dict[str, Any]) -> Dialogue:
        """The record as a Dialogue; KeyError, TypeError or ValueError when it is not of
        this format."""

    @staticmethod
    @abstractmethod
    def render(conversation: Dialogue) -> dict[str, Any]:
        """The Dialogue as a record of this format; UnfitRecord when it cannot be one."""


def user_turn(text: str) -> dict[str, Any]:
    return {"role": "user", "content": [{"text": text}]}


def check_object(record: Any, line: int, report: DatasetReport) -> bool:
    if type(record) is not dict:
        report.error(line, "json-object", "each line must be one JSON object")
        return False
    return True


def check_fields(record: dict[str, Any], allowed: frozenset[str], expected: str, line: int, report: DatasetReport) -> None:
    if not record.keys() <= allowed:
        extra = sorted(set(record) - allowed)
        report.error(line, "unknown-field", f"unexpected field(s) {', '.join(extra)}; expected {expected}")


def check_turns(messages: Any, line: int, report: DatasetReport) -> list[dict[str, Any]] | None:
    """Chat turns: a non-empty list of user/assistant objects that starts with the user,
    alternates and ends with the assistant. Returns the turns to check further, or None."""
    if type(messages) is list and len(messages) == 2:  # the common single exchange, kept cheap
        first, second = messages
        if type(first) is dict and type(second) is dict and first.get("role") == "user" and second.get("role") == "assistant":
            return messages
    elif type(messages) is list and messages and all(type(m) is dict for m in messages):
        roles = [m.get("role") for m in messages]
        half = len(roles) // 2
        if len(roles) % 2 == 0 and roles[0::2].count("user") == half and roles[1::2].count("assistant") == half:
            return messages  # user/assistant alternating, user first, assistant last
    if type(messages) is not list or not messages:
        report.error(line, "messages", '"messages" must be a non-empty list of turns')
        return None
    roles = []
    for index, message in enumerate(messages):
        if type(message) is not dict:
            report.error(line, "messages", f"messages[{index}] must be an object with role and content")
            return None
        role = message.get("role")
        if role not in ("user", "assistant"):
            report.error(line, "role", f"messages[{index}].role is {role!r}; only user and assistant are allowed")
            return None
        roles.append(role)
    if roles[0] != "user":
        report.error(line, "turn-order", "the first turn must be the user's")
    elif roles[-1] != "assistant":
        report.error(line, "turn-order", "the last turn must be the assistant's")
    else:
        for index in range(1, len(roles)):
            if roles[index] == roles[index - 1]:
                report.error(line, "turn-order", f"messages[{index}] repeats the role {roles[index]!r}; turns must alternate")
                break
    return messages
