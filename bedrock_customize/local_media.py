"""Images named relative to a local dataset, as `prepare` writes them without --media-uri
(`"s3Location": {"uri": "media/cat.png"}`, beside the dataset file).

Bedrock reads media from S3 only, and so does the pipeline's validator: here such a dataset is
checked on this machine with its names standing for S3 URIs under a placeholder (read from the
folder), and uploaded (`run-local`, `start`) with the images beside it and the names rewritten
to where they were put. The Lambda code only ever sees s3:// URIs.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path, PurePosixPath
from typing import Any

from customization.models.s3 import split_s3_uri

PLACEHOLDER = "s3://local-dataset-folder/"  # stands for the dataset's folder while it is checked here
MARKER = b'"s3Location"'


class MediaPathError(ValueError):
    """A relative media name that leaves the dataset's folder, or names no file."""


def _locations(value: Any) -> Iterator[dict[str, Any]]:
    if isinstance(value, dict):
        location = value.get("s3Location")
        if isinstance(location, dict) and isinstance(location.get("uri"), str):
            yield location
        for item in value.values():
            yield from _locations(item)
    elif isinstance(value, list):
        for item in value:
            yield from _locations(item)


def _relative(uri: str) -> bool:
    return "://" not in uri and not uri.startswith("/")


def rewrite_line(line: bytes, base: str) -> tuple[bytes, list[str]]:
    """The line with its relative media names prefixed by `base`, and those names. Lines
    without media, or not JSON (the validator reports those), come back as they are."""
    if MARKER not in line:
        return line, []
    try:
        record = json.loads(line)
    except ValueError:
        return line, []
    names = []
    for location in _locations(record):
        if _relative(location["uri"]):
            names.append(location["uri"])
            location["uri"] = base + location["uri"]
    if not names:
        return line, []
    return json.dumps(record, ensure_ascii=False).encode() + b"\n", names


def under_placeholder(name: str) -> str:
    return PLACEHOLDER + name


def relative_to_dataset(record: dict[str, Any]) -> dict[str, Any]:
    """A record whose media were named under the placeholder, naming them relative instead."""
    for location in _locations(record):
        if location["uri"].startswith(PLACEHOLDER):
            location["uri"] = location["uri"][len(PLACEHOLDER):]
    return record


def has_relative_media(path: Path) -> bool:
    with path.open("rb") as handle:
        return any(rewrite_line(line, "")[1] for line in handle if MARKER in line)


def check_named_media(path: Path) -> int:
    """How many media files the dataset names relative to itself; MediaPathError for the first
    that is missing or outside its folder (before anything is uploaded)."""
    named: set[str] = set()
    with path.open("rb") as handle:
        for number, line in enumerate(handle, start=1):
            for name in rewrite_line(line, "")[1]:
                if name not in named:
                    media_file(path.parent, name, f"{path.name} line {number}")
                    named.add(name)
    return len(named)


def media_file(folder: Path, name: str, where: str) -> Path:
    """The file a relative name stands for, inside the dataset's folder."""
    parts = PurePosixPath(name).parts
    if ".." in parts:
        raise MediaPathError(f"{where}: media {name!r} leaves the dataset's folder")
    path = folder.joinpath(*parts)
    if not path.is_file():
        raise MediaPathError(f"{where}: media {name!r} not found in {folder}")
    return path


class FolderMedia:
    """Sizes and headers of media in local folders, each standing for an S3 prefix (the
    validator's media source, for files that are not in S3 yet)."""

    def __init__(self, folders: dict[str, Path]) -> None:
        self.folders = {split_s3_uri(prefix + "x"): folder for prefix, folder in folders.items()}

    def _path(self, bucket: str, key: str) -> Path | None:
        for (prefix_bucket, prefix), folder in self.folders.items():
            prefix = prefix[:-1]
            if bucket == prefix_bucket and key.startswith(prefix) and ".." not in PurePosixPath(key).parts:
                return folder / key[len(prefix):]
        return None

    def list_window(self, bucket: str, prefix: str, start_after: str) -> tuple[dict[str, int], bool]:
        folder = self._path(bucket, prefix)
        if folder is None or not folder.is_dir():
            return {}, False
        keys = sorted(prefix + p.name for p in folder.iterdir() if p.is_file())
        return {k: (folder / k[len(prefix):]).stat().st_size for k in keys if k > start_after}, False

    def read_range(self, uri: str, length: int) -> bytes | None:
        path = self._path(*split_s3_uri(uri))
        if path is None or not path.is_file():
            return None
        with path.open("rb") as handle:
            return handle.read(length)


