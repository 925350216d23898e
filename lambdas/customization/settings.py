"""The functions' environment, parsed once per invocation into a typed object.

The variable names are set by infra/constructs/functions.py; a test checks that every
function's environment carries every required field."""

from __future__ import annotations

import os

from pydantic import BaseModel, ConfigDict, Field


class Settings(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    BUCKET_NAME: str = Field(min_length=3)
    BEDROCK_ROLE_ARN: str = Field(min_length=20)
    STACK_NAME: str = Field(min_length=1)
    DEFAULT_JOB_WAIT_SECONDS: int = Field(ge=0)
    DEFAULT_DEPLOYMENT_WAIT_SECONDS: int = Field(ge=0)
    LEDGER_TABLE: str = Field(min_length=3)
    # Only the functions outside the state machine (cleanup, janitor) know its ARN.
    STATE_MACHINE_ARN: str | None = None
    NOTIFICATION_TOPIC_ARN: str | None = None
    # Reinforcement fine-tuning: the stack's built-in grader, and the teams' own graders a
    # request may name (comma-separated ARNs; the Bedrock service role may invoke only these).
    GRADER_FUNCTION_ARN: str | None = None
    # The stage's data key: every custom model is encrypted with it (customModelKmsKeyId).
    DATA_KEY_ARN: str | None = None
    ALLOWED_GRADER_ARNS: str = ""
    # The stage's vpc: the subnets and security group a customization job's network interfaces use
    # (comma-separated); set only when the functions themselves run in those subnets.
    JOB_SUBNET_IDS: str = ""
    JOB_SECURITY_GROUP_IDS: str = ""
    # Model versions: the table of every version, and the SSM path under which each model name's
    # parameter holds its current version's ARN.
    MODEL_VERSIONS_TABLE: str | None = None
    MODEL_PARAMETER_PREFIX: str | None = None
    AWS_REGION: str | None = None  # set by the Lambda runtime
    # Set only by the offline engine: reports then say their answers are simulated.
    SIMULATED_BEDROCK: bool = False

    @property
    def allowed_graders(self) -> list[str]:
        return [arn for arn in self.ALLOWED_GRADER_ARNS.split(",") if arn]

    @property
    def job_subnets(self) -> tuple[str, ...]:
        """The stage's private subnets (empty: the functions are not in a VPC)."""
        return tuple(s for s in self.JOB_SUBNET_IDS.split(",") if s)

    @property
    def job_security_groups(self) -> tuple[str, ...]:
        return tuple(g for g in self.JOB_SECURITY_GROUP_IDS.split(",") if g)

    def require_state_machine_arn(self) -> str:
        if not self.STATE_MACHINE_ARN:
            raise RuntimeError("STATE_MACHINE_ARN is not set for this function")
        return self.STATE_MACHINE_ARN


def get_settings() -> Settings:
    return Settings.model_validate(dict(os.environ))
