"""Shared test setup: fake AWS credentials and region (no test reaches AWS), and a fake
Lambda context."""

from __future__ import annotations

import os
from dataclasses import dataclass

import pytest

os.environ.update(
    {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "POWERTOOLS_SERVICE_NAME": "bedrock-customize",
        "POWERTOOLS_TRACE_DISABLED": "true",
    }
)
os.environ.pop("AWS_PROFILE", None)

# Bind the handlers' logger to the session's output once, before any test captures and closes
# a stream of its own.
import customization.observability  # noqa: E402, F401


@dataclass
class FakeLambdaContext:
    function_name: str = "test"
    memory_limit_in_mb: int = 512
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:test"
    aws_request_id: str = "test-request"


@pytest.fixture
def lambda_context() -> FakeLambdaContext:
    return FakeLambdaContext()


@pytest.fixture(scope="session")
def private_template(tmp_path_factory: pytest.TempPathFactory):
    """The `local` stage with a `vpc` the stack creates: its functions in isolated subnets
    with the endpoints they call, its jobs given the same subnets. One synthesis per session,
    shared by the template tests and the offline runs."""
    from bedrock_customize.offline import engine as offline

    return offline.synthesize(tmp_path_factory.mktemp("cdk.out.private"), stage="local", overrides={"vpc": {}})