def local_lines(path: Path, base: str) -> Callable[[], Iterator[bytes]]:
    """The file's lines as the validator should read them: relative media under `base`."""

    def lines() -> Iterator[bytes]:
        with path.open("rb", buffering=1 << 20) as handle:
            for line in handle:
                yield rewrite_line(line, base)[0]

    return lines


def upload(s3: Any, path: Path, bucket: str, key: str) -> tuple[str, int]:
    """A local dataset file (with the media it names relative to itself) or folder, uploaded
    under `key`: its S3 URI, and how many media files went with it."""
    if path.is_dir():
        for file in sorted(p for p in path.rglob("*") if p.is_file()):
            s3.upload_file(str(file), bucket, f"{key}/{file.relative_to(path).as_posix()}")
        return f"s3://{bucket}/{key}/", 0
    if not has_relative_media(path):
        s3.upload_file(str(path), bucket, key)
        return f"s3://{bucket}/{key}", 0
    folder_key = key.rsplit("/", 1)[0] + "/"
    named: set[str] = set()
    with tempfile.TemporaryFile() as rewritten, path.open("rb") as handle:
        for number, line in enumerate(handle, start=1):
            line, names = rewrite_line(line, f"s3://{bucket}/{folder_key}")
            for name in names:
                if name not in named:
                    s3.upload_file(str(media_file(path.parent, name, f"{path.name} line {number}")), bucket,
                                   folder_key + name)
                    named.add(name)
            rewritten.write(line)
        rewritten.seek(0)
        s3.upload_fileobj(rewritten, bucket, key)
    return f"s3://{bucket}/{key}", len(named)


class LocalFolders:
    """The local datasets with relative media being checked: each one's placeholder prefix and
    folder. Lookups under a placeholder read the folder; others go to S3 (`fallback`)."""

    def __init__(self) -> None:
        self.folders: dict[str, Path] = {}

    def add(self, role: str, path: Path) -> Callable[[], Iterator[bytes]] | None:
        """The lines to validate when the file names media relative to itself; else None."""
        if not has_relative_media(path):
            return None
        base = f"{PLACEHOLDER}{role}/"
        self.folders[base] = path.parent
        return local_lines(path, base)

    def source(self, fallback: Any = None) -> Any:
        return _Routed(FolderMedia(self.folders), fallback) if self.folders else fallback

    def restore_names(self, reports: list[Any]) -> None:
        """Findings name the files on this machine, not the placeholder."""
        from dataclasses import replace

        def local(message: str) -> str:
            for base, folder in self.folders.items():
                message = message.replace(base, f"{folder}/")
            return message

        for report in reports:
            report.errors = [replace(f, message=local(f.message)) for f in report.errors]
            report.warnings = [replace(f, message=local(f.message)) for f in report.warnings]


class _Routed:
    def __init__(self, folders: FolderMedia, fallback: Any) -> None:
        self.folders, self.fallback = folders, fallback
        self.max_concurrency = getattr(fallback, "max_concurrency", 8)

    def _local(self, bucket: str) -> bool:
        return self.fallback is None or f"s3://{bucket}/" == PLACEHOLDER

    def list_window(self, bucket: str, prefix: str, start_after: str) -> tuple[dict[str, int], bool]:
        source = self.folders if self._local(bucket) else self.fallback
        return source.list_window(bucket, prefix, start_after)

    def read_range(self, uri: str, length: int) -> bytes | None:
        source = self.folders if self._local(split_s3_uri(uri)[0]) else self.fallback
        return source.read_range(uri, length)
