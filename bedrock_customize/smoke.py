"""`make smoke-aws`: the cheapest real lifecycle in a real account, as an acceptance run.

It refuses before anything is deployed when there are no usable credentials or when the
estimate of its run (Amazon Nova Micro on a tiny bundled dataset, deployed on demand, the custom
model deleted at the end) is above the budget or cannot be checked. Then it deploys the stage,
starts the run with the budget as its `budget.max_usd`, watches it, looks for anything the run
left (the ledger, and Bedrock's deployments and custom models named after it), prints the
estimate beside what the report measured, and destroys the stack: on every exit, Ctrl-C and
SIGTERM included. The deployer is a parameter, so the script runs offline against the stack in
the emulator in the tests."""

from __future__ import annotations

import contextlib
import io
import json
import os
import signal
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Protocol

import boto3
from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

from bedrock_customize import deployed

ROOT = Path(__file__).resolve().parent.parent
SMOKE_REQUEST = ROOT / "examples" / "requests" / "smoke-nova-micro.json"
DEFAULT_BUDGET_USD = 10.0


class SmokeRefused(Exception):
    """The acceptance run will not start: nothing was deployed."""


class Deployer(Protocol):
    def deploy(self) -> None: ...
    def destroy(self) -> None: ...


class Cdk:
    """Deploys and destroys a stage with the CDK CLI: the project's pinned one (node_modules, as
    `make setup` installs it), run by the Node the venv carries, as `make deploy` does."""

    def __init__(self, stage: str) -> None:
        self.stage = stage

    def _cdk(self, *arguments: str) -> None:
        env = {**os.environ, "PATH": os.pathsep.join([str(ROOT / ".venv" / "bin"), str(ROOT / "node_modules" / ".bin"),
                                                     os.environ.get("PATH", "")])}
        subprocess.run(["cdk", *arguments, "--no-notices", "-c", f"stage={self.stage}"], check=True, cwd=ROOT, env=env)

    def deploy(self) -> None:
        self._cdk("deploy", "--require-approval", "never")

    def destroy(self) -> None:
        self._cdk("destroy", "--force")


@contextlib.contextmanager
def budgeted(request: Path, budget: float) -> Iterator[Path]:
    """The request with the budget as its budget.max_usd, beside it (its data paths are relative)."""
    document = json.loads(request.read_text(encoding="utf-8"))
    document["budget"] = {**document.get("budget", {}), "max_usd": budget}
    with tempfile.NamedTemporaryFile("w", suffix=".json", prefix=".smoke-", dir=request.parent, delete=False) as handle:
        json.dump(document, handle)
    path = Path(handle.name)
    try:
        yield path
    finally:
        path.unlink(missing_ok=True)


def leftovers(stack: str, execution: str, clients: Callable[[str], Any]) -> list[str]:
    """What the run may have left: ledger entries not deleted, and Bedrock's deployments and
    custom models named after the run."""
    found = []
    outputs = deployed.stack_outputs(clients("cloudformation"), stack)
    table = boto3.resource("dynamodb", region_name=clients("dynamodb").meta.region_name).Table(outputs["LedgerTableName"])
    for item in table.query(KeyConditionExpression="execution = :e", ExpressionAttributeValues={":e": execution})["Items"]:
        if item["resource"] != "run" and item.get("status") not in ("deleted", "finished", "stopped"):
            found.append(f"ledger: {item['resource']} is {item.get('status')}")
    bedrock = clients("bedrock")
    for summary in bedrock.list_provisioned_model_throughputs().get("provisionedModelSummaries", []):
        if execution in summary["provisionedModelName"] and summary["status"] != "Deleting":
            found.append(f"provisioned throughput {summary['provisionedModelName']} ({summary['status']})")
    for summary in bedrock.list_custom_model_deployments().get("modelDeploymentSummaries", []):
        if execution in summary["customModelDeploymentName"]:
            found.append(f"custom model deployment {summary['customModelDeploymentName']} ({summary['status']})")
    for summary in bedrock.list_custom_models().get("modelSummaries", []):
        if execution in summary["modelName"]:
            found.append(f"custom model {summary['modelName']}")
    return found


def measured_cost(stack: str, execution: str) -> str:
    """What the report measured (the evaluation's tokens and the deployment's hours, priced)."""
    with tempfile.TemporaryDirectory() as folder:
        try:
            with contextlib.redirect_stdout(io.StringIO()):
                deployed.report(stack, execution, Path(folder))
        except deployed.CommandError:
            return "no report (the run did not reach it)"
        measured = json.loads((Path(folder) / "report.json").read_text())["cost"]["measured"]
    parts = [measured.get("inference_usd"), measured.get("deployment_usd")]
    if any(part is None for part in parts):
        return "a price is unknown"
    return f"${sum(parts):,.4f} for the evaluation and the deployment (training is not measured by Bedrock)"


def _sigterm_as_interrupt(*_: Any) -> None:
    raise KeyboardInterrupt("SIGTERM")


# `bedrock-customize estimate --json` of a request file: (exit code, its JSON document, its errors).
Estimator = Callable[[Path], tuple[int, dict[str, Any] | None, str]]


def smoke(
    *, budget: float, stack: str, deployer: Deployer, estimator: Estimator, request: Path = SMOKE_REQUEST,
    interval: float = 30.0, clients: Callable[[str], Any] = boto3.client, log: Callable[[str], None] = print,
) -> int:
    """0 when the run SUCCEEDED and left nothing; 1 otherwise; SmokeRefused before any deployment."""
    try:
        identity = clients("sts").get_caller_identity()
    except (NoCredentialsError, ClientError, BotoCoreError) as exc:
        raise SmokeRefused(f"no usable AWS credentials ({exc}); nothing was deployed") from None
    with budgeted(request, budget) as run_request:
        code, priced, errors = estimator(run_request)
        if code == 2 or priced is None:
            raise SmokeRefused(f"the smoke request cannot be estimated: {errors}; nothing was deployed")
        total = priced.get("total_usd")
        if total is None:
            raise SmokeRefused(f"the estimate is incomplete (unknown: {', '.join(priced.get('unknown_prices', []))}); "
                               "nothing was deployed")
        if total > budget:
            raise SmokeRefused(f"the estimate ${total:,.2f} is above the budget ${budget:,.2f}; nothing was deployed")
        log(f"account {identity['Account']}: the acceptance run is estimated at ${total:,.2f} (budget ${budget:,.2f})")
        previous = signal.signal(signal.SIGTERM, _sigterm_as_interrupt)
        try:
            deployer.deploy()
            name = deployed.start(stack, run_request, None).rsplit(":", 1)[-1]
            status = deployed.watch(stack, name, interval)
            left = leftovers(stack, name, clients)
            for item in left:
                log(f"LEFT RUNNING: {item}")
            log(f"estimate ${total:,.2f}; measured by the report: {measured_cost(stack, name)}; run {status}")
            return 0 if status == "SUCCEEDED" and not left else 1
        finally:
            log("destroying the stack")
            deployer.destroy()
            log("retained with the data, by design: the pipeline and access-log buckets, the ledger table and the data "
                "key (about $1 a month until you schedule its deletion in KMS, after emptying the buckets)")
            signal.signal(signal.SIGTERM, previous)
