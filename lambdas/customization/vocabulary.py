"""The run's vocabulary: the names, tags, resource kinds, data roles and object keys that the
steps, the janitor, the triggers, the infrastructure and the CLI share.

One home, so a tag or a kind is spelled once. Pure (no AWS, no registry): every layer may
import it, including `infra` at synthesis.
"""

from __future__ import annotations

import hashlib
import re
from enum import StrEnum

from pydantic import BaseModel, ConfigDict

SERVICE_NAME = "bedrock-customize"
METRICS_NAMESPACE = "BedrockCustomize"

# Tags on every resource a run creates; the janitor acts only on resources tagged with its stack.
TAG_EXECUTION = f"{SERVICE_NAME}:execution"
TAG_STACK = f"{SERVICE_NAME}:stack"
TAG_EXPIRES = f"{SERVICE_NAME}:expires-at"
EXPIRY_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


def run_tags(execution_name: str, stack_name: str) -> dict[str, str]:
    return {TAG_EXECUTION: execution_name, TAG_STACK: stack_name}


class ResourceKind(StrEnum):
    """What a run creates, as the ledger, Tear Down and the janitor name it."""

    CUSTOMIZATION_JOB = "customization_job"
    CUSTOM_MODEL = "custom_model"
    PROVISIONED_THROUGHPUT = "provisioned_throughput"
    CUSTOM_MODEL_DEPLOYMENT = "custom_model_deployment"
    EVALUATION_JOB = "evaluation_job"


# Serving resources bill while they exist, so they are deleted first and swept by the janitor.
SERVING_KINDS = (ResourceKind.PROVISIONED_THROUGHPUT, ResourceKind.CUSTOM_MODEL_DEPLOYMENT)
NO_DEPLOYMENT = "none"


class DataRole(StrEnum):
    TRAINING = "training"
    VALIDATION = "validation"
    TEST = "test"


# The request's dataset fields and the role each plays.
DATA_FIELDS = {"training_data": DataRole.TRAINING, "validation_data": DataRole.VALIDATION, "test_data": DataRole.TEST}

# Where a run writes, under the pipeline bucket.
REQUESTS_PREFIX = "requests/"
VALIDATION_REPORT = "validation-report.json"
EVALUATION_DIR = "evaluation/"
REPORT_JSON = f"{EVALUATION_DIR}report.json"
REPORT_HTML = f"{EVALUATION_DIR}report.html"


def run_prefix(execution_name: str) -> str:
    """The key prefix of everything a run writes (reports, the held-out split, job outputs)."""
    return f"runs/{execution_name}/"


_NAME_LIMIT = 63
_HASH_LENGTH = 8


def _slug(text: str) -> str:
    slug = re.sub(r"[^A-Za-z0-9]+", "-", text)
    slug = re.sub(r"[-_]{2,}", "-", slug)
    return slug.strip("-_")


def bounded_name(prefix: str, execution_name: str, *, limit: int = _NAME_LIMIT) -> str:
    """`<prefix>-<execution>` within `limit` characters, using only letters, digits and single
    hyphens, which satisfies the jobName, customModelName, provisionedModelName and
    modelDeploymentName patterns alike. Too-long names keep a hash of the full name."""
    full = f"{prefix}-{_slug(execution_name)}"
    if len(full) <= limit:
        return full
    digest = hashlib.sha256(full.encode()).hexdigest()[:_HASH_LENGTH]
    return f"{full[: limit - _HASH_LENGTH - 1].rstrip('-')}-{digest}"


def request_token(execution_name: str, purpose: str) -> str:
    """A clientRequestToken (hex, 64 chars) unique to this run and purpose."""
    return hashlib.sha256(f"{execution_name}/{purpose}".encode()).hexdigest()


class RunNames(BaseModel):
    """Deterministic AWS names and idempotency tokens, derived from the execution name: a
    retried step derives the same ones, so Bedrock returns the resource it already created
    instead of creating a second one."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    job_name: str
    custom_model_name: str
    provisioned_model_name: str
    deployment_name: str
    job_token: str
    provisioned_token: str
    deployment_token: str
    evaluation_job_name: str
    evaluation_job_token: str

    @classmethod
    def for_execution(cls, execution_name: str) -> RunNames:
        return cls(
            job_name=bounded_name("job", execution_name),
            custom_model_name=bounded_name("model", execution_name),
            provisioned_model_name=bounded_name("pt", execution_name),
            deployment_name=bounded_name("deploy", execution_name),
            job_token=request_token(execution_name, "job"),
            provisioned_token=request_token(execution_name, "provisioned-throughput"),
            deployment_token=request_token(execution_name, "deployment"),
            # Evaluation job names are lowercase only.
            evaluation_job_name=bounded_name("eval", execution_name).lower(),
            evaluation_job_token=request_token(execution_name, "evaluation-job"),
        )
