"""Pre-flight checks before any spend: region, Bedrock's own word on the model."""

import pytest

from customization.core.prepare import preflight
from customization.errors import RequestInvalidError
from customization.registry import load_registry

NOVA = load_registry().resolve("nova-lite")
OFFERED = {"customizationsSupported": ["FINE_TUNING"], "modelLifecycle": {"status": "ACTIVE"}}


class Models:
    def __init__(self, info):
        self.info = info

    def describe(self, model_id):
        return self.info


def test_a_model_that_passes_every_check():
    preflight(NOVA, "FINE_TUNING", region="us-east-1", foundation_models=Models(OFFERED))


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
