from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from infra import constants


def dead_letter_queue(scope: Construct, id_: str) -> sqs.Queue:
    """Where an event nobody could take ends: SQS-managed encryption, TLS only, kept 14 days.
    Both EventBridge (a target it could not deliver to) and Lambda (an asynchronous invocation
    that still failed after its retries) put events here; an alarm watches its depth."""
    return sqs.Queue(scope, id_, encryption=sqs.QueueEncryption.SQS_MANAGED, enforce_ssl=True,
                     retention_period=cdk.Duration.days(14))


class CleanupGuards(Construct):
    """The EventBridge rules around the state machine.

    - an EventBridge rule on this state machine's execution status changes (ABORTED,
      TIMED_OUT, FAILED) invokes the cleanup function with the execution; those paths run no
      Catch, and a failure inside Tear Down itself ends there too;
    - a schedule (from the stage config) invokes the janitor, which deletes this stack's
      deployments whose run ended or whose time limit passed;
    - a request file under requests/ in the bucket starts a run;
    - every run's end is announced on the notification topic.

    Every target retries its delivery, then leaves the event in `dead_letters`; the functions
    themselves, invoked asynchronously, retry and then leave it there too (LifecycleFunctions),
    so no event is lost silently; an alarm watches the queue."""

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        state_machine: sfn.IStateMachine,
        clean_up: lambda_.IFunction,
        janitor: lambda_.IFunction,
        janitor_schedule: str,
        bucket_name: str,
        start_from_request: lambda_.IFunction,
        notify_run: lambda_.IFunction,
        notify_job_progress: lambda_.IFunction,
        dead_letters: sqs.IQueue,
    ) -> None:
        super().__init__(scope, id_)
        self.dead_letters = dead_letters

        def deliver_to(function: lambda_.IFunction, attempts: int) -> targets.LambdaFunction:
            return targets.LambdaFunction(function, retry_attempts=attempts, dead_letter_queue=self.dead_letters,
                                          max_event_age=cdk.Duration.hours(24))

        self.execution_ended = events.Rule(
            self,
            "ExecutionEnded",
            description="Cleans up after executions that end without Tear Down having run",
            event_pattern=events.EventPattern(
                source=["aws.states"],
                detail_type=["Step Functions Execution Status Change"],
                detail={"status": list(constants.CLEANUP_STATUSES), "stateMachineArn": [state_machine.state_machine_arn]},
            ),
            targets=[deliver_to(clean_up, 8)],
        )
        self.request_files = events.Rule(
            self,
            "RequestFiles",
            description="A JSON request written under requests/ starts a run",
            event_pattern=events.EventPattern(
                source=["aws.s3"],
                detail_type=["Object Created"],
                detail={"bucket": {"name": [bucket_name]}, "object": {"key": events.Match.wildcard(constants.REQUEST_FILES)}},
            ),
            targets=[deliver_to(start_from_request, 8)],
        )
        self.run_ended = events.Rule(
            self,
            "RunEnded",
            description="Tells the subscribers how each run ended",
            event_pattern=events.EventPattern(
                source=["aws.states"],
                detail_type=["Step Functions Execution Status Change"],
                detail={
                    "status": ["SUCCEEDED", *constants.CLEANUP_STATUSES],
                    "stateMachineArn": [state_machine.state_machine_arn],
                },
            ),
            targets=[deliver_to(notify_run, 4)],
        )
        self.job_progress = events.Rule(
            self,
            "JobProgress",
            description="Bedrock's customization job state changes, as notices (the state machine still polls)",
            event_pattern=events.EventPattern(
                source=["aws.bedrock"],
                detail_type=["Model Customization Job State Change"],
                # Filter on jobStatus: a pattern on `status` silently never matches.
                detail={"jobStatus": events.Match.exists()},
            ),
            targets=[deliver_to(notify_job_progress, 2)],
        )
        self.janitor_schedule = events.Rule(
            self,
            "JanitorSchedule",
            description="Deletes this stack's deployments whose run ended or whose time limit passed",
            schedule=events.Schedule.expression(janitor_schedule),
            targets=[deliver_to(janitor, 2)],
        )
