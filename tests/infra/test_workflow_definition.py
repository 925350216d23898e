"""The rendered state machine: the lifecycle's graph, retries and catches."""

import inspect

from customization import errors
from infra import constants as c
from infra.steps import STEPS

TASKS = [step.state for step in STEPS]


def test_the_lifecycle_order(definition):
    states = definition["States"]
    assert definition["StartAt"] == c.RAW_DATA
    raw_data = states[c.RAW_DATA]
    assert raw_data["Choices"] == [{"Variable": "$.prepare", "IsPresent": True, "Next": c.PREPARE_DATASET}]
    assert raw_data["Default"] == c.VALIDATE_REQUEST
    follows = {
        c.PREPARE_DATASET: c.VALIDATE_REQUEST,
        c.VALIDATE_REQUEST: c.SWEEP,
        c.SUBMIT_JOB: c.WAIT_FOR_JOB,
        c.WAIT_FOR_JOB: c.CHECK_JOB,
        c.CHECK_JOB: c.JOB_COMPLETE,
        c.DEPLOY_MODEL: c.DEPLOYMENT_REQUESTED,
        c.WAIT_FOR_DEPLOYMENT: c.CHECK_DEPLOYMENT,
        c.CHECK_DEPLOYMENT: c.DEPLOYMENT_READY,
        c.PLAN_EVALUATION: c.SHARD_EVALUATION,
        c.SCORE_SAMPLES: c.START_EVALUATION_JOB,
        c.SCORE_SHARDS: c.START_EVALUATION_JOB,
        c.START_EVALUATION_JOB: c.EVALUATION_JOB_DONE,
        c.WAIT_FOR_EVALUATION_JOB: c.CHECK_EVALUATION_JOB,
        c.CHECK_EVALUATION_JOB: c.EVALUATION_JOB_DONE,
        c.REPORT_EVALUATION: c.EVALUATE_ANOTHER,
        c.TRAIN_CANDIDATES: c.SELECT_MODEL,
        c.SELECT_MODEL: c.MODEL_SELECTED,
        c.NEXT_STAGE: c.STAGE_RECORDED,
        c.REGISTER_VERSION: c.TEAR_DOWN,
        c.TEAR_DOWN: c.RUN_FAILED_CHOICE,
    }
    for state, following in follows.items():
        assert states[state]["Next"] == following, state
    assert states[c.JOB_COMPLETE]["Choices"][0]["Next"] == c.MORE_STAGES
    assert states[c.SWEEP]["Choices"] == [{"Variable": "$.run.sweep", "IsNull": False, "Next": c.TRAIN_CANDIDATES}]
    assert states[c.SWEEP]["Default"] == c.SUBMIT_JOB
    assert states[c.MORE_STAGES]["Choices"] == [{"Variable": "$.run.stages", "IsNull": False, "Next": c.NEXT_STAGE}]
    assert states[c.MORE_STAGES]["Default"] == c.DEPLOY_MODEL
    assert [(ch["StringEquals"], ch["Next"]) for ch in states[c.STAGE_RECORDED]["Choices"]] == [
        ("train", c.SUBMIT_JOB), ("select", c.SELECT_MODEL)]
    assert states[c.STAGE_RECORDED]["Default"] == c.DEPLOY_MODEL
    assert states[c.MODEL_SELECTED]["Choices"] == [
        {"Variable": "$.experiment.next", "StringEquals": "register", "Next": c.REGISTER_VERSION}]
    assert states[c.MODEL_SELECTED]["Default"] == c.DEPLOY_MODEL
    assert states[c.EVALUATE_ANOTHER]["Choices"] == [
        {"Variable": "$.experiment.evaluating", "IsPresent": True, "Next": c.SELECT_MODEL}]
    assert states[c.EVALUATE_ANOTHER]["Default"] == c.REGISTER_VERSION
    assert states[c.JOB_COMPLETE]["Default"] == c.WAIT_FOR_JOB
    assert states[c.DEPLOYMENT_READY]["Choices"][0]["Next"] == c.PLAN_EVALUATION
    assert states[c.SHARD_EVALUATION]["Choices"][0]["Next"] == c.SCORE_SHARDS
    assert states[c.SHARD_EVALUATION]["Default"] == c.SCORE_SAMPLES
    assert states[c.EVALUATION_JOB_DONE]["Choices"][0]["Next"] == c.REPORT_EVALUATION
    assert states[c.EVALUATION_JOB_DONE]["Default"] == c.WAIT_FOR_EVALUATION_JOB
    assert states[c.DEPLOYMENT_READY]["Default"] == c.WAIT_FOR_DEPLOYMENT
    assert states[c.RUN_FAILED]["Type"] == "Fail" and states[c.RUN_SUCCEEDED]["Type"] == "Succeed"


def test_waits_read_their_seconds_from_the_run(definition):
    states = definition["States"]
    assert states[c.WAIT_FOR_JOB]["SecondsPath"] == "$.run.wait_seconds.job"
    assert states[c.WAIT_FOR_DEPLOYMENT]["SecondsPath"] == "$.run.wait_seconds.deployment"


