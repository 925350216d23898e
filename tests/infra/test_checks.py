"""cdk-nag, cfn-lint and the state-machine validators on the synthesized output."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from unittest import mock

import pytest

from infra import nag
from infra.app_builder import build_app
from infra.steps import ALL_FUNCTIONS

BIN = Path(sys.executable).parent


def test_cdk_nag_reports_no_unacknowledged_finding(synthesized):
    # build_app registers AwsSolutionsChecks; a finding would have failed the synthesis.
    report = json.loads((synthesized[0].parent / "validation-report.json").read_text())
    (pack,) = [p for p in report["pluginReports"] if p["pluginName"] == "AwsSolutions"]
    assert pack["conclusion"] == "success" and pack["violations"] == []
    acknowledged = {v["ruleName"] for v in pack["suppressedViolations"]}
    assert "AwsSolutions-IAM5[Resource::*]" in acknowledged


def test_cdk_nag_fails_the_synthesis_without_the_acknowledgments(tmp_path):
    with mock.patch.object(nag, "ACKNOWLEDGED", {}):
        app, _, _ = build_app(outdir=str(tmp_path), context={"stage": "dev"}, bundling=False)
        with pytest.raises(RuntimeError, match="ValidationFailed"):
            app.synth()
    report = json.loads((tmp_path / "validation-report.json").read_text())
    rules = {v["ruleName"] for p in report["pluginReports"] for v in p["violations"]}
    assert "AwsSolutions-IAM5[Resource::*]" in rules


def test_every_acknowledgment_has_a_reason():
    assert all(len(reason) > 40 for reason in nag.ACKNOWLEDGED.values())


def run(*command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, capture_output=True, text=True, check=False)


def test_cfn_lint_passes(synthesized, private_template):
    result = run(str(BIN / "cfn-lint"), "-i", "W3005", "--", str(synthesized[0]), str(private_template))
    assert result.returncode == 0, result.stdout + result.stderr


def test_statelint_passes_on_the_rendered_definition(definition, tmp_path):
    path = tmp_path / "definition.asl.json"
    path.write_text(json.dumps(definition))
    result = run(str(BIN / "statelint"), "--ignore=FLOAT", str(path))
    assert result.returncode == 0, result.stdout + result.stderr


def test_cfn_lint_e3601_validates_the_rendered_definition(definition, tmp_path):
    wrapper = {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Resources": {
            "Machine": {
                "Type": "AWS::StepFunctions::StateMachine",
                "Properties": {"RoleArn": "arn:aws:iam::123456789012:role/r", "Definition": definition},
            }
        },
    }
    path = tmp_path / "wrapper.json"
    path.write_text(json.dumps(wrapper))
    result = run(str(BIN / "cfn-lint"), "--", str(path))
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_validators_catch_a_broken_definition(definition, tmp_path):
    broken = json.loads(json.dumps(definition))
    broken["States"]["Submit Job"]["Next"] = "No Such State"
    path = tmp_path / "broken.asl.json"
    path.write_text(json.dumps(broken))
    assert run(str(BIN / "statelint"), "--ignore=FLOAT", str(path)).returncode != 0


def test_the_iac_scanner_finds_nothing_unexplained(synthesized, private_template):
    """checkov, the scanner security reviewers run, on the synthesized template (and the one of
    a stage with a `vpc`): nothing fails; what is skipped is skipped in the template's metadata
    with the reason kept in infra/nag.py."""
    checkov = Path(__file__).resolve().parents[2] / ".venv-scan" / "bin" / "checkov"
    assert checkov.exists(), "the scanner's venv is missing: run `make setup`"
    scan = subprocess.run([str(checkov), "-f", str(synthesized[0]), str(private_template), "--framework", "cloudformation",
                           "--compact", "-o", "json"], capture_output=True, text=True, timeout=300)
    report = json.loads(scan.stdout)
    failed = [(r["check_id"], r["resource"]) for r in report["results"]["failed_checks"]]
    assert report["summary"]["failed"] == 0 and failed == [], failed
    assert all(r["check_result"]["suppress_comment"] == nag.SCANNER_SKIPS[r["check_id"]] for r in report["results"]["skipped_checks"])

    def of(template: Path, outcome: str) -> list[dict]:
        return [r for r in report["results"][outcome] if Path(r["file_path"]).name == template.name]

    assert len(of(synthesized[0], "passed_checks")) > 400 and len(of(private_template, "passed_checks")) > 400
    assert {r["check_id"] for r in of(synthesized[0], "skipped_checks")} == set(nag.SCANNER_SKIPS)
    # In private subnets the lifecycle functions pass the VPC check; only CDK's deployment functions skip it.
    in_vpc = {r["resource"] for r in of(private_template, "passed_checks") if r["check_id"] == "CKV_AWS_117"}
    outside = {r["resource"] for r in of(private_template, "skipped_checks") if r["check_id"] == "CKV_AWS_117"}
    assert len(in_vpc) == len(ALL_FUNCTIONS) and all(name.split(".")[1].startswith("Steps") for name in in_vpc)
    assert outside and not any(name.split(".")[1].startswith("Steps") for name in outside)
