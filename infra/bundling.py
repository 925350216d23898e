"""Lambda asset bundling without Docker.

The asset is `lambdas/customization` plus every pinned package of
`lambdas/requirements.txt`, installed by pip for the Lambda's Python version and Linux
x86_64 (manylinux wheels). The installed packages are cached under `.build/` by a hash of
the requirements and the target, so only the first synthesis downloads anything.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import jsii
from aws_cdk import ILocalBundling

ROOT = Path(__file__).resolve().parent.parent
LAMBDAS_DIR = ROOT / "lambdas"
PACKAGE = "customization"
REQUIREMENTS = LAMBDAS_DIR / "requirements.txt"
CACHE_DIR = ROOT / ".build" / "lambda-deps"
PLATFORMS = ("manylinux2014_x86_64", "manylinux_2_17_x86_64", "manylinux_2_28_x86_64")
_IGNORED = shutil.ignore_patterns("__pycache__", "*.pyc")


class BundlingError(RuntimeError):
    """pip could not install the Lambda requirements."""


def dependencies_dir(python_version: str) -> Path:
    """Install (once) and return the folder holding the Lambda's third-party packages."""
    requirements = REQUIREMENTS.read_bytes()
    key = hashlib.sha256(requirements + python_version.encode() + ",".join(PLATFORMS).encode()).hexdigest()[:16]
    target = CACHE_DIR / f"py{python_version}-{key}"
    if target.is_dir():
        return target
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix="deps-", dir=CACHE_DIR))
    command = [
        sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
        "--no-deps", "--prefer-binary", "--no-compile",
        "--implementation", "cp", "--python-version", python_version,
        *[arg for platform in PLATFORMS for arg in ("--platform", platform)],
        "--target", str(staging), "--requirement", str(REQUIREMENTS),
    ]  # fmt: skip
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        shutil.rmtree(staging, ignore_errors=True)
        raise BundlingError(f"pip could not bundle {REQUIREMENTS}:\n{result.stderr.strip()}")
    try:
        staging.rename(target)
    except OSError:  # another process (a second test worker, a parallel synth) installed it first
        shutil.rmtree(staging, ignore_errors=True)
        if not target.is_dir():
            raise
    return target


def build_asset(output_dir: Path, python_version: str) -> None:
    """Write the complete function asset (packages + our package) into `output_dir`."""
    shutil.copytree(dependencies_dir(python_version), output_dir, dirs_exist_ok=True, ignore=_IGNORED)
    shutil.copytree(LAMBDAS_DIR / PACKAGE, output_dir / PACKAGE, dirs_exist_ok=True, ignore=_IGNORED)


@jsii.implements(ILocalBundling)
class LocalPipBundling:
    def __init__(self, python_version: str) -> None:
        self._python_version = python_version

    def try_bundle(self, output_dir: str, *, image: Any, **_: Any) -> bool:
        build_asset(Path(output_dir), self._python_version)
        return True
