"""Step Functions: the status of this stack's executions, for the janitor."""

from __future__ import annotations

import json
from typing import Any

from customization.adapters.errors import aws_errors
from customization.errors import ExecutionExistsError, ResourceNotFoundError


class Executions:
    def __init__(self, client: Any, state_machine_arn: str) -> None:
        self._client = client
        self._machine_arn = state_machine_arn
        # arn:aws:states:<region>:<account>:stateMachine:<name> -> ...:execution:<name>:<execution>
        self._prefix = state_machine_arn.replace(":stateMachine:", ":execution:", 1) + ":"

    def start(self, name: str, document: dict[str, Any]) -> str | None:
        """Start an execution; None when one of that name exists already (a repeated event)."""
        try:
            with aws_errors(f"start execution {name}"):
                return str(self._client.start_execution(
                    stateMachineArn=self._machine_arn, name=name, input=json.dumps(document)
                )["executionArn"])
        except ExecutionExistsError:
            return None

    def describe(self, execution_arn: str) -> dict[str, Any]:
        with aws_errors(f"describe execution {execution_arn}"):
            return dict(self._client.describe_execution(executionArn=execution_arn))

    def failed_state(self, execution_arn: str) -> str | None:
        """The last Task state that failed, from the execution's history."""
        entered = failed = None
        with aws_errors(f"read the history of {execution_arn}"):
            for page in self._client.get_paginator("get_execution_history").paginate(executionArn=execution_arn):
                for event in page["events"]:
                    if "stateEnteredEventDetails" in event:
                        entered = str(event["stateEnteredEventDetails"]["name"])
                    elif event["type"] in ("TaskFailed", "LambdaFunctionFailed", "LambdaFunctionTimedOut", "TaskTimedOut"):
                        failed = entered
        return failed

    def status(self, execution_name: str) -> str | None:
        """RUNNING, SUCCEEDED, FAILED, TIMED_OUT, ABORTED; None when no such execution exists."""
        try:
            with aws_errors(f"describe execution {execution_name}"):
                return str(self._client.describe_execution(executionArn=self._prefix + execution_name)["status"])
        except ResourceNotFoundError:
            return None
