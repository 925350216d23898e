"""The base-model registry: what varies by base model, kept as data with a schema.

Imported by the Lambda steps and by `infra` (pure: no boto3, no environment).
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

CustomizationType = Literal["FINE_TUNING", "CONTINUED_PRE_TRAINING", "DISTILLATION", "REINFORCEMENT_FINE_TUNING"]
# The name of a module in customization/datasets/formats/ (a test checks every one resolves).
DataFormatName = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$")]

REGISTRY_FILE = Path(__file__).with_name("base_models.json")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class HyperparameterSpec(_Strict):
    """A number within [min, max], or (type "choice") one of `choices`."""

    type: Literal["int", "float", "choice"]
    min: float | None = None
    max: float | None = None
    default: float | str
    choices: tuple[str, ...] = ()

    @model_validator(mode="after")
    def _default_within_bounds(self) -> HyperparameterSpec:
        if self.type == "choice":
            if not self.choices or self.default not in self.choices or self.min is not None or self.max is not None:
                raise ValueError("a choice hyperparameter needs choices that hold its default, and no min or max")
            return self
        if self.min is None or self.max is None or isinstance(self.default, str) or self.choices:
            raise ValueError("a number hyperparameter needs a min, a max and a numeric default, and no choices")
        if not self.min <= self.max:
            raise ValueError(f"min {self.min} is above max {self.max}")
        if not self.min <= self.default <= self.max:
            raise ValueError(f"default {self.default} lies outside [{self.min}, {self.max}]")
        if self.type == "int" and not all(float(v).is_integer() for v in (self.min, self.max, self.default)):
            raise ValueError("an int hyperparameter needs integer min, max and default")
        return self

    @property
    def bounds(self) -> tuple[float, float]:
        assert self.min is not None and self.max is not None  # a number's, checked above
        return self.min, self.max


class RecordRange(_Strict):
    min: int | None = Field(None, ge=0)
    max: int | None = Field(None, ge=1)


class TokenLimit(_Strict):
    """Tokens allowed per record while batchSize <= max_batch_size (None: any batch size)."""

    max_batch_size: int | None = Field(None, ge=1)
    tokens: int = Field(ge=1)


class DatasetLimits(_Strict):
    training_records: RecordRange
    validation_records: RecordRange | None = Field(description="None: the model takes no validation set")
    total_records: RecordRange | None = None
    tokens_per_record: tuple[TokenLimit, ...] = Field(min_length=1)
    chars_per_token: float = Field(gt=0, description="the rule used to estimate tokens from characters")
    training_file_bytes: int = Field(ge=1)
    validation_file_bytes: int | None = Field(None, ge=1)

    @model_validator(mode="after")
    def _last_token_limit_covers_every_batch_size(self) -> DatasetLimits:
        if self.tokens_per_record[-1].max_batch_size is not None:
            raise ValueError("the last tokens_per_record entry must apply to any batch size (max_batch_size null)")
        return self

    def tokens_limit(self, batch_size: int | None) -> int:
        for limit in self.tokens_per_record:
            if limit.max_batch_size is None or (batch_size or 1) <= limit.max_batch_size:
                return limit.tokens
        return self.tokens_per_record[-1].tokens


class MediaRules(_Strict):
    images: bool
    video: bool
    image_formats: tuple[str, ...] = ()
    video_formats: tuple[str, ...] = ()
    max_images_per_record: int = Field(ge=0)
    max_videos_per_record: int = Field(ge=0)
    max_image_bytes: int = Field(ge=0)
    max_video_bytes: int = Field(ge=0)
    same_bucket: bool = Field(description="media must sit in the dataset's bucket")
    key_pattern: str | None = Field(None, description="characters allowed in media object keys")
    mixed_media: bool = Field(description="whether one dataset may hold both images and video")
    min_image_side: int | None = Field(None, ge=1, description="pixels, each side; None: not limited")
    max_image_side: int | None = Field(None, ge=1, description="pixels, each side; None: not limited")
    converse_s3_source: bool = Field(
        False, description="the model's Converse API reads media from S3 (s3Location); otherwise the evaluation sends "
        "each image's bytes",
    )


class SampleValidatorAdvice(_Strict):
    """Where AWS's sample validators are stricter than the user guide: warnings, not rejections."""

    schema_version: str | None = Field(None, description="the exact schemaVersion the sample validator expects")
    min_validation_records: int | None = Field(None, ge=1, description="the validation-set size it expects at least")
    source: str = Field(min_length=1)


