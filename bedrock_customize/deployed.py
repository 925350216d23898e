"""Commands for a deployed stack: start, watch, list, status, stop, report. Each AWS error is
shown as one readable line."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from customization.vocabulary import EVALUATION_DIR, run_prefix
from infra import constants as c
from infra.steps import PHASES as STEP_PHASES
from infra.steps import STEPS

DEFAULT_STACK = "BedrockCustomization-dev"
FINAL = {"SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"}


class CommandError(Exception):
    """One line for the user; exit code 1 (AWS said no) or 2 (bad invocation)."""

    def __init__(self, message: str, code: int = 1) -> None:
        super().__init__(message)
        self.code = code


def _clients() -> tuple[Any, Any, Any]:
    import boto3

    return boto3.client("cloudformation"), boto3.client("stepfunctions"), boto3.client("s3")


def aws_call(action: str, call: Callable[[], Any]) -> Any:
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        return call()
    except ClientError as exc:
        error = exc.response.get("Error", {})
        raise CommandError(f"{action}: {error.get('Code')}: {error.get('Message')}") from None
    except BotoCoreError as exc:
        raise CommandError(f"{action}: {exc}") from None


def stack_outputs(cloudformation: Any, stack: str) -> dict[str, str]:
    stacks = aws_call(f"find stack {stack}", lambda: cloudformation.describe_stacks(StackName=stack))["Stacks"]
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stacks[0].get("Outputs", [])}
    if "StateMachineArn" not in outputs or "BucketName" not in outputs:
        raise CommandError(f"stack {stack} has no StateMachineArn/BucketName outputs: is it this project's stack?")
    return outputs


def execution_arn(machine_arn: str, execution: str) -> str:
    if execution.startswith("arn:"):
        return execution
    return machine_arn.replace(":stateMachine:", ":execution:", 1) + f":{execution}"


def console_link(arn: str) -> str:
    region = arn.split(":")[3]
    return f"https://{region}.console.aws.amazon.com/states/home?region={region}#/v2/executions/details/{arn}"


def start(stack: str, request_path: Path, name: str | None) -> str:
    from bedrock_customize import local_media
    from bedrock_customize.requests import dataset_key, execution_name_for, load_request, local_datasets, with_uploaded

    request = load_request(request_path)
    datasets = local_datasets(request, request_path.parent)
    cloudformation, sfn, s3 = _clients()
    outputs = stack_outputs(cloudformation, stack)
    name = name or execution_name_for(request_path.stem)
    for field, path in datasets.items():
        key = dataset_key(name, field, path)  # with the media it names relative to itself
        uri, media = aws_call(f"upload {path}", lambda path=path, key=key: local_media.upload(s3, path, outputs["BucketName"], key))
        request = with_uploaded(request, field, uri)
        print(f"uploaded {path} to {uri}" + (f" with the {media} media files it names" if media else ""))
    arn = aws_call("start the execution", lambda: sfn.start_execution(
        stateMachineArn=outputs["StateMachineArn"], name=name, input=json.dumps(request)))["executionArn"]
    print(f"started {arn}\n{console_link(arn)}")
    return str(arn)


def _history(sfn: Any, arn: str) -> list[dict[str, Any]]:
    return list(aws_call("read the history", lambda: sfn.get_execution_history(
        executionArn=arn, reverseOrder=True, maxResults=200))["events"])


def status(stack: str, execution: str) -> dict[str, Any]:
    cloudformation, sfn, _ = _clients()
    arn = execution_arn(stack_outputs(cloudformation, stack)["StateMachineArn"], execution)
    description = aws_call(f"describe {execution}", lambda: sfn.describe_execution(executionArn=arn))
    progress = progress_of(_history(sfn, arn))
    running = description["status"] == "RUNNING" and progress.state
    print(f"{description['name']}: {description['status']}" + (f" (in {progress.state})" if running else ""))
    if description.get("error") or description.get("cause"):
        print(f"error: {description.get('error')}: {description.get('cause')}")
    evaluation = json.loads(description.get("output") or "{}").get("evaluation")
    if evaluation:
        print(f"{'PROMOTED' if evaluation['promoted'] else 'NOT PROMOTED'}: {evaluation['why']}\nreport: {evaluation['report_html_uri']}")
    return dict(description)


def list_runs(stack: str, limit: int) -> list[dict[str, Any]]:
    cloudformation, sfn, _ = _clients()
    machine = stack_outputs(cloudformation, stack)["StateMachineArn"]
    runs = aws_call("list executions", lambda: sfn.list_executions(stateMachineArn=machine, maxResults=limit))["executions"]
    for run in runs:
        print(f"{run['startDate']:%Y-%m-%d %H:%M}  {run['status']:<10} {run['name']}")
    if not runs:
        print("no runs yet")
    return list(runs)


def stop(stack: str, execution: str) -> None:
    cloudformation, sfn, _ = _clients()
    arn = execution_arn(stack_outputs(cloudformation, stack)["StateMachineArn"], execution)
    aws_call(f"stop {execution}", lambda: sfn.stop_execution(
        executionArn=arn, error="StoppedByUser", cause="stopped with bedrock-customize stop"))
    print(f"stopped {execution}; the cleanup deletes what the run created (it follows the ABORTED event)")


def report(stack: str, execution: str, out: Path) -> list[Path]:
    cloudformation, sfn, s3 = _clients()
    outputs = stack_outputs(cloudformation, stack)
    name = execution.rsplit(":", 1)[-1]
    out.mkdir(parents=True, exist_ok=True)
    saved = []
    for file in ("report.html", "report.json"):
        key = f"{run_prefix(name)}{EVALUATION_DIR}{file}"
        target = out / file
        aws_call(f"download s3://{outputs['BucketName']}/{key}",
                 lambda key=key, target=target: s3.download_file(outputs["BucketName"], key, str(target)))
        saved.append(target)
        print(f"saved {target}")
    return saved


# The states between the Tasks (waits, choices, the Map, the failure paths), by phase; each
# Task's phase is on its Step.
CONTROL_STATES = {
    "validate": (c.RAW_DATA,),
    "train": (c.SWEEP, c.TRAIN_CANDIDATES, c.SUBMIT_CANDIDATE_JOB, c.WAIT_FOR_CANDIDATE_JOB, c.CHECK_CANDIDATE_JOB,
              c.CANDIDATE_JOB_COMPLETE, c.CANDIDATE_TRAINED, c.CANDIDATE_FAILED, c.WAIT_FOR_JOB, c.JOB_COMPLETE,
              c.MORE_STAGES, c.STAGE_RECORDED),
    "deploy": (c.DEPLOYMENT_REQUESTED, c.WAIT_FOR_DEPLOYMENT, c.DEPLOYMENT_READY),
    "evaluate": (c.SHARD_EVALUATION, c.SCORE_SHARDS, c.SCORE_SHARD, c.EVALUATION_JOB_DONE, c.WAIT_FOR_EVALUATION_JOB,
                 c.MODEL_SELECTED, c.EVALUATE_ANOTHER),
    "tear down": (c.RUN_FAILED_CHOICE, c.TEAR_DOWN_FAILED, c.VALIDATION_FAILED),
    "done": (c.RUN_SUCCEEDED, c.RUN_FAILED, c.CLEANUP_PENDING, c.RUN_NOT_STARTED),
}
# The run's phases in order, and the states that belong to each (the rest keep the phase).
PHASES: tuple[tuple[str, tuple[str, ...]], ...] = tuple(
    (phase, (*(step.state for step in STEPS if step.phase == phase), *CONTROL_STATES.get(phase, ())))
    for phase in (*STEP_PHASES, "done")
)


@dataclass(frozen=True)
class Progress:
    state: str | None
    phase: int  # index into PHASES
    job: str | None  # the customization job's last status the run saw
    deployment: str | None

    def line(self, elapsed_seconds: float, width: int = 12) -> str:
        done = round(width * (self.phase + 1) / len(PHASES))
        bar = "#" * done + "-" * (width - done)
        parts = [f"[{bar}] {PHASES[self.phase][0]:<9}", self.state or "starting"]
        if self.job:
            parts.append(f"job {self.job}")
        if self.deployment:
            parts.append(f"deployment {self.deployment}")
        hours, rest = divmod(int(elapsed_seconds), 3600)
        parts.append(f"{hours:d}:{rest // 60:02d}:{rest % 60:02d}")
        return " | ".join(parts)


def progress_of(events: list[dict[str, Any]]) -> Progress:
    """What the history says: the current state and phase, and the last job and deployment
    status a step returned."""
    state = job = deployment = None
    # Newest first whatever order the history came in (the emulator ignores reverseOrder).
    for event in sorted(events, key=lambda e: e["id"], reverse=True):
        entered = event.get("stateEnteredEventDetails")
        if entered and state is None:
            state = entered["name"]
        exited = event.get("stateExitedEventDetails")
        if exited and exited["name"] in (c.CHECK_JOB, c.SUBMIT_JOB) and job is None:
            job = (json.loads(exited.get("output") or "{}").get("job") or {}).get("status")
        if exited and exited["name"] in (c.CHECK_DEPLOYMENT, c.DEPLOY_MODEL) and deployment is None:
            deployment = (json.loads(exited.get("output") or "{}").get("deployment") or {}).get("status")
    phase = next((i for i, (_, states) in enumerate(PHASES) if state in states), 0)
    return Progress(state=state, phase=phase, job=job, deployment=deployment)


def watch(stack: str, execution: str, interval: float = 10.0, sleep: Callable[[float], None] = time.sleep) -> str:
    """Live progress until the run ends: a bar over the run's phases, the current state, the
    job's and deployment's status and the time since the run started. On a terminal the line
    is redrawn in place; otherwise a line is printed at each change. Returns the final status."""
    cloudformation, sfn, _ = _clients()
    arn = execution_arn(stack_outputs(cloudformation, stack)["StateMachineArn"], execution)
    live = sys.stdout.isatty()
    last: Progress | None = None
    while True:
        description = aws_call(f"describe {execution}", lambda: sfn.describe_execution(executionArn=arn))
        events = _history(sfn, arn)
        now = description.get("stopDate") or datetime.now(UTC)
        current = progress_of(events)
        line = current.line((now - description["startDate"]).total_seconds())
        if live:
            sys.stdout.write(("\n" if last and current.state != last.state else "\r") + line.ljust(100))
        elif current != last:
            print(line)
        sys.stdout.flush()
        last = current
        if description["status"] in FINAL:
            print(("\n" if live else "") + f"{description['name']} ended {description['status']}")
            return str(description["status"])
        sleep(interval)
