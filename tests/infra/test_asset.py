"""The Lambda asset carries every package the handlers import.

The asset is built by the same bundler as `cdk synth`, for this interpreter's Python
version (the deployed functions run a newer one whose compiled wheels cannot load here),
then every handler is imported in a fresh interpreter that sees only the asset and the
standard library, with LAMBDA_TASK_ROOT set so Powertools' tracer loads the X-Ray SDK as it
does in Lambda."""

from __future__ import annotations

import hashlib
import subprocess
import sys

import pytest

from infra.bundling import build_asset
from infra.steps import STEPS

PROBE = """
import importlib, json, sys, sysconfig
asset = sys.argv[1]
sys.path.insert(0, asset)
stdlib = sysconfig.get_paths()["stdlib"]
for module in sys.argv[2:]:
    importlib.import_module(module)
outside = sorted(
    name for name, m in sys.modules.items()
    if getattr(m, "__file__", None) and not m.__file__.startswith((asset, stdlib))
)
print(json.dumps(outside))
"""


@pytest.fixture(scope="module")
def asset(tmp_path_factory):
    path = tmp_path_factory.mktemp("asset")
    build_asset(path, f"{sys.version_info.major}.{sys.version_info.minor}")
    return path


def test_every_handler_imports_from_the_built_asset_alone(asset):
    modules = sorted({step.handler.rsplit(".", 1)[0] for step in STEPS})
    env = {"LAMBDA_TASK_ROOT": str(asset), "PATH": "/usr/bin:/bin", "AWS_DEFAULT_REGION": "us-east-1"}
    result = subprocess.run(
        [sys.executable, "-I", "-S", "-c", PROBE, str(asset), *modules],
        capture_output=True, text=True, env=env, cwd=asset, check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip() == "[]", f"modules loaded from outside the asset: {result.stdout}"


def test_the_asset_holds_our_package_and_no_build_leftovers(asset):
    assert (asset / "customization" / "registry" / "base_models.json").is_file()
    assert not (asset / "requirements.txt").exists()


def test_a_dependency_folder_another_worker_installed_first_is_used_as_it_is(tmp_path, monkeypatch):
    """Two test workers (or two syntheses) may install the Lambda's packages at once: the one
    that finishes second keeps the first one's folder and removes its own."""
    from infra import bundling

    monkeypatch.setattr(bundling, "CACHE_DIR", tmp_path)

    def pip_while_another_finishes(command, **_):
        target.mkdir()  # the other worker's install lands while this one's pip runs
        (target / "theirs.txt").write_text("installed by the other worker")
        return subprocess.CompletedProcess(command, 0, "", "")

    requirements = bundling.REQUIREMENTS.read_bytes()
    key = hashlib.sha256(requirements + b"3.11" + ",".join(bundling.PLATFORMS).encode()).hexdigest()[:16]
    target = tmp_path / f"py3.11-{key}"
    monkeypatch.setattr(bundling.subprocess, "run", pip_while_another_finishes)
    assert bundling.dependencies_dir("3.11") == target
    assert (target / "theirs.txt").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith("deps-")]  # its own staging folder is gone
