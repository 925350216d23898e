"""One synthesis of the deployable stage per test session (no asset bundling: the asset has
its own test), shared by every template, workflow-graph and lint test."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from aws_cdk.assertions import Template

from bedrock_customize.offline.template import Template as CfnTemplate
from infra.app_builder import build_app


@pytest.fixture(scope="session")
def synthesized(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Any, Any]:
    outdir = tmp_path_factory.mktemp("cdk.out")
    app, stack, config = build_app(outdir=str(outdir), context={"stage": "dev"}, bundling=False)
    app.synth()
    return outdir / f"{stack.stack_name}.template.json", stack, config


@pytest.fixture(scope="session")
def template(synthesized) -> Template:
    path, _, _ = synthesized
    return Template.from_json(json.loads(path.read_text()))


@pytest.fixture(scope="session")
def template_dict(synthesized) -> dict[str, Any]:
    return json.loads(synthesized[0].read_text())


def resolve_definition(template_path: Path) -> dict[str, Any]:
    """The state machine definition with function ARNs replaced by placeholders."""
    cfn = CfnTemplate.load(template_path, account="123456789012", region="us-east-1", stack_name="Test")
    for logical_id in cfn.resources("AWS::Lambda::Function"):
        cfn.attributes[(logical_id, "Arn")] = f"arn:aws:lambda:us-east-1:123456789012:function:{logical_id}"
    (machine,) = cfn.resources("AWS::StepFunctions::StateMachine").values()
    return json.loads(cfn.resolve(machine["Properties"]["DefinitionString"]))


@pytest.fixture(scope="session")
def definition(synthesized) -> dict[str, Any]:
    return resolve_definition(synthesized[0])
