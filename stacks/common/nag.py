"""cdk-nag 3.x as a synth-time gate, and the one way to acknowledge a finding."""
from __future__ import annotations

import re
from typing import Any, Iterable

import aws_cdk as cdk
from cdk_nag import AwsSolutionsChecks
from constructs import IConstruct

_POLICY_VARIABLE = re.compile(r"\$\{([^}]+)\}")
_RULE = re.compile(r"^AwsSolutions-[A-Z]+\d+(\[[^\]]+\])?$")


def apply_quality_gates(app: cdk.App) -> None:
    """Every AwsSolutions finding on any stack fails synth unless acknowledged."""
    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app))


def acknowledge(resource: IConstruct, rule: str, reason: str) -> None:
    """Acknowledge one finding on one resource, with the reason a reviewer needs.

    ``rule`` names a single finding (``AwsSolutions-IAM5[Resource::*]`` for rules that
    report several); stack-wide or rule-prefix acknowledgements are not offered on purpose.
    """
    if not _RULE.fullmatch(rule):
        raise ValueError(f"acknowledge() takes one AwsSolutions finding id, got {rule!r}")
    if len(reason.split()) < 6:
        raise ValueError(f"acknowledging {rule} needs a specific reason, got {reason!r}")
    cdk.Validations.of(resource).acknowledge(cdk.Acknowledgment(id=rule, reason=reason))


def acknowledge_wildcard_resources(resource: IConstruct, arns: Iterable[str], reason: str) -> None:
    """Acknowledge ``AwsSolutions-IAM5`` for each of ``arns`` that holds a ``*``, named as
    cdk-nag names it (pseudo parameters and policy variables as ``<name>``), whether the
    stack's account and region are pinned or not."""
    stack = cdk.Stack.of(resource)
    for arn in arns:
        rendered = nag_rendering(stack.resolve(arn))
        if "*" in rendered:
            acknowledge(resource, f"AwsSolutions-IAM5[Resource::{rendered}]", reason)


def nag_rendering(value: Any) -> str:
    """A resolved template value as cdk-nag writes it in finding ids: references, attributes,
    pseudo parameters and policy variables as ``<name>``."""
    if isinstance(value, str):
        return _POLICY_VARIABLE.sub(r"<\1>", value)
    if isinstance(value, dict) and set(value) == {"Ref"}:
        return f"<{value['Ref']}>"
    if isinstance(value, dict) and set(value) == {"Fn::GetAtt"}:
        return "<{}.{}>".format(*value["Fn::GetAtt"])
    if isinstance(value, dict) and set(value) == {"Fn::Sub"} and isinstance(value["Fn::Sub"], str):
        return nag_rendering(value["Fn::Sub"])  # CDK's asset bucket: cdk-<qualifier>-assets-${AWS::AccountId}-...
    if isinstance(value, dict) and set(value) == {"Fn::Join"}:
        separator, parts = value["Fn::Join"]
        return separator.join(nag_rendering(part) for part in parts)
    raise ValueError(f"cannot name the cdk-nag finding for resource {value!r}")
