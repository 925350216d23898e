"""Step Functions: the status of this stack's executions, for the janitor."""

from __future__ import annotations

from typing import Any

from customization.adapters.errors import aws_errors
from customization.errors import ResourceNotFoundError


class Executions:
    def __init__(self, client: Any, state_machine_arn: str) -> None:
        self._client = client
        # arn:aws:states:<region>:<account>:stateMachine:<name> -> ...:execution:<name>:<execution>
        self._prefix = state_machine_arn.replace(":stateMachine:", ":execution:", 1) + ":"

    def status(self, execution_name: str) -> str | None:
        """RUNNING, SUCCEEDED, FAILED, TIMED_OUT, ABORTED; None when no such execution exists."""
        try:
            with aws_errors(f"describe execution {execution_name}"):
                return str(self._client.describe_execution(executionArn=self._prefix + execution_name)["status"])
        except ResourceNotFoundError:
            return None
