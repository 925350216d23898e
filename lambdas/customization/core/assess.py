"""The evaluation: plan (test set -> shards), score (both models answer every sample), and
report (metrics, interval, training curves, promotion gate, report.json and report.html).

Scoring runs as one step, or, above a size threshold, once per shard in a Map state; the
report step reads the same per-sample results either way, so both paths give one answer."""

from __future__ import annotations

import json
import math
from datetime import datetime
from typing import TYPE_CHECKING, Any

from customization.core.curves import TRAINING_FILE, VALIDATION_FILE, Curves, analyse, parse_metrics
from customization.core.datasets import read_samples
from customization.core.evaluation import METRICS, bootstrap_interval, mean_score, score_pairs, verdict
from customization.core.inference import answer_samples
from customization.core.report_html import render_report
from customization.errors import EvaluationFailedError
from customization.models.steps import (
    DeploymentState,
    EvaluationJobState,
    EvaluationPlan,
    EvaluationSummary,
    JobState,
    RunContext,
    Shard,
)
from customization.registry import load_registry

if TYPE_CHECKING:
    from customization.adapters.runtime import BedrockRuntime
    from customization.adapters.storage import ObjectStore

ROLES = ("base", "custom")


def _eval_uri(run: RunContext, path: str) -> str:
    return f"s3://{run.bucket}/{run.prefix}evaluation/{path}"


def plan_evaluation(run: RunContext, *, store: ObjectStore) -> EvaluationPlan:
    if run.test_data is None:
        return EvaluationPlan(sharded=False, shards=[], samples=0, note=run.split.get("reason", "no test set"))
    samples = read_samples(store.iter_lines(run.test_data), run.data_format, run.evaluation.max_samples)
    if not samples:
        raise EvaluationFailedError(f"{run.test_data} holds no record usable as an evaluation sample")
    sharded = len(samples) > run.evaluation.map_threshold
    size = run.evaluation.shard_size if sharded else len(samples)
    shards = []
    for number, start in enumerate(range(0, len(samples), size)):
        chunk = samples[start : start + size]
        uri = _eval_uri(run, f"shards/shard-{number:04d}.jsonl")
        body = "".join(
            json.dumps({"index": start + offset, "system": s.system, "messages": s.messages, "reference": s.reference}) + "\n"
            for offset, s in enumerate(chunk)
        )
        store.put_bytes(uri, body.encode(), "application/jsonl")
        shards.append(Shard(index=number, uri=uri, count=len(chunk)))
    return EvaluationPlan(sharded=sharded, shards=shards, samples=len(samples))


def score_shards(
    run: RunContext, deployment: DeploymentState, shards: list[Shard], *, runtime: BedrockRuntime, store: ObjectStore
) -> dict[str, Any]:
    settings = {"max_tokens": run.evaluation.max_tokens, "temperature": run.evaluation.temperature}
    models = {"base": run.base_model_invocation_id, "custom": deployment.arn or ""}
    answered = failed = 0
    for shard in shards:
        samples = [json.loads(line) for line in store.read_text(shard.uri).splitlines() if line.strip()]
        rows = answer_samples(samples, models, runtime=runtime, settings=settings, concurrency=run.evaluation.concurrency)
        if run.evaluation.semantic_similarity:
            for row in rows:
                reference = runtime.embed(model_id=run.evaluation.embedding_model, text=row["reference"])
                for role in ROLES:
                    if "text" in row[role]:
                        row[role]["similarity"] = _cosine(reference, runtime.embed(model_id=run.evaluation.embedding_model, text=row[role]["text"]))
        body = "".join(json.dumps(row) + "\n" for row in rows)
        store.put_bytes(_eval_uri(run, f"results/shard-{shard.index:04d}.jsonl"), body.encode(), "application/jsonl")
        failed += sum(1 for row in rows if any("error" in row[role] for role in ROLES))
        answered += len(rows)
    return {"shards": [shard.index for shard in shards], "samples": answered, "failed": failed}


def _cosine(a: list[float], b: list[float]) -> float:
    dot = sum(x * y for x, y in zip(a, b, strict=False))
    norm = math.sqrt(sum(x * x for x in a)) * math.sqrt(sum(y * y for y in b))
    return round(dot / norm, 4) if norm else 0.0


