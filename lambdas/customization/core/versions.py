"""Model versions: Register Version keeps a promoted custom model as the next version of the
run's model name and makes it current; the CLI lists, shows, promotes, rolls back and deletes.
Rolling back never deletes a model; deleting refuses the current version."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from customization.errors import RequestInvalidError, ResourceNotFoundError
from customization.models.steps import StepInput, VersionOutcome
from customization.models.versions import DatasetLineage, Lineage, MetricLineage, ModelVersion

if TYPE_CHECKING:
    from customization.adapters.bedrock import BedrockControl
    from customization.adapters.storage import ObjectStore
    from customization.adapters.versions import ModelVersions

ATTEMPTS = 3  # two runs of one model name finishing at once take the next numbers in turn


def _lineage(state: StepInput, store: ObjectStore) -> Lineage:
    run, evaluation = state.run, state.evaluation
    assert evaluation is not None  # checked by the caller
    datasets = []
    for role, uri in (("training", run.training_data), ("validation", run.validation_data), ("test", run.test_data)):
        if not uri:
            continue
        version_id, sha256 = (None, None) if uri.endswith("/") else store.fingerprint(uri)
        datasets.append(DatasetLineage(role=role, uri=uri, version_id=version_id, sha256=sha256))  # type: ignore[arg-type]
    return Lineage(
        base_model=run.base_model_id, customization_type=run.customization_type, datasets=datasets,
        hyperparameters=run.hyperparameters,
        metrics=MetricLineage(primary_metric=evaluation.primary_metric, base=evaluation.base, custom=evaluation.custom,
                              delta=evaluation.delta, ci95=evaluation.ci95),
        report_uri=evaluation.report_uri, report_html_uri=evaluation.report_html_uri,
        execution_name=run.execution_name, execution_arn=run.execution_arn,
    )


def register_version(state: StepInput, *, store: ObjectStore, versions: ModelVersions, now: datetime) -> VersionOutcome:
    """The Register Version state: a promoted run with a model name becomes that name's next
    version and its current one. A repeat of the step finds the version it made."""
    run, evaluation = state.run, state.evaluation
    if not run.model_name:
        return VersionOutcome(registered=False, why="the request names no model_name")
    if evaluation is None or not evaluation.promoted:
        return VersionOutcome(registered=False, model_name=run.model_name, why="the evaluation did not promote the custom model")
    arn = state.require_job().custom_model_arn
    if not arn:
        raise RequestInvalidError("Register Version: the job recorded no custom model ARN")
    existing = versions.versions(run.model_name)
    made = next((v for v in existing if v.lineage.execution_name == run.execution_name), None)
    if made is None:
        lineage = _lineage(state, store)
        number = max((v.version for v in existing), default=0) + 1
        for attempt in range(ATTEMPTS):
            made = ModelVersion(model_name=run.model_name, version=number + attempt, custom_model_arn=arn, created_at=now, lineage=lineage)
            if versions.add(made):
                break
        else:
            raise RequestInvalidError(f"Register Version: versions {number}-{number + ATTEMPTS - 1} of {run.model_name} were taken meanwhile")
    versions.set_current(run.model_name, made.custom_model_arn, version=made.version)
    return VersionOutcome(registered=True, model_name=run.model_name, version=made.version, parameter=versions.parameter(run.model_name),
                          why=f"version {made.version} of {run.model_name} is current")


def _find(versions: ModelVersions, model_name: str, version: int | None = None) -> tuple[list[ModelVersion], ModelVersion | None]:
    known = sorted(versions.versions(model_name), key=lambda v: v.version)
    if not known:
        raise RequestInvalidError(f"no model named {model_name!r} has versions")
    current_arn = versions.current_arn(model_name)
    current = next((v for v in known if v.custom_model_arn == current_arn), None)
    if version is not None and not any(v.version == version for v in known):
        raise RequestInvalidError(f"{model_name} has no version {version}; it has {', '.join(str(v.version) for v in known)}")
    return known, current


def current_version(versions: ModelVersions, model_name: str) -> tuple[list[ModelVersion], ModelVersion | None]:
    return _find(versions, model_name)


def promote(versions: ModelVersions, model_name: str, version: int) -> ModelVersion:
    known, _ = _find(versions, model_name, version)
    chosen = next(v for v in known if v.version == version)
    if chosen.status == "deleted":
        raise RequestInvalidError(f"version {version} of {model_name} was deleted; it cannot be made current")
    versions.set_current(model_name, chosen.custom_model_arn, version=version)
    return chosen


def rollback(versions: ModelVersions, model_name: str) -> ModelVersion:
    """Make the version before the current one current again (nothing is deleted)."""
    known, current = _find(versions, model_name)
    if current is None:
        raise RequestInvalidError(f"{model_name} has no current version to roll back from")
    earlier = [v for v in known if v.version < current.version and v.status == "registered"]
    if not earlier:
        raise RequestInvalidError(f"version {current.version} is the first kept version of {model_name}; there is nothing to roll back to")
    return promote(versions, model_name, earlier[-1].version)


def delete_version(versions: ModelVersions, bedrock: BedrockControl, model_name: str, version: int) -> ModelVersion:
    """Delete a version's custom model (never the current version's) and mark it deleted."""
    known, current = _find(versions, model_name, version)
    chosen = next(v for v in known if v.version == version)
    if current is not None and current.version == version:
        raise RequestInvalidError(f"version {version} is the current version of {model_name}; promote or roll back first")
    if chosen.status == "registered":
        try:
            bedrock.delete_custom_model(chosen.custom_model_arn)
        except ResourceNotFoundError:
            pass  # deleted outside the pipeline: the version is marked so below
    deleted = chosen.model_copy(update={"status": "deleted"})
    versions.replace(deleted)
    return deleted
