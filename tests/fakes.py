"""In-memory fakes of the adapters, for unit tests of the use cases where their rules live.

Each keeps what was done to it so a test can assert on it; none talks to AWS or moto. They
follow the adapters' method signatures (customization/adapters/*.py)."""

from __future__ import annotations

import bisect
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from customization.errors import ResourceNotFoundError
from customization.models.resources import (
    DeploymentStatus,
    EvaluationJobStatus,
    JobRequest,
    JobStatus,
    LedgerEntry,
    ModelReply,
    ServingSummary,
)
from customization.models.s3 import split_s3_uri
from customization.vocabulary import ResourceKind

ARN = "arn:aws:bedrock:us-east-1:123456789012"


class FakeLedger:
    def __init__(self) -> None:
        self.items: dict[tuple[str, str], LedgerEntry] = {}
        self.runs: dict[str, dict[str, Any]] = {}

    def record_run(self, execution: str, settings: dict[str, Any]) -> None:
        self.runs[execution] = dict(settings)

    def run_settings(self, execution: str) -> dict[str, Any] | None:
        return self.runs.get(execution)

    def intend(self, execution: str, kind: str, name: str) -> None:
        self.items.setdefault((execution, f"{kind}#{name}"), LedgerEntry(execution, kind, name, "intended"))

    def mark(self, execution: str, kind: str, name: str, status: str, arn: str | None = None) -> None:
        old = self.items.get((execution, f"{kind}#{name}"))
        self.items[(execution, f"{kind}#{name}")] = LedgerEntry(
            execution, kind, name, status, arn or (old.arn if old else None), datetime.now(UTC).isoformat()
        )

    def entries(self, execution: str) -> list[LedgerEntry]:
        return [entry for (run, _), entry in self.items.items() if run == execution]

    def status(self, execution: str, kind: str, name: str) -> str | None:
        entry = self.items.get((execution, f"{kind}#{name}"))
        return entry.status if entry else None


@dataclass
class FakeResource:
    kind: str
    name: str
    arn: str
    status: str
    tags: dict[str, str] = field(default_factory=dict)
    created: datetime | None = None
    failure: str | None = None
    custom_model_arn: str | None = None


class FakeBedrock:
    """The control plane: resources by ARN; statuses are set by the test."""

    def __init__(self) -> None:
        self.resources: dict[str, FakeResource] = {}
        self.calls: list[tuple[str, Any]] = []
        self.job_requests: list[JobRequest] = []

    def _add(self, kind: str, name: str, path: str, status: str, tags: dict[str, str]) -> str:
        arn = f"{ARN}:{path}/{name}"
        self.resources.setdefault(arn, FakeResource(kind, name, arn, status, dict(tags), datetime.now(UTC)))
        return arn

    def _get(self, identifier: str) -> FakeResource:
        for resource in self.resources.values():
            if identifier in (resource.arn, resource.name):
                return resource
        raise ResourceNotFoundError(f"{identifier} not found")

    def set(self, identifier: str, **changes: Any) -> None:
        for key, value in changes.items():
            setattr(self._get(identifier), key, value)

    # customization jobs and models
    def create_job(self, request: JobRequest) -> str:
        self.calls.append(("create_job", request.job_name))
        self.job_requests.append(request)
        return self._add(ResourceKind.CUSTOMIZATION_JOB, request.job_name, "model-customization-job", "InProgress", request.tags)

    def get_job(self, identifier: str) -> JobStatus:
        job = self._get(identifier)
        return JobStatus(job.arn, job.status, job.failure, job.custom_model_arn, job.created)

    def stop_job(self, identifier: str) -> None:
        self.calls.append(("stop_job", identifier))
        self._get(identifier).status = "Stopping"

    def delete_custom_model(self, identifier: str) -> None:
        self.calls.append(("delete_custom_model", identifier))
        del self.resources[self._get(identifier).arn]

    # serving
    def create_provisioned_throughput(self, *, name: str, model_arn: str, model_units: int, token: str, tags: dict[str, str]) -> str:
        self.calls.append(("create_provisioned_throughput", name, model_units))
        return self._add(ResourceKind.PROVISIONED_THROUGHPUT, name, "provisioned-model", "Creating", tags)

    def create_deployment(self, *, name: str, model_arn: str, token: str, tags: dict[str, str]) -> str:
        self.calls.append(("create_deployment", name))
        return self._add(ResourceKind.CUSTOM_MODEL_DEPLOYMENT, name, "custom-model-deployment", "Creating", tags)

    def get_provisioned_throughput(self, identifier: str) -> DeploymentStatus:
        resource = self._get(identifier)
        return DeploymentStatus(resource.arn, resource.status, resource.failure, resource.created)

    get_deployment = get_provisioned_throughput

    def delete_provisioned_throughput(self, identifier: str) -> None:
        self.calls.append(("delete_provisioned_throughput", identifier))
        del self.resources[self._get(identifier).arn]

    def delete_deployment(self, identifier: str) -> None:
        self.calls.append(("delete_deployment", identifier))
        del self.resources[self._get(identifier).arn]

    def list_serving(self) -> Iterator[ServingSummary]:
        for r in list(self.resources.values()):
            if r.kind in (ResourceKind.PROVISIONED_THROUGHPUT, ResourceKind.CUSTOM_MODEL_DEPLOYMENT):
                yield ServingSummary(r.kind, r.arn, r.name, r.status, r.created)

    def tags(self, arn: str) -> dict[str, str]:
        return dict(self._get(arn).tags)

    # evaluation jobs
    def create_evaluation_job(self, *, name: str, role_arn: str, task_type: str, dataset_uri: str, model_ids: list[str],
                              output_uri: str, token: str, tags: dict[str, str]) -> str:
        self.calls.append(("create_evaluation_job", name, tuple(model_ids)))
        return self._add(ResourceKind.EVALUATION_JOB, name, "evaluation-job", "InProgress", tags)

    def get_evaluation_job(self, identifier: str) -> EvaluationJobStatus:
        job = self._get(identifier)
        return EvaluationJobStatus(job.arn, job.status, [job.failure] if job.failure else [])

    def stop_evaluation_job(self, identifier: str) -> None:
        self.calls.append(("stop_evaluation_job", identifier))
        self._get(identifier).status = "Stopping"

    def add(self, kind: str, name: str, status: str, *, tags: dict[str, str] | None = None) -> str:
        """A resource that exists before the test acts (the janitor's sweep, a job to stop)."""
        path = {ResourceKind.PROVISIONED_THROUGHPUT: "provisioned-model", ResourceKind.CUSTOM_MODEL_DEPLOYMENT: "custom-model-deployment",
                ResourceKind.CUSTOM_MODEL: "custom-model", ResourceKind.CUSTOMIZATION_JOB: "model-customization-job",
                ResourceKind.EVALUATION_JOB: "evaluation-job"}[ResourceKind(kind)]
        return self._add(kind, name, path, status, tags or {})


