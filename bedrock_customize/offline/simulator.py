"""A simulated Amazon Bedrock for the offline engine.

moto implements only part of Bedrock (no provisioned throughput, no custom model
deployments, no Converse, jobs that never finish), so the engine answers every `bedrock`
and `bedrock-runtime` call here instead. Calls still go through real boto3 clients: botocore
serializes and validates each request, and this module checks it further against the service
model (lengths, patterns, enums) before acting, so a malformed call fails offline as it
would in AWS. Everything it prints starts with SIMULATED.

Behaviour, kept simple and deterministic:
- a customization job stays InProgress for `job_polls` reads, then completes: it creates the
  custom model and writes step_wise_training_metrics.csv (and validation_metrics.csv when a
  validation set was given) under the job's output prefix, as Bedrock does;
- a provisioned throughput or deployment is Creating for `deployment_polls` reads, then
  InService / Active;
- Converse answers deterministically. The base model answers verbosely; a custom model
  answers in the length it "learned" from its training data (the mean length of the
  training answers). The scores that follow are a property of this simulation, not of Bedrock.
"""

from __future__ import annotations

import copy
import csv
import io
import json
import math
import random
import re
import threading
import time
import uuid
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from unittest import mock

import boto3
import botocore.handlers
from botocore.awsrequest import AWSResponse
from botocore.model import OperationModel
from moto.core.botocore_stubber import BotocoreStubber

from bedrock_customize.offline import invocation_logs, reinforcement
from bedrock_customize.offline.authorization import RolePolicies
from bedrock_customize.offline.handler_calls import calling_role
from bedrock_customize.offline.service_model import RequestRejected, check
from customization.registry import BaseModelSpec, HyperparameterSpec, Registry
from customization.vocabulary import ResourceKind

SERVICES = ("bedrock", "bedrock-runtime", "service-quotas")
# Applied quota values the simulated account starts with (the names are what pre-flight looks for).
QUOTAS = {
    "Concurrent model customization jobs": 2.0,
    "Custom models per account": 100.0,
    "Model units no-commitment Provisioned Throughputs across custom models": 2.0,
}
PREFIX = "SIMULATED bedrock:"


class ServiceError(Exception):
    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(f"{code}: {message}")
        self.code, self.message, self.status = code, message, status


@dataclass
class Faults:
    """Failures the simulation injects, for scenarios and tests."""

    job_failure_message: str | None = None
    job_stopped_by_someone: bool = False  # the job ends Stopped, as if stopped in the console
    deployment_failure_message: str | None = None
    throttle_every_call_once: bool = False  # each call's first attempt is throttled; the retry succeeds
    failing_deletes: int = 0  # the first N delete calls answer ServiceUnavailableException
    converse_delay_seconds: float = 0.0  # each model answer takes this long
    quota_values: dict[str, float] = field(default_factory=dict)  # replaces QUOTAS entries
    quotas_denied: bool = False  # Service Quotas answers AccessDeniedException
    model_access_missing: bool = False  # the account was never granted access to the base model


@dataclass
class _Resource:
    kind: str
    name: str
    arn: str
    status: str
    polls: int = 0
    attributes: dict[str, Any] = field(default_factory=dict)
    created: str = ""


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _new_id() -> str:
    return uuid.uuid4().hex[:12]


def _words(text: str) -> list[str]:
    return text.split()


