from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks
from constructs import Construct

from infra import constants as c
from infra.config import StageConfig


class LifecycleWorkflow(Construct):
    """The Standard state machine of one customization run.

    Validate Request -> Submit Job -> [Wait -> Check Job -> Choice] -> Deploy Model ->
    [Wait -> Check Deployment -> Choice] -> Plan Evaluation -> (Score Samples, or a Map of
    Score Shard over the shards) -> Report Evaluation -> Tear Down -> success.
    A failed validation ends the run before anything is created; any error from Submit Job
    on is caught into `$.error` and goes through Tear Down, and the run then fails with the
    readable cause Tear Down derived. JSONPath and Lambda tasks only, so the offline engine
    runs this very definition. Exposes `state_machine`."""

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        config: StageConfig,
        functions: dict[str, lambda_.IFunction],
    ) -> None:
        super().__init__(scope, id_)

        def task(state: str, result_path: str, payload: sfn.TaskInput | None = None) -> tasks.LambdaInvoke:
            # Without a payload the function receives the whole state document and returns its key.
            invoke = tasks.LambdaInvoke(
                self,
                state,
                lambda_function=functions[state],
                payload=payload,
                payload_response_only=True,
                result_path=result_path,
            )
            invoke.add_retry(
                errors=list(c.RETRYABLE_ERRORS),
                interval=cdk.Duration.seconds(config.retry_interval_seconds),
                max_attempts=config.retry_max_attempts,
                backoff_rate=2,
            )
            return invoke

        validate = task(
            c.VALIDATE_REQUEST,
            "$",
            sfn.TaskInput.from_object(
                {
                    "request": sfn.JsonPath.entire_payload,
                    "execution_name": sfn.JsonPath.string_at("$$.Execution.Name"),
                    "execution_arn": sfn.JsonPath.string_at("$$.Execution.Id"),
                }
            ),
        )
        submit = task(c.SUBMIT_JOB, "$.job")
        check_job = task(c.CHECK_JOB, "$.job")
        deploy = task(c.DEPLOY_MODEL, "$.deployment")
        check_deployment = task(c.CHECK_DEPLOYMENT, "$.deployment")
        plan = task(c.PLAN_EVALUATION, "$.plan")
        score_samples = task(c.SCORE_SAMPLES, "$.scored")
        start_evaluation_job = task(c.START_EVALUATION_JOB, "$.evaluation_job")
        check_evaluation_job = task(c.CHECK_EVALUATION_JOB, "$.evaluation_job")
        report = task(c.REPORT_EVALUATION, "$.evaluation")
        score_shard = tasks.LambdaInvoke(
            self, c.SCORE_SHARD, lambda_function=functions[c.SCORE_SAMPLES], payload_response_only=True
        )
        score_shard.add_retry(
            errors=list(c.RETRYABLE_ERRORS), interval=cdk.Duration.seconds(config.retry_interval_seconds),
            max_attempts=config.retry_max_attempts, backoff_rate=2,
        )
        score_shards = sfn.Map(
            self,
            c.SCORE_SHARDS,
            items_path="$.plan.shards",
            item_selector={
                "run.$": "$.run",
                "deployment.$": "$.deployment",
                "shard.$": "$$.Map.Item.Value",
            },
            max_concurrency=config.evaluation_map_concurrency,
            result_path="$.scored",
        )
        score_shards.item_processor(score_shard)
        tear_down = task(c.TEAR_DOWN, "$.teardown")

        def fail_with_message(read_state: str, fail_state: str) -> sfn.Pass:
            """Ends the run with the failed step's own message instead of its JSON error document."""
            read = sfn.Pass(
                self,
                read_state,
                parameters={"error.$": "$.error.Error", "detail.$": "States.StringToJson($.error.Cause)"},
                result_path="$.failure",
            )
            read.next(sfn.Fail(self, fail_state, error_path="$.failure.error", cause_path="$.failure.detail.errorMessage"))
            return read

        # Nothing exists before Submit Job: a failed validation (a rejected request or dataset,
        # or a step that kept failing) ends the run there.
        validate.add_catch(
            fail_with_message(c.VALIDATION_FAILED, c.RUN_NOT_STARTED), errors=[sfn.Errors.ALL], result_path="$.error"
        )
        # A failed Tear Down ends the run FAILED; the execution-status rule then runs the same
        # cleanup again from the ledger.
        tear_down.add_catch(
            fail_with_message(c.TEAR_DOWN_FAILED, c.CLEANUP_PENDING), errors=[sfn.Errors.ALL], result_path="$.error"
        )
        for state in (
            submit, check_job, deploy, check_deployment, plan, score_samples, score_shards,
            start_evaluation_job, check_evaluation_job, report,
        ):
            state.add_catch(tear_down, errors=[sfn.Errors.ALL], result_path="$.error")

        wait_for_job = sfn.Wait(self, c.WAIT_FOR_JOB, time=sfn.WaitTime.seconds_path("$.run.wait_seconds.job"))
        wait_for_deployment = sfn.Wait(
            self, c.WAIT_FOR_DEPLOYMENT, time=sfn.WaitTime.seconds_path("$.run.wait_seconds.deployment")
        )
        finish = sfn.Choice(self, c.RUN_FAILED_CHOICE)
        finish.when(
            sfn.Condition.is_present("$.error"),
            sfn.Fail(self, c.RUN_FAILED, error_path="$.teardown.failure.error", cause_path="$.teardown.failure.cause"),
        ).otherwise(sfn.Succeed(self, c.RUN_SUCCEEDED))
        tear_down.next(finish)

        job_complete = sfn.Choice(self, c.JOB_COMPLETE)
        job_complete.when(sfn.Condition.string_equals("$.job.status", "Completed"), deploy).otherwise(wait_for_job)
        deployment_requested = sfn.Choice(self, c.DEPLOYMENT_REQUESTED)
        deployment_requested.when(sfn.Condition.string_equals("$.deployment.kind", "none"), tear_down).otherwise(
            wait_for_deployment
        )
        deployment_ready = sfn.Choice(self, c.DEPLOYMENT_READY)
        deployment_ready.when(sfn.Condition.boolean_equals("$.deployment.ready", True), plan).otherwise(
            wait_for_deployment
        )
        shard_evaluation = sfn.Choice(self, c.SHARD_EVALUATION)
        shard_evaluation.when(sfn.Condition.boolean_equals("$.plan.sharded", True), score_shards).otherwise(score_samples)

        validate.next(submit)
        submit.next(wait_for_job)
        wait_for_job.next(check_job)
        check_job.next(job_complete)
        deploy.next(deployment_requested)
        wait_for_deployment.next(check_deployment)
        check_deployment.next(deployment_ready)
        wait_for_evaluation_job = sfn.Wait(
            self, c.WAIT_FOR_EVALUATION_JOB, time=sfn.WaitTime.seconds_path("$.run.wait_seconds.job")
        )
        evaluation_job_done = sfn.Choice(self, c.EVALUATION_JOB_DONE)
        evaluation_job_done.when(sfn.Condition.boolean_equals("$.evaluation_job.done", True), report).otherwise(
            wait_for_evaluation_job
        )
        plan.next(shard_evaluation)
        score_shards.next(start_evaluation_job)
        score_samples.next(start_evaluation_job)
        start_evaluation_job.next(evaluation_job_done)
        wait_for_evaluation_job.next(check_evaluation_job)
        check_evaluation_job.next(evaluation_job_done)
        report.next(tear_down)

        log_group = logs.LogGroup(
            self,
            "ExecutionLogs",
            log_group_name=f"/aws/vendedlogs/states/{cdk.Stack.of(self).stack_name}-lifecycle",
            retention=logs.RetentionDays.ONE_MONTH,
            removal_policy=cdk.RemovalPolicy.DESTROY,
        )
        self.state_machine = sfn.StateMachine(
            self,
            "StateMachine",
            definition_body=sfn.DefinitionBody.from_chainable(validate),
            state_machine_type=sfn.StateMachineType.STANDARD,
            timeout=cdk.Duration.hours(config.state_machine_timeout_hours),
            tracing_enabled=True,
            logs=sfn.LogOptions(destination=log_group, level=sfn.LogLevel.ALL, include_execution_data=True),
        )