class FakeStore:
    """S3 as a dict of URI -> bytes."""

    def __init__(self, objects: dict[str, bytes] | None = None) -> None:
        self.objects = dict(objects or {})

    def iter_lines(self, uri: str) -> Iterator[bytes]:
        yield from self._read(uri).splitlines()

    def _read(self, uri: str) -> bytes:
        if uri not in self.objects:
            raise ResourceNotFoundError(f"read {uri}: NoSuchKey")
        return self.objects[uri]

    def size(self, uri: str) -> int | None:
        return len(self.objects[uri]) if uri in self.objects else None

    def bucket_region(self, bucket: str) -> str:
        return "us-east-1"

    def write_stream(self, uri: str, chunks: Iterable[bytes]) -> None:
        self.objects[uri] = b"".join(chunks)

    def put_bytes(self, uri: str, body: bytes, content_type: str = "application/octet-stream") -> None:
        self.objects[uri] = body

    def put_json(self, uri: str, document: Any) -> None:
        self.objects[uri] = json.dumps(document).encode()

    def list_keys(self, uri_prefix: str) -> list[str]:
        return sorted(uri for uri in self.objects if uri.startswith(uri_prefix))

    def read_text(self, uri: str) -> str:
        return self._read(uri).decode()

    def read_bytes(self, uri: str) -> bytes:
        return self._read(uri)

    def read_version(self, bucket: str, key: str, version: str | None) -> bytes:
        return self._read(f"s3://{bucket}/{key}")

    def json(self, uri: str) -> Any:
        return json.loads(self._read(uri))


class FakeRuntime:
    """Converse answers chosen by the test: `answers[model_id]` maps a prompt to a text (or an
    exception to raise); any other prompt is echoed."""

    region = "us-east-1"

    def __init__(self, answers: dict[str, dict[str, Any]] | None = None) -> None:
        self.answers = answers or {}
        self.calls: list[tuple[str, str]] = []

    def converse(self, *, model_id: str, system: list[dict[str, str]], messages: list[dict[str, Any]], max_tokens: int,
                 temperature: float) -> ModelReply:
        prompt = next(block["text"] for block in messages[-1]["content"] if "text" in block)
        self.calls.append((model_id, prompt))
        answer = self.answers.get(model_id, {}).get(prompt, prompt)
        if isinstance(answer, Exception):
            raise answer
        return ModelReply(text=answer, input_tokens=len(prompt.split()), output_tokens=len(answer.split()), latency_ms=5)

    def embed(self, *, model_id: str, text: str) -> list[float]:
        return [float(len(text)), 1.0]


class FakeExecutions:
    def __init__(self, statuses: dict[str, str] | None = None) -> None:
        self.statuses = dict(statuses or {})
        self.started: list[tuple[str, dict[str, Any]]] = []

    def status(self, execution_name: str) -> str | None:
        return self.statuses.get(execution_name)

    def start(self, name: str, document: dict[str, Any]) -> str | None:
        if name in self.statuses:
            return None
        self.statuses[name] = "RUNNING"
        self.started.append((name, document))
        return f"arn:aws:states:us-east-1:123456789012:execution:machine:{name}"


class FakeNotifier:
    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []

    def publish(self, subject: str, message: str) -> bool:
        self.sent.append((subject, message))
        return True


class SizesFrom:
    """The media lookups' source over a plain uri -> size map (and image headers): listings
    return up to 1,000 keys after the one asked, as S3 does."""

    def __init__(self, size_of: dict[str, int] | None = None, headers: dict[str, bytes] | None = None) -> None:
        self._sizes = dict(size_of or {})
        self._headers = dict(headers or {})
        self._keys = sorted(split_s3_uri(uri)[1] for uri in self._sizes)

    def list_window(self, bucket: str, prefix: str, start_after: str) -> tuple[dict[str, int], bool]:
        keys = [k for k in self._keys[bisect.bisect_right(self._keys, start_after):] if k.startswith(prefix)][:1000]
        more = len(keys) == 1000
        return {k: self._sizes[f"s3://{bucket}/{k}"] for k in keys if f"s3://{bucket}/{k}" in self._sizes}, more

    def read_range(self, uri: str, length: int) -> bytes | None:
        header = self._headers.get(uri)
        return header[:length] if header is not None else None
