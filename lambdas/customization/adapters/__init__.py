"""The only place that imports boto3. Clients are created lazily, once per process, by the
factories below; the offline engine clears them between runs."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import boto3
from botocore.config import Config

from customization.adapters.bedrock import BedrockControl, FoundationModels
from customization.adapters.executions import Executions
from customization.adapters.graders import Graders
from customization.adapters.ledger import RunLedger
from customization.adapters.notifier import Notifier
from customization.adapters.quotas import AccountQuotas
from customization.adapters.roles import ServiceRoles
from customization.adapters.runtime import BedrockRuntime
from customization.adapters.storage import ObjectStore
from customization.adapters.versions import ModelVersions
from customization.settings import get_settings

# Throttling and transient errors are retried by the SDK first (standard mode, exponential
# backoff with jitter), then by the state machine's Retry on the typed errors.
SDK_CONFIG = Config(retries={"mode": "standard", "max_attempts": 5}, connect_timeout=10, read_timeout=120)


def _client(service: str) -> Any:
    return boto3.client(service, config=SDK_CONFIG)  # type: ignore[call-overload]


@lru_cache(maxsize=1)
def get_bedrock() -> BedrockControl:
    return BedrockControl(_client("bedrock"))


@lru_cache(maxsize=1)
def get_foundation_models() -> FoundationModels:
    return FoundationModels(_client("bedrock"))


@lru_cache(maxsize=1)
def get_account_quotas() -> AccountQuotas:
    return AccountQuotas(_client("service-quotas"), _client("bedrock"))


@lru_cache(maxsize=1)
def get_service_roles() -> ServiceRoles:
    return ServiceRoles(_client("iam"))


@lru_cache(maxsize=4)
def get_evaluation_runtime(timeout_seconds: int) -> BedrockRuntime:
    """A runtime client whose read timeout is the evaluation's per-sample timeout."""
    config = SDK_CONFIG.merge(Config(read_timeout=timeout_seconds, max_pool_connections=32))
    return BedrockRuntime(boto3.client("bedrock-runtime", config=config))


@lru_cache(maxsize=2)
def get_graders(timeout_seconds: int) -> Graders:
    """Invokes graders, waiting at most `timeout_seconds` for each answer (and never retrying
    one: a slow grader answers late, not twice)."""
    config = SDK_CONFIG.merge(Config(read_timeout=timeout_seconds, retries={"mode": "standard", "max_attempts": 1}))
    return Graders(boto3.client("lambda", config=config), timeout_seconds)


@lru_cache(maxsize=1)
def get_grader_runtime() -> BedrockRuntime:
    """The built-in grader's client for its LLM judge."""
    return BedrockRuntime(_client("bedrock-runtime"))


@lru_cache(maxsize=1)
def get_store() -> ObjectStore:
    # Validate Request reads image headers on as many threads as the client has connections.
    config = SDK_CONFIG.merge(Config(max_pool_connections=32))
    return ObjectStore(boto3.client("s3", config=config))


@lru_cache(maxsize=1)
def get_ledger() -> RunLedger:
    return RunLedger(boto3.resource("dynamodb", config=SDK_CONFIG).Table(get_settings().LEDGER_TABLE))


@lru_cache(maxsize=1)
def get_executions() -> Executions:
    return Executions(_client("stepfunctions"), get_settings().require_state_machine_arn())


@lru_cache(maxsize=1)
def get_notifier() -> Notifier:
    return Notifier(_client("sns"), get_settings().NOTIFICATION_TOPIC_ARN)


@lru_cache(maxsize=1)
def get_model_versions() -> ModelVersions:
    settings = get_settings()
    if not settings.MODEL_VERSIONS_TABLE or not settings.MODEL_PARAMETER_PREFIX:
        raise RuntimeError("MODEL_VERSIONS_TABLE and MODEL_PARAMETER_PREFIX are not set for this function")
    return model_versions(boto3.resource("dynamodb", config=SDK_CONFIG).Table(settings.MODEL_VERSIONS_TABLE), _client("ssm"),
                          settings.MODEL_PARAMETER_PREFIX)


def model_versions(table: Any, ssm: Any, parameter_prefix: str) -> ModelVersions:
    """Also what the CLI uses, with the deployed stack's table and prefix."""
    return ModelVersions(table, ssm, parameter_prefix)


def reset_clients() -> None:
    for factory in (get_bedrock, get_foundation_models, get_account_quotas, get_service_roles, get_evaluation_runtime,
                    get_graders, get_grader_runtime, get_store, get_ledger, get_executions, get_notifier, get_model_versions):
        factory.cache_clear()
