"""The request: the execution input of the state machine, one pydantic model of its shape
and ranges. What depends on the base model (is it known, which customizations, which
hyperparameters, which deployment) is checked against the registry by
`customization.core.request_rules`, which every entry point calls.

`schemas/request.schema.json` is generated from it (`bedrock-customize schema`), and a test
keeps the two in step.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationInfo, field_validator, model_validator
from pydantic_core import PydanticCustomError

from customization.models.s3 import S3_URI
from customization.registry import CustomizationType, PriceName


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


DeploymentMode = Literal["provisioned", "on_demand", "none"]


class DeploymentSettings(_Strict):
    mode: DeploymentMode | None = Field(
        None,
        description="provisioned: a no-commitment provisioned throughput (billed per hour); "
        "on_demand: a custom model deployment (billed per token; only models that support it); "
        "none: skip deployment and evaluation. Not given: the cheapest the model offers for the evaluation "
        "(on_demand where it can, else provisioned)",
    )
    # Why the mode is what it is when the request did not choose it (said in the estimate).
    _chosen_because: str | None = PrivateAttr(None)

    def chosen(self, mode: DeploymentMode, because: str) -> DeploymentSettings:
        settings = self.model_copy(update={"mode": mode})
        settings._chosen_because = because
        return settings

    @property
    def chosen_because(self) -> str | None:
        return self._chosen_because
    model_units: int = Field(1, ge=1, le=100, description="model units of the provisioned throughput")
    max_hours: float = Field(
        8, gt=0, le=24 * 7,
        description="hard limit: the janitor deletes the deployment this many hours after its creation, whatever the run does",
    )


# An LLM judge's model and rubric, in the evaluation and in a reinforcement grader alike.
JudgeName = Annotated[str, Field(min_length=1, description="one of the registry's judges, e.g. nova-pro")]
Rubric = Annotated[str, Field(min_length=10, max_length=4000, description="what a good answer is, in the judge's words")]


class JudgeSettings(_Strict):
    """An LLM judge for the evaluation: a Bedrock model scores each model's answer 0 to 10
    against the rubric and the reference (the `judge` metric, scaled to 0-1)."""

    model: JudgeName
    rubric: Rubric


class EvaluationSettings(_Strict):
    max_samples: int = Field(20, ge=1, le=1000, description="test records scored per model")
    max_tokens: int = Field(512, ge=1, le=8192, description="maxTokens of each Converse call")
    temperature: float = Field(0.0, ge=0.0, le=1.0, description="temperature of each Converse call (0: the most repeatable)")
    primary_metric: str = Field(
        "rougeL", min_length=1, description="the metric the promotion gate decides on (one of the evaluation's metrics)"
    )
    min_improvement: float = Field(
        0.0, ge=-1.0, le=1.0,
        description="promote when custom minus base on the primary metric is at least this and its 95% interval is above zero",
    )
    holdout_fraction: float = Field(
        0.1, gt=0.0, le=0.5, description="without test_data: the share of training records held out for evaluation"
    )
    seed: int = Field(42, description="seed of the held-out sample and the bootstrap")
    concurrency: int = Field(4, ge=1, le=32, description="Converse calls in flight at once, per scoring step")
    sample_timeout_seconds: int = Field(60, ge=1, le=900, description="per Converse call")
    map_threshold: int = Field(100, ge=1, le=100_000, description="above this many samples, score shards in a Map state")
    shard_size: int = Field(25, ge=1, le=1000, description="samples per shard on the Map path")
    semantic_similarity: bool = Field(False, description="also score cosine similarity of embeddings (a Bedrock embedding model)")
    embedding_model: str = Field(
        "amazon.titan-embed-text-v2:0", min_length=1,
        description="the embedding model of semantic_similarity (one of the registry's embedding models)",
    )
    bedrock_evaluation_job: bool = Field(
        False, description="also run Bedrock's own automated evaluation job on both models (a second engine)"
    )
    bedrock_task_type: Literal["Summarization", "Generation", "QuestionAndAnswer", "Classification"] = Field(
        "Generation", description="the task type of Bedrock's evaluation job, which picks its built-in metrics"
    )
    judge: JudgeSettings | None = Field(None, description="also score both models with an LLM judge (the `judge` metric)")


class TeardownSettings(_Strict):
    delete_custom_model: bool = Field(False, description="also delete the custom model (it bills storage monthly)")
    delete_rejected_model: bool = Field(False, description="delete the custom model when the promotion gate rejects it")


class BudgetSettings(_Strict):
    max_usd: float | None = Field(
        None, gt=0,
        description="spending cap in USD: a run whose cost estimate is above it (or cannot be completed) fails "
        "in Validate Request, before anything is created",
    )
    prices: dict[PriceName, Annotated[float, Field(ge=0)]] = Field(
        default_factory=dict,
        description="USD prices that replace the registry's (negotiated rates, another region, a price the registry lacks)",
    )


class WaitSeconds(_Strict):
    job: int | None = Field(None, ge=0, le=86_400, description="seconds between job polls (default: stage config)")
    deployment: int | None = Field(None, ge=0, le=86_400, description="seconds between deployment polls")


class Timeouts(_Strict):
    job_hours: float = Field(24, gt=0, le=24 * 30, description="a job running longer is stopped and the run torn down")
    deployment_ready_minutes: float = Field(
        90, gt=0, le=24 * 60, description="a deployment not ready by then is deleted and the run fails"
    )


def in_pipeline_bucket(value: str, info: ValidationInfo) -> str:
    """An s3:// URI, in the pipeline bucket when the context names it (all the roles can read)."""
    match = S3_URI.match(value)
    if not match:
        raise ValueError(f"expected an s3://bucket/key URI, got {value!r}")
    bucket = (info.context or {}).get("bucket")
    if bucket and match["bucket"] != bucket:
        raise ValueError(f"{value!r} is outside the pipeline bucket {bucket!r}, which is all the roles can read")
    return value


