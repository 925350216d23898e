"""Prepare Dataset, before Validate Request when the request has a `prepare` section: the raw
data in the bucket (a file, or a folder of text files) is converted as `bedrock-customize
prepare` converts it locally, written under the run's prefix (`prepared/`, with
prepare-report.json), and the request goes on naming those files. Nothing billable exists yet:
a failure here ends the run as a rejected request does."""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import PurePosixPath
from typing import IO, TYPE_CHECKING, Any

from customization.core.request_rules import parse_request
from customization.datasets.conversion import ConversionError, ConversionOptions, Converter, check_mapping
from customization.datasets.readers import RawInput, detect, fields, read
from customization.errors import DatasetInvalidError, RequestInvalidError
from customization.models.steps import ValidateRequestInput
from customization.registry import load_registry
from customization.vocabulary import DATA_FIELDS, DataRole, run_prefix

if TYPE_CHECKING:
    from customization.adapters.storage import ObjectStore

PREPARED = "prepared/"
REPORT = "prepare-report.json"
FILE_OF = {DataRole.TRAINING: "train.jsonl", DataRole.VALIDATION: "validation.jsonl", DataRole.TEST: "test.jsonl"}


class StoredInput:
    """An S3 object, or an S3 folder (a URI ending in /), as a raw input."""

    def __init__(self, uri: str, store: ObjectStore, root: str | None = None) -> None:
        self.uri, self.store = uri, store
        self.name = uri[len(root):] if root else uri.rstrip("/").rsplit("/", 1)[-1]

    def is_folder(self) -> bool:
        return self.uri.endswith("/")

    def files(self) -> list[RawInput]:
        return [StoredInput(uri, self.store, self.uri) for uri in self.store.list_keys(self.uri) if not uri.endswith("/")]

    def open_binary(self) -> IO[bytes]:
        return self.store.open_binary(self.uri)


def _chunks(handle: IO[bytes]) -> Iterator[bytes]:
    handle.seek(0)
    while chunk := handle.read(1 << 20):
        yield chunk


def images_beside(source_uri: str) -> Callable[[str, str], str]:
    """Image names in raw records: an s3:// URI as it is; a relative path beside the raw data
    in the bucket, as `prepare` resolves it beside the input on disk. Validate Request then
    checks each object (bucket, key, size, pixels)."""
    folder = source_uri if source_uri.endswith("/") else source_uri.rsplit("/", 1)[0] + "/"

    def resolve(where: str, reference: str) -> str:
        if reference.startswith("s3://"):
            return reference
        if "://" in reference or reference.startswith("/") or ".." in PurePosixPath(reference).parts:
            raise ConversionError(f"{where}: image {reference!r} is neither an s3:// URI nor a path beside {source_uri}")
        return folder + reference

    return resolve


def prepare_dataset(event: ValidateRequestInput, *, bucket: str, store: ObjectStore) -> dict[str, Any]:
    """The request, naming the datasets made from its raw data."""
    request = parse_request(event.request, bucket=bucket)
    settings = request.prepare
    if settings is None:
        return event.request
    model = load_registry().resolve(request.base_model)
    source = StoredInput(settings.source, store)
    prefix = f"s3://{bucket}/{run_prefix(event.execution_name)}{PREPARED}"
    try:
        kind = detect(source, settings.source_format)
        if settings.map:
            check_mapping(dict(settings.map), fields(source, kind))
        options = ConversionOptions(
            resolve_image=images_beside(settings.source), mapping=dict(settings.map), system=settings.system, validation_fraction=settings.validation_fraction,
            test_fraction=settings.test_fraction, seed=settings.seed,
        )
        with ExitStack() as stack:
            # Written to the function's temporary disk first, then streamed to S3: memory stays flat.
            files: dict[str, IO[bytes]] = {}

            def write(role: str, record: dict[str, Any]) -> None:
                if role not in files:
                    files[role] = stack.enter_context(tempfile.TemporaryFile())
                files[role].write(json.dumps(record, ensure_ascii=False).encode() + b"\n")

            report = Converter(model, request.customization_type, options, write).convert(read(source, kind))
            for role, handle in files.items():
                store.write_stream(f"{prefix}{FILE_OF[DataRole(role)]}", _chunks(handle))
    except ConversionError as exc:
        raise RequestInvalidError(f"prepare: {exc}") from None
    store.put_json(f"{prefix}{REPORT}", {**report.as_dict(), "source": settings.source})
    if DataRole.TRAINING not in report.written:
        raise DatasetInvalidError(
            f"prepare: no training record could be made from {settings.source} (see {prefix}{REPORT})"
        )
    prepared = {field: f"{prefix}{FILE_OF[role]}" for field, role in DATA_FIELDS.items() if role in report.written}
    # The run goes on with the prepared files in place of the raw data (the report keeps the source).
    return {**{key: value for key, value in event.request.items() if key != "prepare"}, **prepared}
