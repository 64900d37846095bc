"""Reading synthesized CloudFormation templates: resources by type, intrinsics resolved to local names.

A :class:`Resolver` is given the physical value of each reference it may meet (``Ref`` of a
logical id, ``Fn::GetAtt`` as ``"<logical id>.<attribute>"``, pseudo parameters); anything
else fails loudly, so a template change that local emulation does not cover shows at start-up
rather than as a wrong value at run time.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Mapping

from local.settings import ACCOUNT_ID, REGION

PSEUDO_PARAMETERS = {"AWS::Partition": "aws", "AWS::Region": REGION, "AWS::AccountId": ACCOUNT_ID,
                     "AWS::URLSuffix": "amazonaws.com", "AWS::NoValue": None}


class UnresolvedReference(LookupError):
    """A template refers to something the local emulation has no value for."""


class Template:
    """One stack's synthesized template."""

    def __init__(self, stack_name: str, document: dict[str, Any]) -> None:
        self.stack_name = stack_name
        self.document = document
        self.resources: dict[str, dict[str, Any]] = document.get("Resources", {})

    @classmethod
    def load(cls, assembly: str | Path, stack_name: str) -> "Template":
        path = Path(assembly) / f"{stack_name}.template.json"
        try:
            return cls(stack_name, json.loads(path.read_text()))
        except FileNotFoundError:
            raise UnresolvedReference(f"{path} is missing: the cloud assembly has no stack {stack_name}") from None

    def of_type(self, cfn_type: str) -> dict[str, dict[str, Any]]:
        """{logical id: properties} of every resource of a type."""
        return {logical_id: resource.get("Properties", {}) for logical_id, resource in self.resources.items()
                if resource["Type"] == cfn_type}

    def one(self, cfn_type: str) -> tuple[str, dict[str, Any]]:
        found = list(self.of_type(cfn_type).items())
        if len(found) != 1:
            raise UnresolvedReference(f"{self.stack_name} has {len(found)} {cfn_type} resources; local emulation "
                                      "expects exactly one")
        return found[0]

    def properties(self, logical_id: str) -> dict[str, Any]:
        return self.resources[logical_id].get("Properties", {})


class Resolver:
    """Resolves ``Ref``, ``Fn::GetAtt``, ``Fn::Join``, ``Fn::Select`` and ``Fn::Split``."""

    def __init__(self, physical_names: Mapping[str, Any]) -> None:
        self.physical_names = {**PSEUDO_PARAMETERS, **physical_names}

    def __call__(self, value: Any) -> Any:
        if isinstance(value, list):
            return [self(item) for item in value]
        if not isinstance(value, dict):
            return value
        if "Ref" in value:
            return self._name(value["Ref"])
        if "Fn::GetAtt" in value:
            target = value["Fn::GetAtt"]
            logical_id, attribute = target if isinstance(target, list) else target.split(".", 1)
            return self._name(f"{logical_id}.{attribute}")
        if "Fn::Join" in value:
            separator, parts = value["Fn::Join"]
            return separator.join(str(self(part)) for part in self(parts))
        if "Fn::Select" in value:
            index, items = value["Fn::Select"]
            return self(items)[int(self(index))]
        if "Fn::Split" in value:
            separator, text = value["Fn::Split"]
            return str(self(text)).split(separator)
        unknown = [key for key in value if key.startswith("Fn::")]
        if unknown:
            raise UnresolvedReference(f"local emulation does not resolve {unknown[0]}: {value}")
        return {key: self(item) for key, item in value.items()}

    def _name(self, key: str) -> Any:
        if key not in self.physical_names:
            raise UnresolvedReference(f"no local value for {key!r}")
        return self.physical_names[key]

    def with_names(self, more: Mapping[str, Any]) -> "Resolver":
        return Resolver({**self.physical_names, **more})