PrepareRole = Literal["prompt", "completion", "system", "image", "text"]


class PrepareSettings(_Strict):
    """Raw data in the bucket, converted by the Prepare Dataset state before Validate Request
    (as `bedrock-customize prepare` converts it locally)."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    source: str = Field(description="s3://bucket/key of the raw file, or s3://bucket/prefix/ of a folder of text files")
    source_format: Literal["auto", "csv", "tsv", "jsonl", "json", "text"] = Field(
        "auto", alias="from", description="the raw file's kind (auto: by its suffix and first bytes)"
    )
    map: dict[PrepareRole, str] = Field(default_factory=dict, description="role -> field, for shapes not recognised")
    system: str | None = Field(None, description="a system prompt for records that have none")
    validation_fraction: float = Field(0.0, ge=0, lt=1, description="share of records for the validation set")
    test_fraction: float = Field(0.0, ge=0, lt=1, description="share of records for the test set")
    seed: int = Field(42, description="seed of the split")

    @field_validator("source")
    @classmethod
    def _s3_in_pipeline_bucket(cls, value: str, info: ValidationInfo) -> str:
        return in_pipeline_bucket(value, info)


class DistillationSettings(_Strict):
    """The teacher of a DISTILLATION run: Bedrock asks it to answer the training prompts and
    fine-tunes the student (the base model) on its answers."""

    teacher: str = Field(min_length=1, description="the teacher's model id or registry alias, e.g. nova-premier")
    max_response_length: int = Field(
        1000, ge=1, description="most tokens the teacher may answer with (maxResponseLengthForInference)"
    )


class ExactMatchGrader(_Strict):
    """1 when the answer equals the reference after normalisation (case, spaces, end punctuation)."""

    kind: Literal["exact_match"]


class NumericGrader(_Strict):
    """1 when the last number in the answer is within a tolerance of the reference's number."""

    kind: Literal["numeric"]
    tolerance: float = Field(0.0, ge=0, description="absolute difference allowed")
    relative_tolerance: float = Field(0.0, ge=0, le=1, description="difference allowed as a share of the reference")


