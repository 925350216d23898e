"""Raw inputs, read as a stream of records: CSV and TSV rows, JSON Lines, a JSON array, plain
text or Markdown (one document), or a folder of text and Markdown files (one document each).
Parquet needs pyarrow, too heavy for the Lambda asset and not a dependency of this project: a
Parquet file is refused with a message saying how to convert it."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from pathlib import Path

from customization.datasets.conversion import ConversionError, RawRecord

KINDS = ("csv", "tsv", "jsonl", "json", "text")
TEXT_SUFFIXES = (".txt", ".md", ".markdown", ".rst")
BY_SUFFIX = {".csv": "csv", ".tsv": "tsv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "json", **dict.fromkeys(TEXT_SUFFIXES, "text")}


def detect(path: Path, declared: str = "auto") -> str:
    """The kind of input: as declared, else by the file's suffix, else by its first bytes."""
    if declared != "auto":
        if declared == "parquet":
            raise ConversionError("Parquet is not read here; convert it first, e.g. pandas.read_parquet(f).to_json(out, orient='records', lines=True)")
        if declared not in KINDS:
            raise ConversionError(f"--from {declared}: expected auto, {', '.join(KINDS)} or parquet")
        return declared
    if path.is_dir():
        return "folder"
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        return detect(path, "parquet")
    if suffix in BY_SUFFIX:
        return BY_SUFFIX[suffix]
    with path.open("rb") as handle:
        start = handle.read(4096).lstrip()
    if start.startswith(b"["):
        return "json"
    if start.startswith(b"{"):
        return "jsonl"
    return "text"


def fields(path: Path, kind: str) -> list[str]:
    """The field names of the first record (what --map may name)."""
    for record in read(path, kind):
        return list(record.value) if isinstance(record.value, dict) else []
    return []


def read(path: Path, kind: str) -> Iterator[RawRecord]:
    if kind == "folder":
        for file in sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in TEXT_SUFFIXES):
            yield RawRecord(str(file.relative_to(path)), file.read_text(encoding="utf-8"))
    elif kind == "text":
        yield RawRecord(path.name, path.read_text(encoding="utf-8"))
    elif kind in ("csv", "tsv"):
        with path.open(newline="", encoding="utf-8-sig") as handle:
            for number, row in enumerate(csv.DictReader(handle, delimiter="\t" if kind == "tsv" else ","), start=2):
                yield RawRecord(f"row {number}", row)
    elif kind == "jsonl":
        with path.open("rb") as handle:
            for number, line in enumerate(handle, start=1):
                if line.strip():
                    yield RawRecord(f"line {number}", _json(line, f"line {number}"))
    else:
        document = _json(path.read_bytes(), path.name)
        if not isinstance(document, list):
            raise ConversionError(f"{path.name}: a JSON input must be an array of records")
        for number, item in enumerate(document, start=1):
            yield RawRecord(f"item {number}", item)


def _json(text: bytes, where: str) -> object:
    try:
        return json.loads(text)
    except ValueError as exc:
        raise ConversionError(f"{where}: not valid JSON ({exc})") from None


def open_text(path: Path) -> io.TextIOWrapper:
    return path.open("w", encoding="utf-8")