def test_every_error_after_submit_job_goes_through_tear_down(definition):
    states = definition["States"]
    for state in (c.SUBMIT_JOB, c.CHECK_JOB, c.DEPLOY_MODEL, c.CHECK_DEPLOYMENT, c.PLAN_EVALUATION, c.SCORE_SAMPLES,
                  c.SCORE_SHARDS, c.START_EVALUATION_JOB, c.CHECK_EVALUATION_JOB, c.REPORT_EVALUATION,
                  c.TRAIN_CANDIDATES, c.SELECT_MODEL, c.NEXT_STAGE):
        assert states[state]["Catch"] == [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": c.TEAR_DOWN}]
    assert states[c.RUN_FAILED]["CausePath"] == "$.teardown.failure.cause"


def test_a_failed_tear_down_ends_the_run_with_a_readable_message(definition):
    (catch,) = definition["States"][c.TEAR_DOWN]["Catch"]
    assert catch["Next"] == c.TEAR_DOWN_FAILED
    assert definition["States"][c.CLEANUP_PENDING]["CausePath"] == "$.failure.detail.errorMessage"


def test_a_rejected_request_ends_before_anything_is_created(definition):
    for state in (c.PREPARE_DATASET, c.VALIDATE_REQUEST):
        (catch,) = definition["States"][state]["Catch"]
        assert catch["ErrorEquals"] == ["States.ALL"]
        assert catch["Next"] == c.VALIDATION_FAILED
    assert definition["States"][c.VALIDATION_FAILED]["Next"] == c.RUN_NOT_STARTED
    # Both take the execution input (or the prepared request) as the request.
    for state in (c.PREPARE_DATASET, c.VALIDATE_REQUEST):
        assert definition["States"][state]["Parameters"]["request.$"] == "$"


def test_large_test_sets_are_scored_shard_by_shard_in_a_map(definition):
    score_shards = definition["States"][c.SCORE_SHARDS]
    assert score_shards["Type"] == "Map" and score_shards["ItemsPath"] == "$.plan.shards"
    assert score_shards["MaxConcurrency"] == 4
    processor = score_shards["ItemProcessor"]
    assert processor["StartAt"] == c.SCORE_SHARD
    assert processor["States"][c.SCORE_SHARD]["Resource"] == definition["States"][c.SCORE_SAMPLES]["Resource"]


def test_every_task_retries_throttling_with_backoff(definition):
    for state in TASKS:
        retriers = definition["States"][state]["Retry"]
        ours = [r for r in retriers if r["ErrorEquals"] == list(c.RETRYABLE_ERRORS)]
        assert ours and ours[0]["BackoffRate"] == 2 and ours[0]["MaxAttempts"] >= 3, state


def test_error_names_in_the_state_machine_are_exception_classes_of_the_steps(definition):
    defined = {name for name, value in inspect.getmembers(errors, inspect.isclass) if issubclass(value, Exception)}
    for state in definition["States"].values():
        for rule in state.get("Retry", []) + state.get("Catch", []):
            for name in rule["ErrorEquals"]:
                assert name.startswith(("States.", "Lambda.")) or name in defined, name


def test_every_state_of_the_rendered_machine_has_a_phase_in_watch(definition):
    from bedrock_customize.deployed import PHASES

    def states(machine: dict) -> set[str]:
        found = set(machine["States"])
        for state in machine["States"].values():
            for nested in (state.get("ItemProcessor"), state.get("Iterator")):
                if nested:
                    found |= states(nested)
        return found

    phased = {state for _, names in PHASES for state in names}
    assert states(definition) - phased == set()


def test_candidates_train_in_a_map_bounded_by_the_runs_parallelism(definition):
    """The Map's concurrency is what Validate Request allowed (max_parallel within the quota's
    headroom); an iteration ends with its job or its error, so one failure stops no other."""
    states = definition["States"]
    candidates = states[c.TRAIN_CANDIDATES]
    assert candidates["Type"] == "Map" and candidates["ItemsPath"] == "$.run.sweep.candidates"
    assert candidates["MaxConcurrencyPath"] == "$.run.sweep.max_parallel" and "MaxConcurrency" not in candidates
    assert candidates["ItemSelector"] == {"run.$": "$.run", "candidate.$": "$$.Map.Item.Value"}
    inner = candidates["ItemProcessor"]["States"]
    assert candidates["ItemProcessor"]["StartAt"] == c.SUBMIT_CANDIDATE_JOB
    assert inner[c.SUBMIT_CANDIDATE_JOB]["Resource"] == states[c.SUBMIT_JOB]["Resource"]
    assert inner[c.CHECK_CANDIDATE_JOB]["Resource"] == states[c.CHECK_JOB]["Resource"]
    for task in (c.SUBMIT_CANDIDATE_JOB, c.CHECK_CANDIDATE_JOB):
        assert inner[task]["Catch"] == [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": c.CANDIDATE_FAILED}]
        assert any(rule["ErrorEquals"] == list(c.RETRYABLE_ERRORS) for rule in inner[task]["Retry"])
    assert inner[c.CANDIDATE_JOB_COMPLETE]["Choices"][0]["Next"] == c.CANDIDATE_TRAINED
    assert inner[c.CANDIDATE_JOB_COMPLETE]["Default"] == c.WAIT_FOR_CANDIDATE_JOB
    assert inner[c.CANDIDATE_TRAINED]["Parameters"] == {"index.$": "$.candidate.index", "job.$": "$.job"}
    assert inner[c.CANDIDATE_FAILED]["Parameters"] == {"index.$": "$.candidate.index", "error.$": "$.error"}
