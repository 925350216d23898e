"""`bedrock-customize`: run the lifecycle offline and work with requests.

Exit codes: 0 success; 1 the run (or check) failed; 2 bad invocation (a missing file, an
unreadable request)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
SCHEMA_PATH = Path(__file__).resolve().parent.parent / "schemas" / "request.schema.json"


def request_schema() -> dict[str, object]:
    from customization.models.request import CustomizationRequest

    schema = CustomizationRequest.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = "https://github.com/bedrock-customize/request.schema.json"
    return schema


def cmd_schema(args: argparse.Namespace) -> int:
    text = json.dumps(request_schema(), indent=2) + "\n"
    if args.write:
        SCHEMA_PATH.parent.mkdir(parents=True, exist_ok=True)
        SCHEMA_PATH.write_text(text, encoding="utf-8")
        print(f"wrote {SCHEMA_PATH}")
    else:
        sys.stdout.write(text)
    return EXIT_OK


def cmd_run_local(args: argparse.Namespace) -> int:
    from bedrock_customize.offline import engine

    request_path = Path(args.request).resolve() if args.request else engine.DEFAULT_REQUEST
    try:
        request = engine.load_request(request_path)
        datasets = engine.local_datasets(request, request_path.parent)
    except engine.RequestFileError as exc:
        print(f"bedrock-customize: {exc}", file=sys.stderr)
        return EXIT_USAGE
    execution_name = engine.execution_name_for(request_path.stem)
    out_dir = Path(args.out) if args.out else Path("runs") / execution_name
    out_dir.mkdir(parents=True, exist_ok=True)

    print(f"request: {request_path}")
    print("synthesizing the app (stage 'local') ...", flush=True)
    assembly = Path(args.assembly) if args.assembly else out_dir / "cdk.out"
    template = engine.synthesize(assembly)
    print("running the synthesized state machine in the AWS emulator (moto); Bedrock is SIMULATED", flush=True)
    with (out_dir / "handlers.log").open("w", encoding="utf-8") as handler_log:
        result = engine.OfflineEngine(template, log=lambda line: print(line, flush=True), handler_log=handler_log).run(
            request, execution_name=execution_name, datasets=datasets
        )
    summary_path = engine.write_summary(result, out_dir, str(request.get("base_model")))
    print(f"status: {result.status}")
    if result.error:
        print(f"error: {result.error['error']}: {result.error['cause']}")
    evaluation = (result.output or {}).get("evaluation")
    if evaluation:
        print(f"evaluation (SIMULATED models): {evaluation['verdict']}")
    leaked = result.resources["leaked"]
    print(f"resources left running: {', '.join(r['type'] + ' ' + r['id'] for r in leaked) if leaked else 'none'}")
    print(f"summary: {summary_path.resolve()}")
    return EXIT_OK if result.status == "SUCCEEDED" else EXIT_FAILED


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="bedrock-customize", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run_local = commands.add_parser("run-local", help="run a request through the whole lifecycle offline")
    run_local.add_argument("--request", help="request JSON (default: the bundled Nova Lite example)")
    run_local.add_argument("--out", help="output folder (default: runs/<execution name>/)")
    run_local.add_argument("--assembly", help="where to synthesize the app (default: OUT/cdk.out)")
    run_local.set_defaults(func=cmd_run_local)

    schema = commands.add_parser("schema", help="print the request's JSON Schema")
    schema.add_argument("--write", action="store_true", help=f"write it to {SCHEMA_PATH.name} in schemas/")
    schema.set_defaults(func=cmd_schema)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