class CustomizationSpec(_Strict):
    data_format: DataFormatName
    hyperparameters: dict[str, HyperparameterSpec] = Field(description="empty where Bedrock takes none (distillation)")
    limits: DatasetLimits
    media: MediaRules | None = Field(None, description="None: text only")
    reserved_strings: tuple[str, ...] = ()
    reserved_strings_scope: Literal["prompt", "all"] = "prompt"
    warmup_divisor: int | None = Field(None, ge=1, description="warm-up steps = training records / this")
    assistant_reasoning: bool = Field(False, description="assistant turns may carry reasoningContent blocks")
    dataset_key_pattern: str | None = Field(None, description="characters allowed in the datasets' object keys")
    single_turn: bool = Field(False, description="one user prompt per record (distillation from Anthropic and Meta teachers)")
    advice: SampleValidatorAdvice | None = None
    continues_from: tuple[CustomizationType, ...] = Field(
        (), description="the customizations whose custom model (of this base model) this customization may start from "
        "again (a later stage of a multi-stage run); empty: only from the foundation model")
    continues_source: str | None = Field(None, description="where the guide says so")

    @model_validator(mode="after")
    def _continuation_has_a_source(self) -> CustomizationSpec:
        if self.continues_from and not self.continues_source:
            raise ValueError("continues_from needs continues_source (where the guide says so)")
        return self


PriceName = Literal[
    "training_per_1k_tokens",
    "storage_per_month",
    "provisioned_per_model_unit_hour",
    "base_input_per_1k_tokens",
    "base_output_per_1k_tokens",
    "custom_input_per_1k_tokens",
    "custom_output_per_1k_tokens",
    "teacher_input_per_1k_tokens",  # a distillation teacher's, from its TeacherSpec
    "teacher_output_per_1k_tokens",
    "reinforcement_training_per_1k_tokens",
    "judge_input_per_1k_tokens",  # an LLM-judge grader's model, from its JudgeSpec
    "judge_output_per_1k_tokens",
]


class Price(_Strict):
    usd: float | None = Field(ge=0, description="None: no published figure was found")
    source: str = Field(description="a key of the registry's price_sources")
    confirmed: bool = Field(description="read from the source for this model, not assumed from a neighbour")


HOME_GEOGRAPHY = "us"  # where every registry model can be customized; its invocation_id is the one used there


class Invocable(_Strict):
    """A model invoked by id or through a system inference profile: `invocation_id` is how it
    is invoked in the US geography; `profile_geographies`, the other geographies with a system
    profile of it (same id, their own prefix), a `global` one included."""

    invocation_id: str = Field(min_length=1, description="the model id or system inference profile used in the US geography")
    profile_geographies: tuple[str, ...] = Field((), description="other geographies with a system profile of this model")

    @property
    def bare_id(self) -> str:
        """The foundation model id behind any profile."""
        head, _, rest = self.invocation_id.partition(".")
        return rest if head == HOME_GEOGRAPHY and rest.count(".") >= 1 else self.invocation_id

    def invocation_id_in(self, geography: str) -> str | None:
        """How the model is invoked from a region of `geography` (its own profile, else a
        global one); None where it cannot be."""
        if geography == HOME_GEOGRAPHY:
            return self.invocation_id
        for name in (geography, "global"):
            if name in self.profile_geographies:
                return f"{name}.{self.bare_id}"
        return None

    def invocation_ids(self) -> set[str]:
        """Every id it may be invoked by, in any geography."""
        return {self.invocation_id, *(f"{g}.{self.bare_id}" for g in self.profile_geographies)}


class PriceSource(_Strict):
    as_of: str = Field(pattern=r"^\d{4}-\d{2}-\d{2}$")
    description: str = Field(min_length=1)


class Pricing(_Strict):
    """List prices in USD in `region`. Custom models bill at their base model's rates."""

    region: str
    training_per_1k_tokens: Price = Field(description="per 1,000 tokens trained (tokens x epochs)")
    storage_per_month: Price = Field(description="per custom model per month")
    provisioned_per_model_unit_hour: Price = Field(description="no-commitment provisioned throughput, per model unit hour")
    base_input_per_1k_tokens: Price = Field(description="on-demand inference of the base model")
    base_output_per_1k_tokens: Price
    custom_input_per_1k_tokens: Price | None = Field(None, description="on-demand deployment of the custom model")
    custom_output_per_1k_tokens: Price | None = None
    reinforcement_training_per_1k_tokens: Price | None = Field(
        None, description="reinforcement fine-tuning, per 1,000 tokens of rollouts (prompt and answer) x epochs"
    )

    def price(self, name: PriceName) -> Price | None:
        return getattr(self, name, None)  # a teacher's prices are the teacher's


