"""Names shared by the infrastructure, the offline engine and the tests."""

from __future__ import annotations

# State names read as a log of the run.
RAW_DATA = "Raw Data?"
PREPARE_DATASET = "Prepare Dataset"
VALIDATE_REQUEST = "Validate Request"
VALIDATION_FAILED = "Validation Failed"
RUN_NOT_STARTED = "Run Not Started"
SWEEP = "Sweep?"
TRAIN_CANDIDATES = "Train Candidates"
SUBMIT_CANDIDATE_JOB = "Submit Candidate Job"
WAIT_FOR_CANDIDATE_JOB = "Wait For Candidate Job"
CHECK_CANDIDATE_JOB = "Check Candidate Job"
CANDIDATE_JOB_COMPLETE = "Candidate Job Complete?"
CANDIDATE_TRAINED = "Candidate Trained"
CANDIDATE_FAILED = "Candidate Failed"
SELECT_MODEL = "Select Model"
MODEL_SELECTED = "Model Selected?"
SUBMIT_JOB = "Submit Job"
WAIT_FOR_JOB = "Wait For Job"
CHECK_JOB = "Check Job"
JOB_COMPLETE = "Job Complete?"
MORE_STAGES = "More Stages?"
NEXT_STAGE = "Next Stage"
STAGE_RECORDED = "Stage Recorded?"
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
EVALUATE_ANOTHER = "Evaluate Another?"
REGISTER_VERSION = "Register Version"
TEAR_DOWN = "Tear Down"
RUN_FAILED_CHOICE = "Run Failed?"
RUN_FAILED = "Run Failed"
TEAR_DOWN_FAILED = "Tear Down Failed"
CLEANUP_PENDING = "Cleanup Pending"
RUN_SUCCEEDED = "Run Succeeded"


# Functions outside the state machine, started by EventBridge.
CLEAN_UP_RUN = "Clean Up Run"
JANITOR = "Janitor"
START_FROM_REQUEST = "Start From Request File"
NOTIFY_RUN = "Notify Run"
NOTIFY_JOB_PROGRESS = "Notify Job Progress"
# Invoked by Bedrock during a reinforcement fine-tuning job (and by the steps that try it).
GRADE_SAMPLES = "Grade Samples"
REQUEST_FILES = "requests/*.json"
# Execution outcomes that skip the state machine's Catch (or follow a failed Tear Down).
CLEANUP_STATUSES = ("ABORTED", "TIMED_OUT", "FAILED")

# Errors the state machine retries with backoff; class names from customization/errors.py.
RETRYABLE_ERRORS = ("ThrottlingError", "ServiceUnavailableError")

