"""The one Logger, Tracer and Metrics of the process; every module imports these."""

from aws_lambda_powertools import Logger, Metrics, Tracer

from customization.vocabulary import METRICS_NAMESPACE

logger = Logger()  # service name from POWERTOOLS_SERVICE_NAME, set by the stack
tracer = Tracer()
metrics = Metrics(namespace=METRICS_NAMESPACE)
