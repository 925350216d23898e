import re

import botocore.session
import pytest

from customization.vocabulary import RunNames, bounded_name

BEDROCK = botocore.session.get_session().get_service_model("bedrock")


def pattern(operation: str, member: str) -> re.Pattern[str]:
    return re.compile(BEDROCK.operation_model(operation).input_shape.members[member].metadata["pattern"])


CHECKS = [
    ("job_name", "CreateModelCustomizationJob", "jobName"),
    ("custom_model_name", "CreateModelCustomizationJob", "customModelName"),
    ("provisioned_model_name", "CreateProvisionedModelThroughput", "provisionedModelName"),
    ("deployment_name", "CreateCustomModelDeployment", "modelDeploymentName"),
    ("job_token", "CreateModelCustomizationJob", "clientRequestToken"),
    ("provisioned_token", "CreateProvisionedModelThroughput", "clientRequestToken"),
]


@pytest.mark.parametrize("execution_name", ["run-1", "my_run__2026-11-26", "x" * 80, "Nova.Lite run #3"])
@pytest.mark.parametrize(("field", "operation", "member"), CHECKS)
def test_derived_names_satisfy_the_bedrock_service_model(execution_name, field, operation, member):
    value = getattr(RunNames.for_execution(execution_name), field)
    assert pattern(operation, member).fullmatch(value), value
    assert len(value) <= (256 if "token" in field else 63)


def test_names_are_deterministic_and_distinct_per_execution():
    assert RunNames.for_execution("a") == RunNames.for_execution("a")
    assert RunNames.for_execution("a").job_name != RunNames.for_execution("b").job_name


def test_long_names_keep_a_hash_of_the_full_name():
    first, second = bounded_name("job", "x" * 70 + "1"), bounded_name("job", "x" * 70 + "2")
    assert len(first) == 63 and first != second
