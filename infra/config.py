"""Stage configuration: read once, in app.py, from cdk.json's context into a typed object."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DefaultWaits(_Strict):
    job: int = Field(ge=0, le=86_400)
    deployment: int = Field(ge=0, le=86_400)


class ScheduledRun(_Strict):
    name: str = Field(pattern=r"^[0-9a-zA-Z-_.]{1,64}$")
    expression: str = Field(pattern=r"^(rate|cron|at)\(.+\)$", description="EventBridge Scheduler expression")
    timezone: str = "UTC"
    request: dict[str, Any] = Field(description="the execution input, validated against the request schema at synth")

    @field_validator("request")
    @classmethod
    def _valid_request(cls, value: dict[str, Any]) -> dict[str, Any]:
        from customization.core.request_rules import parse_request  # pure: no AWS calls
        from customization.errors import RequestInvalidError

        try:
            parse_request(value, bucket=None)  # the bucket is only known at deployment
        except RequestInvalidError as exc:
            raise ValueError(str(exc)) from None
        return value


class Subnet(_Strict):
    id: str = Field(pattern=r"^subnet-[0-9a-f]{8,17}$")
    availability_zone: str = Field(pattern=r"^[a-z]{2}(-[a-z]+)+-\d[a-z]$")
    route_table_id: str = Field(pattern=r"^rtb-[0-9a-f]{8,17}$", description="where the S3 and DynamoDB gateway endpoints add their routes")


class VpcSettings(_Strict):
    """Private networking: the functions run in private subnets and reach AWS through VPC
    endpoints, and each customization job gets the same subnets (`vpcConfig`). Either an
    existing VPC (`vpc_id` and its private `subnets`) or, without `vpc_id`, one the stack
    creates: isolated subnets in `availability_zones` zones, no NAT gateway, flow logs on."""

    vpc_id: str | None = Field(None, pattern=r"^vpc-[0-9a-f]{8,17}$")
    subnets: tuple[Subnet, ...] = Field((), description="the existing VPC's private subnets (one per zone at least)")
    cidr: str = Field("10.80.0.0/16", pattern=r"^\d{1,3}(\.\d{1,3}){3}/(1[6-9]|2[0-4])$", description="a created VPC's range")
    availability_zones: int = Field(2, ge=2, le=3, description="zones of a created VPC")
    endpoints: bool = Field(True, description="create the endpoints the steps call; false where the VPC has them already")

    @model_validator(mode="after")
    def _existing_or_created(self) -> VpcSettings:
        if self.vpc_id and not self.subnets:
            raise ValueError("an existing vpc_id needs its private subnets (id, availability_zone, route_table_id)")
        if not self.vpc_id and self.subnets:
            raise ValueError("subnets are given only with the vpc_id they belong to")
        if not self.vpc_id and not self.endpoints:
            raise ValueError("a VPC the stack creates has no route out; it needs its endpoints")
        return self


class StageConfig(_Strict):
    name: str
    stack_name: str = Field(pattern=r"^[A-Za-z][A-Za-z0-9-]{0,127}$")
    account: str | None = Field(None, pattern=r"^\d{12}$")
    region: str | None = None
    lambda_python: Literal["3.11", "3.12", "3.13", "3.14"] = "3.14"
    log_retention_days: Literal[7, 14, 30, 90, 180, 365]
    wait_seconds: DefaultWaits
    retry_interval_seconds: int = Field(ge=1, le=300)
    retry_max_attempts: int = Field(ge=1, le=10)
    evaluation_map_concurrency: int = Field(ge=1, le=40, description="shards scored at once on the Map path")
    notification_emails: tuple[str, ...] = Field((), description="subscribed to the run notices")
    schedules: tuple[ScheduledRun, ...] = ()
    janitor_schedule: str = Field(pattern=r"^(rate|cron)\(.+\)$", description="EventBridge schedule expression")
    state_machine_timeout_hours: int = Field(ge=1, le=24 * 365)
    kms_key_arn: str | None = Field(
        None, pattern=r"^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key/[A-Za-z0-9-]+$",
        description="an existing customer managed key for the stage's data (default: the stack creates one)",
    )
    invocation_logging: bool = Field(
        False, description="turn on Bedrock's model invocation logging (account-wide, this region) to the pipeline "
        "bucket, for distillation from production traffic",
    )
    vpc: VpcSettings | None = Field(None, description="run the functions and the customization jobs in private subnets")
    reinforcement_graders: tuple[str, ...] = Field(
        (), description="the teams' own grader functions (ARNs) a reinforcement fine-tuning run may name; "
        "the Bedrock service role may invoke these and the built-in grader, nothing else",
    )

    @field_validator("reinforcement_graders")
    @classmethod
    def _function_arns(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        from customization.models.request import LambdaGrader

        for arn in value:
            LambdaGrader(kind="lambda", function_arn=arn)  # the same pattern a request is held to
        return value


class ConfigError(ValueError):
    """cdk.json's stage configuration is missing or malformed."""


def load_stage_config(context: dict[str, Any]) -> StageConfig:
    """`context` is the app's context: `stage` names one entry of `stages`; a `stage_overrides`
    object (used by tests and the offline engine) replaces fields of that entry."""
    stage = context.get("stage")
    stages = context.get("stages")
    if not isinstance(stages, dict) or not stages:
        raise ConfigError("cdk.json: context.stages must map stage names to their settings")
    if stage not in stages:
        raise ConfigError(f"cdk.json: unknown stage {stage!r}; known: {', '.join(sorted(stages))}")
    values = {**stages[stage], **(context.get("stage_overrides") or {}), "name": stage}
    try:
        return StageConfig.model_validate(values)
    except ValidationError as exc:
        details = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise ConfigError(f"cdk.json: stage {stage!r}: {details}") from None
