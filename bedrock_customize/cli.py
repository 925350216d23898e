"""`bedrock-customize`: run the lifecycle offline and work with requests.

Exit codes: 0 success; 1 the run (or check) failed; 2 bad invocation (a missing file, an
unreadable request)."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Iterator
from functools import lru_cache
from pathlib import Path
from typing import Any

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
SCHEMA_PATH = Path(__file__).resolve().parent.parent / "schemas" / "request.schema.json"


def request_schema() -> dict[str, Any]:
    """The request's JSON Schema. Where the request rules check a field against a table (the
    evaluation's metrics, the registry's embedding models), the schema lists the table's values."""
    from customization.evaluation.metrics import METRICS
    from customization.models.request import CustomizationRequest
    from customization.registry import load_registry

    schema = CustomizationRequest.model_json_schema()
    evaluation = schema["$defs"]["EvaluationSettings"]["properties"]
    evaluation["primary_metric"]["enum"] = list(METRICS)
    evaluation["embedding_model"]["enum"] = list(load_registry().embedding_models)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = "https://github.com/bedrock-customize/request.schema.json"
    return schema


def cmd_schema(args: argparse.Namespace) -> int:
    from bedrock_customize.reference import README, updated_readme

    schema = request_schema()
    text = json.dumps(schema, indent=2) + "\n"
    if args.write:
        SCHEMA_PATH.parent.mkdir(parents=True, exist_ok=True)
        SCHEMA_PATH.write_text(text, encoding="utf-8")
        from customization.registry import load_registry

        README.write_text(updated_readme(README.read_text(encoding="utf-8"), schema, load_registry()), encoding="utf-8")
        print(f"wrote {SCHEMA_PATH} and the request reference in {README}")
    else:
        sys.stdout.write(text)
    return EXIT_OK


