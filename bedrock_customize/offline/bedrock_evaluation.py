"""The simulated Bedrock's own evaluation jobs."""

from __future__ import annotations

import copy
import json
import re
from typing import Any

from bedrock_customize.offline import clients
from bedrock_customize.offline.bedrock_answers import base_answer, custom_answer, source_text
from bedrock_customize.offline.bedrock_state import (
    PREFIX,
    BedrockState,
    Resource,
    new_id,
    now_iso,
    split_s3_uri,
    tag_map,
    words_of,
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
                self._write_results(job)
                self.log(f"{PREFIX} evaluation job {job.name} completed (SIMULATED scores)")
        request = job.attributes["request"]
        return {"jobName": job.name, "status": job.status, "jobArn": job.arn, "roleArn": request["roleArn"],
                "jobType": "Automated", "applicationType": "ModelEvaluation",
                "evaluationConfig": request["evaluationConfig"], "inferenceConfig": request["inferenceConfig"],
                "outputDataConfig": request["outputDataConfig"], "creationTime": job.created, "lastModifiedTime": now_iso()}

    def _write_results(self, job: Resource) -> None:
        """The user guide's layout of an automatic job's results: per model, per task type, per
        dataset, one line per prompt with automatedEvaluationResult.scores for each metric
        asked, the input record and the model's response. The scores are SIMULATED: accuracy is
        the answer's word overlap (F1) with the reference, robustness and toxicity near zero."""
        request = job.attributes["request"]
        config = request["evaluationConfig"]["automated"]["datasetMetricConfigs"][0]
        s3 = clients.client("s3", self.region)
        dataset_bucket, dataset_key = split_s3_uri(config["dataset"]["datasetLocation"]["s3Uri"])
        records = [json.loads(line) for line in s3.get_object(Bucket=dataset_bucket, Key=dataset_key)["Body"].read().splitlines()
                   if line.strip()]
        bucket, prefix = split_s3_uri(request["outputDataConfig"]["s3Uri"].rstrip("/") + "/")
        run_id = new_id()
        for model in request["inferenceConfig"]["models"]:
            identifier = model["bedrockModel"]["modelIdentifier"]
            serving = self._find(ResourceKind.PROVISIONED_THROUGHPUT, identifier) if ":provisioned-model/" in identifier else None
            lines = []
            for record in records:
                source = source_text({"messages": [{"role": "user", "content": [{"text": record["prompt"]}]}]})
                profile = serving.attributes["model"].attributes["profile"] if serving else None
                answer = custom_answer(source, profile) if profile and not profile.get("verbose") else base_answer(source)
                scores = {"Builtin.Accuracy": _overlap(answer, record.get("referenceResponse", "")), "Builtin.Robustness": 0.02,
                          "Builtin.Toxicity": 0.001}
                lines.append(json.dumps({
                    "automatedEvaluationResult": {"scores": [
                        {"metricName": name.removeprefix("Builtin."), "result": round(scores.get(name, 0.0), 4)}
                        for name in config["metricNames"]]},
                    "inputRecord": record, "modelResponses": [{"response": answer, "modelIdentifier": identifier}],
                }))
            folder = re.sub(r"[^A-Za-z0-9.-]", "-", identifier.rsplit("/", 1)[-1])
            key = (f"{prefix}{job.name}/{run_id}/models/{folder}/taskTypes/{config['taskType']}/datasets/"
                   f"{config['dataset']['name']}/{new_id()}_output.jsonl")
            s3.put_object(Bucket=bucket, Key=key, Body=("\n".join(lines) + "\n").encode())

    def _op_stop_evaluation_job(self, p: dict[str, Any]) -> dict[str, Any]:
        job = self._find(ResourceKind.EVALUATION_JOB, p["jobIdentifier"])
        job.status = "Stopped"
        self._record("stopped", job)
        self.log(f"{PREFIX} evaluation job {job.name} stopped")
        return {}


def _overlap(answer: str, reference: str) -> float:
    """Word-overlap F1 of an answer with its reference."""
    ours, theirs = words_of(answer), words_of(reference)
    common = sum(min(ours.count(w), theirs.count(w)) for w in set(ours))
    if not common:
        return 0.0
    precision, recall = common / len(ours), common / len(theirs)
    return 2 * precision * recall / (precision + recall)
