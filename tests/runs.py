"""A run's context as Validate Request would fix it, built without AWS, for unit tests."""

from __future__ import annotations

from typing import Any

from customization.core.costs import Workload, estimate_cost
from customization.core.request_rules import parse_request
from customization.models.steps import RunContext, Waits
from customization.registry import load_registry
from customization.vocabulary import RunNames, run_prefix
from tests.datasets import provisioned_unless_chosen

BUCKET = "pipeline-bucket"
GRADER = "arn:aws:lambda:us-east-1:123456789012:function:Grader"


def run_context(execution: str = "run-1", *, base_model: str = "nova-lite", **request: Any) -> RunContext:
    raw = provisioned_unless_chosen({"base_model": base_model, "training_data": f"s3://{BUCKET}/data/train.jsonl",
                                     "test_data": f"s3://{BUCKET}/data/test.jsonl", **request})
    parsed = parse_request(raw, bucket=BUCKET)
    registry = load_registry()
    model = registry.resolve(parsed.base_model)
    customization = model.customization(parsed.customization_type)
    estimate = estimate_cost(parsed, model, registry, Workload(1000, 5, 50.0), epochs=2)
    prefix = run_prefix(execution)
    return RunContext(
        execution_name=execution, execution_arn=f"arn:aws:states:us-east-1:123456789012:execution:m:{execution}",
        stack_name="Stack", bucket=BUCKET, prefix=prefix, output_uri=f"s3://{BUCKET}/{prefix}output/",
        base_model_id=model.model_id, base_model_invocation_id=model.invocation_id,
        customization_type=parsed.customization_type, data_format=customization.data_format,
        training_data=parsed.training_data or (parsed.invocation_logs.source if parsed.invocation_logs else ""),
        validation_data=parsed.validation_data, test_data=parsed.test_data,
        split={"source": "test_data"}, hyperparameters={"epochCount": "2"}, hyperparameter_adjustments=[],
        names=RunNames.for_execution(execution), deployment=parsed.deployment, evaluation=parsed.evaluation,
        teardown=parsed.teardown, budget=parsed.budget, wait_seconds=Waits(job=0, deployment=0), timeouts=parsed.timeouts,
        records={"training": 100, "test": 5}, estimated_training_tokens=1000, cost_estimate=estimate,
        reinforcement=parsed.reinforcement, grader_arn=GRADER if parsed.reinforcement else None,
        invocation_logs=parsed.invocation_logs,
    )
