from __future__ import annotations

import json

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_scheduler as scheduler
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from infra.config import ScheduledRun


class ScheduledRuns(Construct):
    """The stage's scheduled runs (cdk.json `schedules`): EventBridge Scheduler starts the
    state machine with each schedule's request, through a role that may only do that (and leave
    a start that failed past its retries in the dead-letter queue)."""

    def __init__(self, scope: Construct, id_: str, *, state_machine: sfn.IStateMachine, runs: tuple[ScheduledRun, ...],
                 dead_letters: sqs.IQueue) -> None:
        super().__init__(scope, id_)
        self.schedules: list[scheduler.CfnSchedule] = []
        if not runs:
            return
        stack = cdk.Stack.of(self)
        role = iam.Role(
            self,
            "Role",
            description="Lets EventBridge Scheduler start the customization state machine",
            assumed_by=iam.ServicePrincipal(
                "scheduler.amazonaws.com", conditions={"StringEquals": {"aws:SourceAccount": stack.account}}
            ),
        )
        state_machine.grant_start_execution(role)
        dead_letters.grant_send_messages(role)  # a start that fails past its retries is kept there
        for run in runs:
            self.schedules.append(
                scheduler.CfnSchedule(
                    self,
                    run.name,
                    name=f"{stack.stack_name}-{run.name}"[:64],
                    description=f"Scheduled customization run {run.name}",
                    schedule_expression=run.expression,
                    schedule_expression_timezone=run.timezone,
                    flexible_time_window=scheduler.CfnSchedule.FlexibleTimeWindowProperty(mode="OFF"),
                    target=scheduler.CfnSchedule.TargetProperty(
                        arn=state_machine.state_machine_arn, role_arn=role.role_arn, input=json.dumps(run.request),
                        retry_policy=scheduler.CfnSchedule.RetryPolicyProperty(maximum_retry_attempts=3),
                        dead_letter_config=scheduler.CfnSchedule.DeadLetterConfigProperty(arn=dead_letters.queue_arn),
                    ),
                )
            )
