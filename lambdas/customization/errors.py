"""Typed errors. Their class NAMES are the contract with the state machine: Step Functions
sees a Lambda error as the exception class name, and the Retry and Catch rules in
infra/constructs/workflow.py match on these names (a test checks both sides agree)."""


class CustomizationError(Exception):
    """Base class of every error a step raises on purpose."""


class RequestInvalidError(CustomizationError):
    """The execution input does not satisfy the request schema. Nothing has been created."""


class DatasetInvalidError(CustomizationError):
    """A dataset breaks a rule of its base model's format. Nothing has been created."""


class BudgetExceededError(CustomizationError):
    """The cost estimate is above budget.max_usd, or cannot be checked against it. Nothing has been created."""


class QuotaExceededError(CustomizationError):
    """An account quota leaves no room for this run's job, model or deployment. Nothing has been created."""


class JobFailedError(CustomizationError):
    """Bedrock reported the customization job as Failed; the message carries its failureMessage."""


class JobStoppedError(CustomizationError):
    """The customization job was stopped before it completed."""


class DeploymentFailedError(CustomizationError):
    """The provisioned throughput or on-demand deployment reported Failed."""


class EvaluationFailedError(CustomizationError):
    """The evaluation could not score the models."""


class ThrottlingError(CustomizationError):
    """AWS throttled a call even after the SDK's own retries; the state machine retries the step."""


class ServiceUnavailableError(CustomizationError):
    """AWS answered with a transient server-side error; the state machine retries the step."""


class ResourceNotFoundError(CustomizationError):
    """The AWS resource does not exist (Tear Down treats this as already deleted)."""


class AwsAccessDeniedError(CustomizationError):
    """A call was denied by IAM or an SCP. Not retried."""


class AwsRequestRejectedError(CustomizationError):
    """AWS rejected a request as invalid (ValidationException, ConflictException, quota). Not retried."""


class ConditionFailedError(CustomizationError):
    """A conditional write found the item already there (a repeated step)."""


class ExecutionExistsError(CustomizationError):
    """An execution of that name exists already (a repeated trigger)."""


class JobTimeoutError(CustomizationError):
    """The customization job ran past the request's time limit; it has been stopped."""


class DeploymentTimeoutError(CustomizationError):
    """The deployment did not come up within the request's time limit."""


class GraderFailedError(CustomizationError):
    """The reinforcement grader failed, timed out or answered outside its contract (a score per
    sample, each in [0, 1]). Before the job, nothing has been created."""


class NoModelTrainedError(CustomizationError):
    """Every candidate of a sweep failed or was stopped: there is nothing to choose from."""


RETRYABLE_ERRORS = (ThrottlingError, ServiceUnavailableError)