class BaseModelSpec(Invocable):
    model_id: str = Field(pattern=r"^[a-z0-9.-]+-v\d+:\d+:\d+k$", description="customization id, with its :NNk suffix")
    aliases: tuple[str, ...] = ()
    display_name: str
    regions: tuple[str, ...] = Field(min_length=1)
    on_demand_deployment: bool
    customizations: dict[CustomizationType, CustomizationSpec] = Field(min_length=1)
    pricing: Pricing
    sources: dict[str, str] = Field(min_length=1, description="where each group of figures comes from")
    legacy: str | None = Field(
        None, description="why the model is treated as legacy, with the source; it stays usable behind a warning"
    )

    @model_validator(mode="after")
    def _on_demand_prices_when_on_demand(self) -> BaseModelSpec:
        if self.on_demand_deployment and self.pricing.custom_input_per_1k_tokens is None:
            raise ValueError(f"{self.model_id}: an on-demand model needs custom_input/output_per_1k_tokens prices")
        return self

    def legacy_warning(self) -> str | None:
        return f"warning: {self.display_name} is treated as legacy: {self.legacy}" if self.legacy else None

    def customization(self, customization_type: str) -> CustomizationSpec:
        try:
            return self.customizations[customization_type]  # type: ignore[index]
        except KeyError:
            supported = ", ".join(self.customizations)
            raise UnsupportedCustomizationError(
                f"{self.model_id} does not support {customization_type}; it supports: {supported}"
            ) from None


class UnsupportedCustomizationError(ValueError):
    """A customization type the model does not support."""


class UnknownBaseModelError(ValueError):
    """An id or alias that is not in the registry."""


class TeacherSpec(Invocable):
    """A model Bedrock distils from, and the students it may teach (the user guide's table).
    Its invocation id is what teacherModelIdentifier names: the model or its system profile."""

    model_id: str = Field(min_length=1, description="the teacher's foundation model id")
    aliases: tuple[str, ...] = ()
    display_name: str
    region: str
    students: tuple[str, ...] = Field(min_length=1, description="model_ids of the students it may teach")
    max_response_tokens: int = Field(ge=1, description="the most maxResponseLengthForInference may ask: the teacher's output limit")
    input_per_1k_tokens: Price
    output_per_1k_tokens: Price
    withdrawn: str | None = Field(None, description="why Bedrock no longer distils from it, with the source; refused")
    source: str = Field(min_length=1)


class JudgeSpec(Invocable):
    """A model the built-in grader may ask to judge answers (an LLM judge), and its rates."""

    aliases: tuple[str, ...] = ()
    display_name: str
    region: str
    input_per_1k_tokens: Price
    output_per_1k_tokens: Price
    source: str = Field(min_length=1)


class Geography(_Strict):
    """A geography of cross-Region (system) inference profiles: invocation ids that start with
    `<name>.` route to the foundation model in any of these regions, so IAM must allow each."""

    regions: tuple[str, ...] = Field(description="destination regions; an empty string: any region (a global profile)")
    source_regions: tuple[str, ...] = Field(description="the regions whose requests use this geography's profiles; "
                                            "empty: any commercial region (a global profile)")
    source: str = Field(min_length=1)


