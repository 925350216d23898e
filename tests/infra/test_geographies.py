"""Beyond the US: a stage's region picks the registry's inference geography, and the model
ARNs follow it: each model's system profile of that geography in the stack's region and the
foundation model in every region the profile routes to (a global profile: the model without a
region too); a model with no profile there is not granted at all."""

from __future__ import annotations

import json

import aws_cdk as cdk
import pytest

from customization.registry import load_registry
from infra.app_builder import build_app
from infra.constructs.functions import ModelArns

ACCOUNT = "123456789012"


def invocable(region: str) -> list[str]:
    app = cdk.App(context={"@aws-cdk/core:enablePartitionLiterals": True})  # as cdk.json sets it
    stack = cdk.Stack(app, "Arns", env=cdk.Environment(account=ACCOUNT, region=region))
    arns = ModelArns(stack, load_registry(), region=region)
    return [stack.resolve(arn) for arn in arns.invocable(with_embeddings=True)]


def profile(region: str, profile_id: str) -> str:
    return f"arn:aws:bedrock:{region}:{ACCOUNT}:inference-profile/{profile_id}"


def model(region: str, model_id: str) -> str:
    return f"arn:aws:bedrock:{region}::foundation-model/{model_id}"


@pytest.mark.parametrize(("region", "geography"), [
    ("us-west-2", "us"), ("eu-west-1", "eu"), ("ap-northeast-1", "apac"), ("sa-east-1", "global"), (None, "us"),
])
def test_a_region_belongs_to_the_geography_whose_profiles_its_requests_use(region, geography):
    assert load_registry().geography_of(region) == geography


def test_a_us_stage_invokes_the_us_profiles_from_its_own_region():
    arns = invocable("us-west-2")
    assert profile("us-west-2", "us.meta.llama3-2-1b-instruct-v1:0") in arns
    assert {model(r, "meta.llama3-2-1b-instruct-v1:0") for r in ("us-east-1", "us-east-2", "us-west-2")} <= set(arns)
    assert model("us-west-2", "amazon.nova-micro-v1:0") in arns  # invoked in the region, by its id
    assert not [a for a in arns if ":inference-profile/eu." in a or ":inference-profile/apac." in a]


@pytest.mark.parametrize(("region", "prefix", "destination"), [("eu-west-1", "eu", "eu-central-1"), ("ap-northeast-1", "apac", "ap-southeast-2")])
def test_an_eu_or_apac_stage_invokes_its_geographys_profiles_and_the_models_behind_them(region, prefix, destination):
    arns = invocable(region)
    assert profile(region, f"{prefix}.amazon.nova-micro-v1:0") in arns
    assert profile(region, f"{prefix}.anthropic.claude-3-haiku-20240307-v1:0") in arns
    assert model(destination, "amazon.nova-micro-v1:0") in arns
    assert not [a for a in arns if ":inference-profile/us." in a]
    assert not [a for a in arns if "llama3-1-8b" in a]  # no profile in this geography: not granted


def test_a_stage_outside_every_geography_gets_only_global_profiles_with_the_regionless_model():
    arns = invocable("sa-east-1")
    profiles = [a for a in arns if ":inference-profile/" in a]
    assert profiles == [profile("sa-east-1", "global.amazon.nova-2-lite-v1:0")]
    assert "arn:aws:bedrock:::foundation-model/amazon.nova-2-lite-v1:0" in arns
    assert model("sa-east-1", "amazon.nova-2-lite-v1:0") in arns


def test_a_stage_in_the_eu_synthesizes_with_its_arns_and_without_the_us_only_rule(tmp_path):
    app, stack, _ = build_app(outdir=str(tmp_path), context={"stage": "dev", "stage_overrides": {"region": "eu-west-1"}},
                              bundling=False)
    app.synth()  # cdk-nag's findings, with the region rendered in their ARNs, are acknowledged
    document = json.loads((tmp_path / f"{stack.stack_name}.template.json").read_text())
    text = json.dumps(document)
    assert ":inference-profile/eu.amazon.nova-pro-v1:0" in text and ":inference-profile/us." not in text
    assert "InferenceGeography" not in document.get("Rules", {})


def test_a_stage_without_a_region_may_deploy_only_in_the_us_geography(template_dict):
    (assertion,) = template_dict["Rules"]["InferenceGeography"]["Assertions"]
    regions, region = assertion["Assert"]["Fn::Contains"]
    assert regions == list(load_registry().inference_geographies["us"].source_regions) and region == {"Ref": "AWS::Region"}
    assert "set the stage's region" in assertion["AssertDescription"]
