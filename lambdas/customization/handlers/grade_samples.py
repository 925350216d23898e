from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from customization.adapters import get_grader_runtime
from customization.grading.built_in import grade_batch
from customization.observability import logger, tracer


@logger.inject_lambda_context
@tracer.capture_lambda_handler(capture_response=False)
def handler(event: Any, context: LambdaContext) -> list[dict[str, Any]]:
    """Bedrock's reward function: a list of samples in, a score per sample out."""
    scores = grade_batch(event, runtime=get_grader_runtime())
    logger.info("graded", samples=len(scores))
    return scores
