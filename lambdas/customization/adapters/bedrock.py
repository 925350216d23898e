"""Bedrock control plane: customization jobs, custom models, provisioned throughput and
on-demand custom model deployments."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from customization.adapters.errors import aws_errors
from customization.errors import AwsAccessDeniedError, ResourceNotFoundError
from customization.models.resources import DeploymentStatus, EvaluationJobStatus, JobRequest, JobStatus, ServingSummary
from customization.vocabulary import ResourceKind


def _tag_list(tags: dict[str, str]) -> list[dict[str, str]]:
    return [{"key": k, "value": v} for k, v in sorted(tags.items())]


class FoundationModels:
    """What Bedrock says about a base model in this account and region (pre-flight)."""

    def __init__(self, client: Any) -> None:
        self._client = client

    def describe(self, model_id: str) -> dict[str, Any] | None:
        try:
            with aws_errors(f"get foundation model {model_id}"):
                return dict(self._client.get_foundation_model(modelIdentifier=model_id)["modelDetails"])
        except ResourceNotFoundError:
            return None

    def availability(self, model_id: str) -> dict[str, Any] | None:
        """Whether this account may use the model (access granted, agreement accepted); None
        when the role may not ask, so the check is reported as skipped."""
        try:
            with aws_errors(f"get the availability of {model_id}"):
                answer = self._client.get_foundation_model_availability(modelId=model_id)
        except AwsAccessDeniedError:
            return None
        return {key: answer.get(key) for key in
                ("agreementAvailability", "authorizationStatus", "entitlementAvailability", "regionAvailability")}


class BedrockControl:
    def __init__(self, client: Any) -> None:
        self._client = client

    def create_job(self, request: JobRequest) -> str:
        params: dict[str, Any] = {
            "jobName": request.job_name,
            "customModelName": request.custom_model_name,
            "roleArn": request.role_arn,
            "clientRequestToken": request.token,
            "baseModelIdentifier": request.base_model_id,
            "customizationType": request.customization_type,
            "trainingDataConfig": {"invocationLogsConfig": request.invocation_logs} if request.invocation_logs
            else {"s3Uri": request.training_uri},
            "outputDataConfig": {"s3Uri": request.output_uri},
            "jobTags": _tag_list(request.tags),
            "customModelTags": _tag_list(request.tags),
        }
        if request.hyperparameters:  # none for distillation and reinforcement fine-tuning
            params["hyperParameters"] = request.hyperparameters
        if request.custom_model_key:
            params["customModelKmsKeyId"] = request.custom_model_key
        if request.network:
            params["vpcConfig"] = {"subnetIds": list(request.network.subnet_ids),
                                   "securityGroupIds": list(request.network.security_group_ids)}
        if request.validation_uri:
            params["validationDataConfig"] = {"validators": [{"s3Uri": request.validation_uri}]}
        if request.teacher_id:
            teacher: dict[str, Any] = {"teacherModelIdentifier": request.teacher_id}
            if request.teacher_max_response_length:
                teacher["maxResponseLengthForInference"] = request.teacher_max_response_length
            params["customizationConfig"] = {"distillationConfig": {"teacherModelConfig": teacher}}
        if request.grader_arn:
            params["customizationConfig"] = {"rftConfig": {
                "graderConfig": {"lambdaGrader": {"lambdaArn": request.grader_arn}},
                "hyperParameters": request.rft_hyperparameters or {},
            }}
        with aws_errors(f"create customization job {request.job_name}"):
            return str(self._client.create_model_customization_job(**params)["jobArn"])

    def get_job(self, job_identifier: str) -> JobStatus:
        with aws_errors(f"get customization job {job_identifier}"):
            job = self._client.get_model_customization_job(jobIdentifier=job_identifier)
        return JobStatus(
            job_arn=job["jobArn"],
            status=job["status"],
            failure_message=job.get("failureMessage"),
            custom_model_arn=job.get("outputModelArn"),
            created=job.get("creationTime"),
        )

    def stop_job(self, job_identifier: str) -> None:
        with aws_errors(f"stop customization job {job_identifier}"):
            self._client.stop_model_customization_job(jobIdentifier=job_identifier)

    def delete_custom_model(self, model_identifier: str) -> None:
        with aws_errors(f"delete custom model {model_identifier}"):
            self._client.delete_custom_model(modelIdentifier=model_identifier)

    def create_provisioned_throughput(
        self, *, name: str, model_arn: str, model_units: int, token: str, tags: dict[str, str]
    ) -> str:
        # No commitmentDuration: a no-commitment throughput, the only kind that can be deleted at once.
        with aws_errors(f"create provisioned throughput {name}"):
            response = self._client.create_provisioned_model_throughput(
                provisionedModelName=name,
                modelId=model_arn,
                modelUnits=model_units,
                clientRequestToken=token,
                tags=_tag_list(tags),
            )
        return str(response["provisionedModelArn"])

    def get_provisioned_throughput(self, identifier: str) -> DeploymentStatus:
        with aws_errors(f"get provisioned throughput {identifier}"):
            pt = self._client.get_provisioned_model_throughput(provisionedModelId=identifier)
        return DeploymentStatus(pt["provisionedModelArn"], pt["status"], pt.get("failureMessage"), pt.get("creationTime"))

    def delete_provisioned_throughput(self, identifier: str) -> None:
        with aws_errors(f"delete provisioned throughput {identifier}"):
            self._client.delete_provisioned_model_throughput(provisionedModelId=identifier)

    def create_deployment(self, *, name: str, model_arn: str, token: str, tags: dict[str, str]) -> str:
        with aws_errors(f"create custom model deployment {name}"):
            response = self._client.create_custom_model_deployment(
                modelDeploymentName=name,
                modelArn=model_arn,
                clientRequestToken=token,
                tags=_tag_list(tags),
            )
        return str(response["customModelDeploymentArn"])

    def get_deployment(self, identifier: str) -> DeploymentStatus:
        with aws_errors(f"get custom model deployment {identifier}"):
            deployment = self._client.get_custom_model_deployment(customModelDeploymentIdentifier=identifier)
        return DeploymentStatus(
            deployment["customModelDeploymentArn"], deployment["status"], deployment.get("failureMessage"),
            deployment.get("createdAt"),
        )

    def delete_deployment(self, identifier: str) -> None:
        with aws_errors(f"delete custom model deployment {identifier}"):
            self._client.delete_custom_model_deployment(customModelDeploymentIdentifier=identifier)

    def list_serving(self) -> Iterator[ServingSummary]:
        """Every provisioned throughput and custom model deployment of the account and region."""
        with aws_errors("list provisioned throughputs"):
            for page in self._client.get_paginator("list_provisioned_model_throughputs").paginate():
                for pt in page.get("provisionedModelSummaries", []):
                    yield ServingSummary(
                        ResourceKind.PROVISIONED_THROUGHPUT, pt["provisionedModelArn"], pt["provisionedModelName"], pt["status"],
                        pt.get("creationTime"),
                    )
        with aws_errors("list custom model deployments"):
            for page in self._client.get_paginator("list_custom_model_deployments").paginate():
                for deployment in page.get("modelDeploymentSummaries", []):
                    yield ServingSummary(
                        ResourceKind.CUSTOM_MODEL_DEPLOYMENT, deployment["customModelDeploymentArn"],
                        deployment["customModelDeploymentName"], deployment["status"], deployment.get("createdAt"),
                    )

    def tags(self, arn: str) -> dict[str, str]:
        with aws_errors(f"list tags of {arn}"):
            response = self._client.list_tags_for_resource(resourceARN=arn)
        return {tag["key"]: tag["value"] for tag in response.get("tags", [])}

    def create_evaluation_job(
        self, *, name: str, role_arn: str, task_type: str, dataset_uri: str, model_ids: list[str], output_uri: str,
        token: str, tags: dict[str, str],
    ) -> str:
        with aws_errors(f"create evaluation job {name}"):
            response = self._client.create_evaluation_job(
                jobName=name,
                roleArn=role_arn,
                clientRequestToken=token,
                applicationType="ModelEvaluation",
                evaluationConfig={"automated": {"datasetMetricConfigs": [{
                    "taskType": task_type,
                    "dataset": {"name": "held-out-test", "datasetLocation": {"s3Uri": dataset_uri}},
                    "metricNames": ["Builtin.Accuracy", "Builtin.Robustness", "Builtin.Toxicity"],
                }]}},
                inferenceConfig={"models": [{"bedrockModel": {"modelIdentifier": m}} for m in model_ids]},
                outputDataConfig={"s3Uri": output_uri},
                jobTags=_tag_list(tags),
            )
        return str(response["jobArn"])

    def get_evaluation_job(self, identifier: str) -> EvaluationJobStatus:
        with aws_errors(f"get evaluation job {identifier}"):
            job = self._client.get_evaluation_job(jobIdentifier=identifier)
        return EvaluationJobStatus(job["jobArn"], job["status"], list(job.get("failureMessages", [])))

    def stop_evaluation_job(self, identifier: str) -> None:
        with aws_errors(f"stop evaluation job {identifier}"):
            self._client.stop_evaluation_job(jobIdentifier=identifier)
