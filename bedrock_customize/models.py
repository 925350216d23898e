"""`bedrock-customize models`: the model versions of a deployed stack (its versions table and
its SSM parameters, found through the stack's outputs). Rollback never deletes a model; only
`delete` does, and never the current version."""

from __future__ import annotations

import json
from typing import Any

from bedrock_customize.deployed import CommandError, aws_call, stack_outputs


def _versions(stack: str) -> Any:
    import boto3

    from customization.adapters import model_versions

    outputs = stack_outputs(boto3.client("cloudformation"), stack)
    if "ModelVersionsTableName" not in outputs:
        raise CommandError(f"stack {stack} has no ModelVersionsTableName output: deploy this version of the stack first")
    table = boto3.resource("dynamodb").Table(outputs["ModelVersionsTableName"])
    return model_versions(table, boto3.client("ssm"), outputs["ModelParameterPrefix"])


def _bedrock() -> Any:
    import boto3

    from customization.adapters.bedrock import BedrockControl

    return BedrockControl(boto3.client("bedrock"))


def _call(action: str, call: Any) -> Any:
    """The use case's refusals (RequestInvalidError) and AWS's errors, as one line each."""
    from customization.errors import CustomizationError

    try:
        return aws_call(action, call)
    except CustomizationError as exc:
        raise CommandError(str(exc)) from None


def run(stack: str, action: str, name: str | None, version: int | None) -> None:
    from customization.core import versions as use_cases

    store = _versions(stack)
    if action == "list":
        for model in _call("list the model names", store.model_names):
            known, current = _call(f"read {model}", lambda model=model: use_cases.current_version(store, model))
            kept = [v for v in known if v.status == "registered"]
            print(f"{model}  current: {current.version if current else '-'}  versions kept: {len(kept)} of {len(known)}")
        return
    assert name is not None
    if action == "show":
        known, current = _call(f"read {name}", lambda: use_cases.current_version(store, name))
        chosen = [v for v in known if version is None or v.version == version]
        if version is not None and not chosen:
            raise CommandError(f"{name} has no version {version}")
        for v in chosen:
            marker = "  (current)" if current and v.version == current.version else ""
            print(f"{name} v{v.version} [{v.status}]{marker} {v.custom_model_arn}")
            if version is not None:
                print(json.dumps(v.lineage.model_dump(mode="json"), indent=2))
        print(f"parameter: {store.parameter(name)}")
    elif action == "promote":
        assert version is not None
        chosen = _call(f"promote {name} v{version}", lambda: use_cases.promote(store, name, version))
        print(f"{name}: version {chosen.version} is current ({chosen.custom_model_arn})")
    elif action == "rollback":
        chosen = _call(f"roll back {name}", lambda: use_cases.rollback(store, name))
        print(f"{name}: rolled back to version {chosen.version} ({chosen.custom_model_arn}); no model was deleted")
    elif action == "delete":
        assert version is not None
        deleted = _call(f"delete {name} v{version}", lambda: use_cases.delete_version(store, _bedrock(), name, version))
        print(f"{name}: version {deleted.version} deleted ({deleted.custom_model_arn})")
