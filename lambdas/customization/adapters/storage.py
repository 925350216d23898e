"""S3: streaming dataset reads and small JSON reports."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from customization.adapters.errors import aws_errors
from customization.errors import ResourceNotFoundError
from customization.models.request import split_s3_uri


class ObjectStore:
    def __init__(self, client: Any) -> None:
        self._client = client

    def iter_lines(self, uri: str) -> Iterator[bytes]:
        """The object's lines, streamed: memory stays constant whatever the object's size."""
        bucket, key = split_s3_uri(uri)
        with aws_errors(f"read {uri}"):
            body = self._client.get_object(Bucket=bucket, Key=key)["Body"]
        yield from body.iter_lines(keepends=False)

    def size(self, uri: str) -> int | None:
        """The object's size in bytes, or None when it does not exist."""
        bucket, key = split_s3_uri(uri)
        try:
            with aws_errors(f"read {uri}"):
                return int(self._client.head_object(Bucket=bucket, Key=key)["ContentLength"])
        except ResourceNotFoundError:
            return None

    def put_json(self, uri: str, document: Any) -> None:
        bucket, key = split_s3_uri(uri)
        with aws_errors(f"write {uri}"):
            self._client.put_object(
                Bucket=bucket, Key=key, Body=json.dumps(document, indent=2).encode(), ContentType="application/json"
            )
