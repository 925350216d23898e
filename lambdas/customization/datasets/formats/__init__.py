"""The data formats, one module each. A module here that defines a DataFormat subclass is a
format, found by its `name`; nothing else needs to list it (see CONTRIBUTING.md)."""

from __future__ import annotations

import importlib
import pkgutil
from functools import lru_cache

from customization.datasets.formats.base import DataFormat, Dialogue, Exchange, Turn

__all__ = ["DataFormat", "Dialogue", "Exchange", "Turn", "UnknownFormatError", "format_for", "known_formats"]


class UnknownFormatError(ValueError):
    """The registry names a format no module defines."""


@lru_cache(maxsize=1)
def _formats() -> dict[str, type[DataFormat]]:
    found: dict[str, type[DataFormat]] = {}
    for module in pkgutil.iter_modules(__path__):
        if module.name == "base":
            continue
        namespace = vars(importlib.import_module(f"{__name__}.{module.name}"))
        for value in namespace.values():
            if isinstance(value, type) and issubclass(value, DataFormat) and value is not DataFormat and value.__module__ == f"{__name__}.{module.name}":
                found[value.name] = value
    return found


def known_formats() -> list[str]:
    return sorted(_formats())


def format_for(name: str) -> type[DataFormat]:
    try:
        return _formats()[name]
    except KeyError:
        raise UnknownFormatError(f"no data format {name!r}; known: {', '.join(known_formats())}") from None
