"""Deterministic AWS names and idempotency tokens, derived from the execution name.

A retried step derives the same names and tokens, so Bedrock returns the resource it
already created instead of creating a second one.
"""

from __future__ import annotations

import hashlib
import re

from pydantic import BaseModel, ConfigDict

_NAME_LIMIT = 63
_HASH_LENGTH = 8


def _slug(text: str, *, allow: str) -> str:
    slug = re.sub(rf"[^A-Za-z0-9{allow}]+", "-", text)
    slug = re.sub(r"[-_]{2,}", "-", slug)
    return slug.strip("-_")


def bounded_name(prefix: str, execution_name: str, *, limit: int = _NAME_LIMIT) -> str:
    """`<prefix>-<execution>` within `limit` characters, using only letters, digits and single
    hyphens, which satisfies the jobName, customModelName, provisionedModelName and
    modelDeploymentName patterns alike. Too-long names keep a hash of the full name."""
    full = f"{prefix}-{_slug(execution_name, allow='')}"
    if len(full) <= limit:
        return full
    digest = hashlib.sha256(full.encode()).hexdigest()[:_HASH_LENGTH]
    return f"{full[: limit - _HASH_LENGTH - 1].rstrip('-')}-{digest}"


def request_token(execution_name: str, purpose: str) -> str:
    """A clientRequestToken (hex, 64 chars) unique to this run and purpose."""
    return hashlib.sha256(f"{execution_name}/{purpose}".encode()).hexdigest()


class RunNames(BaseModel):
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
