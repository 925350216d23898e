"""The simulated Bedrock's reading of model invocation logs (its own, not the pipeline's): the
`ModelInvocationLog` records under a prefix, filtered by requestMetadataFilters as the API
reference defines them (equals, notEquals, andAll, orAll), each one's prompt and logged
answer. Converse-shaped bodies are read; other InvokeModel bodies give their prompt text only
where they carry a `prompt` or `inputText`."""

from __future__ import annotations

import gzip
import json
from typing import Any

from bedrock_customize.offline import clients


def _text(blocks: Any) -> str:
    if isinstance(blocks, str):
        return blocks
    return " ".join(b["text"] for b in blocks or [] if isinstance(b, dict) and isinstance(b.get("text"), str))


def _base(metadata: dict[str, str], rule: dict[str, Any]) -> bool:
    equal = all(metadata.get(k) == v for k, v in rule.get("equals", {}).items())
    return equal and all(metadata.get(k) != v for k, v in rule.get("notEquals", {}).items())


def passes(record: dict[str, Any], filters: dict[str, Any] | None) -> bool:
    metadata = record.get("requestMetadata") or {}
    if not filters:
        return True
    if "andAll" in filters:
        return all(_base(metadata, rule) for rule in filters["andAll"])
    if "orAll" in filters:
        return any(_base(metadata, rule) for rule in filters["orAll"])
    return _base(metadata, filters)


def read_records(uri: str, region: str) -> tuple[int, list[dict[str, Any]]]:
    """(objects under the prefix, their ModelInvocationLog records)."""
    bucket, _, prefix = uri.removeprefix("s3://").partition("/")
    s3 = clients.client("s3", region)
    keys = [item["Key"] for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
            for item in page.get("Contents", [])]
    records = []
    for key in keys:
        body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
        if body[:2] == b"\x1f\x8b":
            body = gzip.decompress(body)
        for line in body.splitlines():
            try:
                record = json.loads(line)
            except ValueError:
                continue
            if isinstance(record, dict) and record.get("schemaType") == "ModelInvocationLog":
                records.append(record)
    return len(keys), records


def prompt_of(record: dict[str, Any]) -> list[dict[str, Any]]:
    """The logged request's user turns, in the Converse shape."""
    body = (record.get("input") or {}).get("inputBodyJson") or {}
    if isinstance(body.get("messages"), list):
        return [{"role": "user", "content": [{"text": _text(m.get("content"))}]}
                for m in body["messages"] if isinstance(m, dict) and m.get("role") == "user"]
    text = body.get("prompt") or body.get("inputText") or ""
    return [{"role": "user", "content": [{"text": str(text)}]}]


def answer_of(record: dict[str, Any]) -> str:
    body = (record.get("output") or {}).get("outputBodyJson") or {}
    message = (body.get("output") or {}).get("message") or {}
    return _text(message.get("content")) or str(body.get("generation") or "")
