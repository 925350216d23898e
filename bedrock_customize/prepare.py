"""`bedrock-customize prepare`: raw data in, a dataset the model accepts out.

Writes train.jsonl (and validation.jsonl, test.jsonl when asked) and prepare-report.json into
the output folder, then checks the written files with the pipeline's own validator.
Exit 0: the files are valid; 1: the input cannot become a valid dataset; 2: bad invocation.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import sys
from contextlib import ExitStack
from pathlib import Path
from typing import IO, Any

from customization.models.s3 import S3_URI, split_s3_uri

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
REPORT = "prepare-report.json"
FILES = {"training": "train.jsonl", "validation": "validation.jsonl", "test": "test.jsonl"}


def parse_mapping(pairs: list[str]) -> dict[str, str]:
    mapping = {}
    for pair in pairs:
        role, sep, name = pair.partition("=")
        if not sep or not role or not name:
            raise ValueError(f"--map {pair}: expected ROLE=FIELD")
        mapping[role] = name
    return mapping


KEY_CHARACTERS = re.compile(r"[^A-Za-z0-9_./-]+")


class MediaCopies:
    """Images copied under DIR/media/ with keys every model allows. Records name them as they
    will be in S3 (`--media-uri` + key) or, without it, relative to DIR (`media/<key>`), which
    `run-local` and `start` upload beside the dataset."""

    def __init__(self, root: Path, out: Path, media_uri: str | None) -> None:
        from bedrock_customize.local_media import PLACEHOLDER

        self.root, self.out = root, out
        # Without --media-uri, the converter's checks see the placeholder (an S3 URI), and the
        # written records the relative name.
        self.relative = not media_uri
        self.media_uri = media_uri.rstrip("/") + "/" if media_uri else PLACEHOLDER
        self.keys: dict[Path, str] = {}

    def __call__(self, where: str, reference: str) -> str:
        if reference.startswith("s3://"):
            return reference  # already in S3
        path = (self.root / reference).resolve()
        if not path.is_file():
            raise FileNotFoundError(f"image {reference} not found under {self.root}")
        if path not in self.keys:
            key = "media/" + KEY_CHARACTERS.sub("-", path.name)
            if key in self.keys.values():  # two images of one name from different folders
                key = f"media/{hashlib.sha256(str(path).encode()).hexdigest()[:8]}-{KEY_CHARACTERS.sub('-', path.name)}"
            (self.out / "media").mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, self.out / key)
            self.keys[path] = key
        return self.media_uri + self.keys[path]


def check_invocation(args: Any) -> tuple[Any, dict[str, str]]:
    """The model and the mapping, or ValueError naming the bad option (exit 2)."""
    from customization.registry import load_registry

    model = load_registry().resolve(args.base_model)
    model.customization(args.customization_type)
    mapping = parse_mapping(args.map or [])
    if not Path(args.input).exists():
        raise ValueError(f"input not found: {args.input}")
    for name, value in (("--validation-fraction", args.validation_fraction), ("--test-fraction", args.test_fraction)):
        if not 0 <= value < 1:
            raise ValueError(f"{name} {value}: expected a fraction from 0 to below 1")
    if args.validation_fraction + args.test_fraction >= 1:
        raise ValueError("--validation-fraction and --test-fraction leave no training records")
    if args.media_uri and not S3_URI.match(args.media_uri.rstrip("/") + "/x"):
        raise ValueError(f"--media-uri {args.media_uri}: expected s3://BUCKET/PREFIX/")
    return model, mapping


def convert(args: Any, model: Any, mapping: dict[str, str], raw: Any, kind: str, out: Path) -> tuple[Any, MediaCopies]:
    """The conversion, written into `out` as it streams."""
    from bedrock_customize.local_media import relative_to_dataset
    from customization.datasets.conversion import ConversionOptions, Converter
    from customization.datasets.readers import read

    source = Path(args.input)
    media_root = Path(args.media_root) if args.media_root else (source if source.is_dir() else source.parent)
    copies = MediaCopies(media_root, out, args.media_uri)
    options = ConversionOptions(
        resolve_image=copies, mapping=mapping, system=args.system, validation_fraction=args.validation_fraction,
        test_fraction=args.test_fraction, seed=args.seed,
    )
    out.mkdir(parents=True, exist_ok=True)
    with ExitStack() as files:
        handles: dict[str, IO[str]] = {}

        def write(role: str, record: dict[str, Any]) -> None:
            if role not in handles:
                handles[role] = files.enter_context((out / FILES[role]).open("w", encoding="utf-8"))
            if copies.relative:
                record = relative_to_dataset(record)
            handles[role].write(json.dumps(record, ensure_ascii=False) + "\n")

        return Converter(model, args.customization_type, options, write).convert(read(raw, kind)), copies


def validate_written(args: Any, model: Any, out: Path, written: list[str], copies: MediaCopies) -> list[Any]:
    """The written training and validation files, checked by the pipeline's validator; their
    images as they will be in S3, read from the copies."""
    from bedrock_customize.local_media import FolderMedia, LocalFolders
    from customization.datasets.media import MediaLookups
    from customization.datasets.validator import DatasetSource, batch_size_for, validate_sources

    spec = model.customization(args.customization_type)
    folders = LocalFolders()
    at_uri = bool(copies.keys and not copies.relative)
    sources = []
    for role in written:
        if role == "test":
            continue
        path = out / FILES[role]
        lines = (None if at_uri else folders.add(role, path)) or (lambda p=path: p.open("rb"))
        sources.append(DatasetSource(role=role, name=str(path), lines=lines, size_bytes=path.stat().st_size,
                                     bucket=split_s3_uri(copies.media_uri + "x")[0] if at_uri else None))
    media = None
    if copies.keys:  # the copies stand for S3: at --media-uri, or beside the dataset
        media = MediaLookups(FolderMedia({copies.media_uri: out}) if at_uri else folders.source())
    try:
        reports = validate_sources(model, spec, sources, batch_size=batch_size_for({}, spec.hyperparameters), media=media)
    finally:
        if media is not None:
            media.close()
    folders.restore_names(reports)
    return reports


def run(args: Any) -> int:
    from customization.datasets.conversion import ConversionError, check_mapping
    from customization.datasets.readers import LocalInput, detect, fields
    from customization.registry import UnknownBaseModelError, UnsupportedCustomizationError

    out = Path(args.out)
    try:
        model, mapping = check_invocation(args)
        raw = LocalInput(Path(args.input))
        kind = detect(raw, args.source_kind)
        if mapping:  # a mapping that names a missing field fails before anything is written
            check_mapping(mapping, fields(raw, kind))
    except (UnknownBaseModelError, UnsupportedCustomizationError, ValueError) as exc:  # ConversionError included
        print(f"bedrock-customize: {exc}", file=sys.stderr)
        return EXIT_USAGE
    for stale in (*FILES.values(), REPORT):  # files of an earlier run would be mistaken for this one's
        (out / stale).unlink(missing_ok=True)
    try:
        report, copies = convert(args, model, mapping, raw, kind, out)
    except ConversionError as exc:
        print(f"bedrock-customize: {exc}", file=sys.stderr)
        return EXIT_FAILED
    written = [role for role in FILES if (out / FILES[role]).exists() and role in report.written]
    reports = validate_written(args, model, out, written, copies) if report.written.get("training") else []
    valid = bool(reports) and all(r.valid for r in reports)
    document = {**report.as_dict(), "valid": valid, "validation": [r.as_dict() for r in reports]}
    (out / REPORT).write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    print_outcome(report, document, reports, written, model.model_id, args.customization_type, out)
    return EXIT_OK if valid else EXIT_FAILED


def print_outcome(report: Any, document: dict[str, Any], reports: list[Any], written: list[str], model_id: str,
                  customization_type: str, out: Path) -> None:
    counts = ", ".join(f"{report.written[role]:,} {FILES[role]}" for role in written) or "nothing"
    dropped = document["records_dropped"]
    print(f"{'VALID' if document['valid'] else 'INVALID'}: {report.read:,} records read ({_shapes(report.shapes)}); "
          f"wrote {counts} for {model_id} {customization_type}; {dropped:,} dropped, "
          f"{len(report.changes) - dropped:,} changed (see {out / REPORT})")
    for note in report.notes:
        print(f"note: {note}")
    for change in report.changes[:20]:
        print(f"{change.where}: {change.action}: {change.rule}: {change.reason}")
    if len(report.changes) > 20:
        print(f"... and {len(report.changes) - 20:,} more in {REPORT}")
    for dataset in reports:
        for finding in dataset.errors:
            print(f"{dataset.role} {finding}")
    if not reports:
        print("bedrock-customize: no training record could be converted", file=sys.stderr)


def _shapes(shapes: dict[str, int]) -> str:
    return ", ".join(f"{count:,} {shape}" for shape, count in sorted(shapes.items())) or "none recognised"


def add_parser(commands: Any) -> None:
    from typing import get_args

    from customization.registry import CustomizationType

    prepare = commands.add_parser(
        "prepare",
        help="convert raw data (CSV, JSONL, JSON, Parquet, text) into a dataset the base model accepts",
        description=__doc__.split("\n\n")[1] if __doc__ else None,
    )
    prepare.add_argument("input", metavar="INPUT", help="a file (CSV, TSV, JSONL, JSON array, Parquet, text, Markdown) or a folder of text files")
    prepare.add_argument("--out", required=True, help="output folder")
    prepare.add_argument("--base-model", required=True, help="registry id or alias, e.g. nova-lite")
    prepare.add_argument("--customization-type", default="FINE_TUNING", choices=get_args(CustomizationType))
    prepare.add_argument("--from", dest="source_kind", default="auto",
                         help="auto (default), csv, tsv, jsonl, json, parquet or text")
    prepare.add_argument("--map", action="append", metavar="ROLE=FIELD",
                         help="read ROLE (prompt, completion, system, text) from FIELD; repeatable")
    prepare.add_argument("--system", help="a system prompt for records that have none")
    prepare.add_argument("--validation-fraction", type=float, default=0.0, help="share of records for validation.jsonl")
    prepare.add_argument("--test-fraction", type=float, default=0.0, help="share of records for test.jsonl")
    prepare.add_argument("--seed", type=int, default=42, help="seed of the split (the same input and seed, the same files)")
    prepare.add_argument("--media-root", help="where image paths in the input are resolved (default: the input's folder)")
    prepare.add_argument("--media-uri", help="s3://BUCKET/PREFIX/ where DIR/media/ will be uploaded; records name images there "
                         "(default: relative to DIR, uploaded beside the dataset by run-local and start)")
    prepare.set_defaults(func=run)
