"""The permissions mapping and the IAM policies it becomes. Standard library only: the stack
validates its mapping with this module at synth, without the function's dependencies.

An allowing policy lists every route of the permissions mapping the token's scopes grant,
for the stage of the incoming ``methodArn``, so the one policy API Gateway caches for the
token serves each of the caller's routes. In an execute-api ARN ``*`` also matches ``/``, so a
path parameter's ``*`` would cover the routes nested under it too (``GET /items/*`` matches
``GET /items/1/secret``). Each such nested route the caller may not use gets a Deny, which
wins over the Allow. The Deny is a wildcard too: a caller granted a route whose concrete path
happens to fit a denied route's pattern (``/items/{id}/logs/{name}`` called with the name
``secret`` against a Deny of ``/items/*/secret``) is refused: the rare mistake fails closed.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, Iterable, Mapping

# The post's validation expression (a Bearer JWT: three base64url parts, a non-empty
# signature). API Gateway answers 401 without invoking the function when it does not match;
# the function applies it again, for callers that are not API Gateway.
TOKEN_VALIDATION_REGEX = r"^(Bearer )[a-zA-Z0-9\-_]+?\.[a-zA-Z0-9\-_]+?\.([a-zA-Z0-9\-_]+)$"
MAX_PERMISSIONS = 300
CONCRETE_METHODS = ("DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT")
ANY_METHOD = "*"
SCOPE_TOKEN = re.compile(r"^[\x21-\x7e]{1,256}$")  # RFC 6749 scope-token: printable ASCII, no space

_PATH_PART = r"(?:[A-Za-z0-9._~:@!$&'()+,;=-]+|\{[A-Za-z_][A-Za-z0-9_]*\+?\})"
_RESOURCE = re.compile(rf"^/(?:{_PATH_PART}(?:/{_PATH_PART})*)?$")
_PARAMETER = re.compile(r"^\{[A-Za-z_][A-Za-z0-9_]*\+?\}$")
_METHOD_ARN = re.compile(
    r"^(?P<prefix>arn:aws[a-z-]*:execute-api:[a-z0-9-]+:\d{12}:[A-Za-z0-9]+)/(?P<stage>[A-Za-z0-9_-]+)/"
    r"(?P<method>[A-Z]+|\*)/(?P<path>.*)$")


class ConfigurationError(ValueError):
    """The function's environment is not a configuration it can run with."""


# --- permissions ----------------------------------------------------------------------

@dataclass(frozen=True, order=True)
class Permission:
    """One entry of the permissions mapping: ``scope`` grants ``method`` on ``resource``."""

    method: str
    resource: str
    scope: str

    def __post_init__(self) -> None:
        if self.method not in CONCRETE_METHODS and self.method != ANY_METHOD:
            raise ConfigurationError(f"permission method must be one of {', '.join(CONCRETE_METHODS)} "
                                     f"or '*', got {self.method!r}")
        if not _RESOURCE.fullmatch(self.resource) or "+}/" in self.resource:
            raise ConfigurationError("permission resource must be an API Gateway resource path such as "
                                     f"/items/{{itemId}}, got {self.resource!r}")
        if not SCOPE_TOKEN.fullmatch(self.scope):
            raise ConfigurationError(f"permission scope must be one OAuth scope (no spaces), got {self.scope!r}")

    @property
    def pattern(self) -> str:
        """``METHOD/path`` as in an execute-api ARN, path parameters as ``*``."""
        return f"{self.method}/{_path_pattern(self.resource)}"


def _path_parts(resource: str) -> list[str]:
    return [part for part in resource.split("/") if part]


def _path_pattern(resource: str) -> str:
    return "/".join("*" if _PARAMETER.fullmatch(part) else part for part in _path_parts(resource))


def _sample_path(resource: str) -> str:
    """One concrete path of ``resource`` (each parameter one segment), to test patterns against."""
    return "/".join("x" if _PARAMETER.fullmatch(part) else part for part in _path_parts(resource))


