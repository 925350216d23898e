"""Runs that train more than one model: a sweep's candidates (trained in parallel, one chosen)
and a multi-stage run's stages (each customizing the previous stage's model). What Validate
Request plans for them, and what the experiment's steps record as they go."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from customization.models.request import SelectBy
from customization.registry import CustomizationType, DataFormatName
from customization.vocabulary import RunNames


class _Contract(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TrainedModelPlan(_Contract):
    """One model the run trains: a sweep's candidate, or a stage."""

    index: int = Field(ge=1)
    label: str
    hyperparameters: dict[str, str]
    names: RunNames
    estimated_usd: float | None = Field(description="what training it costs (the sweep's serving is counted once)")
    # A stage's own data and customization (a candidate shares the run's).
    customization_type: CustomizationType | None = None
    data_format: DataFormatName | None = None
    training_data: str | None = None
    validation_data: str | None = None


class SweepPlan(_Contract):
    select_by: SelectBy
    max_parallel: int = Field(ge=1, description="candidates training at once: the request's, bounded by the job quota's headroom")
    requested_parallel: int
    job_headroom: int | None = Field(description="customization jobs the account's quota leaves room for (None: not known)")
    keep_candidates: bool
    candidates: list[TrainedModelPlan]


class StagesPlan(_Contract):
    stages: list[TrainedModelPlan] = Field(description="every stage, the request's own first")
    evaluate_stages: bool


class TrainedModelResult(_Contract):
    """What became of one trained model, as summary.json and the report show it."""

    index: int
    label: str
    hyperparameters: dict[str, str]
    status: str
    job_arn: str | None = None
    custom_model_arn: str | None = None
    failure: str | None = None
    final_training_loss: float | None = None
    final_validation_loss: float | None = None
    training_curve: list[tuple[int, float]] = Field(default_factory=list, description="(step, loss), at most 60 points")
    validation_curve: list[tuple[int, float]] = Field(default_factory=list, description="(epoch, loss)")
    metric: float | None = Field(None, description="the custom model's primary metric, where it was evaluated")
    ci95: list[float] | None = None
    report_uri: str | None = None
    estimated_usd: float | None = None
    custom_model: Literal["kept", "deleted", "chosen", "none"] = "none"
    evaluation: dict[str, Any] | None = Field(None, description="its evaluation summary, where it was evaluated")


class Selection(_Contract):
    index: int
    label: str
    reason: str


class ExperimentState(_Contract):
    """$.experiment: the trained models so far, the one being evaluated, the one chosen."""

    kind: Literal["sweep", "stages"]
    select_by: SelectBy | Literal["last_stage"]
    results: list[TrainedModelResult]
    evaluating: int | None = Field(None, description="the model being deployed and evaluated now (its index)")
    done: bool = False
    selected: Selection | None = None
    next: Literal["train", "select", "deploy", "register"] | None = Field(None, description="where the run goes from here")
