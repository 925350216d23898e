"""Pre-flight checks before any spend: region, Bedrock's own word on the model."""

import pytest

from customization.core.preflight import preflight
from customization.errors import RequestInvalidError
from customization.registry import load_registry

NOVA = load_registry().resolve("nova-lite")
OFFERED = {"customizationsSupported": ["FINE_TUNING"], "modelLifecycle": {"status": "ACTIVE"}}


GRANTED = {"agreementAvailability": {"status": "AVAILABLE"}, "authorizationStatus": "AUTHORIZED",
           "entitlementAvailability": "AVAILABLE", "regionAvailability": "AVAILABLE"}


class Models:
    def __init__(self, info, access=GRANTED):
        self.info, self.access, self.asked = info, access, []

    def describe(self, model_id):
        return self.info

    def availability(self, model_id):
        self.asked.append(model_id)
        return self.access


def test_a_model_that_passes_every_check():
    models = Models(OFFERED)
    checked = preflight(NOVA, "FINE_TUNING", region="us-east-1", foundation_models=models)
    assert models.asked == ["amazon.nova-lite-v1:0"]  # access is granted on the id without :300k
    assert checked == ["amazon.nova-lite-v1:0:300k supports FINE_TUNING, is ACTIVE, and this account has access to amazon.nova-lite-v1:0"]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"entitlementAvailability": "NOT_AVAILABLE"}, "model access has not been granted"),
        ({"authorizationStatus": "NOT_AUTHORIZED"}, "not authorized to use it"),
        ({"agreementAvailability": {"status": "PENDING"}}, "its offer agreement is PENDING"),
        ({"regionAvailability": "NOT_AVAILABLE"}, "not available in us-east-1"),
    ],
)
def test_a_model_this_account_cannot_use_is_refused(change, message):
    with pytest.raises(RequestInvalidError, match=rf"amazon.nova-lite-v1:0 cannot be used here: .*{message}"):
        preflight(NOVA, "FINE_TUNING", region="us-east-1", foundation_models=Models(OFFERED, {**GRANTED, **change}))


def test_access_that_cannot_be_read_is_said_to_be_unchecked():
    checked = preflight(NOVA, "FINE_TUNING", region="us-east-1", foundation_models=Models(OFFERED, None))
    assert checked == ["access to amazon.nova-lite-v1:0 not checked: the role may not call GetFoundationModelAvailability"]


@pytest.mark.parametrize(
    ("region", "info", "message"),
    [
        ("eu-west-1", OFFERED, "can be customized in us-east-1 only; this stack is in eu-west-1"),
        ("us-east-1", None, "Bedrock does not offer amazon.nova-lite-v1:0:300k in us-east-1"),
        ("us-east-1", {"customizationsSupported": []}, "supports no customization here, not FINE_TUNING"),
        ("us-east-1", {**OFFERED, "modelLifecycle": {"status": "LEGACY"}}, "is LEGACY in Bedrock"),
    ],
)
def test_each_failed_check_is_a_clear_error(region, info, message):
    with pytest.raises(RequestInvalidError, match=message):
        preflight(NOVA, "FINE_TUNING", region=region, foundation_models=Models(info))


# -- account pre-flight: the bucket's region and quota headroom --------------------------------

from customization.core.preflight import account_preflight  # noqa: E402
from customization.core.quotas import check_headroom  # noqa: E402
from customization.errors import QuotaExceededError  # noqa: E402
from customization.models.request import CustomizationRequest  # noqa: E402
from customization.models.resources import Usage  # noqa: E402
from tests.datasets import provisioned_unless_chosen  # noqa: E402

MODEL_UNITS = "Model units no-commitment Provisioned Throughputs across custom models"
QUOTAS = {"Concurrent model customization jobs": 2, "Custom models per account": 100, MODEL_UNITS: 2}
IDLE = Usage(customization_jobs_in_progress=0, custom_models=3, no_commitment_custom_model_units=0)


