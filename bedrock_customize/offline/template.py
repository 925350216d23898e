"""Reading a synthesized CloudFormation template: resources by type and the intrinsic
functions CDK emits (Ref, Fn::GetAtt, Fn::Join; Fn::Select over Fn::GetAZs for a created VPC's
subnets; Fn::Split on ARNs is not used)."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class Template:
    document: dict[str, Any]
    pseudo: dict[str, str] = field(default_factory=dict)
    refs: dict[str, str] = field(default_factory=dict)
    attributes: dict[tuple[str, str], str] = field(default_factory=dict)

    @classmethod
    def load(cls, path: Path, *, account: str, region: str, stack_name: str) -> Template:
        pseudo = {
            "AWS::Partition": "aws",
            "AWS::Region": region,
            "AWS::AccountId": account,
            "AWS::URLSuffix": "amazonaws.com",
            "AWS::StackName": stack_name,
            "AWS::NoValue": "",
        }
        return cls(document=json.loads(path.read_text(encoding="utf-8")), pseudo=pseudo)

    def resources(self, resource_type: str) -> dict[str, dict[str, Any]]:
        return {
            logical_id: resource
            for logical_id, resource in self.document["Resources"].items()
            if resource["Type"] == resource_type
        }

    def resolve(self, value: Any) -> Any:
        """Replace intrinsics with the physical names and ARNs recorded in refs/attributes."""
        if isinstance(value, list):
            return [self.resolve(v) for v in value]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            (key, argument), = value.items()
            handler: Callable[[Any], Any] | None = {
                "Ref": self._ref,
                "Fn::GetAtt": self._get_att,
                "Fn::Join": self._join,
                "Fn::Select": self._select,
                "Fn::GetAZs": self._availability_zones,
            }.get(key)
            if handler:
                return handler(argument)
        return {k: self.resolve(v) for k, v in value.items()}

    def _ref(self, name: str) -> str:
        if name in self.pseudo:
            return self.pseudo[name]
        if name in self.refs:
            return self.refs[name]
        raise KeyError(f"the offline engine created no resource for Ref {name!r}")

    def _get_att(self, argument: list[str]) -> str:
        key = (argument[0], argument[1])
        if key not in self.attributes:
            raise KeyError(f"the offline engine knows no attribute {argument[0]}.{argument[1]}")
        return self.attributes[key]

    def _join(self, argument: list[Any]) -> str:
        separator, parts = argument
        return str(separator).join(str(self.resolve(p)) for p in parts)

    def _select(self, argument: list[Any]) -> Any:
        index, values = argument
        return self.resolve(values)[int(index)]

    def _availability_zones(self, _region: str) -> list[str]:
        return [f"{self.pseudo['AWS::Region']}{zone}" for zone in "abc"]

    def output(self, name: str) -> Any:
        return self.resolve(self.document["Outputs"][name]["Value"])
