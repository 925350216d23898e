"""What IAM would decide, offline: the synthesized stack's identity policies, resolved, judged
for one action on one resource. Statement-level Allow and Deny with wildcards in actions and
resources, as IAM evaluates them; conditions are not evaluated (the stack's own statements
carry none on the calls checked here), and an unresolvable statement is left out, so a check
can only become stricter, never looser, than AWS."""

from __future__ import annotations

import fnmatch
from typing import Any

from bedrock_customize.offline.template import Template


def _listed(value: Any) -> list[str]:
    return [str(v) for v in value] if isinstance(value, list) else [str(value)]


def _matches(patterns: list[str], value: str, *, case_sensitive: bool) -> bool:
    if case_sensitive:
        return any(fnmatch.fnmatchcase(value, pattern) for pattern in patterns)
    return any(fnmatch.fnmatchcase(value.lower(), pattern.lower()) for pattern in patterns)


class RolePolicies:
    """Each role's statements, by role ARN, read from the template's AWS::IAM::Policy and
    AWS::IAM::ManagedPolicy resources
    once the engine has created (and named) every resource they refer to."""

    def __init__(self) -> None:
        self.statements: dict[str, list[dict[str, Any]]] = {}

    def load(self, template: Template) -> None:
        for resource in [*template.resources("AWS::IAM::Policy").values(), *template.resources("AWS::IAM::ManagedPolicy").values()]:
            props = resource["Properties"]
            roles = [template.attributes.get((ref["Ref"], "Arn")) for ref in props.get("Roles", []) if "Ref" in ref]
            for statement in props["PolicyDocument"]["Statement"]:
                try:
                    resolved = template.resolve(statement)
                except KeyError:
                    continue  # names a resource the engine does not create
                for role in filter(None, roles):
                    self.statements.setdefault(role, []).append(resolved)

    def allows(self, role_arn: str, action: str, resource: str) -> bool:
        allowed = False
        for statement in self.statements.get(role_arn, []):
            if not _matches(_listed(statement.get("Action", [])), action, case_sensitive=False):
                continue
            if not _matches(_listed(statement.get("Resource", [])), resource, case_sensitive=True):
                continue
            if statement.get("Effect") == "Deny":
                return False
            allowed = allowed or statement.get("Effect") == "Allow"
        return allowed