class Registry(_Strict):
    schema_version: Literal[8]
    price_sources: dict[str, PriceSource] = Field(min_length=1)
    inference_geographies: dict[str, Geography] = Field(min_length=1)
    embedding_models: tuple[str, ...] = Field(min_length=1, description="models evaluation.embedding_model may name")
    distillation_teachers: tuple[TeacherSpec, ...] = Field(min_length=1)
    grader_judges: tuple[JudgeSpec, ...] = Field(min_length=1, description="models an llm_judge grader may name")
    models: tuple[BaseModelSpec, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique_names(self) -> Registry:
        seen: set[str] = set()
        for model in self.models:
            for name in (model.model_id, *model.aliases):
                if name in seen:
                    raise ValueError(f"{name!r} names more than one model")
                seen.add(name)
            for field in Pricing.model_fields:
                price = getattr(model.pricing, field)
                if isinstance(price, Price) and price.source not in self.price_sources:
                    raise ValueError(f"{model.model_id}: pricing.{field} names an unknown source {price.source!r}")
            self.profile_geography(model.invocation_id)  # an unknown geography fails the registry
        for priced in (*self.distillation_teachers, *self.grader_judges):
            self.profile_geography(priced.invocation_id)
            for price in (priced.input_per_1k_tokens, priced.output_per_1k_tokens):
                if price.source not in self.price_sources:
                    raise ValueError(f"{priced.invocation_id}: a price names an unknown source {price.source!r}")
        for invocable in (*self.models, *self.distillation_teachers, *self.grader_judges):
            unknown = [g for g in invocable.profile_geographies if g not in self.inference_geographies or g == HOME_GEOGRAPHY]
            if unknown:
                raise ValueError(f"{invocable.invocation_id}: profile_geographies {unknown} are not other geographies of the registry")
        if HOME_GEOGRAPHY not in self.inference_geographies:
            raise ValueError(f"the registry needs the {HOME_GEOGRAPHY!r} geography, where its models are customized")
        for teacher in self.distillation_teachers:
            for student in () if teacher.withdrawn else teacher.students:
                spec = next((m for m in self.models if m.model_id == student), None)
                if spec is None or "DISTILLATION" not in spec.customizations:
                    raise ValueError(f"teacher {teacher.model_id}: student {student} has no DISTILLATION customization")
        return self

    def geography_of(self, region: str | None) -> str:
        """The geography whose profiles a region's requests use (the US one when the region is
        not known, as for a stack deployed without one)."""
        if region is None:
            return HOME_GEOGRAPHY
        named = [name for name, g in self.inference_geographies.items() if region in g.source_regions]
        if named:
            return named[0]
        if any(not g.source_regions for g in self.inference_geographies.values()):
            return next(name for name, g in self.inference_geographies.items() if not g.source_regions)
        raise ValueError(f"no inference geography of the registry lists {region} as a source region")

    def teacher(self, id_or_alias: str) -> TeacherSpec:
        for teacher in self.distillation_teachers:
            if id_or_alias in (teacher.model_id, *teacher.invocation_ids(), *teacher.aliases):
                return teacher
        known = ", ".join(f"{t.model_id} ({', '.join(t.aliases)})" for t in self.distillation_teachers)
        raise UnknownBaseModelError(f"unknown teacher model {id_or_alias!r}; known: {known}")

    def judge(self, id_or_alias: str) -> JudgeSpec:
        for judge in self.grader_judges:
            if id_or_alias in (*judge.invocation_ids(), *judge.aliases):
                return judge
        known = ", ".join(f"{j.invocation_id} ({', '.join(j.aliases)})" for j in self.grader_judges)
        raise UnknownBaseModelError(f"unknown judge model {id_or_alias!r}; known: {known}")

    def teachers_of(self, student_id: str) -> list[TeacherSpec]:
        return [t for t in self.distillation_teachers if student_id in t.students and not t.withdrawn]

    def profile_geography(self, invocation_id: str) -> Geography | None:
        """The geography of a system inference profile id (`us.meta.llama...`), None for a
        foundation model id (`meta.llama...`). A profile of an unknown geography is an error,
        so IAM is never scoped to the wrong regions."""
        parts = invocation_id.split(".")
        if len(parts) < 3:
            return None
        geography = self.inference_geographies.get(parts[0])
        if geography is None:
            raise ValueError(
                f"{invocation_id!r} is an inference profile of geography {parts[0]!r}, which the registry does not "
                f"list; known: {', '.join(sorted(self.inference_geographies))}"
            )
        return geography

    @property
    def model_ids(self) -> list[str]:
        return [m.model_id for m in self.models]

    def resolve(self, id_or_alias: str) -> BaseModelSpec:
        for model in self.models:
            if id_or_alias == model.model_id or id_or_alias in model.aliases:
                return model
        known = ", ".join(f"{m.model_id} ({', '.join(m.aliases)})" for m in self.models)
        raise UnknownBaseModelError(f"unknown base model {id_or_alias!r}; known: {known}")


@lru_cache(maxsize=1)
def load_registry(path: Path = REGISTRY_FILE) -> Registry:
    return Registry.model_validate(json.loads(path.read_text(encoding="utf-8")))
