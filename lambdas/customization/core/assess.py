"""Evaluate: the base model and the custom model answer the same test prompts through the
Converse API; both are scored against the references and the verdict is stated plainly."""

from __future__ import annotations

from typing import TYPE_CHECKING

from customization.core.datasets import read_samples
from customization.core.evaluation import mean_score, rouge_l, verdict
from customization.errors import EvaluationFailedError
from customization.models.steps import DeploymentState, EvaluationSummary, ModelScores, RunContext

if TYPE_CHECKING:
    from customization.adapters.runtime import BedrockRuntime
    from customization.adapters.storage import ObjectStore


def evaluate_run(
    run: RunContext, deployment: DeploymentState, *, runtime: BedrockRuntime, store: ObjectStore
) -> EvaluationSummary:
    source = run.test_data or run.validation_data
    custom_id = deployment.arn or ""
    if source is None:
        return EvaluationSummary(
            samples=0, source=None, base_model=run.base_model_invocation_id, custom_model=custom_id,
            base=None, custom=None, delta_rougeL=None, custom_is_better=None,
            verdict="not evaluated: the request gives neither test_data nor validation_data",
            report_uri=None,
        )
    samples = read_samples(store.iter_lines(source), run.data_format, run.evaluation.max_samples)
    if not samples:
        raise EvaluationFailedError(f"{source} holds no record usable as an evaluation sample")

    rows = []
    for index, sample in enumerate(samples):
        answers = {}
        for role, model_id in (("base", run.base_model_invocation_id), ("custom", custom_id)):
            answers[role] = runtime.converse(
                model_id=model_id,
                system=sample.system,
                messages=sample.messages,
                max_tokens=run.evaluation.max_tokens,
                temperature=run.evaluation.temperature,
            )
        rows.append({"index": index, "reference": sample.reference, "answers": answers})

    references = [row["reference"] for row in rows]
    base_scores = rouge_l([row["answers"]["base"].text for row in rows], references)
    custom_scores = rouge_l([row["answers"]["custom"].text for row in rows], references)
    base, custom = mean_score(base_scores), mean_score(custom_scores)
    outcome = verdict(base, custom, len(rows))

    report_uri = f"s3://{run.bucket}/{run.prefix}evaluation.json"
    store.put_json(
        report_uri,
        {
            "source": source,
            "metric": "rougeL (F1, stemmed)",
            "base_model": run.base_model_invocation_id,
            "custom_model": custom_id,
            "base": {"rougeL": base},
            "custom": {"rougeL": custom},
            "delta_rougeL": outcome.delta,
            "custom_is_better": outcome.custom_is_better,
            "verdict": outcome.text,
            "samples": [
                {
                    "index": row["index"],
                    "reference": row["reference"],
                    "base": row["answers"]["base"].text,
                    "custom": row["answers"]["custom"].text,
                    "rougeL_base": round(b, 4),
                    "rougeL_custom": round(c, 4),
                    "latency_ms": {k: a.latency_ms for k, a in row["answers"].items()},
                    "output_tokens": {k: a.output_tokens for k, a in row["answers"].items()},
                }
                for row, b, c in zip(rows, base_scores, custom_scores, strict=True)
            ],
        },
    )
    return EvaluationSummary(
        samples=len(rows), source=source, base_model=run.base_model_invocation_id, custom_model=custom_id,
        base=ModelScores(rougeL=base), custom=ModelScores(rougeL=custom), delta_rougeL=outcome.delta,
        custom_is_better=outcome.custom_is_better, verdict=outcome.text, report_uri=report_uri,
    )