def cmd_run_local(args: argparse.Namespace) -> int:
    from bedrock_customize.offline import engine
    from bedrock_customize.offline.scenarios import SCENARIOS

    if args.list_scenarios:
        for name, scenario in SCENARIOS.items():
            print(f"{name:<24} {scenario.description} (ends {scenario.expected_status})")
        return EXIT_OK
    if args.scenario not in SCENARIOS:
        print(f"bedrock-customize: unknown scenario {args.scenario!r}; known: {', '.join(SCENARIOS)}", file=sys.stderr)
        return EXIT_USAGE
    scenario = SCENARIOS[args.scenario]
    request_path = Path(args.request).resolve() if args.request else (
        engine.DEFAULT_REQUEST.with_name(f"{scenario.example}.json") if scenario.example else engine.DEFAULT_REQUEST)
    try:
        request = engine.load_request(request_path)
        datasets = engine.local_datasets(request, request_path.parent)
    except engine.RequestFileError as exc:
        print(f"bedrock-customize: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if args.template and not Path(args.template).is_file():
        print(f"bedrock-customize: --template {args.template}: no such file", file=sys.stderr)
        return EXIT_USAGE
    request = {**request, **scenario.request}
    label = request_path.stem if args.scenario == "happy" else f"{request_path.stem}-{args.scenario}"
    execution_name = engine.execution_name_for(label)
    out_dir = Path(args.out) if args.out else Path("runs") / execution_name
    out_dir.mkdir(parents=True, exist_ok=True)

    print(f"request: {request_path}" + ("" if args.scenario == "happy" else f"; scenario {args.scenario}: {scenario.description}"))
    if args.template:  # one synthesis serves several runs
        template = Path(args.template)
        print(f"using the synthesized template {template}", flush=True)
    else:
        print("synthesizing the app (stage 'local') ...", flush=True)
        template = engine.synthesize(Path(args.assembly) if args.assembly else out_dir / "cdk.out")
    print("running the synthesized state machine in the AWS emulator (moto); Bedrock is SIMULATED", flush=True)
    with (out_dir / "handlers.log").open("w", encoding="utf-8") as handler_log:
        result = engine.OfflineEngine(template, log=lambda line: print(line, flush=True), handler_log=handler_log).run(
            request, execution_name=execution_name, datasets=datasets, faults=scenario.faults(),
            crashes=scenario.crashes, abort_when=scenario.abort_when, job_polls=scenario.job_polls,
            deployment_polls=scenario.deployment_polls,
        )
    summary_path = engine.write_summary(result, out_dir, str(request.get("base_model")), scenario=args.scenario,
                                        expected_status=scenario.expected_status)
    print(f"status: {result.status}")
    estimate = json.loads(summary_path.read_text(encoding="utf-8")).get("cost_estimate")
    if estimate:
        budget = request.get("budget", {}).get("max_usd")
        total = "unknown (a price is missing)" if estimate["total_usd"] is None else f"${estimate['total_usd']:,.2f}"
        print(f"cost estimate in AWS (list prices, made before the run): {total}"
              + (f", budget ${budget:,.2f}" if budget else "") + " (offline, nothing was billed)")
        for chosen in (a for a in estimate.get("assumptions", []) if a.startswith("deployment.mode was not given")):
            print(chosen)
    if result.error:
        print(f"error: {result.error['error']}: {result.error['cause'] or '(the execution was stopped)'}")
    evaluation = (result.output or {}).get("evaluation")
    if evaluation:
        print(f"evaluation (SIMULATED models): {evaluation['verdict']}")
        print(f"promotion gate: {'PROMOTED' if evaluation['promoted'] else 'NOT PROMOTED'}: {evaluation['why']}")
        if evaluation.get("teacher"):
            print(f"teacher (SIMULATED): {evaluation['teacher']}")
    version = (result.output or {}).get("version")
    if version and version["model_name"]:
        print(f"model version: {version['why']}" + (f" (SSM parameter {version['parameter']})" if version["registered"] else ""))
    leaked = result.resources["leaked"]
    print(f"resources left running: {', '.join(r['type'] + ' ' + r['id'] for r in leaked) if leaked else 'none'}")
    if args.scenario != "happy":
        verdict = "as expected" if result.status == scenario.expected_status and not leaked else "NOT as expected"
        print(f"scenario {args.scenario}: ended {result.status}, expected {scenario.expected_status}; {verdict}")
    print(f"summary: {summary_path.resolve()}")
    return EXIT_OK if result.status == "SUCCEEDED" else EXIT_FAILED


class UsageError(Exception):
    """A bad invocation: exit 2 with one line."""


def _local_lines(path: Path) -> Iterator[bytes]:
    with path.open("rb", buffering=1 << 20) as handle:
        yield from handle


def _dataset_source(role: str, location: str, s3_client: Callable[[], Any], folders: Any) -> Any:
    from customization.datasets.validator import DatasetSource
    from customization.models.s3 import S3_URI

    match = S3_URI.match(location)
    if match:
        from botocore.exceptions import BotoCoreError, ClientError

        bucket, key = match.groups()
        try:
            size = int(s3_client().head_object(Bucket=bucket, Key=key)["ContentLength"])
        except (ClientError, BotoCoreError) as exc:
            raise UsageError(f"cannot read {location}: {exc}") from None

        def lines() -> Iterator[bytes]:
            yield from s3_client().get_object(Bucket=bucket, Key=key)["Body"].iter_lines(keepends=False)

        return DatasetSource(role=role, name=location, lines=lines, size_bytes=size, bucket=bucket)
    path = Path(location)
    if not path.is_file():
        raise UsageError(f"{role} file not found: {location}")
    lines = folders.add(role, path) or (lambda: _local_lines(path))  # media named relative to the file: read beside it
    return DatasetSource(role=role, name=location, lines=lines, size_bytes=path.stat().st_size)


def _lazy_s3_client() -> Callable[[], Any]:
    """One S3 client, made on first use: commands on local files never need credentials."""

    @lru_cache(maxsize=1)
    def client() -> Any:
        import boto3
        from botocore.config import Config

        # The media lookups read image headers on as many threads as there are connections.
        return boto3.client("s3", config=Config(max_pool_connections=32))

    return client


def _media_lookups(sources: list[Any], s3_client: Callable[[], Any], folders: Any) -> Any:
    """The pipeline's own media lookups, over S3 and the folders of local datasets that name
    media relative to themselves; None when neither applies (media are then not looked up)."""
    from customization.datasets.media import MediaLookups

    store = None
    if any(source.bucket for source in sources):
        from customization.adapters.storage import ObjectStore

        store = ObjectStore(s3_client())
    source = folders.source(store)
    return MediaLookups(source, concurrency=source.max_concurrency) if source is not None else None


def cmd_validate(args: argparse.Namespace) -> int:
    from customization.datasets.validator import batch_size_for, validate_sources
    from customization.registry import UnknownBaseModelError, UnsupportedCustomizationError, load_registry

    try:
        model = load_registry().resolve(args.base_model)
        customization = model.customization(args.customization_type)
    except (UnknownBaseModelError, UnsupportedCustomizationError) as exc:
        print(f"bedrock-customize: {exc}", file=sys.stderr)
        return EXIT_USAGE

    from bedrock_customize.local_media import LocalFolders

    s3_client, folders = _lazy_s3_client(), LocalFolders()
    try:
        sources = [_dataset_source("training", args.file, s3_client, folders)]
        if args.validation:
            sources.append(_dataset_source("validation", args.validation, s3_client, folders))
    except UsageError as exc:
        print(f"bedrock-customize: {exc}", file=sys.stderr)
        return EXIT_USAGE
    batch_size = batch_size_for({}, customization.hyperparameters)  # no request: the model's default
    media = _media_lookups(sources, s3_client, folders)
    try:
        reports = validate_sources(model, customization, sources, batch_size=batch_size, media=media)
    finally:
        if media is not None:
            media.close()
    folders.restore_names(reports)
    valid = all(report.valid for report in reports)
    training = reports[0]

    if args.json:
        def rows(kind: str) -> list[dict[str, Any]]:
            return [{**f.as_dict(), "file": r.role} for r in reports for f in getattr(r, kind)]

        document = {
            "valid": valid,
            "legacy": model.legacy,
            "records": training.records,
            "estimated_tokens": training.estimated_tokens,
            "token_estimate": f"characters / {customization.limits.chars_per_token:g}",
            "base_model": model.model_id,
            "customization_type": args.customization_type,
            "errors": rows("errors"),
            "error_count": sum(r.error_count for r in reports),
            "warnings": rows("warnings"),
            "warning_count": sum(r.warning_count for r in reports),
            "skipped": [s for r in reports for s in r.skipped],
            "files": [r.as_dict() for r in reports],
        }
        print(json.dumps(document, indent=2))
        return EXIT_OK if valid else EXIT_FAILED

    errors = sum(r.error_count for r in reports)
    warnings = sum(r.warning_count for r in reports)
    files = " + ".join(f"{r.source} ({r.records:,} {r.role} records)" for r in reports)
    print(
        f"{'VALID' if valid else 'INVALID'}: {files} for {model.model_id} {args.customization_type}: "
        f"{errors:,} error(s), {warnings:,} warning(s); about {training.estimated_tokens:,} training tokens "
        f"(estimated at {customization.limits.chars_per_token:g} characters per token)"
    )
    if model.legacy_warning():
        print(model.legacy_warning())
    for report in reports:
        prefix = f"{report.role} " if len(reports) > 1 else ""
        for finding in report.errors:
            print(f"{prefix}{finding}")
        if report.error_count > len(report.errors):
            print(f"{prefix}... and {report.error_count - len(report.errors):,} more error(s)")
        for finding in report.warnings:
            print(f"{prefix}{finding} (warning)")
        if report.warning_count > len(report.warnings):
            print(f"{prefix}... and {report.warning_count - len(report.warnings):,} more warning(s)")
        for skipped in report.skipped:
            print(f"{prefix}skipped: {skipped['rule']}: {skipped['reason']}")
    return EXIT_OK if valid else EXIT_FAILED


def _log_objects(folder: Path | None, uri: str, s3_client: Any) -> Iterator[tuple[str, bytes]]:
    """The invocation log objects of a local folder, or under an S3 prefix."""
    if folder is not None:
        files = [folder] if folder.is_file() else sorted(p for p in folder.rglob("*") if p.is_file())
        yield from ((str(path), path.read_bytes()) for path in files)
        return
    from botocore.exceptions import BotoCoreError, ClientError

    bucket, _, prefix = uri.removeprefix("s3://").partition("/")
    client = s3_client()
    try:
        for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
            for item in page.get("Contents", []):
                yield f"s3://{bucket}/{item['Key']}", client.get_object(Bucket=bucket, Key=item["Key"])["Body"].read()
    except (ClientError, BotoCoreError) as exc:
        raise UsageError(f"invocation_logs.source: cannot read {uri}: {exc}") from None


def cmd_estimate(args: argparse.Namespace) -> int:
    """Validate the request and its datasets as Validate Request does, then price the run."""
    from bedrock_customize.local_media import LocalFolders
    from bedrock_customize.requests import LOGS_SOURCE, RequestFileError, load_request, local_datasets, with_uploaded
    from customization.core.costs import render_estimate
    from customization.core.request_rules import parse_request
    from customization.core.validate_request import (
        check_datasets,
        estimate_run,
        logs_report,
        plan_experiment,
        plan_run,
        stage_request,
    )
    from customization.errors import RequestInvalidError
    from customization.registry import load_registry
    from customization.vocabulary import DATA_FIELDS

    s3_client, folders = _lazy_s3_client(), LocalFolders()
    path = Path(args.request)
    try:
        raw = load_request(path)
        local = local_datasets(raw, path.parent)
        # Local files stand in for the S3 objects `start` would upload them to.
        stand_in = raw
        for field in local:
            stand_in = with_uploaded(stand_in, field, f"s3://local-files/{field}/")
        request = parse_request(stand_in, bucket=None)
    except (RequestFileError, RequestInvalidError) as exc:
        print(f"bedrock-customize: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if request.prepare is not None:
        print("bedrock-customize: this request prepares raw data in the bucket first; run `bedrock-customize prepare` "
              "on a copy of that data and estimate a request naming the prepared files", file=sys.stderr)
        return EXIT_USAGE
    model = load_registry().resolve(request.base_model)
    try:
        sources = [
            _dataset_source(role, str(local[field]) if field in local else raw[field], s3_client, folders)
            for field, role in DATA_FIELDS.items() if raw.get(field)
        ]
    except UsageError as exc:
        print(f"bedrock-customize: {exc}", file=sys.stderr)
        return EXIT_USAGE
    # The same two steps as Validate Request: the datasets at the job's batch size, then the plan.
    media = _media_lookups(sources, s3_client, folders)
    try:
        reports = check_datasets(request, model, sources, media=media)
    finally:
        if media is not None:
            media.close()
    folders.restore_names(reports)
    if request.invocation_logs is not None:  # the logs are the training data, read as Validate Request reads them
        try:
            objects = _log_objects(local.get(LOGS_SOURCE), raw["invocation_logs"]["source"], s3_client)
        except UsageError as exc:
            print(f"bedrock-customize: {exc}", file=sys.stderr)
            return EXIT_USAGE
        reports.insert(0, logs_report(request, objects))
    stage_reports = []
    for index, stage in enumerate(request.stages or []):  # each later stage's data, against its own customization
        try:
            stage_sources = [_dataset_source(role, str(local.get(f"stages.{index}.{field}") or getattr(stage, field)),
                                             s3_client, folders)
                             for field, role in (("training_data", "training"), ("validation_data", "validation"))
                             if getattr(stage, field)]
        except UsageError as exc:
            print(f"bedrock-customize: {exc}", file=sys.stderr)
            return EXIT_USAGE
        checked = check_datasets(stage_request(request, stage), model, stage_sources, media=None)
        folders.restore_names(checked)
        stage_reports.append(checked)
    invalid = [r.describe() for r in reports if not r.valid]
    invalid += [f"stages[{i}] {r.describe()}" for i, checked in enumerate(stage_reports) for r in checked if not r.valid]
    if invalid:
        print("bedrock-customize: the datasets are invalid, so the run would be rejected before any cost:\n"
              + "\n".join(invalid), file=sys.stderr)
        return EXIT_FAILED
    if request.reinforcement is not None:  # what Validate Request checks before it tries the grader
        from customization.core.graders import check_references
        from customization.errors import DatasetInvalidError

        try:
            for source in sources:
                check_references(request.reinforcement, source.lines(), source.name)
        except DatasetInvalidError as exc:
            print(f"bedrock-customize: the run would be rejected before any cost: {exc}", file=sys.stderr)
            return EXIT_FAILED
    plan = plan_run(request, model, reports)
    # A sweep or a multi-stage run is priced whole, as Validate Request prices it (the job quota unknown here).
    _, _, estimate = plan_experiment(request, model, plan, execution_name="estimate", job_headroom=None,
                                     stage_reports=stage_reports, first_training=request.training_data or "")
    # A provisioned throughput bills by the hour; where the model can be deployed on demand, say what that costs.
    on_demand = None
    if request.deployment.mode == "provisioned" and model.on_demand_deployment:
        cheaper = request.model_copy(update={"deployment": request.deployment.model_copy(update={"mode": "on_demand"})})
        on_demand = estimate_run(cheaper, model, plan.reports, plan.counts)[0].total_usd
    max_usd = request.budget.max_usd
    if model.legacy_warning() and not args.json:
        print(model.legacy_warning(), file=sys.stderr)
    if args.json:
        print(json.dumps({**estimate.model_dump(mode="json"), "budget_usd": max_usd, "on_demand_total_usd": on_demand}, indent=2))
    else:
        print(render_estimate(estimate, max_usd=max_usd, on_demand_usd=on_demand))
    if max_usd is not None and (estimate.total_usd is None or estimate.total_usd > max_usd):
        return EXIT_FAILED
    return EXIT_OK


def estimate_document(request: Path) -> tuple[int, dict[str, Any] | None, str]:
    """`estimate --json` of a request file: its exit code, its JSON document and its errors."""
    import contextlib
    import io

    printed, errors = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(printed), contextlib.redirect_stderr(errors):
        code = main(["estimate", "--json", "--request", str(request)])
    document = json.loads(printed.getvalue()) if printed.getvalue().strip() else None
    return code, document, errors.getvalue().strip()


def cmd_smoke(args: argparse.Namespace) -> int:
    from bedrock_customize import deployed, smoke

    try:
        return smoke.smoke(budget=args.budget, stack=args.stack, deployer=smoke.Cdk(args.stage), estimator=estimate_document)
    except smoke.SmokeRefused as exc:
        print(f"bedrock-customize: smoke-aws refused: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except deployed.CommandError as exc:
        print(f"bedrock-customize: {exc}", file=sys.stderr)
        return exc.code


def cmd_deployed(args: argparse.Namespace) -> int:
    from bedrock_customize import deployed
    from bedrock_customize.requests import RequestFileError

    try:
        if args.command == "start":
            deployed.start(args.stack, Path(args.request), args.name)
        elif args.command == "status":
            deployed.status(args.stack, args.execution)
        elif args.command == "list":
            deployed.list_runs(args.stack, args.limit)
        elif args.command == "stop":
            deployed.stop(args.stack, args.execution)
        elif args.command == "report":
            deployed.report(args.stack, args.execution, Path(args.out))
        elif args.command == "watch":
            final = deployed.watch(args.stack, args.execution, args.interval)
            return EXIT_OK if final == "SUCCEEDED" else EXIT_FAILED
    except deployed.CommandError as exc:
        print(f"bedrock-customize: {exc}", file=sys.stderr)
        return exc.code
    except RequestFileError as exc:
        print(f"bedrock-customize: {exc}", file=sys.stderr)
        return EXIT_USAGE
    return EXIT_OK


def cmd_models(args: argparse.Namespace) -> int:
    from bedrock_customize import models
    from bedrock_customize.deployed import CommandError

    try:
        models.run(args.stack, args.action, getattr(args, "name", None), getattr(args, "version", None))
    except CommandError as exc:
        print(f"bedrock-customize: {exc}", file=sys.stderr)
        return exc.code
    return EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    from typing import get_args

    from customization.registry import CustomizationType

    customization_types = get_args(CustomizationType)
    parser = argparse.ArgumentParser(prog="bedrock-customize", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run_local = commands.add_parser("run-local", help="run a request through the whole lifecycle offline")
    run_local.add_argument("--request", help="request JSON (default: the bundled Nova Lite example)")
    run_local.add_argument("--out", help="output folder (default: runs/<execution name>/)")
    run_local.add_argument("--assembly", help="where to synthesize the app (default: OUT/cdk.out)")
    run_local.add_argument("--template", help="an app already synthesized for stage 'local' (its .template.json): no synthesis")
    run_local.add_argument("--scenario", default="happy", help="a named failure scenario (default: happy)")
    run_local.add_argument("--list-scenarios", action="store_true", help="list the scenarios and exit")
    run_local.set_defaults(func=cmd_run_local)

    validate = commands.add_parser(
        "validate",
        help="check a dataset against every documented rule of its base model",
        description="Exit 0: valid (warnings allowed); 1: invalid data; 2: bad invocation.",
    )
    validate.add_argument("file", metavar="FILE", help="training JSONL: a local path or s3://bucket/key")
    validate.add_argument("--base-model", required=True, help="registry id or alias, e.g. nova-lite")
    validate.add_argument("--customization-type", default="FINE_TUNING", choices=customization_types)
    validate.add_argument("--validation", help="validation JSONL, checked against its own limits")
    validate.add_argument("--json", action="store_true", help="print a JSON report instead of text")
    validate.set_defaults(func=cmd_validate)

    estimate = commands.add_parser(
        "estimate",
        help="price a request before running it: training, deployment, evaluation and storage in USD",
        description="Validates the request and its datasets (local files or s3://), then prints the cost estimate "
        "Validate Request holds the run to. Exit 0: priced (and within budget.max_usd if set); 1: over budget, a "
        "price unknown with a budget set, or invalid data; 2: bad invocation.",
    )
    estimate.add_argument("--request", required=True, help="request JSON; local dataset paths are relative to it")
    estimate.add_argument("--json", action="store_true", help="print the estimate as JSON")
    estimate.set_defaults(func=cmd_estimate)

    def deployed_command(name: str, help_text: str, *, execution: bool = True) -> argparse.ArgumentParser:
        command = commands.add_parser(name, help=help_text)
        command.add_argument("--stack", default="BedrockCustomization-dev", help="the deployed stack's name")
        if execution:
            command.add_argument("execution", metavar="EXECUTION", help="execution name or ARN")
        command.set_defaults(func=cmd_deployed)
        return command

    start = deployed_command("start", "start a run on the deployed stack (local datasets are uploaded)", execution=False)
    start.add_argument("--request", required=True, help="request JSON")
    start.add_argument("--name", help="execution name (default: from the request file and the time)")
    watch = deployed_command("watch", "follow a run until it ends; exits 0 only if it SUCCEEDED")
    watch.add_argument("--interval", type=float, default=10.0, help="seconds between polls")
    deployed_command("status", "a run's status, current state, error or evaluation")
    deployed_command("list", "the stack's recent runs", execution=False).add_argument("--limit", type=int, default=20)
    deployed_command("stop", "stop a run (its cleanup follows)")
    deployed_command("report", "download a run's report").add_argument("--out", default=".", help="folder for the files")

    models = commands.add_parser("models", help="the deployed stack's model versions: list, show, promote, rollback, delete")
    actions = models.add_subparsers(dest="action", required=True, metavar="ACTION")

    def model_action(name: str, help_text: str, *, model: bool = True, version: str | None = None) -> None:
        action = actions.add_parser(name, help=help_text)
        action.add_argument("--stack", default="BedrockCustomization-dev", help="the deployed stack's name")
        if model:
            action.add_argument("name", metavar="NAME", help="the model name a request gave (model_name)")
        if version == "required":
            action.add_argument("version", metavar="VERSION", type=int)
        elif version == "optional":
            action.add_argument("version", metavar="VERSION", type=int, nargs="?", help="one version, with its lineage")
        action.set_defaults(func=cmd_models)

    model_action("list", "every model name, its current version and how many are kept", model=False)
    model_action("show", "a model's versions (or one, with its lineage) and its SSM parameter", version="optional")
    model_action("promote", "make a version current (its ARN goes into the SSM parameter)", version="required")
    model_action("rollback", "make the version before the current one current again; nothing is deleted")
    model_action("delete", "delete a version's custom model (never the current version)", version="required")

    smoke = commands.add_parser(
        "smoke-aws", help="the acceptance run in a real account: deploy, the cheapest real lifecycle, checks, destroy",
        description="Refuses without credentials or when the estimate is above --budget; destroys the stack on every exit.",
    )
    smoke.add_argument("--budget", type=float, default=10.0, help="USD; the run's budget.max_usd too")
    smoke.add_argument("--stage", default="dev", help="the cdk.json stage to deploy")
    smoke.add_argument("--stack", default="BedrockCustomization-dev", help="that stage's stack name")
    smoke.set_defaults(func=cmd_smoke)

    from bedrock_customize import prepare

    prepare.add_parser(commands)

    schema = commands.add_parser("schema", help="print the request's JSON Schema")
    schema.add_argument(
        "--write", action="store_true", help=f"write it to schemas/{SCHEMA_PATH.name} and the README's request reference"
    )
    schema.set_defaults(func=cmd_schema)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        code = int(args.func(args))
        sys.stdout.flush()  # a closed reader shows here, not in the interpreter's own flush at exit
        return code
    except BrokenPipeError:
        # The reader went away (`validate ... | head`): end quietly, as a Unix filter does.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