class JsonFieldGrader(_Strict):
    """1 when the answer's JSON has the reference's value at `field` (a dotted path)."""

    kind: Literal["json_field"]
    field: str = Field(min_length=1, pattern=r"^[^.\s]+(\.[^.\s]+)*$", description="dotted path, e.g. order.status")


class RegexGrader(_Strict):
    """1 when `pattern` matches the answer; with a group named `answer`, when that group equals
    the reference after normalisation."""

    kind: Literal["regex"]
    pattern: str = Field(min_length=1, max_length=1000, description="a Python regular expression, searched in the answer")

    @field_validator("pattern")
    @classmethod
    def _compiles(cls, value: str) -> str:
        import re

        try:
            re.compile(value)
        except re.error as exc:
            raise ValueError(f"not a regular expression: {exc}") from None
        return value


class RougeGrader(_Strict):
    """ROUGE-L F1 of the answer against the reference (a graded score, not 0 or 1)."""

    kind: Literal["rouge_l"]


class JudgeGrader(_Strict):
    """a Bedrock model scores each answer against the rubric and the reference, 0 to 10 (scaled to 0-1)."""

    kind: Literal["llm_judge"]
    judge: JudgeName
    rubric: Rubric


class LambdaGrader(_Strict):
    """your own grader function, answering Bedrock's reward-function contract."""

    kind: Literal["lambda"]
    function_arn: str = Field(
        pattern=r"^arn:aws[a-z-]*:lambda:[a-z0-9-]+:\d{12}:function:[A-Za-z0-9_-]+(:[A-Za-z0-9_$-]+)?$",
        description="the function's ARN; it must be listed in the stage's reinforcement_graders (the Bedrock role may invoke only those)",
    )


GraderSettings = Annotated[
    ExactMatchGrader | NumericGrader | JsonFieldGrader | RegexGrader | RougeGrader | JudgeGrader | LambdaGrader,
    Field(discriminator="kind"),
]
BUILT_IN_GRADERS = ("exact_match", "numeric", "json_field", "regex", "rouge_l", "llm_judge")


class ReinforcementSettings(_Strict):
    """How a REINFORCEMENT_FINE_TUNING run rewards the model's answers."""

    grader: GraderSettings = Field(description="a built-in reward (kind) or the team's own Lambda (kind lambda)")
    preflight_records: int = Field(
        3, ge=1, le=20, description="training records the grader is tried on in Validate Request, before anything is spent"
    )

    @property
    def built_in(self) -> bool:
        return self.grader.kind != "lambda"


MetadataPair = Annotated[dict[str, str], Field(min_length=1, max_length=1, description="one metadata key and its value")]


class MetadataCondition(_Strict):
    """One test of a logged request's metadata (requestMetadata of Invoke or Converse)."""

    equals: MetadataPair | None = None
    not_equals: MetadataPair | None = None

    @model_validator(mode="after")
    def _one_test_at_least(self) -> MetadataCondition:
        if self.equals is None and self.not_equals is None:
            raise ValueError("give equals or not_equals (or both)")
        return self


class MetadataFilter(_Strict):
    """Which logged requests to distil from, by their request metadata: one key equal (or not)
    to a value, or all or any of several such conditions. Exactly one is given."""

    equals: MetadataPair | None = None
    not_equals: MetadataPair | None = None
    all_of: list[MetadataCondition] | None = Field(
        None, min_length=1, max_length=16, description="every condition holds; each condition: equals and/or not_equals, one key each")
    any_of: list[MetadataCondition] | None = Field(
        None, min_length=1, max_length=16, description="at least one condition holds (conditions as in all_of)")

    @model_validator(mode="after")
    def _exactly_one(self) -> MetadataFilter:
        given = [name for name in ("equals", "not_equals", "all_of", "any_of") if getattr(self, name) is not None]
        if len(given) != 1:
            raise ValueError(f"give exactly one of equals, not_equals, all_of, any_of (got {', '.join(given) or 'none'})")
        return self


