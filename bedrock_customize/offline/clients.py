"""The engine's and the simulated Bedrock's own AWS clients, made once per process: creating a
botocore client costs more than most emulated calls, and moto intercepts every client, made
before a session or during it, so one client serves every offline run (the handlers keep their
own, made afresh in each run by their adapters)."""

from __future__ import annotations

import functools
from typing import Any

import boto3


@functools.lru_cache(maxsize=64)
def client(service: str, region: str) -> Any:
    return boto3.client(service, region_name=region)
