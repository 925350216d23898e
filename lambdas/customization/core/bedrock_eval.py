"""The second evaluation engine, off by default: Bedrock's own automated evaluation job on
the base model and the custom model's provisioned throughput, over the same test prompts.
It runs while the deployment exists, so the run waits for it before the report and Tear
Down; its outcome and output location are added to the report."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from customization.core.prepare import run_tags
from customization.models.steps import DeploymentState, EvaluationJobState, RunContext

if TYPE_CHECKING:
    from customization.adapters.bedrock import BedrockControl
    from customization.adapters.ledger import RunLedger
    from customization.adapters.storage import ObjectStore

KIND = "evaluation_job"
FINISHED = {"Completed", "Failed", "Stopped"}
MAX_PROMPTS = 1000  # Bedrock's limit for a custom prompt dataset


def start_evaluation_job(
    run: RunContext, deployment: DeploymentState, *, role_arn: str, bedrock: BedrockControl, ledger: RunLedger,
    store: ObjectStore,
) -> EvaluationJobState:
    if not run.evaluation.bedrock_evaluation_job:
        return EvaluationJobState(requested=False, done=True, status="NotRequested")
    prefix = f"s3://{run.bucket}/{run.prefix}evaluation/"
    lines = []
    for uri in store.list_keys(f"{prefix}shards/"):
        for line in store.read_text(uri).splitlines():
            if line.strip() and len(lines) < MAX_PROMPTS:
                sample = json.loads(line)
                prompt = "\n\n".join(b["text"] for m in sample["messages"] for b in m["content"] if "text" in b)
                lines.append(json.dumps({"prompt": prompt, "referenceResponse": sample["reference"]}))
    dataset_uri = f"{prefix}bedrock-evaluation/dataset.jsonl"
    store.put_bytes(dataset_uri, ("\n".join(lines) + "\n").encode(), "application/jsonl")
    name = run.names.evaluation_job_name
    ledger.intend(run.execution_name, KIND, name)
    arn = bedrock.create_evaluation_job(
        name=name, role_arn=role_arn, task_type=run.evaluation.bedrock_task_type, dataset_uri=dataset_uri,
        model_ids=[run.base_model_invocation_id, deployment.arn or ""], output_uri=f"{prefix}bedrock-evaluation/output/",
        token=run.names.evaluation_job_token, tags=run_tags(run),
    )
    ledger.mark(run.execution_name, KIND, name, "created", arn)
    return EvaluationJobState(requested=True, done=False, status="InProgress", arn=arn, name=name,
                              output_uri=f"{prefix}bedrock-evaluation/output/")


def check_evaluation_job(
    run: RunContext, job: EvaluationJobState, *, bedrock: BedrockControl, ledger: RunLedger
) -> EvaluationJobState:
    if not job.requested or not job.arn:
        return job
    status = bedrock.get_evaluation_job(job.arn)
    done = status["status"] in FINISHED
    if done:
        ledger.mark(run.execution_name, KIND, job.name or "", "finished", job.arn)
    return job.model_copy(update={"status": status["status"], "done": done, "failure_messages": status["failure_messages"]})
