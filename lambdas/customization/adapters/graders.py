"""Reinforcement graders: Lambda functions invoked with a batch of samples, as Bedrock invokes
them. The answer is returned as it came (a list of scores, or Lambda's error payload) for
`grading.contract.read_scores` to judge."""

from __future__ import annotations

import json
from typing import Any

from botocore.exceptions import ReadTimeoutError

from customization.adapters.errors import aws_errors
from customization.errors import GraderFailedError


class Graders:
    def __init__(self, client: Any, timeout_seconds: int) -> None:
        self._client, self.timeout_seconds = client, timeout_seconds

    def grade(self, function_arn: str, samples: list[dict[str, Any]]) -> Any:
        try:
            with aws_errors(f"invoke the grader {function_arn}"):
                response = self._client.invoke(FunctionName=function_arn, Payload=json.dumps(samples).encode())
        except ReadTimeoutError:
            raise GraderFailedError(f"the grader {function_arn} did not answer {len(samples)} samples within "
                                    f"{self.timeout_seconds} s") from None
        body = response["Payload"].read()
        try:
            return json.loads(body) if body else None
        except ValueError:
            return {"errorType": "InvalidJSON", "errorMessage": f"the answer is not JSON: {body[:200]!r}"}
