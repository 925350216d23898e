"""Start Evaluation Job and Check Evaluation Job: the second evaluation engine, off by default.
Bedrock's own automated evaluation job runs on the base model and the custom model's
provisioned throughput over the same test prompts. It runs while the deployment exists, so
the run waits for it before the report and Tear Down; its outcome and output location are
added to the report."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Literal

from customization.evaluation.contracts import BedrockMetric
from customization.evaluation.plan import SHARDS, read_shard
from customization.evaluation.statistics import bootstrap_interval, mean_score
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


# Bedrock's built-in metrics: their scale and which way is better (user guide, "Review metrics
# for an automated model evaluation job").
BUILT_IN_METRICS: dict[str, tuple[str, Literal["higher", "lower"]]] = {
    "Accuracy": ("0 to 1 (the task's accuracy measure: real-world knowledge, BERTScore or F1)", "higher"),
    "Robustness": ("0 to 1 (how much small perturbations of the prompt change the answer)", "lower"),
    "Toxicity": ("0 to 1 (the answer's toxicity)", "lower"),
}


def job_metrics(output_uri: str, *, base_model: str, custom_model: str, store: ObjectStore) -> list[BedrockMetric]:
    """The job's per-prompt scores, read from its output files, as both models' means with the
    paired interval, over the prompts both models were scored on."""
    scores: dict[str, dict[str, dict[str, float]]] = {}  # model -> metric -> prompt -> score
    for uri in store.list_keys(output_uri):
        if not uri.endswith("_output.jsonl"):
            continue
        for line in store.iter_lines(uri):
            if not line.strip():
                continue
            result = json.loads(line)
            prompt = json.dumps(result.get("inputRecord", {}), sort_keys=True)
            for response in result.get("modelResponses", []):
                by_metric = scores.setdefault(response.get("modelIdentifier", ""), {})
                for score in result.get("automatedEvaluationResult", {}).get("scores", []):
                    if isinstance(score.get("result"), (int, float)):
                        by_metric.setdefault(score["metricName"], {})[prompt] = float(score["result"])
    base, custom = scores.get(base_model, {}), scores.get(custom_model, {})
    metrics = []
    for name in sorted(set(base) & set(custom)):
        prompts = sorted(set(base[name]) & set(custom[name]))
        if not prompts:
            continue
        deltas = [custom[name][p] - base[name][p] for p in prompts]
        scale, better = BUILT_IN_METRICS.get(name, ("as Bedrock reports it", None))  # type: ignore[assignment]
        metrics.append(BedrockMetric(
            name=name, scale=scale, better=better, base=round(mean_score([base[name][p] for p in prompts]), 4),
            custom=round(mean_score([custom[name][p] for p in prompts]), 4), delta=round(mean_score(deltas), 4),
            ci95=tuple(round(v, 4) for v in bootstrap_interval(deltas)), prompts=len(prompts),  # type: ignore[arg-type]
        ))
    return metrics
