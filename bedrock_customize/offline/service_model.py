"""Checks a request against botocore's service model beyond what botocore checks on the
client (it checks required members, types and minimums): maximum lengths and values,
patterns and enums, as the service itself would."""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from botocore.model import Shape


class RequestRejected(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@lru_cache(maxsize=512)
def _pattern(expression: str) -> re.Pattern[str] | None:
    try:
        return re.compile(expression)
    except re.error:  # Java-only syntax such as \p{L}; the other checks still apply
        return None


def check(shape: Shape, value: Any, path: str = "") -> None:
    meta = shape.metadata
    where = path or shape.name
    if shape.type_name == "structure":
        for name, member in shape.members.items():  # type: ignore[attr-defined]
            if name in value:
                check(member, value[name], f"{path}.{name}" if path else name)
    elif shape.type_name == "list":
        if "max" in meta and len(value) > meta["max"]:
            raise RequestRejected(f"{where}: at most {meta['max']} items, got {len(value)}")
        for index, item in enumerate(value):
            check(shape.member, item, f"{where}[{index}]")  # type: ignore[attr-defined]
    elif shape.type_name == "map":
        if "max" in meta and len(value) > meta["max"]:
            raise RequestRejected(f"{where}: at most {meta['max']} entries, got {len(value)}")
        for key, item in value.items():
            check(shape.key, key, f"{where} key")  # type: ignore[attr-defined]
            check(shape.value, item, f"{where}[{key}]")  # type: ignore[attr-defined]
    elif shape.type_name == "string":
        if "max" in meta and len(value) > meta["max"]:
            raise RequestRejected(f"{where}: at most {meta['max']} characters, got {len(value)}")
        if shape.enum and value not in shape.enum:
            raise RequestRejected(f"{where}: {value!r} is not one of {', '.join(shape.enum)}")
        pattern = _pattern(meta["pattern"]) if "pattern" in meta else None
        if pattern is not None and not pattern.fullmatch(value):
            raise RequestRejected(f"{where}: {value!r} does not match the pattern {meta['pattern']}")
    elif shape.type_name in ("integer", "long", "float", "double"):
        if "max" in meta and value > meta["max"]:
            raise RequestRejected(f"{where}: at most {meta['max']}, got {value}")
