"""Model versions: the versions table (DynamoDB) and the current version's ARN per model name
(an SSM parameter)."""

from __future__ import annotations

import json
from typing import Any

from boto3.dynamodb.conditions import Key

from customization.adapters.errors import aws_errors
from customization.errors import ConditionFailedError, ResourceNotFoundError
from customization.models.versions import ModelVersion, parameter_name


class ModelVersions:
    def __init__(self, table: Any, ssm: Any, parameter_prefix: str) -> None:
        self._table, self._ssm, self._prefix = table, ssm, parameter_prefix

    def parameter(self, model_name: str) -> str:
        return parameter_name(self._prefix, model_name)

    def _pages(self, action: str, read: Any, **params: Any) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        while True:
            with aws_errors(action):
                page = read(**params)
            items += page["Items"]
            if "LastEvaluatedKey" not in page:
                return items
            params["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def versions(self, model_name: str) -> list[ModelVersion]:
        items = self._pages(f"list the versions of {model_name}", self._table.query,
                            KeyConditionExpression=Key("model").eq(model_name), ConsistentRead=True)
        return [ModelVersion.model_validate_json(item["document"]) for item in items]

    def model_names(self) -> list[str]:
        items = self._pages("list the model names", self._table.scan, ProjectionExpression="#m", ExpressionAttributeNames={"#m": "model"})
        return sorted({item["model"] for item in items})

    def add(self, version: ModelVersion) -> bool:
        """Writes the version once: False when that number is already taken."""
        item = {"model": version.model_name, "version": version.version, "document": version.model_dump_json()}
        try:
            with aws_errors(f"record version {version.version} of {version.model_name}"):
                self._table.put_item(Item=item, ConditionExpression="attribute_not_exists(#v)", ExpressionAttributeNames={"#v": "version"})
        except ConditionFailedError:
            return False
        return True

    def replace(self, version: ModelVersion) -> None:
        with aws_errors(f"update version {version.version} of {version.model_name}"):
            self._table.put_item(Item={"model": version.model_name, "version": version.version, "document": version.model_dump_json()})

    def current_arn(self, model_name: str) -> str | None:
        try:
            with aws_errors(f"read the current version of {model_name}"):
                return str(self._ssm.get_parameter(Name=self.parameter(model_name))["Parameter"]["Value"])
        except ResourceNotFoundError:
            return None

    def set_current(self, model_name: str, arn: str, *, version: int) -> None:
        with aws_errors(f"make version {version} of {model_name} current"):
            self._ssm.put_parameter(Name=self.parameter(model_name), Value=arn, Type="String", Overwrite=True,
                                    Description=json.dumps({"model": model_name, "version": version})[:1024])
