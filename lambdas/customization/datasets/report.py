"""What the validator found in one dataset: each problem with its 1-based line and rule,
counted in full and listed up to a cap; warnings never fail validation."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

MAX_LISTED = 20


@dataclass(frozen=True)
class Finding:
    line: int
    rule: str
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {"line": self.line, "rule": self.rule, "message": self.message}

    def __str__(self) -> str:
        return f"line {self.line}: {self.rule}: {self.message}"


@dataclass
class DatasetReport:
    role: str
    source: str
    records: int = 0
    lines: int = 0
    size_bytes: int | None = None
    estimated_tokens: int = 0
    max_record_tokens: int = 0
    errors: list[Finding] = field(default_factory=list)
    error_count: int = 0
    warnings: list[Finding] = field(default_factory=list)
    warning_count: int = 0
    skipped: list[dict[str, str]] = field(default_factory=list)
    media_kinds: set[str] = field(default_factory=set)

    @property
    def valid(self) -> bool:
        return self.error_count == 0

    def error(self, line: int, rule: str, message: str) -> None:
        self.error_count += 1
        if len(self.errors) < MAX_LISTED:
            self.errors.append(Finding(line, rule, message))

    def warn(self, line: int, rule: str, message: str) -> None:
        self.warning_count += 1
        if len(self.warnings) < MAX_LISTED:
            self.warnings.append(Finding(line, rule, message))

    def skip(self, rule: str, reason: str) -> None:
        if all(s["rule"] != rule for s in self.skipped):
            self.skipped.append({"rule": rule, "reason": reason})

    def describe(self) -> str:
        """One line for an error message: the count, the first problems, the rest counted."""
        listed = "; ".join(str(f) for f in self.errors[:5])
        more = self.error_count - min(5, len(self.errors))
        return f"{self.role} data {self.source}: {self.error_count} problem(s): {listed}" + (f"; and {more} more" if more else "")

    def as_dict(self) -> dict[str, Any]:
        return {
            "role": self.role,
            "source": self.source,
            "valid": self.valid,
            "records": self.records,
            "size_bytes": self.size_bytes,
            "estimated_tokens": self.estimated_tokens,
            "max_record_tokens": self.max_record_tokens,
            "error_count": self.error_count,
            "errors": [f.as_dict() for f in self.errors],
            "warning_count": self.warning_count,
            "warnings": [f.as_dict() for f in self.warnings],
            "skipped": self.skipped,
        }