class InvocationLogsSettings(_Strict):
    """Distil from recorded traffic: Bedrock's model invocation logs in S3 instead of a prompts file."""

    source: str = Field(description="s3://bucket/prefix/ of the logs (Bedrock writes AWSLogs/<account>/BedrockModelInvocationLogs/); "
                        "CLI: also a local folder, uploaded")
    use_responses: bool = Field(
        False, description="train on the logged responses (they must come from the teacher) instead of asking the teacher again",
    )
    metadata: MetadataFilter | None = Field(None, description="only the logged requests whose metadata passes (default: all)")

    @field_validator("source")
    @classmethod
    def _s3_in_pipeline_bucket(cls, value: str, info: ValidationInfo) -> str:
        return in_pipeline_bucket(value, info)


HyperparameterValue = float | int | str
MAX_CANDIDATES = 20
SelectBy = Literal["validation_loss", "primary_metric"]


class SweepSettings(_Strict):
    """Several candidates of one run, each with its own hyperparameters over the request's: they
    train in parallel and one is chosen. Give a grid (every combination) or a list."""

    grid: dict[str, Annotated[list[HyperparameterValue], Field(min_length=1, max_length=10)]] | None = Field(
        None, description="hyperparameter -> the values to try; every combination is a candidate")
    candidates: list[Annotated[dict[str, HyperparameterValue], Field(min_length=1)]] | None = Field(
        None, min_length=1, max_length=MAX_CANDIDATES, description="each candidate's hyperparameters, over the request's")
    select_by: SelectBy = Field(
        "validation_loss",
        description="validation_loss: the lowest final validation loss wins, and only it is deployed and evaluated; "
        "primary_metric: every candidate is evaluated, one deployment at a time, and the best on evaluation.primary_metric wins")
    max_parallel: int = Field(2, ge=1, le=MAX_CANDIDATES, description="candidates training at once (also bounded by the job quota's headroom)")
    keep_candidates: bool = Field(False, description="keep the custom models of the candidates not chosen (default: deleted)")
    accept_provisioned_cost: bool = Field(
        False, description="select_by primary_metric on a model with no on-demand deployment: accept a provisioned "
        "throughput per candidate (its estimate is in the validation report)")

    @model_validator(mode="after")
    def _grid_or_list(self) -> SweepSettings:
        if (self.grid is None) == (self.candidates is None):
            raise ValueError("give grid or candidates (one of them)")
        count = len(self.expand())
        if not 2 <= count <= MAX_CANDIDATES:
            raise ValueError(f"a sweep has 2 to {MAX_CANDIDATES} candidates; this one has {count}")
        return self

    def expand(self) -> list[dict[str, HyperparameterValue]]:
        """The candidates in order: the list as given, or the grid's combinations (its first name varies slowest)."""
        if self.candidates is not None:
            return [dict(candidate) for candidate in self.candidates]
        combinations: list[dict[str, HyperparameterValue]] = [{}]
        for name, values in (self.grid or {}).items():
            combinations = [{**combination, name: value} for combination in combinations for value in values]
        return combinations


class StageSettings(_Strict):
    """One stage of a multi-stage run: it customizes the previous stage's custom model (the first
    stage's base is the request's base_model)."""

    customization_type: CustomizationType = Field("FINE_TUNING", description="this stage's customization")
    training_data: str = Field(description="s3://bucket/key of this stage's training JSONL (CLI: also a local path, uploaded)")
    validation_data: str | None = Field(None, description="s3://bucket/key of this stage's validation JSONL")
    hyperparameters: dict[str, HyperparameterValue] = Field(default_factory=dict, description="this stage's hyperparameters")

    @field_validator("training_data", "validation_data")
    @classmethod
    def _s3_in_pipeline_bucket(cls, value: str | None, info: ValidationInfo) -> str | None:
        return value if value is None else in_pipeline_bucket(value, info)


