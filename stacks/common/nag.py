"""cdk-nag 3.x as a synth-time gate, and the one way to acknowledge a finding."""
from __future__ import annotations

import re

import aws_cdk as cdk
from cdk_nag import AwsSolutionsChecks
from constructs import IConstruct

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
