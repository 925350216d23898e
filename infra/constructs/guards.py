from __future__ import annotations

from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from infra import constants


class CleanupGuards(Construct):
    """What cleans up when the state machine cannot.

    - an EventBridge rule on this state machine's execution status changes (ABORTED,
      TIMED_OUT, FAILED) invokes the cleanup function with the execution; those paths run no
      Catch, and a failure inside Tear Down itself ends there too;
    - a schedule (from the stage config) invokes the janitor, which deletes this stack's
      deployments whose run ended or whose time limit passed."""

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        state_machine: sfn.IStateMachine,
        clean_up: lambda_.IFunction,
        janitor: lambda_.IFunction,
        janitor_schedule: str,
    ) -> None:
        super().__init__(scope, id_)
        self.execution_ended = events.Rule(
            self,
            "ExecutionEnded",
            description="Cleans up after executions that end without Tear Down having run",
            event_pattern=events.EventPattern(
                source=["aws.states"],
                detail_type=["Step Functions Execution Status Change"],
                detail={"status": list(constants.CLEANUP_STATUSES), "stateMachineArn": [state_machine.state_machine_arn]},
            ),
            targets=[targets.LambdaFunction(clean_up, retry_attempts=8)],
        )
        self.janitor_schedule = events.Rule(
            self,
            "JanitorSchedule",
            description="Deletes this stack's deployments whose run ended or whose time limit passed",
            schedule=events.Schedule.expression(janitor_schedule),
            targets=[targets.LambdaFunction(janitor, retry_attempts=2)],
        )