class SimulatedBedrock:
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
        self.resources: dict[str, _Resource] = {}
        # The stack's role policies, when the engine deployed a template: what IAM lets Bedrock do.
        self.authorization: RolePolicies | None = None
        self.tokens: dict[tuple[str, str], str] = {}
        self.ledger: list[dict[str, str]] = []
        self.calls: list[str] = []
        self.injected: list[str] = []
        self._lock = threading.RLock()

    # -- bookkeeping -----------------------------------------------------------------

    def _arn(self, resource: str) -> str:
        return f"arn:aws:bedrock:{self.region}:{self.account}:{resource}"

    def _record(self, event: str, resource: _Resource) -> None:
        self.ledger.append({"event": event, "type": resource.kind, "id": resource.name, "arn": resource.arn})

    def _find(self, kind: str, identifier: str) -> _Resource:
        for resource in self.resources.values():
            if resource.kind == kind and identifier in (resource.name, resource.arn):
                return resource
        raise ServiceError("ResourceNotFoundException", f"{kind} {identifier} not found", 404)

    def _add(self, resource: _Resource) -> _Resource:
        resource.created = _now()
        self.resources[resource.arn] = resource
        self._record("created", resource)
        return resource

    def _remove(self, resource: _Resource) -> None:
        del self.resources[resource.arn]
        self._record("deleted", resource)

    def _idempotent(self, operation: str, token: str | None, create: Callable[[], str]) -> str:
        if token and (operation, token) in self.tokens:
            return self.tokens[(operation, token)]
        arn = create()
        if token:
            self.tokens[(operation, token)] = arn
        return arn

    def existing(self, kind: str) -> list[_Resource]:
        return [r for r in self.resources.values() if r.kind == kind]

    def _base_model(self, identifier: str, *, customization: bool) -> BaseModelSpec:
        """Customization takes the id with its :NNk suffix; inference takes the invocation id
        (a foundation model or inference profile). Our aliases mean nothing to Bedrock."""
        bare = identifier.rsplit("foundation-model/", 1)[-1]
        for model in self.registry.models:
            names = {model.model_id} if customization else {model.invocation_id, model.invocation_id.split(".", 1)[-1]}
            if bare in names:
                return model
        raise ServiceError("ValidationException", f"the model {identifier} is not available for this operation")

    # -- dispatch ----------------------------------------------------------------------

    def call(self, operation: OperationModel, params: dict[str, Any]) -> Any:
        # Bedrock acts as itself, not as the caller: the calls it makes (reading data, invoking
        # a grader) are checked against the service role here, not the calling function's.
        caller = calling_role.set(None)
        try:
            return self._call(operation, params)
        finally:
            calling_role.reset(caller)

    def _call(self, operation: OperationModel, params: dict[str, Any]) -> Any:
        if operation.name == "Converse" and self.faults.converse_delay_seconds:
            time.sleep(self.faults.converse_delay_seconds)  # outside the lock: other calls go on meanwhile
        with self._lock:
            self.calls.append(operation.name)
            try:
                check(operation.input_shape, params)
            except RequestRejected as exc:
                raise ServiceError("ValidationException", exc.message) from None
            self._inject(operation.name)
            handler = getattr(self, f"_op_{_snake(operation.name)}", None)
            if handler is None:
                raise ServiceError(
                    "UnknownOperationException", f"the offline simulation does not implement {operation.name}", 501
                )
            return handler(params)  # type: ignore[no-any-return]

    def _inject(self, operation: str) -> None:
        if self.faults.throttle_every_call_once:
            self._throttled = not getattr(self, "_throttled", False)
            if self._throttled:
                self.injected.append(f"ThrottlingException on {operation}")
                raise ServiceError("ThrottlingException", "Rate exceeded (SIMULATED throttling)", 429)
        if operation.startswith("Delete") and self.faults.failing_deletes > 0:
            self.faults.failing_deletes -= 1
            self.injected.append(f"ServiceUnavailableException on {operation}")
            raise ServiceError("ServiceUnavailableException", "Service unavailable (SIMULATED)", 503)

    # -- customization jobs --------------------------------------------------------------

    def _op_create_model_customization_job(self, p: dict[str, Any]) -> dict[str, Any]:
        model = self._base_model(p["baseModelIdentifier"], customization=True)
        customization_type = p.get("customizationType", "FINE_TUNING")
        if customization_type not in model.customizations:
            raise ServiceError("ValidationException", f"{model.model_id} does not support {customization_type}")
        _check_hyperparameters(p.get("hyperParameters", {}), model.customizations[customization_type].hyperparameters)  # type: ignore[index]
        self._check_teacher(p, model, customization_type)
        try:
            rft = reinforcement.check_job(p, model, customization_type)
        except reinforcement.RftRejected as exc:
            raise ServiceError("ValidationException", str(exc)) from None
        if rft is not None:
            self._check_grader(p["roleArn"], rft["graderConfig"]["lambdaGrader"]["lambdaArn"])
        training = p["trainingDataConfig"]
        logs = training.get("invocationLogsConfig")
        if ("s3Uri" in training) == (logs is not None):
            raise ServiceError("ValidationException", "trainingDataConfig takes an s3Uri or an invocationLogsConfig")
        if logs is not None:
            self._check_logs(p["roleArn"], logs, customization_type)
        for uri in [*([training["s3Uri"]] if "s3Uri" in training else []),
                    *[v["s3Uri"] for v in p.get("validationDataConfig", {}).get("validators", [])]]:
            self._require_object(uri, role_arn=p["roleArn"])

        def create() -> str:
            if any(r.kind == ResourceKind.CUSTOMIZATION_JOB and r.name == p["jobName"] for r in self.resources.values()):
                raise ServiceError("ConflictException", f"a job named {p['jobName']} already exists")
            job = self._add(
                _Resource(
                    kind=ResourceKind.CUSTOMIZATION_JOB,
                    name=p["jobName"],
                    arn=self._arn(f"model-customization-job/{model.model_id}/{_new_id()}"),
                    status="InProgress",
                    attributes={"request": copy.deepcopy(p), "model": model, "tags": _tags(p.get("jobTags"))},
                )
            )
            self.log(f"{PREFIX} customization job {job.name} started ({customization_type}, base {model.model_id})")
            return job.arn

        return {"jobArn": self._idempotent("job", p.get("clientRequestToken"), create)}

    def _teacher(self, identifier: str) -> Any:
        bare = identifier.rsplit("/", 1)[-1]
        return next((t for t in self.registry.distillation_teachers if bare in (t.model_id, t.invocation_id)), None)

    def _check_teacher(self, p: dict[str, Any], student: BaseModelSpec, customization_type: str) -> None:
        """A distillation job names a teacher of this student (the registry's table of the
        user guide); other jobs name none."""
        config = p.get("customizationConfig", {}).get("distillationConfig")
        if customization_type != "DISTILLATION":
            if config:
                raise ServiceError("ValidationException", f"distillationConfig is only for DISTILLATION, not {customization_type}")
            return
        if not config:
            raise ServiceError("ValidationException", "a DISTILLATION job needs customizationConfig.distillationConfig")
        named = config["teacherModelConfig"]["teacherModelIdentifier"].rsplit("/", 1)[-1]
        teacher = self._teacher(named)
        if teacher is None or teacher.withdrawn or student.model_id not in teacher.students:
            raise ServiceError("ValidationException", f"{named} cannot teach {student.model_id}")
        if teacher.invocation_id != named:  # a profile-only teacher named by its model id, or the reverse
            raise ServiceError("ValidationException", f"{teacher.model_id} is invoked as {teacher.invocation_id} for distillation")
        length = config["teacherModelConfig"].get("maxResponseLengthForInference")
        if length is not None and not 1 <= length <= teacher.max_response_tokens:
            raise ServiceError("ValidationException", f"maxResponseLengthForInference {length} is outside 1-{teacher.max_response_tokens}")

    def _check_grader(self, role_arn: str, grader: str) -> None:
        """Bedrock invokes the grader as the job's role: the function must exist and the role
        may invoke it (the stack's synthesized policies say)."""
        try:
            boto3.client("lambda", region_name=self.region).get_function(FunctionName=grader)
        except Exception:  # noqa: BLE001 - any failure means Bedrock could not find it
            raise ServiceError("ValidationException", f"the grader {grader} does not exist") from None
        if self.authorization is not None and not self.authorization.allows(role_arn, "lambda:InvokeFunction", grader):
            raise ServiceError("AccessDeniedException", f"{role_arn} may not invoke the grader {grader} (lambda:InvokeFunction)", 403)

    def _check_logs(self, role_arn: str, config: dict[str, Any], customization_type: str) -> None:
        """Invocation logs train a distillation (or a reinforcement job); they must exist and the
        job's role may list and read them."""
        if customization_type not in ("DISTILLATION", "REINFORCEMENT_FINE_TUNING"):
            raise ServiceError("ValidationException", f"invocationLogsConfig is not for {customization_type}")
        uri = config["invocationLogSource"]["s3Uri"]
        objects, records = invocation_logs.read_records(uri, self.region)
        if not objects:
            raise ServiceError("ValidationException", f"no invocation logs under {uri}")
        bucket, prefix = split_s3_uri(uri)
        for action, arn in (("s3:ListBucket", f"arn:aws:s3:::{bucket}"), ("s3:GetObject", f"arn:aws:s3:::{bucket}/{prefix}x")):
            self._authorize(role_arn, action, arn)

    def _authorize(self, role_arn: str, action: str, resource: str) -> None:
        if self.authorization is not None and not self.authorization.allows(role_arn, action, resource):
            raise ServiceError("AccessDeniedException", f"{role_arn} may not {action} on {resource}", 403)

    def _require_object(self, uri: str, *, role_arn: str | None = None) -> None:
        bucket, key = split_s3_uri(uri)
        if role_arn is not None:
            self._authorize(role_arn, "s3:GetObject", f"arn:aws:s3:::{bucket}/{key}")
        try:
            boto3.client("s3", region_name=self.region).head_object(Bucket=bucket, Key=key)
        except Exception:  # noqa: BLE001 - any failure means Bedrock could not read it
            raise ServiceError("ValidationException", f"Bedrock cannot read {uri}") from None

    def _advance_job(self, job: _Resource) -> None:
        if job.status != "InProgress":
            return
        job.polls += 1
        if job.polls <= self.job_polls:
            return
        job.attributes["endTime"] = _now()
        if self.faults.job_stopped_by_someone:
            job.status = "Stopped"
            self._record("stopped", job)
            self.log(f"{PREFIX} customization job {job.name} was stopped (outside the pipeline)")
            return
        if self.faults.job_failure_message:
            job.status = "Failed"
            job.attributes["failureMessage"] = self.faults.job_failure_message
            self.log(f"{PREFIX} customization job {job.name} failed: {self.faults.job_failure_message}")
            return
        request = job.attributes["request"]
        model: BaseModelSpec = job.attributes["model"]
        rft = request.get("customizationConfig", {}).get("rftConfig")
        rewards: list[tuple[int, int, float]] = []
        if rft:
            try:
                learned = reinforcement.learn(
                    self._read_lines(request["trainingDataConfig"]["s3Uri"]), rft, region=self.region, seed=job.name,
                    source_of=lambda messages: _source_text(reinforcement.prompt_source(messages)), answer_in_style=_styled,
                )
            except Exception as exc:  # noqa: BLE001 - a grader that fails fails the job, as in Bedrock
                job.status = "Failed"
                job.attributes["failureMessage"] = f"the reward function failed: {exc}"
                self.log(f"{PREFIX} customization job {job.name} failed: the grader failed ({exc})")
                return
            profile, rewards = learned.profile, learned.reward_rows
            kept = "the verbose style" if profile["verbose"] else f"{profile['answer_words']:.0f}-word answers"
            self.log(f"{PREFIX} the grader scored {learned.graded} answers in {len(reinforcement.STYLES)} styles; "
                     f"the policy keeps {kept}")
        else:
            profile = self._learn(request, model)
        custom = self._add(
            _Resource(
                kind=ResourceKind.CUSTOM_MODEL,
                name=request["customModelName"],
                arn=self._arn(f"custom-model/{model.model_id}/{_new_id()}"),
                status="Active",
                attributes={"profile": profile, "model": model, "job_arn": job.arn},
            )
        )
        job.status = "Completed"
        job.attributes["outputModelArn"] = custom.arn
        self._write_metrics(job, records=int(profile["records"]), rewards=rewards)
        self.log(f"{PREFIX} customization job {job.name} completed; custom model {custom.name}")

    def _learn(self, request: dict[str, Any], model: BaseModelSpec) -> dict[str, float]:
        """The only thing the simulated model learns: how long its answers should be."""
        teacher = request.get("customizationConfig", {}).get("distillationConfig", {}).get("teacherModelConfig")
        logs = request["trainingDataConfig"].get("invocationLogsConfig")
        if logs is not None:
            return self._learn_from_logs(logs, teacher)
        lines = self._read_lines(request["trainingDataConfig"]["s3Uri"])
        answers = list(map(_training_answer, lines))
        if teacher:  # the teacher answers every prompt; a given answer is only its example
            limit = teacher.get("maxResponseLengthForInference", 1000)
            answers = [_teacher_answer(line, limit) for line in lines]
            self.log(f"{PREFIX} teacher {teacher['teacherModelIdentifier']} answered {len(answers)} prompts "
                     f"(at most {limit} tokens each)")
        lengths = [len(_words(answer)) for answer in answers if answer]
        return {"answer_words": max(1.0, sum(lengths) / len(lengths)) if lengths else 20.0, "records": len(lengths)}

    def _learn_from_logs(self, config: dict[str, Any], teacher: dict[str, Any] | None) -> dict[str, float]:
        """Logged prompts (those the filters pass, at most 15,000): the logged answers when
        usePromptResponse, else the teacher's."""
        _, records = invocation_logs.read_records(config["invocationLogSource"]["s3Uri"], self.region)
        chosen = [r for r in records if invocation_logs.passes(r, config.get("requestMetadataFilters"))][:15_000]
        if config.get("usePromptResponse"):
            answers = [invocation_logs.answer_of(r) for r in chosen]
            how = "their logged responses"
        else:
            limit = (teacher or {}).get("maxResponseLengthForInference", 1000)
            answers = [" ".join(_base_answer(_source_text({"messages": invocation_logs.prompt_of(r)})).split()[: int(limit * 0.75)])
                       for r in chosen]
            how = f"the teacher {(teacher or {}).get('teacherModelIdentifier')}'s answers"
        self.log(f"{PREFIX} distilling from {len(chosen)} of {len(records)} logged requests (the metadata filters) with {how}")
        lengths = [len(_words(a)) for a in answers if a]
        return {"answer_words": max(1.0, sum(lengths) / len(lengths)) if lengths else 20.0, "records": len(lengths)}

    def _read_lines(self, uri: str) -> list[bytes]:
        bucket, key = split_s3_uri(uri)
        body = boto3.client("s3", region_name=self.region).get_object(Bucket=bucket, Key=key)["Body"].read()
        return body.splitlines()

    def _write_metrics(self, job: _Resource, *, records: int, rewards: list[tuple[int, int, float]]) -> None:
        request = job.attributes["request"]
        hyper = request.get("hyperParameters", {})
        bucket, prefix = split_s3_uri(request["outputDataConfig"]["s3Uri"].rstrip("/") + "/")
        base = f"{prefix}model-customization-job-{job.arn.rsplit('/', 1)[-1]}/"
        s3 = boto3.client("s3", region_name=self.region)
        if rewards:  # a reinforcement job: the mean reward of each step's answers (no loss)
            s3.put_object(Bucket=bucket, Key=f"{base}training_artifacts/step_wise_training_metrics.csv",
                          Body=_csv(["step_number", "epoch_number", "reward_mean"], rewards))
            return
        epochs = int(float(hyper.get("epochCount", "2")))
        steps_per_epoch = max(1, min(20, math.ceil(records / max(1, int(float(hyper.get("batchSize", "1")))))))
        rng = random.Random(job.name)
        rows = []
        for step in range(epochs * steps_per_epoch):
            loss = 0.35 + 2.2 * math.exp(-step / (1.5 * steps_per_epoch)) + rng.uniform(-0.03, 0.03)
            rows.append((step, step // steps_per_epoch, round(loss, 4), round(math.exp(loss), 4)))
        s3.put_object(Bucket=bucket, Key=f"{base}training_artifacts/step_wise_training_metrics.csv",
                      Body=_csv(["step_number", "epoch_number", "training_loss", "perplexity"], rows))
        if request.get("validationDataConfig"):
            validation = [(epoch, epoch, round(0.45 + 1.2 * math.exp(-epoch), 4), 0.0) for epoch in range(epochs)]
            validation = [(s, e, loss, round(math.exp(loss), 4)) for s, e, loss, _ in validation]
            s3.put_object(
                Bucket=bucket,
                Key=f"{base}validation_artifacts/post_fine_tuning_validation/validation/validation_metrics.csv",
                Body=_csv(["step_number", "epoch_number", "validation_loss", "perplexity"], validation),
            )

    def _op_get_model_customization_job(self, p: dict[str, Any]) -> dict[str, Any]:
        job = self._find(ResourceKind.CUSTOMIZATION_JOB, p["jobIdentifier"])
        self._advance_job(job)
        request = job.attributes["request"]
        body = {
            "jobArn": job.arn,
            "jobName": job.name,
            "outputModelName": request["customModelName"],
            "roleArn": request["roleArn"],
            "status": job.status,
            "creationTime": job.created,
            "lastModifiedTime": _now(),
            "baseModelArn": f"arn:aws:bedrock:{self.region}::foundation-model/{job.attributes['model'].model_id}",
            "hyperParameters": request.get("hyperParameters", {}),
            "trainingDataConfig": request["trainingDataConfig"],
            "validationDataConfig": request.get("validationDataConfig", {"validators": []}),
            "outputDataConfig": request["outputDataConfig"],
            "customizationType": request.get("customizationType", "FINE_TUNING"),
        }
        if "customizationConfig" in request:
            body["customizationConfig"] = request["customizationConfig"]
        for key in ("outputModelArn", "failureMessage", "endTime"):
            if key in job.attributes:
                body[key] = job.attributes[key]
        return body

    def _op_stop_model_customization_job(self, p: dict[str, Any]) -> dict[str, Any]:
        job = self._find(ResourceKind.CUSTOMIZATION_JOB, p["jobIdentifier"])
        if job.status != "InProgress":
            raise ServiceError("ValidationException", f"job {job.name} is {job.status}; only InProgress jobs can be stopped")
        job.status = "Stopped"
        job.attributes["endTime"] = _now()
        self._record("stopped", job)
        self.log(f"{PREFIX} customization job {job.name} stopped")
        return {}

    def _op_get_custom_model(self, p: dict[str, Any]) -> dict[str, Any]:
        model = self._find(ResourceKind.CUSTOM_MODEL, p["modelIdentifier"])
        return {"modelArn": model.arn, "modelName": model.name, "creationTime": model.created,
                "jobArn": model.attributes["job_arn"], "modelStatus": "Active",
                "baseModelArn": f"arn:aws:bedrock:{self.region}::foundation-model/{model.attributes['model'].model_id}"}

    def _op_delete_custom_model(self, p: dict[str, Any]) -> dict[str, Any]:
        model = self._find(ResourceKind.CUSTOM_MODEL, p["modelIdentifier"])
        self._remove(model)
        self.log(f"{PREFIX} custom model {model.name} deleted")
        return {}

    # -- provisioned throughput and deployments ------------------------------------------

    def _create_serving(
        self, kind: str, name: str, model_identifier: str, token: str | None, tags: Any, units: int = 0
    ) -> str:
        model = self._find(ResourceKind.CUSTOM_MODEL, model_identifier)
        if kind == ResourceKind.CUSTOM_MODEL_DEPLOYMENT and not model.attributes["model"].on_demand_deployment:
            raise ServiceError("ValidationException", f"{model.attributes['model'].model_id} does not support on-demand deployment")

        def create() -> str:
            if any(r.kind == kind and r.name == name for r in self.resources.values()):
                raise ServiceError("ConflictException", f"a {kind} named {name} already exists")
            resource_type = "provisioned-model" if kind == ResourceKind.PROVISIONED_THROUGHPUT else "custom-model-deployment"
            resource = self._add(
                _Resource(kind=kind, name=name, arn=self._arn(f"{resource_type}/{_new_id()}"), status="Creating",
                          attributes={"model": model, "units": units, "tags": _tags(tags)})
            )
            what = f"{units} model unit(s), billed hourly" if units else "billed per token"
            self.log(f"{PREFIX} {kind.replace('_', ' ')} {name} creating ({what})")
            return resource.arn

        return self._idempotent(kind, token, create)

    def _advance_serving(self, resource: _Resource, ready: str) -> None:
        if resource.status != "Creating":
            return
        resource.polls += 1
        if resource.polls <= self.deployment_polls:
            return
        if self.faults.deployment_failure_message:
            resource.status = "Failed"
            resource.attributes["failureMessage"] = self.faults.deployment_failure_message
        else:
            resource.status = ready
        self.log(f"{PREFIX} {resource.kind.replace('_', ' ')} {resource.name} is {resource.status}")

    def _op_create_provisioned_model_throughput(self, p: dict[str, Any]) -> dict[str, Any]:
        if "commitmentDuration" in p:
            raise ServiceError("ValidationException", "the offline simulation refuses committed throughput: it cannot be deleted early")
        arn = self._create_serving(ResourceKind.PROVISIONED_THROUGHPUT, p["provisionedModelName"], p["modelId"],
                                   p.get("clientRequestToken"), p.get("tags"), units=p["modelUnits"])
        return {"provisionedModelArn": arn}

    def _op_get_provisioned_model_throughput(self, p: dict[str, Any]) -> dict[str, Any]:
        pt = self._find(ResourceKind.PROVISIONED_THROUGHPUT, p["provisionedModelId"])
        self._advance_serving(pt, "InService")
        body = {"modelUnits": pt.attributes["units"], "desiredModelUnits": pt.attributes["units"],
                "provisionedModelName": pt.name, "provisionedModelArn": pt.arn, "modelArn": pt.attributes["model"].arn,
                "desiredModelArn": pt.attributes["model"].arn,
                "foundationModelArn": f"arn:aws:bedrock:{self.region}::foundation-model/{pt.attributes['model'].attributes['model'].model_id}",
                "status": pt.status, "creationTime": pt.created, "lastModifiedTime": _now()}
        if "failureMessage" in pt.attributes:
            body["failureMessage"] = pt.attributes["failureMessage"]
        return body

    def _op_delete_provisioned_model_throughput(self, p: dict[str, Any]) -> dict[str, Any]:
        pt = self._find(ResourceKind.PROVISIONED_THROUGHPUT, p["provisionedModelId"])
        self._remove(pt)
        self.log(f"{PREFIX} provisioned throughput {pt.name} deleted")
        return {}

    def _op_create_custom_model_deployment(self, p: dict[str, Any]) -> dict[str, Any]:
        arn = self._create_serving(
            ResourceKind.CUSTOM_MODEL_DEPLOYMENT, p["modelDeploymentName"], p["modelArn"], p.get("clientRequestToken"), p.get("tags")
        )
        return {"customModelDeploymentArn": arn}

    def _op_get_custom_model_deployment(self, p: dict[str, Any]) -> dict[str, Any]:
        deployment = self._find(ResourceKind.CUSTOM_MODEL_DEPLOYMENT, p["customModelDeploymentIdentifier"])
        self._advance_serving(deployment, "Active")
        body = {"customModelDeploymentArn": deployment.arn, "modelDeploymentName": deployment.name,
                "modelArn": deployment.attributes["model"].arn, "createdAt": deployment.created, "status": deployment.status}
        if "failureMessage" in deployment.attributes:
            body["failureMessage"] = deployment.attributes["failureMessage"]
        return body

    def _op_delete_custom_model_deployment(self, p: dict[str, Any]) -> dict[str, Any]:
        deployment = self._find(ResourceKind.CUSTOM_MODEL_DEPLOYMENT, p["customModelDeploymentIdentifier"])
        self._remove(deployment)
        self.log(f"{PREFIX} custom model deployment {deployment.name} deleted")
        return {}

    def _op_list_provisioned_model_throughputs(self, p: dict[str, Any]) -> dict[str, Any]:
        return {"provisionedModelSummaries": [
            {"provisionedModelName": r.name, "provisionedModelArn": r.arn, "modelArn": r.attributes["model"].arn,
             "desiredModelArn": r.attributes["model"].arn, "foundationModelArn": "arn:aws:bedrock:::foundation-model/x",
             "modelUnits": r.attributes["units"], "desiredModelUnits": r.attributes["units"], "status": r.status,
             "creationTime": r.created, "lastModifiedTime": r.created}
            for r in self.existing(ResourceKind.PROVISIONED_THROUGHPUT)
        ]}

    def _op_list_custom_model_deployments(self, p: dict[str, Any]) -> dict[str, Any]:
        return {"modelDeploymentSummaries": [
            {"customModelDeploymentArn": r.arn, "customModelDeploymentName": r.name, "modelArn": r.attributes["model"].arn,
             "createdAt": r.created, "status": r.status}
            for r in self.existing(ResourceKind.CUSTOM_MODEL_DEPLOYMENT)
        ]}

    def _op_list_tags_for_resource(self, p: dict[str, Any]) -> dict[str, Any]:
        resource = self.resources.get(p["resourceARN"])
        if resource is None:
            raise ServiceError("ResourceNotFoundException", f"{p['resourceARN']} not found", 404)
        return {"tags": [{"key": k, "value": v} for k, v in resource.attributes.get("tags", {}).items()]}

    def add_untracked(self, kind: str, name: str, tags: dict[str, str]) -> str:
        """A deployment (or job) created outside any run (janitor and notice tests): no ledger
        entry, given tags."""
        with self._lock:
            resource_type = {ResourceKind.PROVISIONED_THROUGHPUT: "provisioned-model",
                             ResourceKind.CUSTOMIZATION_JOB: f"model-customization-job/{self.registry.models[0].model_id}",
                             }.get(kind, "custom-model-deployment")
            model = _Resource(kind=ResourceKind.CUSTOM_MODEL, name=f"{name}-model", arn=self._arn(f"custom-model/x/{_new_id()}"),
                              status="Active", attributes={"model": self.registry.models[0]})
            resource = self._add(_Resource(kind=kind, name=name, arn=self._arn(f"{resource_type}/{_new_id()}"),
                                           status="InService", attributes={"model": model, "units": 1, "tags": tags}))
            return resource.arn

    # -- evaluation jobs -----------------------------------------------------------------

    def _op_create_evaluation_job(self, p: dict[str, Any]) -> dict[str, Any]:
        config = p["evaluationConfig"]["automated"]["datasetMetricConfigs"][0]
        self._require_object(config["dataset"]["datasetLocation"]["s3Uri"])
        for model in p["inferenceConfig"]["models"]:
            identifier = model["bedrockModel"]["modelIdentifier"]
            if ":provisioned-model/" in identifier:
                self._find(ResourceKind.PROVISIONED_THROUGHPUT, identifier)
            else:
                self._base_model(identifier, customization=False)

        def create() -> str:
            job = self._add(_Resource(kind=ResourceKind.EVALUATION_JOB, name=p["jobName"], arn=self._arn(f"evaluation-job/{_new_id()}"),
                                      status="InProgress", attributes={"request": copy.deepcopy(p), "tags": _tags(p.get("jobTags"))}))
            self.log(f"{PREFIX} evaluation job {job.name} started ({config['taskType']}, {len(p['inferenceConfig']['models'])} models)")
            return job.arn

        return {"jobArn": self._idempotent(ResourceKind.EVALUATION_JOB, p.get("clientRequestToken"), create)}

    def _op_get_evaluation_job(self, p: dict[str, Any]) -> dict[str, Any]:
        job = self._find(ResourceKind.EVALUATION_JOB, p["jobIdentifier"])
        if job.status == "InProgress":
            job.polls += 1
            if job.polls > self.job_polls:
                job.status = "Completed"
                request = job.attributes["request"]
                bucket, prefix = split_s3_uri(request["outputDataConfig"]["s3Uri"].rstrip("/") + "/")
                boto3.client("s3", region_name=self.region).put_object(
                    Bucket=bucket, Key=f"{prefix}{job.name}/output.jsonl",
                    Body=json.dumps({"note": "SIMULATED evaluation job output", "metrics": ["Builtin.Accuracy"]}).encode(),
                )
                self.log(f"{PREFIX} evaluation job {job.name} completed")
        request = job.attributes["request"]
        return {"jobName": job.name, "status": job.status, "jobArn": job.arn, "roleArn": request["roleArn"],
                "jobType": "Automated", "applicationType": "ModelEvaluation",
                "evaluationConfig": request["evaluationConfig"], "inferenceConfig": request["inferenceConfig"],
                "outputDataConfig": request["outputDataConfig"], "creationTime": job.created, "lastModifiedTime": _now()}

    def _op_stop_evaluation_job(self, p: dict[str, Any]) -> dict[str, Any]:
        job = self._find(ResourceKind.EVALUATION_JOB, p["jobIdentifier"])
        job.status = "Stopped"
        self._record("stopped", job)
        self.log(f"{PREFIX} evaluation job {job.name} stopped")
        return {}

    # -- account quotas and usage ------------------------------------------------------------

    def _op_list_service_quotas(self, p: dict[str, Any]) -> dict[str, Any]:
        if self.faults.quotas_denied:
            raise ServiceError("AccessDeniedException", "not authorized to perform servicequotas:ListServiceQuotas (SIMULATED)", 403)
        if p["ServiceCode"] != "bedrock":
            raise ServiceError("NoSuchResourceException", f"no service {p['ServiceCode']} in the simulation", 404)
        values = {**QUOTAS, **self.faults.quota_values}
        return {"Quotas": [
            {"ServiceCode": "bedrock", "ServiceName": "Amazon Bedrock", "QuotaName": name, "Value": value,
             "QuotaCode": f"L-{index:08X}", "QuotaArn": f"arn:aws:servicequotas:{self.region}:{self.account}:bedrock/L-{index:08X}",
             "Unit": "None", "Adjustable": True, "GlobalQuota": False}
            for index, (name, value) in enumerate(values.items())
        ]}

    def _op_list_model_customization_jobs(self, p: dict[str, Any]) -> dict[str, Any]:
        jobs = [r for r in self.existing(ResourceKind.CUSTOMIZATION_JOB) if p.get("statusEquals") in (None, r.status)]
        return {"modelCustomizationJobSummaries": [
            {"jobArn": r.arn, "jobName": r.name, "status": r.status, "creationTime": r.created,
             "baseModelArn": f"arn:aws:bedrock:{self.region}::foundation-model/x"}
            for r in jobs
        ]}

    def _op_list_custom_models(self, p: dict[str, Any]) -> dict[str, Any]:
        return {"modelSummaries": [
            {"modelArn": r.arn, "modelName": r.name, "creationTime": r.created,
             "baseModelArn": f"arn:aws:bedrock:{self.region}::foundation-model/x", "baseModelName": "x"}
            for r in self.existing(ResourceKind.CUSTOM_MODEL)
        ]}

    # -- foundation models ---------------------------------------------------------------

    def _op_get_foundation_model(self, p: dict[str, Any]) -> dict[str, Any]:
        try:
            model = self._base_model(p["modelIdentifier"], customization=True)
        except ServiceError:
            raise ServiceError("ResourceNotFoundException", f"model {p['modelIdentifier']} not found", 404) from None
        if self.region not in model.regions:
            raise ServiceError("ResourceNotFoundException", f"{model.model_id} is not offered in {self.region}", 404)
        return {"modelDetails": {
            "modelArn": f"arn:aws:bedrock:{self.region}::foundation-model/{model.model_id}",
            "modelId": model.model_id, "modelName": model.display_name, "providerName": model.display_name.split()[0],
            "inputModalities": ["TEXT"], "outputModalities": ["TEXT"],
            "customizationsSupported": list(model.customizations), "inferenceTypesSupported": ["PROVISIONED"],
            "modelLifecycle": {"status": "ACTIVE"},
        }}

    def _op_get_foundation_model_availability(self, p: dict[str, Any]) -> dict[str, Any]:
        model_id = p["modelId"]
        offered = any(m.model_id.rsplit(":", 1)[0] == model_id for m in self.registry.models)
        if not offered:
            raise ServiceError("ResourceNotFoundException", f"model {model_id} not found", 404)
        granted = "NOT_AVAILABLE" if self.faults.model_access_missing else "AVAILABLE"
        return {"modelId": model_id, "agreementAvailability": {"status": "AVAILABLE"}, "authorizationStatus": "AUTHORIZED",
                "entitlementAvailability": granted, "regionAvailability": "AVAILABLE"}

    # -- runtime -------------------------------------------------------------------------

    def _op_converse(self, p: dict[str, Any]) -> dict[str, Any]:
        model_id = p["modelId"]
        if ":provisioned-model/" in model_id or ":custom-model-deployment/" in model_id:
            kind = ResourceKind.PROVISIONED_THROUGHPUT if ":provisioned-model/" in model_id else ResourceKind.CUSTOM_MODEL_DEPLOYMENT
            serving = self._find(kind, model_id)
            if serving.status not in ("InService", "Active"):
                raise ServiceError("ValidationException", f"{serving.name} is {serving.status}, not ready for inference")
            profile = serving.attributes["model"].attributes["profile"]
            answer = _base_answer(_source_text(p)) if profile.get("verbose") else _custom_answer(_source_text(p), profile)
        else:  # a foundation model, as a base model or as a distillation teacher: the same answer
            if self._teacher(model_id) is None:
                self._base_model(model_id, customization=False)
            answer = _base_answer(_source_text(p))
        prompt_tokens = max(1, len(json.dumps(p.get("messages", []))) // 4)
        output_tokens = min(max(1, len(answer) // 4), p.get("inferenceConfig", {}).get("maxTokens", 4096))
        return {
            "output": {"message": {"role": "assistant", "content": [{"text": answer}]}},
            "stopReason": "end_turn",
            "usage": {"inputTokens": prompt_tokens, "outputTokens": output_tokens, "totalTokens": prompt_tokens + output_tokens},
            "metrics": {"latencyMs": 40 + 3 * output_tokens},
        }

    def _op_invoke_model(self, p: dict[str, Any]) -> bytes:
        """Only the Titan text embedding models: a bag-of-words vector, hashed into 256 dims."""
        if not p["modelId"].startswith("amazon.titan-embed-text"):
            raise ServiceError("ValidationException", f"the offline simulation invokes only embedding models, not {p['modelId']}")
        body = p["body"]
        text = json.loads(body if isinstance(body, (bytes, str)) else body.read())["inputText"]
        vector = [0.0] * 256
        for word in re.findall(r"[a-z0-9]+", text.lower()):
            vector[zlib.crc32(word.encode()) % 256] += 1.0
        norm = math.sqrt(sum(x * x for x in vector)) or 1.0
        return json.dumps({"embedding": [x / norm for x in vector], "inputTextTokenCount": len(text.split())}).encode()

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


def _check_hyperparameters(given: dict[str, str], specs: dict[str, HyperparameterSpec]) -> None:
    """What Bedrock checks of hyperParameters, read from the registry's ranges (its own reading,
    not the pipeline's code, so a wrong bound there fails here): known names, numbers, integers
    where integral, within range."""
    for name, text in given.items():
        spec = specs.get(name)
        if spec is None:
            raise ServiceError("ValidationException", f"hyperParameters: {name} is not a hyperparameter of this model")
        if spec.type == "choice":
            if text not in spec.choices:
                raise ServiceError("ValidationException", f"hyperParameters.{name}: {text!r} is not one of {', '.join(spec.choices)}")
            continue
        try:
            value = float(text)
        except ValueError:
            raise ServiceError("ValidationException", f"hyperParameters.{name}: {text!r} is not a number") from None
        if spec.type == "int" and not value.is_integer():
            raise ServiceError("ValidationException", f"hyperParameters.{name}: {text!r} is not an integer")
        low, high = spec.bounds
        if not low <= value <= high:
            raise ServiceError("ValidationException", f"hyperParameters.{name}: {text} is outside the allowed range [{low:g}, {high:g}]")


def _text_of(content: Any) -> str:
    if isinstance(content, str):
        return content
    return " ".join(b["text"] for b in content or [] if isinstance(b, dict) and isinstance(b.get("text"), str))


def _training_answer(raw: bytes) -> str:
    """The answer a training record teaches, read the way a trainer would, whatever the record's
    format: the completion, or the last assistant turn, or (unlabelled text) its second half."""
    try:
        record = json.loads(raw)
    except ValueError:
        return ""
    if not isinstance(record, dict):
        return ""
    if isinstance(record.get("completion"), str):
        return str(record["completion"])
    messages = record.get("messages")
    if isinstance(messages, list) and messages and isinstance(messages[-1], dict) and messages[-1].get("role") == "assistant":
        return _text_of(messages[-1].get("content"))
    words = record["input"].split() if isinstance(record.get("input"), str) else []
    return " ".join(words[len(words) // 2 :]) if len(words) >= 2 else ""


def _teacher_answer(raw: bytes, max_tokens: int) -> str:
    """What a teacher answers a distillation prompt: what it answers in Converse, cut to
    maxResponseLengthForInference (about three quarters of a word a token)."""
    try:
        messages = json.loads(raw)["messages"]
    except (ValueError, KeyError, TypeError):
        return ""
    asked = [m for m in messages if isinstance(m, dict) and m.get("role") == "user"] if isinstance(messages, list) else []
    words = _base_answer(_source_text({"messages": asked})).split()
    return " ".join(words[: max(1, int(max_tokens * 0.75))])


def _tags(tags: Any) -> dict[str, str]:
    return {t["key"]: t["value"] for t in tags or []}


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def _csv(header: list[str], rows: list[tuple[Any, ...]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue().encode()


def _source_text(params: dict[str, Any]) -> str:
    """The material of the last user turn: its longest paragraph (instructions are short)."""
    for message in reversed(params.get("messages", [])):
        if message.get("role") == "user":
            text = " ".join(block.get("text", "") for block in message.get("content", []))
            paragraphs = [part.strip() for part in re.split(r"\n\s*\n", text) if part.strip()]
            return max(paragraphs, key=len) if paragraphs else ""
    return ""


def _base_answer(source: str) -> str:
    sentences = re.split(r"(?<=[.!?])\s+", source)
    body = " ".join(sentences[:3])
    return f"Certainly! Here is an overview of the text you shared. {body} I hope this summary is helpful; let me know if you need more detail."


def _custom_answer(source: str, profile: dict[str, float]) -> str:
    words = _words(source)[: max(1, round(profile["answer_words"]))]
    return " ".join(words).rstrip(",;:") + ("" if words and words[-1].endswith(".") else ".")


def _styled(source: str, words: int) -> str:
    """An answer in one of the simulated policy's styles: verbose (0), or the first `words` words."""
    return _base_answer(source) if words == 0 else _custom_answer(source, {"answer_words": words})


def _error_response(url: str, error: ServiceError) -> AWSResponse:
    body = json.dumps({"__type": error.code, "message": error.message}).encode()  # json protocols read __type
    return AWSResponse(url, error.status, {"x-amzn-ErrorType": error.code, "content-type": "application/json"}, _Raw(body))


class _Raw:
    """The raw HTTP body botocore reads: whole (stream) or as a streaming payload (read)."""

    def __init__(self, body: bytes) -> None:
        self._body = body
        self._offset = 0

    def stream(self, **_: Any) -> Any:
        yield self._body

    def read(self, amt: int | None = None, **_: Any) -> bytes:
        end = len(self._body) if amt is None else self._offset + amt
        chunk, self._offset = self._body[self._offset : end], min(end, len(self._body))
        return chunk


# -- botocore wiring ---------------------------------------------------------------------

_active: SimulatedBedrock | None = None
_pending = threading.local()


def _capture(params: dict[str, Any], model: OperationModel, **_: Any) -> None:
    if _active is not None:
        _pending.call = (model, copy.deepcopy(params))


def _answer(request: Any, **_: Any) -> AWSResponse | None:
    simulator = _active
    if simulator is None:
        return None
    model, params = _pending.call
    try:
        body = simulator.call(model, params)
    except ServiceError as error:
        return _error_response(request.url, error)
    status = int(model.http.get("responseCode", 200))
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()  # bytes: a blob payload (InvokeModel)
    return AWSResponse(request.url, status, {"content-type": "application/json"}, _Raw(raw))


for _service in SERVICES:
    botocore.handlers.BUILTIN_HANDLERS.append((f"before-parameter-build.{_service}", _capture))
    botocore.handlers.BUILTIN_HANDLERS.append((f"before-send.{_service}", _answer))


_moto_call = BotocoreStubber.__call__


def _moto_except_bedrock(self: BotocoreStubber, event_name: str, request: Any, **kwargs: Any) -> AWSResponse | None:
    # botocore calls every before-send handler; keep moto from also acting on Bedrock calls.
    if _active is not None and event_name.split(".")[1] in SERVICES:
        return None
    return _moto_call(self, event_name, request, **kwargs)


class activate:  # noqa: N801 - used as a context manager
    """Route every bedrock and bedrock-runtime call of new boto3 clients to `simulator`."""

    def __init__(self, simulator: SimulatedBedrock) -> None:
        self.simulator = simulator
        self._patch = mock.patch.object(BotocoreStubber, "__call__", _moto_except_bedrock)

    def __enter__(self) -> SimulatedBedrock:
        global _active
        _active = self.simulator
        self._patch.start()
        boto3.DEFAULT_SESSION = None  # new sessions pick up the handlers registered above
        return self.simulator

    def __exit__(self, *_: object) -> None:
        global _active
        _active = None
        self._patch.stop()
