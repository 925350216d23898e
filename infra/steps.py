"""Every Lambda function of the stack, as data: its state, its handler, its size, where its
output goes in the state document, and the AWS actions it may call on which resources.

A step's permissions stand beside its definition; `LifecycleFunctions` turns each Access into
an IAM statement by resolving its resource names (the RESOURCE_NAMES below) to ARNs. Adding a
state starts here (see CONTRIBUTING.md).
"""

from __future__ import annotations

from dataclasses import dataclass

from infra import constants as c

# What an Access may name; LifecycleFunctions (or the stack, for the late ones) supplies the ARNs.
RESOURCE_NAMES = {
    "customization_jobs": "this account's customization jobs in the region",
    "custom_models": "this account's custom models in the region",
    "provisioned_throughputs": "this account's provisioned throughputs in the region",
    "deployments": "this account's custom model deployments in the region",
    "evaluation_jobs": "this account's evaluation jobs in the region",
    "customizable_models": "the foundation models of the registry, by customization id",
    "invocable_models": "what the evaluation invokes: the registry's base models (and every region their "
    "inference profiles route to), the profiles, the embedding models and the run's own deployments",
    "bucket": "the pipeline bucket",
    "bucket_objects": "every object of the pipeline bucket",
    "run_objects": "objects under runs/ (reports, the held-out split, evaluation files)",
    "request_files": "objects under requests/ (request files and rejections)",
    "ledger": "the run ledger table",
    "model_versions": "the model versions table",
    "model_parameters": "the SSM parameters under the stack's model prefix (each model name's current version ARN)",
    "bedrock_role": "the service role Bedrock assumes",
    "data_key": "the stage's data key, used only through the service named in the Access (kms:ViaService)",
    "judge_models": "the registry's grader judges (and every region their inference profiles route to)",
    "any": "actions that support no resource-level permissions",
    # Known only once the state machine and topic exist: granted by the stack.
    "executions": "this state machine's executions",
    "state_machine": "this state machine",
    "topic": "the notification topic (CDK's grant, which covers its key)",
    # Known once the grader function exists: it and the stage's reinforcement_graders.
    "graders": "the reinforcement graders a run may use",
}
LATE_RESOURCES = ("executions", "state_machine", "topic", "graders")
# The phases of a run, in order, as `bedrock-customize watch` shows them; every Task has one.
PHASES = ("validate", "train", "deploy", "evaluate", "tear down")


@dataclass(frozen=True)
class Access:
    """May call `actions` on the resources named (keys of RESOURCE_NAMES); `via`: only through
    this AWS service (the kms:ViaService condition of a key's use)."""

    actions: tuple[str, ...]
    resources: tuple[str, ...]
    via: str | None = None

    def __post_init__(self) -> None:
        unknown = [name for name in self.resources if name not in RESOURCE_NAMES]
        if unknown:
            raise ValueError(f"unknown resource name(s) {unknown}; known: {', '.join(RESOURCE_NAMES)}")
        if "topic" in self.resources and (self.resources, self.actions) != (("topic",), ("sns:Publish",)):
            raise ValueError("the topic takes sns:Publish on its own: CDK's grant, which also covers its key")


@dataclass(frozen=True)
class Step:
    state: str
    handler: str
    timeout_seconds: int
    memory_mb: int = 512
    # Where a Task writes its output in the state document, and its phase (None: not a Task of the machine).
    result_path: str | None = None
    phase: str | None = None
    access: tuple[Access, ...] = ()
    # Functions outside the machine that start or read its executions and publish notices.
    knows_state_machine: bool = False
    # Invoked asynchronously (EventBridge rules and schedules): Lambda retries it, then keeps the event.
    invoked_async: bool = False

    def __post_init__(self) -> None:
        if (self.result_path is None) != (self.phase is None) or self.phase not in (*PHASES, None):
            raise ValueError(f"{self.state}: a Task has a result_path and one of the phases {PHASES}; an event handler neither")

    @property
    def all_access(self) -> tuple[Access, ...]:
        """Its access, and the data key's use that follows from it: the bucket's objects and the
        ledger are encrypted with the stage's key, so reading or writing them needs it (via S3,
        via DynamoDB)."""
        touched = {name for access in self.access for name in access.resources}
        derived = [KEY_FOR_DATA] if touched & OBJECT_RESOURCES else []
        derived += [KEY_FOR_LEDGER] if touched & {"ledger", "model_versions"} else []
        return (*self.access, *derived)


def _handler(module: str) -> str:
    return f"customization.handlers.{module}.handler"


