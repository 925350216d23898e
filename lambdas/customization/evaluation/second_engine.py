"""Start Evaluation Job and Check Evaluation Job: the second evaluation engine, off by default.
Bedrock's own automated evaluation job runs on the base model and the custom model's
provisioned throughput over the same test prompts. It runs while the deployment exists, so
the run waits for it before the report and Tear Down; its outcome and output location are
added to the report."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from customization.evaluation.plan import SHARDS, read_shard
from customization.models.steps import DeploymentState, EvaluationJobState, RunContext
from customization.vocabulary import EVALUATION_DIR, ResourceKind

if TYPE_CHECKING:
    from customization.adapters.bedrock import BedrockControl
    from customization.adapters.ledger import RunLedger
    from customization.adapters.storage import ObjectStore

FINISHED = {"Completed", "Failed", "Stopped"}
MAX_PROMPTS = 1000  # Bedrock's limit for a custom prompt dataset


def prompt_dataset(run: RunContext, store: ObjectStore) -> bytes:
    """The shards' samples as Bedrock's prompt dataset: one {prompt, referenceResponse} per line."""
    lines: list[str] = []
    for uri in store.list_keys(run.uri(SHARDS)):
        for sample in read_shard(store.read_text(uri)):
            if len(lines) < MAX_PROMPTS:
                prompt = "\n\n".join(b["text"] for m in sample.messages for b in m["content"] if "text" in b)
                lines.append(json.dumps({"prompt": prompt, "referenceResponse": sample.reference}))
    return ("\n".join(lines) + "\n").encode()


def start_evaluation_job(
    run: RunContext, deployment: DeploymentState, *, role_arn: str, bedrock: BedrockControl, ledger: RunLedger,
    store: ObjectStore,
) -> EvaluationJobState:
    if not run.evaluation.bedrock_evaluation_job:
        return EvaluationJobState(requested=False, done=True, status="NotRequested")
    dataset_uri = run.uri(f"{EVALUATION_DIR}bedrock-evaluation/dataset.jsonl")
    output_uri = run.uri(f"{EVALUATION_DIR}bedrock-evaluation/output/")
    store.put_bytes(dataset_uri, prompt_dataset(run, store), "application/jsonl")
    name = run.names.evaluation_job_name
    ledger.intend(run.execution_name, ResourceKind.EVALUATION_JOB, name)
    arn = bedrock.create_evaluation_job(
        name=name, role_arn=role_arn, task_type=run.evaluation.bedrock_task_type, dataset_uri=dataset_uri,
        model_ids=[run.base_model_invocation_id, deployment.arn or ""], output_uri=output_uri,
        token=run.names.evaluation_job_token, tags=run.tags(),
    )
    ledger.mark(run.execution_name, ResourceKind.EVALUATION_JOB, name, "created", arn)
    return EvaluationJobState(requested=True, done=False, status="InProgress", arn=arn, name=name, output_uri=output_uri)


def check_evaluation_job(
    run: RunContext, job: EvaluationJobState, *, bedrock: BedrockControl, ledger: RunLedger
) -> EvaluationJobState:
    if not job.requested or not job.arn:
        return job
    status = bedrock.get_evaluation_job(job.arn)
    done = status.status in FINISHED
    if done:
        ledger.mark(run.execution_name, ResourceKind.EVALUATION_JOB, job.name or "", "finished", job.arn)
    return job.model_copy(update={"status": status.status, "done": done, "failure_messages": status.failure_messages})
