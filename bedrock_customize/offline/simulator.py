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

It grows by resource family, one module each, all sharing `bedrock_state.BedrockState`:
customization jobs (`bedrock_jobs`, with `reinforcement` and `invocation_logs`), serving
(`bedrock_serving`), evaluation jobs (`bedrock_evaluation`), the account (`bedrock_account`)
and the runtime (`bedrock_runtime`, answering as `bedrock_answers` says). This module
dispatches each call to its family and wires the simulation into botocore.
"""

from __future__ import annotations

import copy
import json
import re
import threading
import time
from typing import Any
from unittest import mock

import boto3
import botocore.handlers
from botocore.awsrequest import AWSResponse
from botocore.model import OperationModel
from moto.core.botocore_stubber import BotocoreStubber

from bedrock_customize.offline.bedrock_account import Account
from bedrock_customize.offline.bedrock_evaluation import EvaluationJobs
from bedrock_customize.offline.bedrock_jobs import CustomizationJobs
from bedrock_customize.offline.bedrock_runtime import Runtime
from bedrock_customize.offline.bedrock_serving import Serving
from bedrock_customize.offline.bedrock_state import (  # noqa: F401 - the engine and tests use these from here
    PREFIX,
    QUOTAS,
    SERVICES,
    Faults,
    ServiceError,
    split_s3_uri,
)
from bedrock_customize.offline.handler_calls import calling_role
from bedrock_customize.offline.service_model import RequestRejected, check


class SimulatedBedrock(CustomizationJobs, Serving, EvaluationJobs, Account, Runtime):
    """Every bedrock and bedrock-runtime call, checked against botocore's model, then answered
    by the resource family whose `_op_<operation>` it is."""

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



def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


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
