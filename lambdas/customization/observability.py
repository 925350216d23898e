"""The one Logger, Tracer and Metrics of the process; every module imports these."""

from aws_lambda_powertools import Logger, Metrics, Tracer

logger = Logger()
tracer = Tracer()
metrics = Metrics()