# The data key's use, by the service that calls KMS for the caller (kms:ViaService).
KEY_ACTIONS = {
    "s3": ("kms:Decrypt", "kms:GenerateDataKey"),  # the bucket's objects (SSE-KMS)
    "dynamodb": ("kms:Decrypt", "kms:DescribeKey"),  # the ledger and model versions tables
    "bedrock": ("kms:Decrypt", "kms:GenerateDataKey", "kms:DescribeKey", "kms:CreateGrant"),  # custom models
}
KEY_FOR_DATA = Access(KEY_ACTIONS["s3"], ("data_key",), via="s3")
OBJECT_RESOURCES = {"bucket_objects", "run_objects", "request_files"}
KEY_FOR_LEDGER = Access(KEY_ACTIONS["dynamodb"], ("data_key",), via="dynamodb")
KEY_FOR_MODELS = Access(KEY_ACTIONS["bedrock"], ("data_key",), via="bedrock")
LEDGER_WRITE = Access(("dynamodb:PutItem", "dynamodb:UpdateItem"), ("ledger",))
LEDGER_READ_WRITE = Access(("dynamodb:GetItem", "dynamodb:Query", "dynamodb:PutItem", "dynamodb:UpdateItem"), ("ledger",))
READ_DATA = Access(("s3:GetObject",), ("bucket_objects",))
LIST_DATA = Access(("s3:ListBucket",), ("bucket",))
WRITE_REPORTS = Access(("s3:PutObject", "s3:AbortMultipartUpload"), ("run_objects",))
PUBLISH = Access(("sns:Publish",), ("topic",))
# Validate Request tries the run's grader; Score Samples scores both models with it.
INVOKE_GRADERS = Access(("lambda:InvokeFunction",), ("graders",))
CLEAN_UP = (
    Access(("bedrock:GetEvaluationJob", "bedrock:StopEvaluationJob"), ("evaluation_jobs",)),
    Access(("bedrock:DeleteProvisionedModelThroughput",), ("provisioned_throughputs",)),
    Access(("bedrock:DeleteCustomModelDeployment",), ("deployments",)),
    Access(("bedrock:GetModelCustomizationJob", "bedrock:StopModelCustomizationJob"), ("customization_jobs",)),
    Access(("bedrock:DeleteCustomModel",), ("custom_models",)),
    LEDGER_READ_WRITE,
)

# One Lambda function per Task state; all of them share the one asset in lambdas/.
STEPS = (
    Step(c.PREPARE_DATASET, _handler("prepare_dataset"), 900, 1024, result_path="$", phase="validate",
         access=(READ_DATA, LIST_DATA, WRITE_REPORTS)),
    Step(c.VALIDATE_REQUEST, _handler("validate_request"), 300, 1024, result_path="$", phase="validate", access=(
        READ_DATA, LIST_DATA, WRITE_REPORTS, LEDGER_WRITE, INVOKE_GRADERS,
        Access(("bedrock:GetFoundationModel",), ("customizable_models",)),
        Access(("s3:GetBucketLocation",), ("bucket",)),
        Access(("iam:GetRole",), ("bedrock_role",)),
        # Pre-flight model access and quota headroom: these actions support no resource-level permissions.
        Access(("servicequotas:ListServiceQuotas", "bedrock:ListModelCustomizationJobs", "bedrock:ListCustomModels",
                "bedrock:ListProvisionedModelThroughputs", "bedrock:GetFoundationModelAvailability"), ("any",)),
    )),
    Step(c.SUBMIT_JOB, _handler("submit_job"), 120, result_path="$.job", phase="train", access=(
        READ_DATA, WRITE_REPORTS,  # the job's copy of the data, carrying the built-in grader's settings
        Access(("bedrock:CreateModelCustomizationJob",), ("customizable_models", "customization_jobs", "custom_models")),
        Access(("bedrock:TagResource",), ("customization_jobs", "custom_models")),
        Access(("iam:PassRole",), ("bedrock_role",)),
        LEDGER_WRITE,
    )),
    Step(c.CHECK_JOB, _handler("check_job"), 60, result_path="$.job", phase="train", access=(
        Access(("bedrock:GetModelCustomizationJob", "bedrock:StopModelCustomizationJob"), ("customization_jobs",)),
        LEDGER_WRITE,
    )),
    # A multi-stage run: record the stage trained, start the next from its custom model.
    Step(c.NEXT_STAGE, _handler("next_stage"), 120, result_path="$", phase="train", access=(READ_DATA, LIST_DATA)),
    # A sweep (and a multi-stage run that evaluates each stage): choose, deleting what is not kept
    # (the losers' custom models, the deployment each model was evaluated on before the next).
    Step(c.SELECT_MODEL, _handler("select_model"), 300, 1024, result_path="$", phase="evaluate", access=(
        READ_DATA, LIST_DATA, WRITE_REPORTS,
        Access(("bedrock:DeleteCustomModel",), ("custom_models",)),
        Access(("bedrock:DeleteProvisionedModelThroughput",), ("provisioned_throughputs",)),
        Access(("bedrock:DeleteCustomModelDeployment",), ("deployments",)),
        LEDGER_WRITE,
    )),
    Step(c.DEPLOY_MODEL, _handler("deploy_model"), 60, result_path="$.deployment", phase="deploy", access=(
        KEY_FOR_MODELS,  # the custom model it deploys is encrypted with the data key
        Access(("bedrock:CreateProvisionedModelThroughput",), ("custom_models", "provisioned_throughputs")),
        Access(("bedrock:CreateCustomModelDeployment",), ("custom_models", "deployments")),
        Access(("bedrock:TagResource",), ("provisioned_throughputs", "deployments")),
        LEDGER_WRITE,
    )),
    Step(c.CHECK_DEPLOYMENT, _handler("check_deployment"), 60, result_path="$.deployment", phase="deploy", access=(
        Access(("bedrock:GetProvisionedModelThroughput",), ("provisioned_throughputs",)),
        Access(("bedrock:GetCustomModelDeployment",), ("deployments",)),
    )),
    Step(c.PLAN_EVALUATION, _handler("plan_evaluation"), 300, 1024, result_path="$.plan", phase="evaluate", access=(READ_DATA, WRITE_REPORTS)),
    # Also the function of each Map iteration (state "Score Shard").
    Step(c.SCORE_SAMPLES, _handler("score_samples"), 900, 1024, result_path="$.scored", phase="evaluate", access=(
        Access(("bedrock:InvokeModel",), ("invocable_models",)),
        Access(("kms:Decrypt",), ("data_key",), via="bedrock"),  # the custom model answers under the data key
        READ_DATA, WRITE_REPORTS, INVOKE_GRADERS,
    )),
    Step(c.START_EVALUATION_JOB, _handler("start_evaluation_job"), 120, result_path="$.evaluation_job", phase="evaluate", access=(
        Access(("bedrock:CreateEvaluationJob", "bedrock:TagResource"), ("evaluation_jobs",)),
        Access(("iam:PassRole",), ("bedrock_role",)),
        READ_DATA, LIST_DATA, WRITE_REPORTS, LEDGER_WRITE,
    )),
    Step(c.CHECK_EVALUATION_JOB, _handler("check_evaluation_job"), 60, result_path="$.evaluation_job", phase="evaluate", access=(
        Access(("bedrock:GetEvaluationJob",), ("evaluation_jobs",)),
        LEDGER_WRITE,
    )),
    Step(c.REPORT_EVALUATION, _handler("report_evaluation"), 300, 1024, result_path="$.evaluation", phase="evaluate",
         access=(READ_DATA, LIST_DATA, WRITE_REPORTS)),
    Step(c.REGISTER_VERSION, _handler("register_version"), 300, result_path="$.version", phase="evaluate", access=(
        Access(("dynamodb:Query", "dynamodb:PutItem"), ("model_versions",)),
        Access(("ssm:GetParameter", "ssm:PutParameter"), ("model_parameters",)),
        READ_DATA,  # the datasets' fingerprints
    )),
    Step(c.TEAR_DOWN, _handler("tear_down"), 300, result_path="$.teardown", phase="tear down", access=CLEAN_UP),
)

