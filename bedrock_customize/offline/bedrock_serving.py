"""The simulated Bedrock's provisioned throughputs and custom model deployments."""

from __future__ import annotations

from typing import Any

from bedrock_customize.offline.bedrock_state import (
    PREFIX,
    BedrockState,
    Resource,
    ServiceError,
    new_id,
    now_iso,
    tag_map,
)
from customization.vocabulary import ResourceKind


class Serving(BedrockState):
    # -- provisioned throughput and deployments ------------------------------------------

    def _create_serving(
        self, kind: str, name: str, model_identifier: str, token: str | None, tags: Any, units: int = 0
    ) -> str:
        model = self._find(ResourceKind.CUSTOM_MODEL, model_identifier)
        if kind == ResourceKind.CUSTOM_MODEL_DEPLOYMENT and not model.attributes["model"].on_demand_deployment:
            raise ServiceError("ValidationException", f"{model.attributes['model'].model_id} does not support on-demand deployment")

        def create() -> str:
            if any(r.kind == kind and r.name == name for r in self.resources.values()):
                raise ServiceError("ConflictException", f"a {kind} named {name} already exists")
            resource_type = "provisioned-model" if kind == ResourceKind.PROVISIONED_THROUGHPUT else "custom-model-deployment"
            resource = self._add(
                Resource(kind=kind, name=name, arn=self._arn(f"{resource_type}/{new_id()}"), status="Creating",
                          attributes={"model": model, "units": units, "tags": tag_map(tags)})
            )
            what = f"{units} model unit(s), billed hourly" if units else "billed per token"
            self.log(f"{PREFIX} {kind.replace('_', ' ')} {name} creating ({what})")
            return resource.arn

        return self._idempotent(kind, token, create)

    def _advance_serving(self, resource: Resource, ready: str) -> None:
        if resource.status != "Creating":
            return
        resource.polls += 1
        if resource.polls <= self.deployment_polls:
            return
        if self.faults.deployment_failure_message:
            resource.status = "Failed"
            resource.attributes["failureMessage"] = self.faults.deployment_failure_message
        else:
            resource.status = ready
        self.log(f"{PREFIX} {resource.kind.replace('_', ' ')} {resource.name} is {resource.status}")

    def _op_create_provisioned_model_throughput(self, p: dict[str, Any]) -> dict[str, Any]:
        if "commitmentDuration" in p:
            raise ServiceError("ValidationException", "the offline simulation refuses committed throughput: it cannot be deleted early")
        arn = self._create_serving(ResourceKind.PROVISIONED_THROUGHPUT, p["provisionedModelName"], p["modelId"],
                                   p.get("clientRequestToken"), p.get("tags"), units=p["modelUnits"])
        return {"provisionedModelArn": arn}

    def _op_get_provisioned_model_throughput(self, p: dict[str, Any]) -> dict[str, Any]:
        pt = self._find(ResourceKind.PROVISIONED_THROUGHPUT, p["provisionedModelId"])
        self._advance_serving(pt, "InService")
        body = {"modelUnits": pt.attributes["units"], "desiredModelUnits": pt.attributes["units"],
                "provisionedModelName": pt.name, "provisionedModelArn": pt.arn, "modelArn": pt.attributes["model"].arn,
                "desiredModelArn": pt.attributes["model"].arn,
                "foundationModelArn": f"arn:aws:bedrock:{self.region}::foundation-model/{pt.attributes['model'].attributes['model'].model_id}",
                "status": pt.status, "creationTime": pt.created, "lastModifiedTime": now_iso()}
        if "failureMessage" in pt.attributes:
            body["failureMessage"] = pt.attributes["failureMessage"]
        return body

    def _op_delete_provisioned_model_throughput(self, p: dict[str, Any]) -> dict[str, Any]:
        pt = self._find(ResourceKind.PROVISIONED_THROUGHPUT, p["provisionedModelId"])
        self._remove(pt)
        self.log(f"{PREFIX} provisioned throughput {pt.name} deleted")
        return {}

    def _op_create_custom_model_deployment(self, p: dict[str, Any]) -> dict[str, Any]:
        arn = self._create_serving(
            ResourceKind.CUSTOM_MODEL_DEPLOYMENT, p["modelDeploymentName"], p["modelArn"], p.get("clientRequestToken"), p.get("tags")
        )
        return {"customModelDeploymentArn": arn}

    def _op_get_custom_model_deployment(self, p: dict[str, Any]) -> dict[str, Any]:
        deployment = self._find(ResourceKind.CUSTOM_MODEL_DEPLOYMENT, p["customModelDeploymentIdentifier"])
        self._advance_serving(deployment, "Active")
        body = {"customModelDeploymentArn": deployment.arn, "modelDeploymentName": deployment.name,
                "modelArn": deployment.attributes["model"].arn, "createdAt": deployment.created, "status": deployment.status}
        if "failureMessage" in deployment.attributes:
            body["failureMessage"] = deployment.attributes["failureMessage"]
        return body

    def _op_delete_custom_model_deployment(self, p: dict[str, Any]) -> dict[str, Any]:
        deployment = self._find(ResourceKind.CUSTOM_MODEL_DEPLOYMENT, p["customModelDeploymentIdentifier"])
        self._remove(deployment)
        self.log(f"{PREFIX} custom model deployment {deployment.name} deleted")
        return {}

    def _op_list_provisioned_model_throughputs(self, p: dict[str, Any]) -> dict[str, Any]:
        return {"provisionedModelSummaries": [
            {"provisionedModelName": r.name, "provisionedModelArn": r.arn, "modelArn": r.attributes["model"].arn,
             "desiredModelArn": r.attributes["model"].arn, "foundationModelArn": "arn:aws:bedrock:::foundation-model/x",
             "modelUnits": r.attributes["units"], "desiredModelUnits": r.attributes["units"], "status": r.status,
             "creationTime": r.created, "lastModifiedTime": r.created}
            for r in self.existing(ResourceKind.PROVISIONED_THROUGHPUT)
        ]}

    def _op_list_custom_model_deployments(self, p: dict[str, Any]) -> dict[str, Any]:
        return {"modelDeploymentSummaries": [
            {"customModelDeploymentArn": r.arn, "customModelDeploymentName": r.name, "modelArn": r.attributes["model"].arn,
             "createdAt": r.created, "status": r.status}
            for r in self.existing(ResourceKind.CUSTOM_MODEL_DEPLOYMENT)
        ]}

    def _op_list_tags_for_resource(self, p: dict[str, Any]) -> dict[str, Any]:
        resource = self.resources.get(p["resourceARN"])
        if resource is None:
            raise ServiceError("ResourceNotFoundException", f"{p['resourceARN']} not found", 404)
        return {"tags": [{"key": k, "value": v} for k, v in resource.attributes.get("tags", {}).items()]}

    def add_untracked(self, kind: str, name: str, tags: dict[str, str]) -> str:
        """A deployment (or job) created outside any run (janitor and notice tests): no ledger
        entry, given tags."""
        with self._lock:
            resource_type = {ResourceKind.PROVISIONED_THROUGHPUT: "provisioned-model",
                             ResourceKind.CUSTOMIZATION_JOB: f"model-customization-job/{self.registry.models[0].model_id}",
                             }.get(kind, "custom-model-deployment")
            model = Resource(kind=ResourceKind.CUSTOM_MODEL, name=f"{name}-model", arn=self._arn(f"custom-model/x/{new_id()}"),
                              status="Active", attributes={"model": self.registry.models[0]})
            resource = self._add(Resource(kind=kind, name=name, arn=self._arn(f"{resource_type}/{new_id()}"),
                                           status="InService", attributes={"model": model, "units": 1, "tags": tags}))
            return resource.arn
