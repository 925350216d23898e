"""What the evaluation's steps hand each other through S3, and what it publishes.

Plan Evaluation writes Samples (one JSON line each, in shards); Score Samples writes one
AnsweredSample per sample; Report Evaluation reads them, scores them and writes the
EvaluationReport (report.json, and the page drawn from it). Every key is a field here, set
and read through these models only.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_serializer

from customization.models.costs import CostEstimate
from customization.models.experiments import Selection, TrainedModelResult

# The models each sample is put to: the base model and the custom model (compared, and gated
# on), and for a distillation run the teacher as well (the mark the student is held to).
Role = Literal["base", "custom"]
ROLES: tuple[Role, ...] = ("base", "custom")
Answerer = Literal["base", "custom", "teacher"]


class _Contract(BaseModel):
    model_config = ConfigDict(extra="forbid")


class _Sparse(_Contract):
    """Serialized without its unset optional fields (an answer is either a text or an error)."""

    @model_serializer(mode="wrap")
    def _drop_none(self, handler: Any) -> dict[str, Any]:
        return {key: value for key, value in handler(self).items() if value is not None}


class Sample(_Contract):
    """One test record as the models are asked it: the prompt in the Converse API's shape and
    the reference answer."""

    index: int
    system: list[dict[str, str]]
    messages: list[dict[str, Any]]
    reference: str
    grading: dict[str, Any] | None = None  # reinforcement: the record's fields the grader reads

    @property
    def media(self) -> list[str]:
        """The S3 URIs of the images and videos the prompt shows the models."""
        return [block[kind]["source"]["s3Location"]["uri"] for message in self.messages for block in message["content"]
                for kind in ("image", "video") if kind in block and "s3Location" in block[kind].get("source", {})]


class Answer(_Sparse):
    """One model's answer to one sample, or why there is none (never dropped)."""

    text: str | None = None
    error: str | None = None
    latency_ms: int | None = None
    service_latency_ms: int | None = None
    input_tokens: int | None = None
    output_tokens: int | None = None
    attempts: int
    similarity: float | None = None
    reward: float | None = None  # reinforcement: the run's grader's score
    judge: float | None = None  # evaluation.judge: the LLM judge's score

    @property
    def answered(self) -> bool:
        return self.text is not None


class AnsweredSample(_Contract):
    index: int
    reference: str
    media: list[str] = []  # the S3 URIs of the images (and videos) both models were shown
    base: Answer
    custom: Answer
    teacher: Answer | None = None

    def answer(self, role: Role) -> Answer:
        return self.base if role == "base" else self.custom

    @property
    def paired(self) -> bool:
        """Both models answered, so the sample is scored."""
        return self.base.answered and self.custom.answered


class ScoredSample(_Contract):
    index: int
    reference: str
    media: list[str] = []
    base: str
    custom: str
    scores: dict[Role, dict[str, float]]
    delta: float = Field(description="custom minus base on the primary metric")
    latency_ms: dict[Role, int | None]
    output_tokens: dict[Role, int | None]


class FailedSample(_Sparse):
    index: int
    base: str | None = None
    custom: str | None = None


class TrainingAnalysis(_Contract):
    """The training curves read back from the job's output, with flags and a suggestion."""

    available: bool
    flags: list[str]
    notes: list[str]
    steps: int | None = None
    epochs_run: int | None = None
    final_training_loss: float | None = None
    best_training_loss: float | None = None
    final_validation_loss: float | None = None
    best_validation_loss: float | None = None
    suggested_epochs: int | None = None
    training_curve: list[tuple[int, float]] | None = Field(None, description="(step, loss)")
    validation_curve: list[tuple[int, float]] | None = Field(None, description="(epoch, mean loss)")
    # Reinforcement fine-tuning: the mean reward of each step's sampled answers.
    reward_curve: list[tuple[int, float]] | None = Field(None, description="(step, mean reward)")
    first_reward: float | None = None
    final_reward: float | None = None

    @model_serializer(mode="wrap")
    def _only_what_was_found(self, handler: Any) -> dict[str, Any]:
        # Without curves there are no figures to report (not figures of None).
        data = handler(self)
        return data if self.available else {key: data[key] for key in ("available", "flags", "notes")}


class MeasuredUsage(_Contract):
    """What the evaluation measured, at the estimate's rates."""

    deployment: str
    base_input_tokens: int
    base_output_tokens: int
    custom_input_tokens: int
    custom_output_tokens: int
    teacher_input_tokens: int | None = None  # a distillation run's teacher
    teacher_output_tokens: int | None = None
    inference_usd: float | None
    deployment_hours: float
    deployment_usd: float | None


class CostSection(_Contract):
    estimate: CostEstimate
    estimated_total_usd: float | None
    budget_usd: float | None
    measured: MeasuredUsage


class TeacherComparison(_Contract):
    """A distilled student beside its teacher, on the samples both answered: how much of the
    teacher's score it kept, and at what share of the teacher's price per token."""

    teacher: str
    samples: int
    teacher_metrics: dict[str, float]
    student_metrics: dict[str, float]
    kept: float | None = Field(description="student / teacher on the primary metric; None when the teacher scored 0")
    price_share: dict[str, float | None] = Field(description="student / teacher per input and per output token")
    text: str


class BedrockMetric(_Contract):
    """One metric of Bedrock's evaluation job, both models' means over the prompts both were
    scored on, with the paired interval of the difference (as for the pipeline's own metrics)."""

    name: str
    scale: str
    better: Literal["higher", "lower"] | None = Field(description="None: a metric the project does not know")
    base: float
    custom: float
    delta: float
    ci95: tuple[float, float]
    prompts: int


class SecondEngine(_Contract):
    """Bedrock's own evaluation job, when the request asked for it."""

    engine: str = "Amazon Bedrock evaluation job"
    job_arn: str | None
    status: str
    failure_messages: list[str]
    output_uri: str | None
    outputs: list[str]
    metrics: list[BedrockMetric] = []


class EvaluationReport(_Contract):
    """report.json."""

    simulated: bool
    simulated_note: str | None
    execution: str
    base_model: str
    base_model_invocation_id: str
    custom_model: str | None
    primary_metric: str
    min_improvement: float
    metrics: dict[Role, dict[str, float]]
    delta: dict[str, float]
    ci95: dict[str, tuple[float, float]]
    promoted: bool
    why: str
    verdict: str
    samples_scored: int
    samples_failed: list[FailedSample]
    training: TrainingAnalysis
    split: dict[str, Any]
    cost: CostSection
    second_engine: SecondEngine | None
    teacher: TeacherComparison | None = None
    samples: list[ScoredSample] = Field(description="largest regressions first")
    # A sweep's candidates or a multi-stage run's stages, and the one this report is of.
    candidates: list[TrainedModelResult] | None = None
    stages: list[TrainedModelResult] | None = None
    selected: Selection | None = None
