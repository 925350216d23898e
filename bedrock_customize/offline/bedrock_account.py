"""The simulated account: its quotas and usage, and the foundation models it may use."""

from __future__ import annotations

from typing import Any

from bedrock_customize.offline.bedrock_state import (
    QUOTAS,
    BedrockState,
    ServiceError,
)
from customization.vocabulary import ResourceKind


class Account(BedrockState):
    # -- account quotas and usage ------------------------------------------------------------

    def _op_list_service_quotas(self, p: dict[str, Any]) -> dict[str, Any]:
        if self.faults.quotas_denied:
            raise ServiceError("AccessDeniedException", "not authorized to perform servicequotas:ListServiceQuotas (SIMULATED)", 403)
        if p["ServiceCode"] != "bedrock":
            raise ServiceError("NoSuchResourceException", f"no service {p['ServiceCode']} in the simulation", 404)
        values = {**QUOTAS, **self.faults.quota_values}
        return {"Quotas": [
            {"ServiceCode": "bedrock", "ServiceName": "Amazon Bedrock", "QuotaName": name, "Value": value,
             "QuotaCode": f"L-{index:08X}", "QuotaArn": f"arn:aws:servicequotas:{self.region}:{self.account}:bedrock/L-{index:08X}",
             "Unit": "None", "Adjustable": True, "GlobalQuota": False}
            for index, (name, value) in enumerate(values.items())
        ]}

    def _op_list_model_customization_jobs(self, p: dict[str, Any]) -> dict[str, Any]:
        jobs = [r for r in self.existing(ResourceKind.CUSTOMIZATION_JOB) if p.get("statusEquals") in (None, r.status)]
        return {"modelCustomizationJobSummaries": [
            {"jobArn": r.arn, "jobName": r.name, "status": r.status, "creationTime": r.created,
             "baseModelArn": f"arn:aws:bedrock:{self.region}::foundation-model/x"}
            for r in jobs
        ]}

    def _op_list_custom_models(self, p: dict[str, Any]) -> dict[str, Any]:
        return {"modelSummaries": [
            {"modelArn": r.arn, "modelName": r.name, "creationTime": r.created,
             "baseModelArn": f"arn:aws:bedrock:{self.region}::foundation-model/x", "baseModelName": "x"}
            for r in self.existing(ResourceKind.CUSTOM_MODEL)
        ]}

    # -- foundation models ---------------------------------------------------------------

    def _op_get_foundation_model(self, p: dict[str, Any]) -> dict[str, Any]:
        try:
            model = self._base_model(p["modelIdentifier"], customization=True)
        except ServiceError:
            raise ServiceError("ResourceNotFoundException", f"model {p['modelIdentifier']} not found", 404) from None
        if self.region not in model.regions:
            raise ServiceError("ResourceNotFoundException", f"{model.model_id} is not offered in {self.region}", 404)
        return {"modelDetails": {
            "modelArn": f"arn:aws:bedrock:{self.region}::foundation-model/{model.model_id}",
            "modelId": model.model_id, "modelName": model.display_name, "providerName": model.display_name.split()[0],
            "inputModalities": ["TEXT"], "outputModalities": ["TEXT"],
            "customizationsSupported": list(model.customizations), "inferenceTypesSupported": ["PROVISIONED"],
            "modelLifecycle": {"status": "ACTIVE"},
        }}

    def _op_get_foundation_model_availability(self, p: dict[str, Any]) -> dict[str, Any]:
        model_id = p["modelId"]
        offered = any(m.model_id.rsplit(":", 1)[0] == model_id for m in self.registry.models)
        if not offered:
            raise ServiceError("ResourceNotFoundException", f"model {model_id} not found", 404)
        granted = "NOT_AVAILABLE" if self.faults.model_access_missing else "AVAILABLE"
        return {"modelId": model_id, "agreementAvailability": {"status": "AVAILABLE"}, "authorizationStatus": "AUTHORIZED",
                "entitlementAvailability": granted, "regionAvailability": "AVAILABLE"}
