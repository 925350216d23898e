from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from customization.adapters import get_store
from customization.core.prepare_dataset import prepare_dataset
from customization.models.steps import ValidateRequestInput
from customization.observability import logger, tracer
from customization.settings import get_settings


@logger.inject_lambda_context(correlation_id_path="execution_arn")
@tracer.capture_lambda_handler(capture_response=False)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    request = prepare_dataset(ValidateRequestInput.model_validate(event), bucket=get_settings().BUCKET_NAME, store=get_store())
    logger.info("raw data prepared", training_data=request.get("training_data"), test_data=request.get("test_data"))
    return request