def parse_permissions(document: str) -> tuple[Permission, ...]:
    """The PERMISSIONS mapping: a JSON list of ``{"method", "resource", "scope"}`` objects."""
    try:
        entries = json.loads(document)
    except ValueError as error:
        raise ConfigurationError(f"PERMISSIONS is not JSON: {error}") from None
    if not isinstance(entries, list) or not entries:
        raise ConfigurationError("PERMISSIONS must be a non-empty JSON list")
    if len(entries) > MAX_PERMISSIONS:
        raise ConfigurationError(f"PERMISSIONS has {len(entries)} entries, at most {MAX_PERMISSIONS} fit a policy")
    permissions = []
    for index, entry in enumerate(entries):
        if not isinstance(entry, dict) or set(entry) != {"method", "resource", "scope"} or not all(
                isinstance(value, str) for value in entry.values()):
            raise ConfigurationError(f"PERMISSIONS[{index}] must be an object of strings with exactly "
                                     "method, resource and scope")
        permissions.append(Permission(method=entry["method"], resource=entry["resource"], scope=entry["scope"]))
    return tuple(sorted(set(permissions)))


def _iam_pattern(pattern: str) -> re.Pattern[str]:
    """IAM's ARN matching: ``*`` any characters, ``/`` included; everything else literal."""
    return re.compile(".*".join(re.escape(piece) for piece in pattern.split("*")), re.DOTALL)


def route_patterns(permissions: Iterable[Permission], scopes: frozenset[str]) -> tuple[list[str], list[str]]:
    """(allowed, denied) ``METHOD/path`` patterns for a caller holding ``scopes``.

    A route is one method on one resource; API Gateway sends a request to the resource's
    method of that name, else to its ANY (``*``) method. The entries for a route are
    alternatives: any one of their scopes grants it. Denied are the routes not granted that
    an allowed pattern would cover."""
    permissions = tuple(permissions)
    allowed = sorted({p.pattern for p in permissions if p.scope in scopes})
    matchers = [_iam_pattern(pattern) for pattern in allowed]
    denied: set[str] = set()
    for resource in sorted({p.resource for p in permissions}):
        here = [p for p in permissions if p.resource == resource]
        defined = {p.method for p in here}
        methods = CONCRETE_METHODS if ANY_METHOD in defined else sorted(defined)
        for method in methods:
            owners = [p for p in here if p.method == method] or [p for p in here if p.method == ANY_METHOD]
            if any(p.scope in scopes for p in owners):
                continue
            if any(matcher.fullmatch(f"{method}/{_sample_path(resource)}") for matcher in matchers):
                denied.add(f"{method}/{_path_pattern(resource)}")
    return allowed, sorted(denied)


# --- the policy -----------------------------------------------------------------------

@dataclass(frozen=True)
class MethodArn:
    prefix: str  # arn:<partition>:execute-api:<region>:<account>:<api id>
    stage: str

    @classmethod
    def parse(cls, value: Any) -> "MethodArn":
        match = _METHOD_ARN.fullmatch(value) if isinstance(value, str) and len(value) <= 1600 else None
        if match is None:
            raise ValueError("methodArn is not an execute-api method ARN")
        return cls(prefix=match["prefix"], stage=match["stage"])

    def arn(self, pattern: str) -> str:
        return f"{self.prefix}/{self.stage}/{pattern}"


def _statement(effect: str, resources: list[str]) -> dict[str, Any]:
    return {"Action": "execute-api:Invoke", "Effect": effect, "Resource": resources}


def deny_everything(method_arn: Any, principal_id: str = "anonymous") -> dict[str, Any]:
    """The refusal: an explicit Deny of every route of the stage (API Gateway answers 403)."""
    try:
        resource = MethodArn.parse(method_arn).arn("*")
    except ValueError:
        resource = "*"
    return {"principalId": principal_id,
            "policyDocument": {"Version": "2012-10-17", "Statement": [_statement("Deny", [resource])]}}


def allow_routes(method_arn: MethodArn, *, principal_id: str, allowed: list[str], denied: list[str],
                 context: Mapping[str, str]) -> dict[str, Any]:
    statements = [_statement("Allow", [method_arn.arn(pattern) for pattern in allowed])]
    if denied:
        statements.append(_statement("Deny", [method_arn.arn(pattern) for pattern in denied]))
    return {"principalId": principal_id, "policyDocument": {"Version": "2012-10-17", "Statement": statements},
            "context": dict(context)}