# Functions outside the state machine, started by EventBridge.
EVENT_HANDLERS = (
    Step(c.CLEAN_UP_RUN, _handler("clean_up_run"), 300, access=(*CLEAN_UP, PUBLISH), knows_state_machine=True, invoked_async=True),
    Step(c.JANITOR, _handler("janitor"), 300, knows_state_machine=True, invoked_async=True, access=(
        # List actions support no resource-level permissions.
        Access(("bedrock:ListProvisionedModelThroughputs", "bedrock:ListCustomModelDeployments"), ("any",)),
        Access(("bedrock:ListTagsForResource",), ("provisioned_throughputs", "deployments")),
        Access(("bedrock:DeleteProvisionedModelThroughput",), ("provisioned_throughputs",)),
        Access(("bedrock:DeleteCustomModelDeployment",), ("deployments",)),
        LEDGER_WRITE,
        Access(("states:DescribeExecution",), ("executions",)),
        PUBLISH,
    )),
    Step(c.START_FROM_REQUEST, _handler("start_from_request"), 60, knows_state_machine=True, invoked_async=True, access=(
        Access(("s3:GetObject", "s3:GetObjectVersion", "s3:PutObject"), ("request_files",)),
        Access(("states:StartExecution",), ("state_machine",)),
        # A repeated delivery finds the run it started already (DescribeExecution), and starts nothing.
        Access(("states:DescribeExecution",), ("executions",)),
        PUBLISH,
    )),
    Step(c.NOTIFY_RUN, _handler("notify_run"), 60, knows_state_machine=True, invoked_async=True, access=(
        Access(("states:DescribeExecution", "states:GetExecutionHistory"), ("executions",)),
        PUBLISH,
    )),
    Step(c.NOTIFY_JOB_PROGRESS, _handler("notify_job_progress"), 60, knows_state_machine=True, invoked_async=True, access=(
        Access(("bedrock:ListTagsForResource",), ("customization_jobs",)),
        PUBLISH,
    )),
)
# Functions another service invokes: Bedrock calls the grader during a reinforcement job.
SERVICE_FUNCTIONS = (
    Step(c.GRADE_SAMPLES, _handler("grade_samples"), 900, access=(
        Access(("bedrock:InvokeModel",), ("judge_models",)),  # an llm_judge grader asks only the registry's judges
    )),
)
ALL_FUNCTIONS = (*STEPS, *EVENT_HANDLERS, *SERVICE_FUNCTIONS)
