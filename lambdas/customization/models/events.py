"""EventBridge events the functions receive."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class ExecutionDetail(BaseModel):
    model_config = ConfigDict(extra="ignore")

    execution_arn: str = Field(alias="executionArn")
    state_machine_arn: str = Field(alias="stateMachineArn")
    name: str
    status: Literal["ABORTED", "TIMED_OUT", "FAILED", "SUCCEEDED", "RUNNING", "PENDING_REDRIVE"]


class ExecutionStatusChange(BaseModel):
    """`Step Functions Execution Status Change` from aws.states."""

    model_config = ConfigDict(extra="ignore")

    source: Literal["aws.states"]
    detail_type: Literal["Step Functions Execution Status Change"] = Field(alias="detail-type")
    detail: ExecutionDetail


class S3Bucket(BaseModel):
    model_config = ConfigDict(extra="ignore")
    name: str


class S3Object(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)
    key: str
    version_id: str | None = Field(None, alias="version-id")


class ObjectCreatedDetail(BaseModel):
    model_config = ConfigDict(extra="ignore")
    bucket: S3Bucket
    object: S3Object


class ObjectCreated(BaseModel):
    """`Object Created` from aws.s3 (the bucket sends its events to EventBridge)."""

    model_config = ConfigDict(extra="ignore")

    source: Literal["aws.s3"]
    detail_type: Literal["Object Created"] = Field(alias="detail-type")
    detail: ObjectCreatedDetail


class JobStateDetail(BaseModel):
    model_config = ConfigDict(extra="ignore")

    job_name: str = Field(alias="jobName")
    job_arn: str = Field(alias="jobArn")
    job_status: str = Field(alias="jobStatus")
    failure_message: str | None = Field(None, alias="failureMessage")


class JobStateChange(BaseModel):
    """`Model Customization Job State Change` from aws.bedrock (filtered on detail.jobStatus)."""

    model_config = ConfigDict(extra="ignore")

    source: Literal["aws.bedrock"]
    detail_type: Literal["Model Customization Job State Change"] = Field(alias="detail-type")
    detail: JobStateDetail
