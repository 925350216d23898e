"""Service Quotas and Bedrock's list calls: the account's quotas and what is in use."""

from __future__ import annotations

from typing import Any

from customization.adapters.errors import aws_errors
from customization.errors import AwsAccessDeniedError, ResourceNotFoundError
from customization.models.resources import Usage

LIVE_THROUGHPUT = ("Creating", "InService", "Updating")


class AccountQuotas:
    def __init__(self, quotas_client: Any, bedrock_client: Any) -> None:
        self._quotas, self._bedrock = quotas_client, bedrock_client

    def bedrock_quotas(self) -> dict[str, float] | None:
        """Applied quota values by name; None when Service Quotas cannot answer (not enabled,
        or the role may not read it): the check is then skipped and said to be."""
        try:
            with aws_errors("list the Bedrock service quotas"):
                pages = self._quotas.get_paginator("list_service_quotas").paginate(ServiceCode="bedrock")
                return {quota["QuotaName"]: float(quota["Value"]) for page in pages for quota in page["Quotas"]}
        except (AwsAccessDeniedError, ResourceNotFoundError):
            return None

    def _count(self, operation: str, key: str, **params: Any) -> list[dict[str, Any]]:
        with aws_errors(f"{operation.replace('_', ' ')}"):
            return [item for page in self._bedrock.get_paginator(operation).paginate(**params) for item in page[key]]

    def usage(self) -> Usage:
        throughputs = self._count("list_provisioned_model_throughputs", "provisionedModelSummaries")
        return Usage(
            customization_jobs_in_progress=len(
                self._count("list_model_customization_jobs", "modelCustomizationJobSummaries", statusEquals="InProgress")
            ),
            custom_models=len(self._count("list_custom_models", "modelSummaries")),
            no_commitment_custom_model_units=sum(
                int(t.get("modelUnits", 0)) for t in throughputs
                if t.get("status") in LIVE_THROUGHPUT and not t.get("commitmentDuration") and ":custom-model/" in t.get("modelArn", "")
            ),
        )
