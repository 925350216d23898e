from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from customization.adapters import (
    get_account_quotas,
    get_foundation_models,
    get_graders,
    get_ledger,
    get_service_roles,
    get_store,
)
from customization.core.validate_request import GRADER_TRIAL_SECONDS, validate_request
from customization.models.steps import ValidateRequestInput, ValidateRequestOutput
from customization.observability import logger, tracer
from customization.settings import get_settings


@logger.inject_lambda_context(correlation_id_path="execution_arn")
@tracer.capture_lambda_handler(capture_response=False)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    run, _ = validate_request(
        ValidateRequestInput.model_validate(event), settings=get_settings(), store=get_store(), ledger=get_ledger(),
        foundation_models=get_foundation_models(), quotas=get_account_quotas(), roles=get_service_roles(),
        graders=get_graders(GRADER_TRIAL_SECONDS),
    )
    logger.info("request accepted", base_model=run.base_model_id, records=run.records,
                adjustments=run.hyperparameter_adjustments)
    return ValidateRequestOutput(run=run).model_dump(mode="json")
