"""S3: streaming dataset reads and small JSON reports."""

from __future__ import annotations

import hashlib
import io
import json
from collections.abc import Iterable, Iterator
from typing import IO, Any

from customization.adapters.errors import aws_errors
from customization.errors import AwsAccessDeniedError, ResourceNotFoundError
from customization.models.s3 import split_s3_uri


class ObjectStore:
    def __init__(self, client: Any) -> None:
        self._client = client

    @property
    def max_concurrency(self) -> int:
        """Calls that may be in flight at once: the client's connection pool."""
        return int(self._client.meta.config.max_pool_connections)

    def iter_lines(self, uri: str) -> Iterator[bytes]:
        """The object's lines, streamed: memory stays constant whatever the object's size."""
        bucket, key = split_s3_uri(uri)
        with aws_errors(f"read {uri}"):
            body = self._client.get_object(Bucket=bucket, Key=key)["Body"]
        yield from body.iter_lines(keepends=False)

    def open_binary(self, uri: str) -> IO[bytes]:
        """The object as a buffered binary file, streamed (lines, text wrappers and reads work)."""
        bucket, key = split_s3_uri(uri)
        with aws_errors(f"read {uri}"):
            body = self._client.get_object(Bucket=bucket, Key=key)["Body"]
        return io.BufferedReader(_BodyStream(body), buffer_size=1 << 20)

    def fingerprint(self, uri: str) -> tuple[str | None, str]:
        """The object's version id and the SHA-256 of its bytes, read in one streamed pass
        of that very version."""
        bucket, key = split_s3_uri(uri)
        with aws_errors(f"read {uri}"):
            response = self._client.get_object(Bucket=bucket, Key=key)
        digest = hashlib.sha256()
        for chunk in iter(lambda: response["Body"].read(1 << 20), b""):
            digest.update(chunk)
        version = response.get("VersionId")
        return (version if version and version != "null" else None), digest.hexdigest()

    def size(self, uri: str) -> int | None:
        """The object's size in bytes, or None when it does not exist."""
        bucket, key = split_s3_uri(uri)
        try:
            with aws_errors(f"read {uri}"):
                return int(self._client.head_object(Bucket=bucket, Key=key)["ContentLength"])
        except ResourceNotFoundError:
            return None

    def list_window(self, bucket: str, prefix: str, start_after: str) -> tuple[dict[str, int], bool]:
        """Up to 1,000 keys directly under `prefix` after `start_after`, with sizes; True when more
        follow. A bucket that does not exist, or that this role may not list, holds nothing it can read."""
        try:
            with aws_errors(f"list s3://{bucket}/{prefix}"):
                page = self._client.list_objects_v2(Bucket=bucket, Prefix=prefix, StartAfter=start_after, Delimiter="/")
        except (ResourceNotFoundError, AwsAccessDeniedError):
            return {}, False
        return {item["Key"]: int(item["Size"]) for item in page.get("Contents", [])}, bool(page.get("IsTruncated"))

    def read_range(self, uri: str, length: int) -> bytes | None:
        """The object's first `length` bytes; None when it cannot be read."""
        bucket, key = split_s3_uri(uri)
        try:
            with aws_errors(f"read {uri}"):
                return bytes(self._client.get_object(Bucket=bucket, Key=key, Range=f"bytes=0-{length - 1}")["Body"].read())
        except (ResourceNotFoundError, AwsAccessDeniedError):
            return None

    def bucket_region(self, bucket: str) -> str:
        with aws_errors(f"locate bucket {bucket}"):
            # us-east-1 buckets report no LocationConstraint.
            return self._client.get_bucket_location(Bucket=bucket).get("LocationConstraint") or "us-east-1"

    def write_stream(self, uri: str, chunks: Iterable[bytes]) -> None:
        """Upload from an iterator in multipart pieces: memory stays constant."""
        bucket, key = split_s3_uri(uri)
        with aws_errors(f"write {uri}"):
            self._client.upload_fileobj(_IteratorFile(chunks), bucket, key)

    def put_bytes(self, uri: str, body: bytes, content_type: str = "application/octet-stream") -> None:
        bucket, key = split_s3_uri(uri)
        with aws_errors(f"write {uri}"):
            self._client.put_object(Bucket=bucket, Key=key, Body=body, ContentType=content_type)

    def list_keys(self, uri_prefix: str) -> list[str]:
        """The s3:// URIs of every object under a prefix, sorted."""
        bucket, prefix = split_s3_uri(uri_prefix)
        uris = []
        with aws_errors(f"list {uri_prefix}"):
            for page in self._client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
                uris += [f"s3://{bucket}/{item['Key']}" for item in page.get("Contents", [])]
        return sorted(uris)

    def read_version(self, bucket: str, key: str, version: str | None) -> bytes:
        extra = {"VersionId": version} if version else {}
        with aws_errors(f"read s3://{bucket}/{key}"):
            return bytes(self._client.get_object(Bucket=bucket, Key=key, **extra)["Body"].read())

    def read_bytes(self, uri: str) -> bytes:
        bucket, key = split_s3_uri(uri)
        with aws_errors(f"read {uri}"):
            return bytes(self._client.get_object(Bucket=bucket, Key=key)["Body"].read())

    def read_text(self, uri: str) -> str:
        return self.read_bytes(uri).decode("utf-8")

    def put_json(self, uri: str, document: Any) -> None:
        bucket, key = split_s3_uri(uri)
        with aws_errors(f"write {uri}"):
            self._client.put_object(
                Bucket=bucket, Key=key, Body=json.dumps(document, indent=2).encode(), ContentType="application/json"
            )


class _BodyStream(io.RawIOBase):
    """A raw file over botocore's StreamingBody, for io.BufferedReader."""

    def __init__(self, body: Any) -> None:
        self._body = body

    def readable(self) -> bool:
        return True

    def readinto(self, target: Any) -> int:
        chunk = self._body.read(len(target))
        target[: len(chunk)] = chunk
        return len(chunk)

    def close(self) -> None:
        self._body.close()
        super().close()


class _IteratorFile(io.RawIOBase):
    """A read-only file over an iterator of byte chunks, for upload_fileobj."""

    def __init__(self, chunks: Iterable[bytes]) -> None:
        self._chunks = iter(chunks)
        self._buffer = b""

    def readable(self) -> bool:
        return True

    def readinto(self, target: Any) -> int:
        while not self._buffer:
            try:
                self._buffer = next(self._chunks)
            except StopIteration:
                return 0
        size = min(len(target), len(self._buffer))
        target[:size], self._buffer = self._buffer[:size], self._buffer[size:]
        return size
