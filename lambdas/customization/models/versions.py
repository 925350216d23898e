"""A model version: a promoted custom model kept under a model name, with where it came from.
The versions table holds every version; an SSM parameter per model name holds the current
version's custom model ARN, which applications read."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class _Version(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DatasetLineage(_Version):
    role: Literal["training", "validation", "test"]
    uri: str
    version_id: str | None = Field(description="the S3 object version trained on (the pipeline bucket is versioned)")
    sha256: str | None = Field(None, pattern=r"^[0-9a-f]{64}$", description="None: a prefix (invocation logs), not one object")


class MetricLineage(_Version):
    primary_metric: str
    base: dict[str, float] | None
    custom: dict[str, float] | None
    delta: float | None
    ci95: list[float] | None = Field(description="the paired 95% interval of the primary metric's difference")


class Lineage(_Version):
    base_model: str
    customization_type: str
    datasets: list[DatasetLineage]
    hyperparameters: dict[str, str]
    metrics: MetricLineage
    report_uri: str | None
    report_html_uri: str | None
    execution_name: str
    execution_arn: str


class ModelVersion(_Version):
    model_name: str
    version: int = Field(ge=1)
    custom_model_arn: str
    created_at: datetime
    status: Literal["registered", "deleted"] = "registered"
    lineage: Lineage


def parameter_name(prefix: str, model_name: str) -> str:
    """The SSM parameter that holds a model name's current version ARN."""
    return f"{prefix.rstrip('/')}/{model_name}"
