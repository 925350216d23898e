"""IAM: the trust policy of the service role Bedrock assumes for jobs."""

from __future__ import annotations

from typing import Any

from customization.adapters.errors import aws_errors
from customization.errors import AwsAccessDeniedError, ResourceNotFoundError


class ServiceRoles:
    def __init__(self, client: Any) -> None:
        self._client = client

    def trust_policy(self, role_arn: str) -> dict[str, Any] | None:
        """The role's trust policy; {} when the role does not exist; None when this role may not read it."""
        name = role_arn.rsplit("/", 1)[-1]
        try:
            with aws_errors(f"read role {name}"):
                document = self._client.get_role(RoleName=name)["Role"]["AssumeRolePolicyDocument"]
        except ResourceNotFoundError:
            return {}
        except AwsAccessDeniedError:
            return None
        return dict(document)
