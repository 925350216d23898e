"""Scores every shard of the plan (the single-step path) or the one shard of a Map iteration."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from customization.adapters import get_evaluation_runtime, get_graders, get_store
from customization.evaluation.score import GRADER_SECONDS, score_shards
from customization.models.steps import StepInput
from customization.observability import logger, tracer


@logger.inject_lambda_context(correlation_id_path="run.execution_arn")
@tracer.capture_lambda_handler(capture_response=False)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    state = StepInput.model_validate(event)
    shards = [state.shard] if state.shard else state.require_plan().shards
    result = score_shards(
        state.run, state.require_deployment(), shards,
        runtime=get_evaluation_runtime(state.run.evaluation.sample_timeout_seconds), store=get_store(),
        graders=get_graders(GRADER_SECONDS),
    )
    logger.info("samples scored", samples=result.samples, failed=result.failed, shards=result.shards)
    return result.model_dump(mode="json")
