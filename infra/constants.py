"""Names shared by the infrastructure, the offline engine and the tests."""

from __future__ import annotations

from dataclasses import dataclass

# State names read as a log of the run.
VALIDATE_REQUEST = "Validate Request"
VALIDATION_FAILED = "Validation Failed"
RUN_NOT_STARTED = "Run Not Started"
SUBMIT_JOB = "Submit Job"
WAIT_FOR_JOB = "Wait For Job"
CHECK_JOB = "Check Job"
JOB_COMPLETE = "Job Complete?"
DEPLOY_MODEL = "Deploy Model"
DEPLOYMENT_REQUESTED = "Deployment Requested?"
WAIT_FOR_DEPLOYMENT = "Wait For Deployment"
CHECK_DEPLOYMENT = "Check Deployment"
DEPLOYMENT_READY = "Deployment Ready?"
PLAN_EVALUATION = "Plan Evaluation"
SHARD_EVALUATION = "Shard Evaluation?"
SCORE_SAMPLES = "Score Samples"
SCORE_SHARDS = "Score Shards"
SCORE_SHARD = "Score Shard"
START_EVALUATION_JOB = "Start Evaluation Job"
EVALUATION_JOB_DONE = "Evaluation Job Done?"
WAIT_FOR_EVALUATION_JOB = "Wait For Evaluation Job"
CHECK_EVALUATION_JOB = "Check Evaluation Job"
REPORT_EVALUATION = "Report Evaluation"
TEAR_DOWN = "Tear Down"
RUN_FAILED_CHOICE = "Run Failed?"
RUN_FAILED = "Run Failed"
TEAR_DOWN_FAILED = "Tear Down Failed"
CLEANUP_PENDING = "Cleanup Pending"
RUN_SUCCEEDED = "Run Succeeded"


@dataclass(frozen=True)
class Step:
    state: str
    handler: str
    timeout_seconds: int
    memory_mb: int = 512


# One Lambda function per Task state; all of them share the one asset in lambdas/.
STEPS = (
    Step(VALIDATE_REQUEST, "customization.handlers.validate_request.handler", 300, 1024),
    Step(SUBMIT_JOB, "customization.handlers.submit_job.handler", 60),
    Step(CHECK_JOB, "customization.handlers.check_job.handler", 60),
    Step(DEPLOY_MODEL, "customization.handlers.deploy_model.handler", 60),
    Step(CHECK_DEPLOYMENT, "customization.handlers.check_deployment.handler", 60),
    Step(PLAN_EVALUATION, "customization.handlers.plan_evaluation.handler", 300, 1024),
    # Also the function of each Map iteration (state "Score Shard").
    Step(SCORE_SAMPLES, "customization.handlers.score_samples.handler", 900, 1024),
    Step(START_EVALUATION_JOB, "customization.handlers.start_evaluation_job.handler", 120),
    Step(CHECK_EVALUATION_JOB, "customization.handlers.check_evaluation_job.handler", 60),
    Step(REPORT_EVALUATION, "customization.handlers.report_evaluation.handler", 300, 1024),
    Step(TEAR_DOWN, "customization.handlers.tear_down.handler", 300),
)

# Functions outside the state machine, started by EventBridge.
CLEAN_UP_RUN = "Clean Up Run"
JANITOR = "Janitor"
START_FROM_REQUEST = "Start From Request File"
NOTIFY_RUN = "Notify Run"
NOTIFY_JOB_PROGRESS = "Notify Job Progress"
EVENT_HANDLERS = (
    Step(CLEAN_UP_RUN, "customization.handlers.clean_up_run.handler", 300),
    Step(JANITOR, "customization.handlers.janitor.handler", 300),
    Step(START_FROM_REQUEST, "customization.handlers.start_from_request.handler", 60),
    Step(NOTIFY_RUN, "customization.handlers.notify_run.handler", 60),
    Step(NOTIFY_JOB_PROGRESS, "customization.handlers.notify_job_progress.handler", 60),
)
REQUEST_FILES = "requests/*.json"
# Execution outcomes that skip the state machine's Catch (or follow a failed Tear Down).
CLEANUP_STATUSES = ("ABORTED", "TIMED_OUT", "FAILED")

# Errors the state machine retries with backoff; class names from customization/errors.py.
RETRYABLE_ERRORS = ("ThrottlingError", "ServiceUnavailableError")

# Tag keys put on every resource a run creates (see customization/core/prepare.py).
SERVICE_NAME = "bedrock-customize"
