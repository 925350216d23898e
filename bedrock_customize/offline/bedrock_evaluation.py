"""The simulated Bedrock's own evaluation jobs."""

from __future__ import annotations

import copy
import json
from typing import Any

from bedrock_customize.offline import clients
from bedrock_customize.offline.bedrock_state import (
    PREFIX,
    BedrockState,
    Resource,
    new_id,
    now_iso,
    split_s3_uri,
    tag_map,
)
from customization.vocabulary import ResourceKind


class EvaluationJobs(BedrockState):
    # -- evaluation jobs -----------------------------------------------------------------

    def _op_create_evaluation_job(self, p: dict[str, Any]) -> dict[str, Any]:
        config = p["evaluationConfig"]["automated"]["datasetMetricConfigs"][0]
        self._require_object(config["dataset"]["datasetLocation"]["s3Uri"])
        for model in p["inferenceConfig"]["models"]:
            identifier = model["bedrockModel"]["modelIdentifier"]
            if ":provisioned-model/" in identifier:
                self._find(ResourceKind.PROVISIONED_THROUGHPUT, identifier)
            else:
                self._base_model(identifier, customization=False)

        def create() -> str:
            job = self._add(Resource(kind=ResourceKind.EVALUATION_JOB, name=p["jobName"], arn=self._arn(f"evaluation-job/{new_id()}"),
                                      status="InProgress", attributes={"request": copy.deepcopy(p), "tags": tag_map(p.get("jobTags"))}))
            self.log(f"{PREFIX} evaluation job {job.name} started ({config['taskType']}, {len(p['inferenceConfig']['models'])} models)")
            return job.arn

        return {"jobArn": self._idempotent(ResourceKind.EVALUATION_JOB, p.get("clientRequestToken"), create)}

    def _op_get_evaluation_job(self, p: dict[str, Any]) -> dict[str, Any]:
        job = self._find(ResourceKind.EVALUATION_JOB, p["jobIdentifier"])
        if job.status == "InProgress":
            job.polls += 1
            if job.polls > self.job_polls:
                job.status = "Completed"
                request = job.attributes["request"]
                bucket, prefix = split_s3_uri(request["outputDataConfig"]["s3Uri"].rstrip("/") + "/")
                clients.client("s3", self.region).put_object(
                    Bucket=bucket, Key=f"{prefix}{job.name}/output.jsonl",
                    Body=json.dumps({"note": "SIMULATED evaluation job output", "metrics": ["Builtin.Accuracy"]}).encode(),
                )
                self.log(f"{PREFIX} evaluation job {job.name} completed")
        request = job.attributes["request"]
        return {"jobName": job.name, "status": job.status, "jobArn": job.arn, "roleArn": request["roleArn"],
                "jobType": "Automated", "applicationType": "ModelEvaluation",
                "evaluationConfig": request["evaluationConfig"], "inferenceConfig": request["inferenceConfig"],
                "outputDataConfig": request["outputDataConfig"], "creationTime": job.created, "lastModifiedTime": now_iso()}

    def _op_stop_evaluation_job(self, p: dict[str, Any]) -> dict[str, Any]:
        job = self._find(ResourceKind.EVALUATION_JOB, p["jobIdentifier"])
        job.status = "Stopped"
        self._record("stopped", job)
        self.log(f"{PREFIX} evaluation job {job.name} stopped")
        return {}
