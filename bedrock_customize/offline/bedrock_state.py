"""The simulated Bedrock's state and bookkeeping, shared by its resource families (jobs,
serving, evaluation, account, runtime): the resources it holds, their ARNs and ledger, the
faults a scenario injects, and what IAM lets the service role do."""

from __future__ import annotations

import csv
import io
import re
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from bedrock_customize.offline import clients
from bedrock_customize.offline.authorization import RolePolicies
from customization.registry import BaseModelSpec, Registry
from customization.vocabulary import ResourceKind

SERVICES = ("bedrock", "bedrock-runtime", "service-quotas")
# Applied quota values the simulated account starts with (the names are what pre-flight looks for).
JOB_QUOTA = "Concurrent model customization jobs"
QUOTAS = {
    JOB_QUOTA: 2.0,
    "Custom models per account": 100.0,
    "Model units no-commitment Provisioned Throughputs across custom models": 2.0,
}
PREFIX = "SIMULATED bedrock:"




class ServiceError(Exception):
    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(f"{code}: {message}")
        self.code, self.message, self.status = code, message, status


class ServiceQuotaError(ServiceError):
    def __init__(self, running: int, quota: int) -> None:
        super().__init__("ServiceQuotaExceededException",
                         f"{running} customization jobs are in progress, the account's quota ({JOB_QUOTA}) is {quota}")


@dataclass
class Faults:
    """Failures the simulation injects, for scenarios and tests."""

    job_failure_message: str | None = None
    failing_job_suffix: str | None = None  # with job_failure_message: only the jobs whose names end so fail
    job_stopped_by_someone: bool = False  # the job ends Stopped, as if stopped in the console
    deployment_failure_message: str | None = None
    throttle_every_call_once: bool = False  # each call's first attempt is throttled; the retry succeeds
    failing_deletes: int = 0  # the first N delete calls answer ServiceUnavailableException
    converse_delay_seconds: float = 0.0  # each model answer takes this long
    quota_values: dict[str, float] = field(default_factory=dict)  # replaces QUOTAS entries
    quotas_denied: bool = False  # Service Quotas answers AccessDeniedException
    model_access_missing: bool = False  # the account was never granted access to the base model


@dataclass
class Resource:
    kind: str
    name: str
    arn: str
    status: str
    polls: int = 0
    attributes: dict[str, Any] = field(default_factory=dict)
    created: str = ""


def now_iso() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def new_id() -> str:
    return uuid.uuid4().hex[:12]


def words_of(text: str) -> list[str]:
    return text.split()


