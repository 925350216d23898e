"""Values the adapters take and return: customization jobs, deployments, ledger entries,
quota usage and model answers. Plain data with no AWS client behind it, so the use cases in
`core` and `evaluation` and the adapters share them without importing each other."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class JobNetwork:
    """vpcConfig: where Bedrock places the job's network interfaces (the stage's private subnets)."""

    subnet_ids: tuple[str, ...]
    security_group_ids: tuple[str, ...]


@dataclass(frozen=True)
class JobRequest:
    job_name: str
    custom_model_name: str
    role_arn: str
    base_model_id: str
    customization_type: str
    hyperparameters: dict[str, str]
    training_uri: str
    validation_uri: str | None
    output_uri: str
    token: str
    tags: dict[str, str]
    teacher_id: str | None = None  # DISTILLATION: the teacher and the longest answer asked of it
    teacher_max_response_length: int | None = None
    # REINFORCEMENT_FINE_TUNING: the grader Bedrock invokes, and the typed hyperparameters
    # (rftConfig.hyperParameters, not the string map).
    grader_arn: str | None = None
    rft_hyperparameters: dict[str, int | float | str] | None = None
    # Distillation from model invocation logs: invocationLogsConfig in place of the s3Uri.
    invocation_logs: dict[str, Any] | None = None
    custom_model_key: str | None = None  # customModelKmsKeyId: the stage's data key
    network: JobNetwork | None = None


@dataclass(frozen=True)
class JobStatus:
    job_arn: str
    status: str
    failure_message: str | None
    custom_model_arn: str | None
    created: datetime | None = None


@dataclass(frozen=True)
class DeploymentStatus:
    arn: str
    status: str
    failure_message: str | None
    created: datetime | None = None


@dataclass(frozen=True)
class ServingSummary:
    """A provisioned throughput or deployment as the janitor sees it."""

    kind: str
    arn: str
    name: str
    status: str
    created: datetime | None


@dataclass(frozen=True)
class EvaluationJobStatus:
    arn: str
    status: str
    failure_messages: list[str]


@dataclass(frozen=True)
class LedgerEntry:
    execution: str
    kind: str
    name: str
    status: str  # intended | created | deleted | stopped | finished | gone
    arn: str | None = None
    updated_at: str | None = None

    @property
    def open(self) -> bool:
        """Still possibly alive: not yet known to be deleted or stopped."""
        return self.status in ("intended", "created")


@dataclass(frozen=True)
class Usage:
    """What the account has in use, against the quotas pre-flight checks."""

    customization_jobs_in_progress: int
    custom_models: int
    no_commitment_custom_model_units: int


@dataclass(frozen=True)
class ModelReply:
    """One Converse answer."""

    text: str
    input_tokens: int
    output_tokens: int
    latency_ms: int
