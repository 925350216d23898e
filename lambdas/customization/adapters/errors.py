"""botocore ClientError codes mapped onto the typed errors the state machine understands."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from botocore.exceptions import ClientError

from customization import errors

_BY_CODE: dict[str, type[errors.CustomizationError]] = {
    "ThrottlingException": errors.ThrottlingError,
    "TooManyRequestsException": errors.ThrottlingError,
    "ServiceUnavailableException": errors.ServiceUnavailableError,
    "InternalServerException": errors.ServiceUnavailableError,
    "ModelNotReadyException": errors.ServiceUnavailableError,
    "ResourceNotFoundException": errors.ResourceNotFoundError,
    "NoSuchKey": errors.ResourceNotFoundError,
    "NoSuchBucket": errors.ResourceNotFoundError,
    "NoSuchResourceException": errors.ResourceNotFoundError,
    "NoSuchEntity": errors.ResourceNotFoundError,
    "404": errors.ResourceNotFoundError,
    "ExecutionDoesNotExist": errors.ResourceNotFoundError,
    "ParameterNotFound": errors.ResourceNotFoundError,
    "ServiceQuotaExceededException": errors.QuotaExceededError,
    "AccessDeniedException": errors.AwsAccessDeniedError,
    "AccessDenied": errors.AwsAccessDeniedError,
    "ConditionalCheckFailedException": errors.ConditionFailedError,
    "ExecutionAlreadyExists": errors.ExecutionExistsError,
}


@contextmanager
def aws_errors(action: str) -> Iterator[None]:
    """Re-raise a ClientError as a typed error whose message reads as one line."""
    try:
        yield
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "Unknown")
        message = exc.response.get("Error", {}).get("Message", "") or code
        error_class = _BY_CODE.get(code, errors.AwsRequestRejectedError)
        raise error_class(f"{action}: {code}: {message}") from exc
