"""Workflow tests execute the synthesized state machine (stage `local`) in the offline
engine: moto's interpreter, the real handlers in-process, the simulated Bedrock."""

from __future__ import annotations

import itertools
import re
from pathlib import Path
from typing import Any

import pytest

from bedrock_customize.offline import engine as offline
from customization.registry import load_registry
from tests.datasets import provisioned_unless_chosen, write_dataset

_counter = itertools.count()
# The reads Validate Request's pre-flight makes before a dataset is even opened: no Create*.
PREFLIGHT_READS = [
    "GetFoundationModel", "GetFoundationModelAvailability", "ListServiceQuotas", "ListProvisionedModelThroughputs", "ListModelCustomizationJobs",
    "ListCustomModels",
]


@pytest.fixture(scope="session")
def local_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return offline.synthesize(tmp_path_factory.mktemp("cdk.out.local"), stage="local")


class Runner:
    def __init__(self, template: Path, tmp_path: Path) -> None:
        self.lines: list[str] = []
        self.engine = offline.OfflineEngine(template, log=self.lines.append)
        self.tmp_path = tmp_path

    def run(
        self,
        base_model: str = "nova-lite",
        customization_type: str = "FINE_TUNING",
        *,
        datasets: dict[str, Path] | None = None,
        **kwargs: Any,
    ) -> offline.RunResult:
        data_format = load_registry().resolve(base_model).customization(customization_type).data_format
        if datasets is None:
            datasets = {
                "training_data": write_dataset(self.tmp_path / "train.jsonl", data_format, 100),
                "validation_data": write_dataset(self.tmp_path / "validation.jsonl", data_format, 4, start=100),
                "test_data": write_dataset(self.tmp_path / "test.jsonl", data_format, 5, start=104),
            }
        request = provisioned_unless_chosen(
            {"base_model": base_model, "customization_type": customization_type, **kwargs.pop("request", {})})
        request.update({name: path.name for name, path in datasets.items() if "." not in name})  # prepare.source: set by the engine
        name = f"test-{next(_counter)}-{re.sub(r'[^A-Za-z0-9-]+', '-', base_model)}"
        return self.engine.run(request, execution_name=name, datasets=datasets, **kwargs)


@pytest.fixture
def runner(local_template: Path, tmp_path: Path) -> Runner:
    return Runner(local_template, tmp_path)
