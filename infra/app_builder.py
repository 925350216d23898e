"""Builds the CDK app from cdk.json's context. Used by app.py, the offline engine and the tests."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import aws_cdk as cdk

from customization.registry import load_registry
from infra import nag
from infra.config import StageConfig, load_stage_config
from infra.stack import ModelCustomizationStack

CDK_JSON = Path(__file__).resolve().parent.parent / "cdk.json"


def file_context() -> dict[str, Any]:
    return dict(json.loads(CDK_JSON.read_text(encoding="utf-8"))["context"])


def build_app(
    *, outdir: str | None = None, context: dict[str, Any] | None = None, bundling: bool = True
) -> tuple[cdk.App, ModelCustomizationStack, StageConfig]:
    """cdk.json's context gives the defaults; `context` (and the CLI's -c) override them.
    `bundling=False` skips the Lambda asset bundling (template-only synthesis)."""
    defaults = {**file_context(), **(context or {})}
    if not bundling:
        defaults["aws:cdk:bundling-stacks"] = []
    app = cdk.App(outdir=outdir, context=defaults)
    raw = {key: app.node.try_get_context(key) for key in ("stage", "stages", "stage_overrides")}
    if isinstance(raw["stage_overrides"], str):  # -c stage_overrides='{"...": ...}' arrives as a string
        raw["stage_overrides"] = json.loads(raw["stage_overrides"])
    config = load_stage_config(raw)
    env = cdk.Environment(account=config.account, region=config.region) if config.account or config.region else None
    stack = ModelCustomizationStack(app, config.stack_name, config=config, registry=load_registry(), env=env)
    nag.add_checks(app)
    return app, stack, config
