"""Request files on the user's machine: reading them, finding their local datasets, naming runs."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bedrock_customize.local_media import MediaPathError, check_named_media
from customization.models.s3 import S3_URI
from customization.vocabulary import DATA_FIELDS

PREPARE_SOURCE = "prepare.source"
LOGS_SOURCE = "invocation_logs.source"
# Sections whose `source` may be a local file or folder, uploaded before the run starts.
SOURCES = {PREPARE_SOURCE: "raw data the run prepares first", LOGS_SOURCE: "model invocation logs to distil from"}
# A later stage's datasets, which may be local files too (uploaded as stages.<index>.<field>).
STAGE_DATA_FIELDS = ("training_data", "validation_data")


class RequestFileError(ValueError):
    """The request file, or a local dataset it names, cannot be read."""


def load_request(path: Path) -> dict[str, Any]:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise RequestFileError(f"request file not found: {path}") from None
    except json.JSONDecodeError as exc:
        raise RequestFileError(f"{path}: not valid JSON ({exc.msg} at line {exc.lineno})") from None
    if not isinstance(document, dict):
        raise RequestFileError(f"{path}: the request must be a JSON object")
    return document


def local_datasets(request: dict[str, Any], base_dir: Path) -> dict[str, Path]:
    """Dataset fields that name local files (relative to the request file), checked to exist."""
    found = {}
    for name in DATA_FIELDS:
        value = request.get(name)
        if isinstance(value, str) and not S3_URI.match(value):
            path = (base_dir / value).resolve()
            if not path.is_file():
                raise RequestFileError(f"{name}: local file {path} does not exist")
            try:
                check_named_media(path)  # media named relative to the file are uploaded with it
            except MediaPathError as exc:
                raise RequestFileError(f"{name}: {exc}") from None
            found[name] = path
    stages = request.get("stages")
    for index, stage in enumerate(stages if isinstance(stages, list) else []):
        for name in STAGE_DATA_FIELDS:
            value = stage.get(name) if isinstance(stage, dict) else None
            if isinstance(value, str) and not S3_URI.match(value):
                path = (base_dir / value).resolve()
                if not path.is_file():
                    raise RequestFileError(f"stages[{index}].{name}: local file {path} does not exist")
                found[f"stages.{index}.{name}"] = path
    for field in SOURCES:
        section = request.get(field.split(".")[0])
        source = section.get("source") if isinstance(section, dict) else None
        if isinstance(source, str) and not S3_URI.match(source):
            path = (base_dir / source).resolve()
            if not path.exists():
                raise RequestFileError(f"{field}: local file or folder {path} does not exist")
            found[field] = path
    return found


def with_uploaded(request: dict[str, Any], field: str, uri: str) -> dict[str, Any]:
    """The request naming `uri` where it named a local file or folder in `field`."""
    if field in SOURCES:
        section = field.split(".")[0]
        return {**request, section: {**request[section], "source": uri}}
    if field.startswith("stages."):  # stages.<index>.<field>
        _, index, name = field.split(".")
        stages = [dict(stage) for stage in request["stages"]]
        stages[int(index)][name] = uri
        return {**request, "stages": stages}
    return {**request, field: uri}


def dataset_key(execution_name: str, field: str, path: Path) -> str:
    """Where a local dataset (or raw source) of a run is uploaded in the pipeline bucket."""
    return f"datasets/{execution_name}/{field}/{path.name}"


def execution_name_for(label: str) -> str:
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    slug = re.sub(r"[^A-Za-z0-9-]+", "-", label).strip("-")[:50] or "run"
    return f"{slug}-{stamp}"
