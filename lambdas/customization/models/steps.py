"""What each Task state reads from and writes to the execution's state document.

The state document is `{"run", "job", "deployment", "evaluation", "error", "teardown"}`;
every Task receives the whole document and returns its own key (see the workflow construct).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from customization.errors import RequestInvalidError
from customization.models.costs import CostEstimate
from customization.models.experiments import ExperimentState, StagesPlan, SweepPlan, TrainedModelPlan
from customization.models.request import (
    BudgetSettings,
    DeploymentSettings,
    EvaluationSettings,
    InvocationLogsSettings,
    ReinforcementSettings,
    TeardownSettings,
    Timeouts,
)
from customization.registry import CustomizationType, DataFormatName
from customization.vocabulary import RunNames, run_prefix, run_tags


class _Contract(BaseModel):
    model_config = ConfigDict(extra="forbid")


class _Input(BaseModel):
    # A step reads its keys of the state document and ignores the others.
    model_config = ConfigDict(extra="ignore")


class Waits(_Contract):
    job: int = Field(ge=0)
    deployment: int = Field(ge=0)


class RunContext(_Contract):
    """Everything the later steps need, fixed by Validate Request."""

    execution_name: str
    execution_arn: str
    stack_name: str
    bucket: str
    prefix: str
    output_uri: str
    base_model_id: str
    base_model_invocation_id: str
    customization_type: CustomizationType
    data_format: DataFormatName
    training_data: str
    validation_data: str | None
    test_data: str | None
    split: dict[str, Any]
    hyperparameters: dict[str, str]
    hyperparameter_adjustments: list[str]
    # DISTILLATION: what teacherModelIdentifier names, and its maxResponseLengthForInference.
    teacher_invocation_id: str | None = None
    teacher_max_response_length: int | None = None
    # REINFORCEMENT_FINE_TUNING: how answers are rewarded, and the function that does it.
    reinforcement: ReinforcementSettings | None = None
    grader_arn: str | None = None
    # DISTILLATION from model invocation logs (training_data is then the logs' prefix).
    invocation_logs: InvocationLogsSettings | None = None
    names: RunNames
    model_name: str | None = None  # a promoted model becomes its next version
    deployment: DeploymentSettings
    evaluation: EvaluationSettings
    teardown: TeardownSettings
    budget: BudgetSettings
    wait_seconds: Waits
    timeouts: Timeouts
    records: dict[str, int]
    estimated_training_tokens: int
    cost_estimate: CostEstimate
    # A sweep's candidates, or a multi-stage run's stages (None: one model is trained).
    sweep: SweepPlan | None = None
    stages: StagesPlan | None = None
    # A later stage starts from the previous stage's custom model instead of the foundation model.
    base_custom_model_arn: str | None = None

    def for_model(self, plan: TrainedModelPlan, *, own_prefix: bool = False) -> RunContext:
        """This run as it trains (or deploys, or evaluates) one candidate or stage: its names and
        hyperparameters, a stage's data and customization; `own_prefix` writes its evaluation
        under `models/<index>/`, so evaluating several models keeps each one's report."""
        update: dict[str, Any] = {
            "names": plan.names, "hyperparameters": plan.hyperparameters,
            "prefix": run_prefix(self.execution_name) + (f"models/{plan.index}/" if own_prefix else ""),
        }
        if plan.customization_type is not None:
            update |= {"customization_type": plan.customization_type, "data_format": plan.data_format,
                       "training_data": plan.training_data, "validation_data": plan.validation_data}
        return self.model_copy(update=update)

    def tags(self) -> dict[str, str]:
        """The tags every resource of this run carries."""
        return run_tags(self.execution_name, self.stack_name)

    def uri(self, path: str) -> str:
        """The S3 URI of `path` under this run's prefix."""
        return f"s3://{self.bucket}/{self.prefix}{path}"


class ValidateRequestInput(_Input):
    request: dict[str, Any]
    execution_name: str
    execution_arn: str


class ValidateRequestOutput(_Contract):
    run: RunContext


class JobState(_Contract):
    job_arn: str
    job_name: str
    status: str
    custom_model_arn: str | None = None
    duration_minutes: float | None = None  # set once the job has completed


class DeploymentState(_Contract):
    kind: Literal["provisioned_throughput", "custom_model_deployment", "none"]
    arn: str | None = None
    name: str | None = None
    status: str
    ready: bool = False
    created_at: datetime | None = Field(None, description="when it was created (Bedrock's own time once checked)")


class Shard(_Contract):
    index: int
    uri: str
    count: int


class EvaluationPlan(_Contract):
    sharded: bool
    shards: list[Shard]
    samples: int
    note: str | None = None


class ScoringOutcome(_Contract):
    """What Score Samples (or one Map iteration) answered: the shards, the samples, how many failed."""

    shards: list[int]
    samples: int
    failed: int


class EvaluationJobState(_Contract):
    requested: bool
    done: bool
    status: str
    arn: str | None = None
    name: str | None = None
    output_uri: str | None = None
    failure_messages: list[str] = []


class EvaluationSummary(_Contract):
    samples: int
    failed: int
    source: str | None
    base_model: str
    custom_model: str
    primary_metric: str
    base: dict[str, float] | None
    custom: dict[str, float] | None
    delta: float | None
    ci95: list[float] | None
    promoted: bool
    why: str
    custom_is_better: bool | None
    verdict: str
    training_flags: list[str]
    report_uri: str | None
    report_html_uri: str | None
    teacher: str | None = None  # a distillation run: the student beside its teacher, in a sentence


class RunFailure(_Contract):
    error: str
    cause: str


class TeardownOutcome(_Contract):
    deleted: list[dict[str, str]]
    already_gone: list[dict[str, str]]
    stopped: list[dict[str, str]]
    retained: list[dict[str, str]] = []
    deployment_hours: float = 0.0  # how long the deleted throughputs and deployments existed
    failure: RunFailure | None = None


class VersionOutcome(_Contract):
    """What Register Version did: the version kept, or why none was."""

    registered: bool
    model_name: str | None = None
    version: int | None = None
    parameter: str | None = None
    why: str


class StepInput(_Input):
    run: RunContext
    job: JobState | None = None
    deployment: DeploymentState | None = None
    plan: EvaluationPlan | None = None
    evaluation_job: EvaluationJobState | None = None
    shard: Shard | None = None  # set for one iteration of the Map path
    candidate: TrainedModelPlan | None = None  # set for one iteration of Train Candidates
    trained: list[dict[str, Any]] | None = None  # what Train Candidates' iterations ended with
    experiment: ExperimentState | None = None
    evaluation: EvaluationSummary | None = None
    error: dict[str, Any] | None = None

    def active_run(self) -> RunContext:
        """The run as this step sees it: inside Train Candidates, the candidate's."""
        return self.run.for_model(self.candidate) if self.candidate is not None else self.run

    def _required(self, key: str, producer: str) -> Any:
        value = getattr(self, key)
        if value is None:
            raise RequestInvalidError(f"this step needs what {producer} recorded in $.{key}")
        return value

    def require_job(self) -> JobState:
        return self._required("job", "Submit Job")  # type: ignore[no-any-return]

    def require_plan(self) -> EvaluationPlan:
        return self._required("plan", "Plan Evaluation")  # type: ignore[no-any-return]

    def require_evaluation_job(self) -> EvaluationJobState:
        return self._required("evaluation_job", "Start Evaluation Job")  # type: ignore[no-any-return]

    def require_deployment(self) -> DeploymentState:
        return self._required("deployment", "Deploy Model")  # type: ignore[no-any-return]
