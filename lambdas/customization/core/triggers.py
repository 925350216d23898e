"""Runs that start themselves: a JSON request written under `requests/` in the pipeline
bucket starts one execution. The execution name comes from the object's key and version, so
a repeated delivery of the same event starts nothing new. An invalid request starts nothing;
a rejection file beside it says why, and a notice goes out."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from customization.core.request_rules import parse_request
from customization.errors import RequestInvalidError
from customization.vocabulary import REQUESTS_PREFIX

if TYPE_CHECKING:
    from customization.adapters.executions import Executions
    from customization.adapters.notifier import Notifier
    from customization.adapters.storage import ObjectStore

REJECTION_SUFFIX = ".rejected.txt"


@dataclass(frozen=True)
class TriggerOutcome:
    key: str
    execution_name: str
    started: bool
    duplicate: bool = False
    rejected: str | None = None
    execution_arn: str | None = None


def execution_name_for(key: str, version: str | None) -> str:
    """At most 80 characters of [A-Za-z0-9-_], unique per key and version."""
    stem = re.sub(r"[^A-Za-z0-9-]+", "-", key.removeprefix(REQUESTS_PREFIX).removesuffix(".json")).strip("-")[:60]
    digest = hashlib.sha256(f"{key}@{version or 'unversioned'}".encode()).hexdigest()[:12]
    return f"{stem or 'request'}-{digest}"


def start_from_request_file(
    bucket: str, key: str, version: str | None, *, store: ObjectStore, executions: Executions, notifier: Notifier
) -> TriggerOutcome:
    name = execution_name_for(key, version)
    try:
        document = json.loads(store.read_version(bucket, key, version))
        if not isinstance(document, dict):
            raise RequestInvalidError("the request must be a JSON object")
        request = parse_request(document, bucket=bucket)
    except (ValueError, RequestInvalidError) as exc:
        reason = str(exc) if isinstance(exc, RequestInvalidError) else f"not valid JSON: {exc}"
        rejection_key = key.removesuffix(".json") + REJECTION_SUFFIX
        store.put_bytes(f"s3://{bucket}/{rejection_key}", f"{key} was not started: {reason}\n".encode(), "text/plain")
        notifier.publish(f"Rejected request {key}", f"s3://{bucket}/{key} was not started.\n\n{reason}\n\nDetails: s3://{bucket}/{rejection_key}")
        return TriggerOutcome(key=key, execution_name=name, started=False, rejected=reason)
    if executions.status(name) is not None:
        # A repeated delivery. (Two deliveries at once are covered by Step Functions itself: a
        # second StartExecution with the same name and input starts nothing new.)
        return TriggerOutcome(key=key, execution_name=name, started=False, duplicate=True)
    arn = executions.start(name, request.model_dump(mode="json", exclude_unset=True))
    return TriggerOutcome(key=key, execution_name=name, started=arn is not None, duplicate=arn is None, execution_arn=arn)
