"""Raw inputs, read as a stream of records: CSV and TSV rows, JSON Lines, a JSON array, plain
text or Markdown (one document), or a folder of text and Markdown files (one document each).
The same readers serve a local file (`prepare`) and an S3 object (the Prepare Dataset state),
through the small RawInput interface. Parquet is read with pyarrow, which the CLI has and the
Lambda asset does not (it is larger than the rest of the asset together): without it, a Parquet
input is refused with a message saying where it is read."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Protocol

from customization.datasets.conversion import ConversionError, RawRecord

KINDS = ("csv", "tsv", "jsonl", "json", "text", "parquet")
TEXT_SUFFIXES = (".txt", ".md", ".markdown", ".rst")
BY_SUFFIX = {".csv": "csv", ".tsv": "tsv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "json", ".parquet": "parquet", **dict.fromkeys(TEXT_SUFFIXES, "text")}


class RawInput(Protocol):
    name: str  # a file's name, or a folder's

    def is_folder(self) -> bool: ...
    def files(self) -> list[RawInput]: ...  # a folder's files, sorted, at any depth
    def open_binary(self) -> IO[bytes]: ...


class LocalInput:
    def __init__(self, path: Path, root: Path | None = None) -> None:
        self.path, self.root = path, root or path
        self.name = str(path.relative_to(self.root)) if root else path.name

    def is_folder(self) -> bool:
        return self.path.is_dir()

    def files(self) -> list[RawInput]:
        return [LocalInput(p, self.path) for p in sorted(self.path.rglob("*")) if p.is_file()]

    def open_binary(self) -> IO[bytes]:
        return self.path.open("rb")


def suffix(name: str) -> str:
    return ("." + name.rsplit(".", 1)[-1].lower()) if "." in name.rsplit("/", 1)[-1] else ""


def detect(source: RawInput, declared: str = "auto") -> str:
    """The kind of input: as declared, else by the file's suffix, else by its first bytes."""
    if declared != "auto":
        if declared not in KINDS:
            raise ConversionError(f"--from {declared}: expected auto or one of {', '.join(KINDS)}")
        return declared
    if source.is_folder():
        return "folder"
    ending = suffix(source.name)
    if ending in BY_SUFFIX:
        return BY_SUFFIX[ending]
    with source.open_binary() as handle:
        start = handle.read(4096)
    if start.startswith(PARQUET_MAGIC):
        return "parquet"
    start = start.lstrip()
    if start.startswith(b"["):
        return "json"
    if start.startswith(b"{"):
        return "jsonl"
    return "text"


def fields(source: RawInput, kind: str) -> list[str]:
    """The field names of the first record (what a mapping may name)."""
    for record in read(source, kind):
        return list(record.value) if isinstance(record.value, dict) else []
    return []


def read(source: RawInput, kind: str) -> Iterator[RawRecord]:
    if kind == "folder":
        for file in source.files():
            if suffix(file.name) in TEXT_SUFFIXES:
                yield from read(file, "text")
    elif kind == "text":
        yield from _text_segments(source)
    elif kind in ("csv", "tsv"):
        with source.open_binary() as handle, io.TextIOWrapper(handle, encoding="utf-8-sig", newline="") as text:
            for number, row in enumerate(csv.DictReader(text, delimiter="\t" if kind == "tsv" else ","), start=2):
                yield RawRecord(f"row {number}", row)
    elif kind == "parquet":
        yield from _parquet_rows(source)
    elif kind == "jsonl":
        with source.open_binary() as handle:
            for number, line in enumerate(handle, start=1):
                if line.strip():
                    yield RawRecord(f"line {number}", _json(line, f"line {number}"))
    else:
        with source.open_binary() as handle:
            document = _json(handle.read(), source.name)
        if not isinstance(document, list):
            raise ConversionError(f"{source.name}: a JSON input must be an array of records")
        for number, item in enumerate(document, start=1):
            yield RawRecord(f"item {number}", item)


TEXT_SEGMENT_BYTES = 1 << 20  # a longer document is read in segments cut between paragraphs


def _cut(buffer: bytes) -> int:
    """Where to end a full segment: after its last blank line, else line, else space; else at
    a character boundary, so no text is lost or split."""
    for separator in (b"\n\n", b"\n", b" "):
        at = buffer.rfind(separator)
        if at > 0:
            return at + len(separator)
    for back in range(4):  # one unbroken word: end before a character the buffer splits
        try:
            buffer[: len(buffer) - back].decode("utf-8")
            return len(buffer) - back
        except UnicodeDecodeError:
            continue
    return len(buffer)  # not UTF-8 at all: the decode of the segment says so


def _segment(name: str, offset: int, data: bytes) -> RawRecord:
    where = name if offset == 0 else f"{name} from byte {offset:,}"
    try:
        return RawRecord(where, data.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise ConversionError(f"{name}: not UTF-8 text (byte {offset + exc.start:,})") from None


def _text_segments(source: RawInput) -> Iterator[RawRecord]:
    """A document as one record, or, past TEXT_SEGMENT_BYTES, as segments named by their byte
    offset: memory follows the segment, not the document."""
    with source.open_binary() as handle:
        offset, carried = 0, b""
        while True:
            block = handle.read(TEXT_SEGMENT_BYTES - len(carried))
            buffer = carried + block
            if not block:  # the end: what is left is the last segment
                if buffer.strip() or offset == 0:
                    yield _segment(source.name, offset, buffer)
                return
            if len(buffer) < TEXT_SEGMENT_BYTES:
                carried = buffer
                continue
            cut = _cut(buffer)
            yield _segment(source.name, offset, buffer[:cut])
            offset, carried = offset + cut, buffer[cut:]


PARQUET_MAGIC = b"PAR1"
PARQUET_BATCH_ROWS = 1024  # rows decoded at a time: memory follows the batch, not the file


def _parquet_rows(source: RawInput) -> Iterator[RawRecord]:
    """Row by row, a row group's batch at a time; nested columns (a list of messages, say)
    arrive as Python lists and dicts, so the shapes are recognised as in JSON."""
    try:
        import pyarrow.parquet as parquet
    except ImportError:
        raise ConversionError(
            f"{source.name}: Parquet is read by `bedrock-customize prepare` on your machine (pyarrow), not in the "
            "pipeline; prepare it there, or give the pipeline CSV or JSON Lines"
        ) from None
    with source.open_binary() as handle:
        try:
            table = parquet.ParquetFile(handle, pre_buffer=False, buffer_size=1 << 20)
        except Exception as exc:  # pyarrow raises its own ArrowInvalid for a damaged file
            raise ConversionError(f"{source.name}: not a readable Parquet file ({exc})") from None
        number = 0
        for batch in table.iter_batches(batch_size=PARQUET_BATCH_ROWS):
            for row in batch.to_pylist():
                number += 1
                yield RawRecord(f"row {number}", row)


def _json(text: bytes, where: str) -> object:
    try:
        return json.loads(text)
    except ValueError as exc:
        raise ConversionError(f"{where}: not valid JSON ({exc})") from None
