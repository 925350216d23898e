#!/usr/bin/env python3
"""CDK entry point: stage config is read once from cdk.json's context (-c stage=NAME picks
another stage), validated into a StageConfig, and passed down to the stack."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent / "lambdas"))

from infra.app_builder import build_app  # noqa: E402

app, _stack, _config = build_app()
app.synth()