def nova_request(**fields):
    return CustomizationRequest.model_validate(
        provisioned_unless_chosen({"base_model": "nova-lite", "training_data": "s3://bucket/t.jsonl", **fields}))


def test_headroom_that_fits_lists_every_quota_checked():
    notes = check_headroom(nova_request(), QUOTAS, IDLE)
    assert notes == [
        "customization jobs in progress: 0 in use + 1 needed of 2 ('Concurrent model customization jobs')",
        "custom models: 3 in use + 1 needed of 100 ('Custom models per account')",
        f"no-commitment model units for custom models: 0 in use + 1 needed of 2 ({MODEL_UNITS!r})",
    ]


def test_model_units_in_use_elsewhere_reject_the_run_naming_quota_and_numbers():
    busy = Usage(customization_jobs_in_progress=0, custom_models=3, no_commitment_custom_model_units=1)
    with pytest.raises(QuotaExceededError, match=rf"'{MODEL_UNITS}' is 2 and 1 are in use, so the 2 this run needs"):
        check_headroom(nova_request(deployment={"model_units": 2}), QUOTAS, busy)
    # An on-demand deployment needs no model units at all.
    check_headroom(nova_request(deployment={"mode": "on_demand"}), QUOTAS, busy)


def test_a_quota_that_is_not_found_or_not_readable_is_said_to_be_unchecked():
    notes = check_headroom(nova_request(), {"Custom models per account": 100}, IDLE)
    assert "customization jobs in progress: no quota of that name in Service Quotas, not checked" in notes
    assert check_headroom(nova_request(), None, None) == [
        "quotas not checked: Service Quotas did not answer for Amazon Bedrock in this account"
    ]


class Store:
    def __init__(self, region):
        self.region = region

    def bucket_region(self, bucket):
        return self.region


class Quotas:
    def bedrock_quotas(self):
        return QUOTAS

    def usage(self):
        return IDLE


BEDROCK_TRUST = {"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"Service": "bedrock.amazonaws.com"}, "Action": "sts:AssumeRole"}]}


class Roles:
    def __init__(self, policy=BEDROCK_TRUST):
        self.policy = policy

    def trust_policy(self, role_arn):
        return self.policy


def settings(region="us-east-1"):
    from customization.settings import Settings

    return Settings(BUCKET_NAME="bkt", BEDROCK_ROLE_ARN="arn:aws:iam::123456789012:role/bedrock-role", STACK_NAME="s",
                    DEFAULT_JOB_WAIT_SECONDS=1, DEFAULT_DEPLOYMENT_WAIT_SECONDS=1, LEDGER_TABLE="ledger", AWS_REGION=region)


def check(store_region="us-east-1", roles=None):
    return account_preflight(nova_request(), settings=settings(), store=Store(store_region), quotas=Quotas(), roles=roles or Roles()).notes


def test_a_pipeline_bucket_in_another_region_is_refused():
    with pytest.raises(RequestInvalidError, match="the pipeline bucket bkt is in eu-west-1, the stack in us-east-1"):
        check("eu-west-1")
    checked = check()
    assert checked[:2] == ["bucket bkt is in us-east-1", "role arn:aws:iam::123456789012:role/bedrock-role trusts bedrock.amazonaws.com"]
    assert len(checked) == 5


@pytest.mark.parametrize(
    ("policy", "message"),
    [
        ({}, "does not exist"),
        ({"Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]},
         "does not let bedrock.amazonaws.com assume it"),
        ({"Statement": [{**BEDROCK_TRUST["Statement"][0], "Effect": "Deny"}]}, "does not let bedrock.amazonaws.com assume it"),
    ],
)
def test_a_service_role_bedrock_cannot_assume_is_refused(policy, message):
    with pytest.raises(RequestInvalidError, match=message):
        check(roles=Roles(policy))


def test_a_role_this_function_may_not_read_is_said_to_be_unchecked():
    assert "not checked: this function may not read it" in check(roles=Roles(None))[1]
