from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks
from constructs import Construct

from infra import constants as c
from infra.config import StageConfig
from infra.steps import STEPS

# The Tasks before anything is created take the execution input as the request, and a failure
# there ends the run at once; an error in any later Task, but Tear Down, goes through Tear Down.
FIRST_TASKS = tuple(step.state for step in STEPS if step.phase == "validate")
AFTER_VALIDATION = tuple(step.state for step in STEPS if step.state not in (*FIRST_TASKS, c.TEAR_DOWN))


class LifecycleWorkflow(Construct):
    """The Standard state machine of one customization run.

    [Raw Data? -> Prepare Dataset] -> Validate Request -> Submit Job -> [Wait -> Check Job -> Choice] -> Deploy Model ->
    [Wait -> Check Deployment -> Choice] -> Plan Evaluation -> (Score Samples, or a Map of
    Score Shard over the shards) -> [Start / Wait / Check Evaluation Job] -> Report
    Evaluation -> Register Version -> Tear Down -> success.
    A failed validation ends the run before anything is created; any error from Submit Job
    on is caught into `$.error` and goes through Tear Down, and the run then fails with the
    readable cause Tear Down derived. JSONPath and Lambda tasks only, so the offline engine
    runs this very definition. Each phase is one method below; the Tasks come from the Steps
    of `infra/steps.py`. Exposes `state_machine`."""

    def __init__(
        self, scope: Construct, id_: str, *, config: StageConfig, functions: dict[str, lambda_.IFunction], key: kms.IKey,
    ) -> None:
        super().__init__(scope, id_)
        self._config = config
        self._key = key
        self._functions = functions
        self.tasks = {
            step.state: self._first_task(step.state, step.result_path) if step.state in FIRST_TASKS
            else self._task(step.state, step.result_path)
            for step in STEPS
        }
        score_shards = self._score_shards()
        train_candidates = self._train_candidates()

        tear_down = self.tasks[c.TEAR_DOWN]
        for state in AFTER_VALIDATION:
            self.tasks[state].add_catch(tear_down, errors=[sfn.Errors.ALL], result_path="$.error")
        for map_state in (score_shards, train_candidates):
            map_state.add_catch(tear_down, errors=[sfn.Errors.ALL], result_path="$.error")
        self._failure_paths()

        raw_data = sfn.Choice(self, c.RAW_DATA)
        raw_data.when(sfn.Condition.is_present("$.prepare"), self.tasks[c.PREPARE_DATASET]).otherwise(
            self.tasks[c.VALIDATE_REQUEST]
        )
        self.tasks[c.PREPARE_DATASET].next(self.tasks[c.VALIDATE_REQUEST])
        sweep = sfn.Choice(self, c.SWEEP)
        sweep.when(sfn.Condition.is_not_null("$.run.sweep"), train_candidates).otherwise(self.tasks[c.SUBMIT_JOB])
        self.tasks[c.VALIDATE_REQUEST].next(sweep)
        self._job_loop(then=self._stages(then=self.tasks[c.DEPLOY_MODEL]))
        self._selection(train_candidates)
        self._deployment_loop(then=self.tasks[c.PLAN_EVALUATION], skip_to=tear_down)
        self._scoring(score_shards, then=self.tasks[c.START_EVALUATION_JOB])
        self._evaluation_job_loop(then=self.tasks[c.REPORT_EVALUATION])
        evaluate_another = sfn.Choice(self, c.EVALUATE_ANOTHER)
        evaluate_another.when(sfn.Condition.is_present("$.experiment.evaluating"), self.tasks[c.SELECT_MODEL]).otherwise(
            self.tasks[c.REGISTER_VERSION])
        self.tasks[c.REPORT_EVALUATION].next(evaluate_another)
        self.tasks[c.REGISTER_VERSION].next(tear_down)
        self.state_machine = self._state_machine(start=raw_data)

    # -- the Tasks ---------------------------------------------------------------------------

    def _retry(self, task: tasks.LambdaInvoke) -> tasks.LambdaInvoke:
        task.add_retry(
            errors=list(c.RETRYABLE_ERRORS),
            interval=cdk.Duration.seconds(self._config.retry_interval_seconds),
            max_attempts=self._config.retry_max_attempts,
            backoff_rate=2,
        )
        return task

    def _task(self, state: str, result_path: str | None, payload: sfn.TaskInput | None = None) -> tasks.LambdaInvoke:
        # Without a payload the function receives the whole state document and returns its key.
        return self._retry(tasks.LambdaInvoke(
            self, state, lambda_function=self._functions[state], payload=payload, payload_response_only=True,
            result_path=result_path,
        ))

    def _first_task(self, state: str, result_path: str | None) -> tasks.LambdaInvoke:
        """A first Task gets the state (the execution input, or the prepared request) as the
        request, with the execution's name and id."""
        return self._task(state, result_path, sfn.TaskInput.from_object({
            "request": sfn.JsonPath.entire_payload,
            "execution_name": sfn.JsonPath.string_at("$$.Execution.Name"),
            "execution_arn": sfn.JsonPath.string_at("$$.Execution.Id"),
        }))

    def _score_shards(self) -> sfn.Map:
        """The Map path: Score Samples' function once per shard, a bounded number at a time."""
        score_shard = self._retry(tasks.LambdaInvoke(
            self, c.SCORE_SHARD, lambda_function=self._functions[c.SCORE_SAMPLES], payload_response_only=True
        ))
        score_shards = sfn.Map(
            self, c.SCORE_SHARDS, items_path="$.plan.shards",
            item_selector={"run.$": "$.run", "deployment.$": "$.deployment", "shard.$": "$$.Map.Item.Value"},
            max_concurrency=self._config.evaluation_map_concurrency, result_path="$.scored",
        )
        score_shards.item_processor(score_shard)
        return score_shards

    def _train_candidates(self) -> sfn.Map:
        """A sweep's candidates: Submit Job's and Check Job's functions once per candidate, as many
        at once as Validate Request allowed (the request's max_parallel within the job quota's
        headroom). An iteration ends with its job, or with the error that ended it, so one
        failed candidate does not stop the others."""
        submit = self._retry(tasks.LambdaInvoke(
            self, c.SUBMIT_CANDIDATE_JOB, lambda_function=self._functions[c.SUBMIT_JOB], payload_response_only=True,
            result_path="$.job",
        ))
        check = self._retry(tasks.LambdaInvoke(
            self, c.CHECK_CANDIDATE_JOB, lambda_function=self._functions[c.CHECK_JOB], payload_response_only=True,
            result_path="$.job",
        ))
        failed = sfn.Pass(self, c.CANDIDATE_FAILED, parameters={"index.$": "$.candidate.index", "error.$": "$.error"})
        for task in (submit, check):
            task.add_catch(failed, errors=[sfn.Errors.ALL], result_path="$.error")
        waiting = sfn.Wait(self, c.WAIT_FOR_CANDIDATE_JOB, time=sfn.WaitTime.seconds_path("$.run.wait_seconds.job"))
        trained = sfn.Pass(self, c.CANDIDATE_TRAINED, parameters={"index.$": "$.candidate.index", "job.$": "$.job"})
        complete = sfn.Choice(self, c.CANDIDATE_JOB_COMPLETE).when(
            sfn.Condition.string_equals("$.job.status", "Completed"), trained).otherwise(waiting)
        submit.next(waiting)
        waiting.next(check)
        check.next(complete)
        candidates = sfn.Map(
            self, c.TRAIN_CANDIDATES, items_path="$.run.sweep.candidates",
            item_selector={"run.$": "$.run", "candidate.$": "$$.Map.Item.Value"},
            max_concurrency_path="$.run.sweep.max_parallel", result_path="$.trained",
        )
        candidates.item_processor(submit)
        return candidates

    # -- the graph ---------------------------------------------------------------------------

    def _stages(self, *, then: sfn.IChainable) -> sfn.Choice:
        """After a job: a multi-stage run records the stage and trains the next on its model
        (or evaluates each stage in turn through Select Model); a one-stage run deploys."""
        more = sfn.Choice(self, c.MORE_STAGES)
        more.when(sfn.Condition.is_not_null("$.run.stages"), self.tasks[c.NEXT_STAGE]).otherwise(then)
        recorded = sfn.Choice(self, c.STAGE_RECORDED)
        recorded.when(sfn.Condition.string_equals("$.experiment.next", "train"), self.tasks[c.SUBMIT_JOB]).when(
            sfn.Condition.string_equals("$.experiment.next", "select"), self.tasks[c.SELECT_MODEL]).otherwise(then)
        self.tasks[c.NEXT_STAGE].next(recorded)
        return more

    def _selection(self, train_candidates: sfn.Map) -> None:
        """Select Model deploys the next model to evaluate (or the winner), or, once every model
        has been evaluated, registers the winner."""
        train_candidates.next(self.tasks[c.SELECT_MODEL])
        selected = sfn.Choice(self, c.MODEL_SELECTED)
        selected.when(sfn.Condition.string_equals("$.experiment.next", "register"), self.tasks[c.REGISTER_VERSION]).otherwise(
            self.tasks[c.DEPLOY_MODEL])
        self.tasks[c.SELECT_MODEL].next(selected)

    def _fail_with_message(self, read_state: str, fail_state: str) -> sfn.Pass:
        """Ends the run with the failed step's own message instead of its JSON error document."""
        read = sfn.Pass(
            self, read_state, parameters={"error.$": "$.error.Error", "detail.$": "States.StringToJson($.error.Cause)"},
            result_path="$.failure",
        )
        read.next(sfn.Fail(self, fail_state, error_path="$.failure.error", cause_path="$.failure.detail.errorMessage"))
        return read

    def _failure_paths(self) -> None:
        # Nothing exists before Submit Job: a failed preparation or validation (a rejected request
        # or dataset, or a step that kept failing) ends the run there.
        not_started = self._fail_with_message(c.VALIDATION_FAILED, c.RUN_NOT_STARTED)
        for state in FIRST_TASKS:
            self.tasks[state].add_catch(not_started, errors=[sfn.Errors.ALL], result_path="$.error")
        # A failed Tear Down ends the run FAILED; the execution-status rule then runs the same
        # cleanup again from the ledger.
        tear_down = self.tasks[c.TEAR_DOWN]
        tear_down.add_catch(
            self._fail_with_message(c.TEAR_DOWN_FAILED, c.CLEANUP_PENDING), errors=[sfn.Errors.ALL], result_path="$.error"
        )
        finish = sfn.Choice(self, c.RUN_FAILED_CHOICE)
        finish.when(
            sfn.Condition.is_present("$.error"),
            sfn.Fail(self, c.RUN_FAILED, error_path="$.teardown.failure.error", cause_path="$.teardown.failure.cause"),
        ).otherwise(sfn.Succeed(self, c.RUN_SUCCEEDED))
        tear_down.next(finish)

    def _poll(
        self, *, wait: str, seconds_path: str, check: str, done: str, condition: sfn.Condition, then: sfn.IChainable
    ) -> tuple[sfn.Wait, sfn.Choice]:
        """Wait -> Check -> Choice (done? then : wait again); returns the Wait and the Choice."""
        waiting = sfn.Wait(self, wait, time=sfn.WaitTime.seconds_path(seconds_path))
        finished = sfn.Choice(self, done).when(condition, then).otherwise(waiting)
        waiting.next(self.tasks[check])
        self.tasks[check].next(finished)
        return waiting, finished

    def _job_loop(self, *, then: sfn.IChainable) -> None:
        waiting, _ = self._poll(
            wait=c.WAIT_FOR_JOB, seconds_path="$.run.wait_seconds.job", check=c.CHECK_JOB, done=c.JOB_COMPLETE,
            condition=sfn.Condition.string_equals("$.job.status", "Completed"), then=then,
        )
        self.tasks[c.SUBMIT_JOB].next(waiting)

    def _deployment_loop(self, *, then: sfn.IChainable, skip_to: sfn.IChainable) -> None:
        waiting, _ = self._poll(
            wait=c.WAIT_FOR_DEPLOYMENT, seconds_path="$.run.wait_seconds.deployment", check=c.CHECK_DEPLOYMENT,
            done=c.DEPLOYMENT_READY, condition=sfn.Condition.boolean_equals("$.deployment.ready", True), then=then,
        )
        requested = sfn.Choice(self, c.DEPLOYMENT_REQUESTED)
        requested.when(sfn.Condition.string_equals("$.deployment.kind", "none"), skip_to).otherwise(waiting)
        self.tasks[c.DEPLOY_MODEL].next(requested)

    def _scoring(self, score_shards: sfn.Map, *, then: sfn.IChainable) -> None:
        shard = sfn.Choice(self, c.SHARD_EVALUATION)
        shard.when(sfn.Condition.boolean_equals("$.plan.sharded", True), score_shards).otherwise(self.tasks[c.SCORE_SAMPLES])
        self.tasks[c.PLAN_EVALUATION].next(shard)
        score_shards.next(then)
        self.tasks[c.SCORE_SAMPLES].next(then)

    def _evaluation_job_loop(self, *, then: sfn.IChainable) -> None:
        _, done = self._poll(
            wait=c.WAIT_FOR_EVALUATION_JOB, seconds_path="$.run.wait_seconds.job", check=c.CHECK_EVALUATION_JOB,
            done=c.EVALUATION_JOB_DONE, condition=sfn.Condition.boolean_equals("$.evaluation_job.done", True), then=then,
        )
        # Start Evaluation Job goes straight to the Choice: when no job was asked, it is done at once.
        self.tasks[c.START_EVALUATION_JOB].next(done)

    def _state_machine(self, *, start: sfn.IChainable) -> sfn.StateMachine:
        log_group = logs.LogGroup(
            self, "ExecutionLogs", log_group_name=f"/aws/vendedlogs/states/{cdk.Stack.of(self).stack_name}-lifecycle",
            retention=logs.RetentionDays.ONE_MONTH, removal_policy=cdk.RemovalPolicy.DESTROY, encryption_key=self._key,
        )
        return sfn.StateMachine(
            self, "StateMachine",
            definition_body=sfn.DefinitionBody.from_chainable(start),
            state_machine_type=sfn.StateMachineType.STANDARD,
            timeout=cdk.Duration.hours(self._config.state_machine_timeout_hours),
            tracing_enabled=True,
            logs=sfn.LogOptions(destination=log_group, level=sfn.LogLevel.ALL, include_execution_data=True),
        )
