"""Looking things up in synthesized CloudFormation templates (plain JSON), for every test module.

Template assertions that need more than ``aws_cdk.assertions`` offers (every statement of a
role, the one resource with given properties) use these, never logical ids written by hand.
"""
from __future__ import annotations

from typing import Any

from stacks.common.nag import nag_rendering

render = nag_rendering  # a value as text, references and pseudo parameters as ``<name>``


def as_list(value: Any) -> list:
    return value if isinstance(value, list) else [value]


def resources(template_json: dict, resource_type: str) -> dict[str, dict]:
    """Every resource of a type: {logical id: resource}."""
    return {logical_id: resource for logical_id, resource in template_json["Resources"].items()
            if resource["Type"] == resource_type}


def properties_of(template_json: dict, resource_type: str) -> list[dict]:
    """The properties of every resource of a type."""
    return [resource.get("Properties", {}) for resource in resources(template_json, resource_type).values()]


def only(template_json: dict, resource_type: str, **properties: Any) -> tuple[str, dict]:
    """The one resource of a type whose properties hold ``properties``: (logical id, properties)."""
    found = [(logical_id, r["Properties"]) for logical_id, r in resources(template_json, resource_type).items()
             if all(r["Properties"].get(k) == v for k, v in properties.items())]
    assert len(found) == 1, f"expected one {resource_type} with {properties}, found {len(found)}"
    return found[0]


def grants(statements: list[dict]) -> set[tuple[str, str]]:
    """(action, resource) pairs of Allow statements."""
    return {(action, render(resource)) for statement in statements if statement["Effect"] == "Allow"
            for action in as_list(statement["Action"]) for resource in as_list(statement["Resource"])}


def role_policy_documents(template_json: dict, role_id: str) -> list[dict]:
    """Every policy document that applies to a role: AWS::IAM::Policy and customer managed
    policies attached to it, and its inline policies."""
    documents = [policy["Properties"]["PolicyDocument"]
                 for cfn_type in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy")
                 for policy in resources(template_json, cfn_type).values()
                 if {"Ref": role_id} in policy["Properties"].get("Roles", [])]
    role = template_json["Resources"][role_id]["Properties"]
    return documents + [inline["PolicyDocument"] for inline in role.get("Policies", [])]


def role_statements(template_json: dict, role_id: str) -> list[dict]:
    """Every permission statement of a role (see :func:`role_policy_documents`)."""
    return [s for document in role_policy_documents(template_json, role_id) for s in document["Statement"]]


def one(template_json: dict, resource_type: str) -> tuple[str, dict]:
    """The only resource of a type: (logical id, resource)."""
    found = list(resources(template_json, resource_type).items())
    assert len(found) == 1, f"expected one {resource_type}, found {len(found)}"
    return found[0]


def role_granting(template_json: dict, action: str) -> str:
    """The logical id of the one role any of whose policies allows ``action``."""
    found = {role_id for role_id in resources(template_json, "AWS::IAM::Role")
             if any(action in as_list(s["Action"]) for s in role_statements(template_json, role_id))}
    assert len(found) == 1, f"expected one role allowing {action}, found {sorted(found)}"
    return found.pop()


def all_statements(template_json: dict) -> list[dict]:
    """Every statement of every AWS::IAM::Policy and inline role policy of the template."""
    inline = [s for role in properties_of(template_json, "AWS::IAM::Role")
              for policy in role.get("Policies", []) for s in policy["PolicyDocument"]["Statement"]]
    return inline + [s for policy in properties_of(template_json, "AWS::IAM::Policy")
                     for s in policy["PolicyDocument"]["Statement"]]