class BedrockState:
    """What every resource family of the simulated Bedrock reads and changes."""

    def __init__(
        self,
        *,
        account: str,
        region: str,
        registry: Registry,
        job_polls: int = 2,
        deployment_polls: int = 1,
        faults: Faults | None = None,
        log: Callable[[str], None] = print,
    ) -> None:
        self.account, self.region, self.registry = account, region, registry
        self.job_polls, self.deployment_polls = job_polls, deployment_polls
        self.faults = faults or Faults()
        self.log = log
        self.resources: dict[str, Resource] = {}
        # The stack's role policies, when the engine deployed a template: what IAM lets Bedrock do.
        self.authorization: RolePolicies | None = None
        self.tokens: dict[tuple[str, str], str] = {}
        self.ledger: list[dict[str, str]] = []
        self.calls: list[str] = []
        # (model id, "image" or "video", "s3" or "bytes") for each media block a Converse call carried.
        self.media_seen: list[tuple[str, str, str]] = []
        self.injected: list[str] = []
        self.peak_jobs_in_progress = 0  # the most customization jobs in progress at once
        self._lock = threading.RLock()

    # -- bookkeeping -----------------------------------------------------------------

    def _arn(self, resource: str) -> str:
        return f"arn:aws:bedrock:{self.region}:{self.account}:{resource}"

    def _record(self, event: str, resource: Resource) -> None:
        self.ledger.append({"event": event, "type": resource.kind, "id": resource.name, "arn": resource.arn})

    def _find(self, kind: str, identifier: str) -> Resource:
        for resource in self.resources.values():
            if resource.kind == kind and identifier in (resource.name, resource.arn):
                return resource
        raise ServiceError("ResourceNotFoundException", f"{kind} {identifier} not found", 404)

    def _add(self, resource: Resource) -> Resource:
        resource.created = now_iso()
        self.resources[resource.arn] = resource
        self._record("created", resource)
        return resource

    def _remove(self, resource: Resource) -> None:
        del self.resources[resource.arn]
        self._record("deleted", resource)

    def _idempotent(self, operation: str, token: str | None, create: Callable[[], str]) -> str:
        if token and (operation, token) in self.tokens:
            return self.tokens[(operation, token)]
        arn = create()
        if token:
            self.tokens[(operation, token)] = arn
        return arn

    def existing(self, kind: str) -> list[Resource]:
        return [r for r in self.resources.values() if r.kind == kind]

    def _base_model(self, identifier: str, *, customization: bool) -> BaseModelSpec:
        """Customization takes the id with its :NNk suffix; inference takes the invocation id
        (a foundation model, or the inference profile of this region's geography). Our aliases
        mean nothing to Bedrock."""
        bare = identifier.rsplit("foundation-model/", 1)[-1]
        geography = self.registry.geography_of(self.region)
        for model in self.registry.models:
            names = {model.model_id} if customization else {model.invocation_id_in(geography), model.bare_id}
            if bare in names:
                return model
        raise ServiceError("ValidationException", f"the model {identifier} is not available for this operation")

    def _teacher(self, identifier: str) -> Any:
        bare = identifier.rsplit("/", 1)[-1]
        geography = self.registry.geography_of(self.region)
        return next((t for t in self.registry.distillation_teachers if bare in (t.model_id, t.invocation_id_in(geography))), None)

    def _authorize(self, role_arn: str, action: str, resource: str) -> None:
        if self.authorization is not None and not self.authorization.allows(role_arn, action, resource):
            raise ServiceError("AccessDeniedException", f"{role_arn} may not {action} on {resource}", 403)

    def _require_object(self, uri: str, *, role_arn: str | None = None) -> None:
        bucket, key = split_s3_uri(uri)
        if role_arn is not None:
            self._authorize(role_arn, "s3:GetObject", f"arn:aws:s3:::{bucket}/{key}")
        try:
            clients.client("s3", self.region).head_object(Bucket=bucket, Key=key)
        except Exception:  # noqa: BLE001 - any failure means Bedrock could not read it
            raise ServiceError("ValidationException", f"Bedrock cannot read {uri}") from None

    # -- what the run left behind --------------------------------------------------------

    def inventory(self) -> dict[str, list[dict[str, str]]]:
        created = [{"type": e["type"], "id": e["id"]} for e in self.ledger if e["event"] == "created"]
        deleted = [{"type": e["type"], "id": e["id"]} for e in self.ledger if e["event"] == "deleted"]
        billable_running = [
            {"type": r.kind, "id": r.name}
            for r in self.resources.values()
            if r.kind in (ResourceKind.PROVISIONED_THROUGHPUT, ResourceKind.CUSTOM_MODEL_DEPLOYMENT)
            or (r.kind in (ResourceKind.CUSTOMIZATION_JOB, ResourceKind.EVALUATION_JOB) and r.status == "InProgress")
        ]
        retained = [{"type": r.kind, "id": r.name} for r in self.resources.values() if r.kind == ResourceKind.CUSTOM_MODEL]
        return {"created": created, "deleted": deleted, "leaked": billable_running, "retained": retained}


def split_s3_uri(uri: str) -> tuple[str, str]:
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    return bucket, key


def tag_map(tags: Any) -> dict[str, str]:
    return {t["key"]: t["value"] for t in tags or []}


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def csv_bytes(header: list[str], rows: list[tuple[Any, ...]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue().encode()
