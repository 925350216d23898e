"""S3 URIs: the one pattern every module that reads or names an object uses."""

from __future__ import annotations

import re

S3_URI = re.compile(r"^s3://(?P<bucket>[a-z0-9][a-z0-9.-]{1,61}[a-z0-9])/(?P<key>.+)$")


def split_s3_uri(uri: str) -> tuple[str, str]:
    match = S3_URI.match(uri)
    if not match:
        raise ValueError(f"expected an s3://bucket/key URI, got {uri!r}")
    return match["bucket"], match["key"]
