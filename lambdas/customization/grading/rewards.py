"""The built-in rewards: one function per grader kind, (answer, reference) -> a score in [0, 1],
and the check each kind makes of a record's reference_answer before anything is spent (a
numeric grader needs a number to compare with, a JSON-field grader the field)."""

from __future__ import annotations

import json
import math
import re
from typing import Any

from pydantic import TypeAdapter

from customization.datasets.formats.rft_chat import reference_text
from customization.evaluation.judging import Judge, judged
from customization.evaluation.metrics import METRICS
from customization.models.request import (
    ExactMatchGrader,
    GraderSettings,
    JsonFieldGrader,
    JudgeGrader,
    NumericGrader,
    RegexGrader,
    RougeGrader,
)

SETTINGS: TypeAdapter[GraderSettings] = TypeAdapter(GraderSettings)
_NUMBER = re.compile(r"-?\d[\d,]*(?:\.\d+)?|-?\.\d+")


def normalize(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip().strip(".!?;:").strip().casefold()


def _number(text: str, *, last: bool) -> float | None:
    found = _NUMBER.findall(text)
    if not found:
        return None
    return float((found[-1] if last else found[0]).replace(",", ""))


def _reference_number(reference: Any) -> float | None:
    if isinstance(reference, bool):
        return None
    if isinstance(reference, int | float):
        return float(reference) if math.isfinite(reference) else None
    if isinstance(reference, str):
        stripped = reference.strip()
        return _number(stripped, last=False) if _NUMBER.fullmatch(stripped.replace(" ", "")) else None
    return None


def _json_of(text: Any) -> Any:
    """The JSON value of an answer: the whole text, else its first {...} block."""
    if not isinstance(text, str):
        return text
    for candidate in (text, text[text.find("{"): text.rfind("}") + 1] if "{" in text else ""):
        try:
            return json.loads(candidate)
        except ValueError:
            continue
    return None


def _field(value: Any, path: str) -> tuple[bool, Any]:
    for part in path.split("."):
        if not isinstance(value, dict) or part not in value:
            return False, None
        value = value[part]
    return True, value


def reference_problem(settings: GraderSettings, reference: Any) -> str | None:
    """Why this grader cannot score against `reference`; None when it can."""
    if isinstance(settings, NumericGrader) and _reference_number(reference) is None:
        return f"reference_answer {reference!r} is not a number, which the numeric grader compares with"
    if isinstance(settings, JsonFieldGrader) and not _field(_json_of(reference), settings.field)[0]:
        return f"reference_answer has no field {settings.field!r}, which the json_field grader compares"
    if isinstance(settings, RegexGrader) and "answer" in re.compile(settings.pattern).groupindex and not isinstance(reference, str | int | float):
        return "reference_answer must be a string or number to compare with the pattern's answer group"
    return None


def reward(settings: GraderSettings, answer: str, reference: Any, *, judge: Judge | None = None) -> float:
    if isinstance(settings, ExactMatchGrader):
        return float(normalize(answer) == normalize(reference_text(reference)))
    if isinstance(settings, NumericGrader):
        expected, got = _reference_number(reference), _number(answer, last=True)
        if expected is None or got is None:
            return 0.0
        allowed = max(settings.tolerance, settings.relative_tolerance * abs(expected))
        return float(abs(got - expected) <= allowed + 1e-12)
    if isinstance(settings, JsonFieldGrader):
        found, value = _field(_json_of(answer), settings.field)
        _, expected = _field(_json_of(reference), settings.field)
        return float(found and normalize(reference_text(value)) == normalize(reference_text(expected)))
    if isinstance(settings, RegexGrader):
        match = re.search(settings.pattern, answer)
        if match is None:
            return 0.0
        if "answer" in match.re.groupindex:
            return float(normalize(match.group("answer") or "") == normalize(reference_text(reference)))
        return 1.0
    if isinstance(settings, RougeGrader):
        scorer = METRICS["rougeL"].score
        assert scorer is not None
        return round(scorer(answer, reference_text(reference)), 6)
    if isinstance(settings, JudgeGrader):
        if judge is None:
            raise RuntimeError("an llm_judge grader needs a judge")
        return judged(judge, rubric=settings.rubric, reference=reference_text(reference), answer=answer)
    raise TypeError(f"{settings.kind} is not a built-in grader")
