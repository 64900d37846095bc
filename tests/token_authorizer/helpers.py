"""Reading the authorizer's policies the way API Gateway evaluates them."""
from __future__ import annotations

from fnmatch import fnmatchcase
from typing import Any

from lambda_src.token_authorizer.logic import Decision, DenyReason

from .conftest import API, STAGE


def _matches(resources: Any, arn: str) -> bool:
    # IAM's ARN wildcards: ``*`` matches any characters, ``/`` included, as fnmatch's does
    # (the policies hold no ``?`` or ``[``).
    return any(fnmatchcase(arn, resource) for resource in ([resources] if isinstance(resources, str) else resources))


def effect(response: dict[str, Any], method: str, path: str) -> str:
    """``Allow`` or ``Deny`` for ``method /path`` of the stage under the returned policy:
    an explicit Deny wins, and without a matching Allow the request is denied."""
    arn = f"{API}/{STAGE}/{method}/{path}"
    statements = response["policyDocument"]["Statement"]
    if any(s["Effect"] == "Deny" and _matches(s["Resource"], arn) for s in statements):
        return "Deny"
    return "Allow" if any(s["Effect"] == "Allow" and _matches(s["Resource"], arn) for s in statements) else "Deny"


def assert_refused(decision: Decision, reason: DenyReason) -> None:
    """Refused for ``reason`` with an explicit Deny of the whole stage and nothing allowed."""
    assert decision.reason is reason, decision.detail
    statements = decision.response["policyDocument"]["Statement"]
    assert [s["Effect"] for s in statements] == ["Deny"]
    assert effect(decision.response, "GET", "items") == "Deny"
    assert "context" not in decision.response
