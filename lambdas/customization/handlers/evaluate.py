from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from customization.adapters import get_runtime, get_store
from customization.core.assess import evaluate_run
from customization.models.steps import StepInput
from customization.observability import logger, tracer


@logger.inject_lambda_context(correlation_id_path="run.execution_arn")
@tracer.capture_lambda_handler(capture_response=False)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    state = StepInput.model_validate(event)
    summary = evaluate_run(state.run, state.require_deployment(), runtime=get_runtime(), store=get_store())
    logger.info("evaluation finished", verdict=summary.verdict)
    return summary.model_dump(mode="json")