class CustomizationRequest(_Strict):
    """One customization run. Unknown fields are rejected."""

    base_model: str = Field(min_length=1, description="registry model id or alias, e.g. nova-lite")
    customization_type: CustomizationType = Field(
        "FINE_TUNING",
        description="CONTINUED_PRE_TRAINING where the model supports it (Titan Text); DISTILLATION for a student of a teacher; "
        "REINFORCEMENT_FINE_TUNING against a grader (Nova 2 Lite)",
    )
    distillation: DistillationSettings | None = Field(
        None, description="the teacher, for customization_type DISTILLATION (required then, refused otherwise)"
    )
    reinforcement: ReinforcementSettings | None = Field(
        None, description="the grader, for customization_type REINFORCEMENT_FINE_TUNING (required then, refused otherwise)"
    )
    invocation_logs: InvocationLogsSettings | None = Field(
        None, description="DISTILLATION: distil from model invocation logs instead of training_data (test_data is then required)"
    )
    prepare: PrepareSettings | None = Field(
        None, description="raw data to convert first (then training_data, validation_data and test_data are its output)"
    )
    training_data: str | None = Field(
        None, validate_default=True,
        description="s3://bucket/key of the training JSONL (CLI: also a local path, uploaded); required unless prepare or "
        "invocation_logs is given",
    )
    validation_data: str | None = Field(
        None, description="s3://bucket/key of a validation JSONL (its loss is tracked; not every model takes one)"
    )
    test_data: str | None = Field(
        None, description="records Evaluate scores (default: a seeded sample held out of the training data)"
    )
    hyperparameters: dict[str, float | int | str] = Field(
        default_factory=dict, description="Bedrock hyperparameters by name, over the registry's defaults; names and ranges per model"
    )
    model_name: str | None = Field(
        None, pattern=r"^[a-zA-Z0-9][a-zA-Z0-9_-]{0,62}$",
        description="keep each promoted custom model as the next version of this model, with its lineage; the "
        "current version's ARN is kept in an SSM parameter (see `bedrock-customize models`)",
    )
    sweep: SweepSettings | None = Field(None, description="train several candidates and keep the best (see SweepSettings)")
    stages: list[StageSettings] | None = Field(
        None, min_length=1, max_length=4,
        description="stages that follow this one, each customizing the previous stage's custom model (where the model "
        "allows it); the evaluation compares the last stage's model with the original base model",
    )
    evaluate_stages: bool = Field(False, description="with stages: also evaluate each earlier stage's model against the base")
    deployment: DeploymentSettings = Field(default_factory=DeploymentSettings)  # type: ignore[arg-type]
    evaluation: EvaluationSettings = Field(default_factory=EvaluationSettings)  # type: ignore[arg-type]
    teardown: TeardownSettings = Field(default_factory=TeardownSettings)  # type: ignore[arg-type]
    budget: BudgetSettings = Field(default_factory=BudgetSettings)  # type: ignore[arg-type]
    wait_seconds: WaitSeconds = Field(default_factory=WaitSeconds)  # type: ignore[arg-type]
    timeouts: Timeouts = Field(default_factory=Timeouts)  # type: ignore[arg-type]

    @field_validator("training_data")
    @classmethod
    def _training_data_or_prepare(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is None and info.data.get("prepare") is None and info.data.get("invocation_logs") is None:
            raise PydanticCustomError("missing", "Field required")
        return value

    @field_validator("training_data", "validation_data", "test_data")
    @classmethod
    def _s3_uri_in_pipeline_bucket(cls, value: str | None, info: ValidationInfo) -> str | None:
        return value if value is None else in_pipeline_bucket(value, info)
