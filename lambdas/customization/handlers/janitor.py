"""Scheduled sweep: delete this stack's deployments whose run ended or whose time is up."""

from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from customization.adapters import get_bedrock, get_executions, get_ledger, get_notifier
from customization.core.janitor import sweep
from customization.core.notify import notify_janitor
from customization.observability import logger, metrics, tracer
from customization.settings import get_settings


@logger.inject_lambda_context
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    report = sweep(stack_name=get_settings().STACK_NAME, bedrock=get_bedrock(), executions=get_executions(),
                   ledger=get_ledger(), now=datetime.now(UTC))
    metrics.add_metric(name="JanitorDeletions", unit=MetricUnit.Count, value=len(report.deleted))
    notify_janitor(report.deleted, notifier=get_notifier())
    logger.info("janitor sweep", deleted=report.deleted, kept=len(report.kept), untouched_foreign=report.untouched_foreign)
    return {"deleted": report.deleted, "kept": report.kept, "untouched_foreign": report.untouched_foreign}