def _job_curves(run: RunContext, job: JobState | None, store: ObjectStore) -> Curves:
    curves = Curves()
    if job is None:
        return curves
    job_id = job.job_arn.rsplit("/", 1)[-1]
    for uri in store.list_keys(f"{run.output_uri}model-customization-job-{job_id}/"):
        if uri.endswith(TRAINING_FILE):
            curves.training = parse_metrics(store.read_text(uri), "training_loss")
        elif uri.endswith(VALIDATION_FILE):
            curves.validation = parse_metrics(store.read_text(uri), "validation_loss")
    return curves


def _gate(delta: float, ci95: tuple[float, float], paired: int, run: RunContext) -> tuple[bool, str]:
    metric, need = run.evaluation.primary_metric, run.evaluation.min_improvement
    interval = f"95% interval {ci95[0]:+.4f} to {ci95[1]:+.4f}"
    if paired == 0:
        return False, "no sample was answered by both models"
    if delta < need:
        return False, f"{metric} changed by {delta:+.4f} ({interval}), less than the required {need:+.4f}"
    if ci95[0] <= 0:
        return False, f"{metric} changed by {delta:+.4f}, but its {interval} includes zero: the gain is not established"
    return True, f"{metric} improved by {delta:+.4f} ({interval}), at least the required {need:+.4f}, and the interval is above zero"


def report_evaluation(
    run: RunContext, deployment: DeploymentState, job: JobState | None, *, store: ObjectStore, now: datetime, simulated: bool,
    evaluation_job: EvaluationJobState | None = None,
) -> EvaluationSummary:
    rows: list[dict[str, Any]] = []
    for uri in store.list_keys(_eval_uri(run, "results/")):
        rows += [json.loads(line) for line in store.read_text(uri).splitlines() if line.strip()]
    rows.sort(key=lambda row: row["index"])
    paired = [row for row in rows if all("text" in row[role] for role in ROLES)]
    failed = [
        {"index": row["index"], **{role: row[role]["error"] for role in ROLES if "error" in row[role]}}
        for row in rows if row not in paired
    ]
    references = [row["reference"] for row in paired]
    scores = {role: score_pairs([row[role]["text"] for row in paired], references) for role in ROLES}
    metric_names = [*METRICS, *(["similarity"] if run.evaluation.semantic_similarity else [])]
    if run.evaluation.semantic_similarity:
        for role in ROLES:
            for row, sample_scores in zip(paired, scores[role], strict=True):
                sample_scores["similarity"] = row[role].get("similarity", 0.0)
    means = {role: {m: mean_score([s[m] for s in scores[role]]) for m in metric_names} for role in ROLES}
    deltas = {m: round(means["custom"][m] - means["base"][m], 4) for m in metric_names}
    intervals = {
        m: bootstrap_interval([c[m] - b[m] for b, c in zip(scores["base"], scores["custom"], strict=True)], seed=run.evaluation.seed)
        for m in metric_names
    }
    primary = run.evaluation.primary_metric
    promoted, why = _gate(deltas[primary], intervals[primary], len(paired), run)
    outcome = verdict(means["base"][primary], means["custom"][primary], len(paired), primary)
    training = analyse(
        _job_curves(run, job, store),
        epochs=int(float(run.hyperparameters.get("epochCount", "1"))),
        max_epochs=_max_epochs(run),
    )
    samples = [
        {
            "index": row["index"], "reference": row["reference"],
            "base": row["base"]["text"], "custom": row["custom"]["text"],
            "scores": {"base": b, "custom": c}, "delta": round(c[primary] - b[primary], 4),
            "latency_ms": {role: row[role]["latency_ms"] for role in ROLES},
            "output_tokens": {role: row[role]["output_tokens"] for role in ROLES},
        }
        for row, b, c in zip(paired, scores["base"], scores["custom"], strict=True)
    ]
    samples.sort(key=lambda sample: sample["delta"])  # largest regressions first
    report: dict[str, Any] = {
        "simulated": simulated,
        "simulated_note": "Bedrock was simulated offline: answers, curves and scores describe the simulation" if simulated else None,
        "execution": run.execution_name,
        "base_model": run.base_model_id,
        "base_model_invocation_id": run.base_model_invocation_id,
        "custom_model": deployment.arn,
        "primary_metric": primary,
        "min_improvement": run.evaluation.min_improvement,
        "metrics": {"base": means["base"], "custom": means["custom"]},
        "delta": deltas,
        "ci95": {m: list(intervals[m]) for m in metric_names},
        "promoted": promoted,
        "why": why,
        "verdict": outcome.text,
        "samples_scored": len(paired),
        "samples_failed": failed,
        "training": training,
        "split": run.split,
        "cost": _usage(run, deployment, rows, now),
        "second_engine": _second_engine(evaluation_job, store),
        "samples": samples,
    }
    report_uri, html_uri = _eval_uri(run, "report.json"), _eval_uri(run, "report.html")
    store.put_json(report_uri, report)
    store.put_bytes(html_uri, render_report(report).encode(), "text/html; charset=utf-8")
    return EvaluationSummary(
        samples=len(paired), failed=len(failed), source=run.test_data, base_model=run.base_model_invocation_id,
        custom_model=deployment.arn or "", primary_metric=primary, base=means["base"], custom=means["custom"],
        delta=deltas[primary], ci95=list(intervals[primary]), promoted=promoted, why=why,
        custom_is_better=outcome.custom_is_better, verdict=outcome.text, training_flags=training.get("flags", []),
        report_uri=report_uri, report_html_uri=html_uri,
    )


def _second_engine(job: EvaluationJobState | None, store: ObjectStore) -> dict[str, Any] | None:
    """Bedrock's own evaluation job, when the request asked for it: its outcome and outputs."""
    if job is None or not job.requested:
        return None
    outputs = store.list_keys(job.output_uri) if job.output_uri else []
    return {"engine": "Amazon Bedrock evaluation job", "job_arn": job.arn, "status": job.status,
            "failure_messages": job.failure_messages, "output_uri": job.output_uri, "outputs": outputs}


def _max_epochs(run: RunContext) -> int:
    spec = load_registry().resolve(run.base_model_id).customization(run.customization_type)
    epochs = spec.hyperparameters.get("epochCount")
    return int(epochs.max) if epochs else 1


def _usage(run: RunContext, deployment: DeploymentState, rows: list[dict[str, Any]], now: datetime) -> dict[str, Any]:
    """The estimate made before the run, beside what was measured: the evaluation's tokens and
    the deployment's hours until this report (Tear Down deletes it next), at the same rates."""
    answers = {role: [row[role] for row in rows if "text" in row[role]] for role in ROLES}
    estimate = run.cost_estimate
    rates = {item.price: item.unit_usd for item in estimate.lines if item.price}
    measured: dict[str, Any] = {"deployment": deployment.kind}
    usd: float | None = 0.0
    for role in ROLES:
        for kind in ("input", "output"):
            tokens = sum(a[f"{kind}_tokens"] for a in answers[role])
            measured[f"{role}_{kind}_tokens"] = tokens
            price = f"{role}_{kind}_per_1k_tokens"
            if role == "custom" and deployment.kind != "custom_model_deployment":
                continue  # answered by the provisioned throughput, billed by the hour
            rate = rates.get(price)  # type: ignore[call-overload]
            usd = None if usd is None or rate is None else usd + tokens / 1000 * rate
    measured["inference_usd"] = None if usd is None else round(usd, 4)
    hours = (now - deployment.created_at).total_seconds() / 3600 if deployment.created_at else 0.0
    measured["deployment_hours"] = round(hours, 4)
    hourly = rates.get("provisioned_per_model_unit_hour")
    if deployment.kind == "provisioned_throughput":
        billed = max(1, math.ceil(hours)) * run.deployment.model_units
        measured["deployment_usd"] = None if hourly is None else round(billed * hourly, 4)
    else:
        measured["deployment_usd"] = 0.0
    return {
        "estimate": estimate.model_dump(mode="json"),
        "estimated_total_usd": estimate.total_usd,
        "budget_usd": run.budget.max_usd,
        "measured": measured,
    }
