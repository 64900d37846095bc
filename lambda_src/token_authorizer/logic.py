"""TOKEN authorizer decisions: verify a JWT access token, map its scopes to API routes.

Pure apart from the key source it is given (:class:`KeySource`, see ``jwks.py``): no AWS SDK.

A decision is always an IAM policy, never an exception: API Gateway answers 403 to a Deny and
500 to anything it cannot read, and the 401 for a missing or malformed ``Authorization``
header comes from the authorizer's validation expression (:data:`TOKEN_VALIDATION_REGEX`)
before the function runs.

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

import enum
import json
import re
from dataclasses import dataclass
from typing import Any, Iterable, Mapping, Protocol

import jwt
from jwt import PyJWK

# The post's validation expression (a Bearer JWT: three base64url parts, a non-empty
# signature). API Gateway answers 401 without invoking the function when it does not match;
# the function applies it again, for callers that are not API Gateway.
TOKEN_VALIDATION_REGEX = r"^(Bearer )[a-zA-Z0-9\-_]+?\.[a-zA-Z0-9\-_]+?\.([a-zA-Z0-9\-_]+)$"
BEARER_PREFIX = "Bearer "
# API Gateway refuses requests whose headers exceed 10 KiB; no access token comes close.
MAX_AUTHORIZATION_CHARS = 8192
MAX_PERMISSIONS = 300

# Never ``none``, never HMAC (a public key used as an HMAC secret forges any token): each
# allowed algorithm is tied to the only key type that may verify it.
KEY_TYPE_OF_ALGORITHM = {"RS256": "RSA", "ES256": "EC"}
ALLOWED_ALGORITHMS = tuple(KEY_TYPE_OF_ALGORITHM)
CONCRETE_METHODS = ("DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT")
ANY_METHOD = "*"
# Where identity providers put the OAuth client's id: Cognito and Okta ``client_id``,
# Auth0 and Entra ID (v2) ``azp``, Entra ID (v1) ``appid``, Okta also ``cid``.
CLIENT_ID_CLAIMS = ("client_id", "azp", "appid", "cid")

_PATH_PART = r"(?:[A-Za-z0-9._~:@!$&'()+,;=-]+|\{[A-Za-z_][A-Za-z0-9_]*\+?\})"
_RESOURCE = re.compile(rf"^/(?:{_PATH_PART}(?:/{_PATH_PART})*)?$")
_PARAMETER = re.compile(r"^\{[A-Za-z_][A-Za-z0-9_]*\+?\}$")
_SCOPE = re.compile(r"^[\x21-\x7e]{1,256}$")  # RFC 6749 scope-token: printable ASCII, no space
_METHOD_ARN = re.compile(
    r"^(?P<prefix>arn:aws[a-z-]*:execute-api:[a-z0-9-]+:\d{12}:[A-Za-z0-9]+)/(?P<stage>[A-Za-z0-9_-]+)/"
    r"(?P<method>[A-Z]+|\*)/(?P<path>.*)$")


class DenyReason(enum.Enum):
    """Why a token was refused; the value is the metric name's suffix and the log's reason."""

    BAD_EVENT = "BadEvent"
    MALFORMED = "Malformed"
    OVERSIZED = "Oversized"
    ALGORITHM = "Algorithm"
    UNKNOWN_KEY = "UnknownKey"
    KEYS_UNAVAILABLE = "KeysUnavailable"
    SIGNATURE = "Signature"
    EXPIRED = "Expired"
    NOT_YET_VALID = "NotYetValid"
    ISSUER = "Issuer"
    AUDIENCE = "Audience"
    CLAIMS = "Claims"
    NO_MAPPED_ROUTE = "NoMappedRoute"
    CONFIGURATION = "Configuration"
    INTERNAL = "Internal"


class Refused(Exception):
    def __init__(self, reason: DenyReason, detail: str) -> None:
        super().__init__(f"{reason.value}: {detail}")
        self.reason = reason
        self.detail = detail


class ConfigurationError(ValueError):
    """The function's environment is not a configuration it can run with."""


class KeySource(Protocol):
    def get_signing_key(self, kid: str) -> PyJWK: ...


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
        if not _SCOPE.fullmatch(self.scope):
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
            raise Refused(DenyReason.BAD_EVENT, "methodArn is not an execute-api method ARN")
        return cls(prefix=match["prefix"], stage=match["stage"])

    def arn(self, pattern: str) -> str:
        return f"{self.prefix}/{self.stage}/{pattern}"


def _statement(effect: str, resources: list[str]) -> dict[str, Any]:
    return {"Action": "execute-api:Invoke", "Effect": effect, "Resource": resources}


def deny_everything(method_arn: Any, principal_id: str = "anonymous") -> dict[str, Any]:
    """The refusal: an explicit Deny of every route of the stage (API Gateway answers 403)."""
    try:
        resource = MethodArn.parse(method_arn).arn("*")
    except Refused:
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


# --- settings -------------------------------------------------------------------------

def _number(environ: Mapping[str, str], name: str, default: float, minimum: float, maximum: float) -> float:
    raw = environ.get(name, "")
    try:
        value = float(raw) if raw else default
    except ValueError:
        raise ConfigurationError(f"{name} must be a number, got {raw!r}") from None
    if not minimum <= value <= maximum:
        raise ConfigurationError(f"{name} must be between {minimum:g} and {maximum:g}, got {raw!r}")
    return value


@dataclass(frozen=True)
class Settings:
    issuer: str
    audiences: frozenset[str]
    audience_claim: str
    jwks_url: str
    permissions: tuple[Permission, ...]
    jwks_refetch_cooldown_seconds: float
    jwks_timeout_seconds: float
    jwks_cache_seconds: float
    leeway_seconds: float

    @classmethod
    def from_environment(cls, environ: Mapping[str, str]) -> "Settings":
        issuer = environ.get("ISSUER", "")
        if not issuer or issuer != issuer.strip():
            raise ConfigurationError("ISSUER must be the identity provider's issuer (the tokens' iss)")
        audiences = frozenset(environ.get("AUDIENCE", "").split())
        if not audiences:
            raise ConfigurationError("AUDIENCE must name the API's audience (space-separated for several)")
        audience_claim = environ.get("AUDIENCE_CLAIM", "") or "aud"
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_:.-]{0,63}", audience_claim):
            raise ConfigurationError(f"AUDIENCE_CLAIM must be a claim name, got {audience_claim!r}")
        return cls(
            issuer=issuer, audiences=audiences, audience_claim=audience_claim,
            jwks_url=environ.get("JWKS_URL", "") or f"{issuer.rstrip('/')}/.well-known/jwks.json",
            permissions=parse_permissions(environ.get("PERMISSIONS", "")),
            jwks_refetch_cooldown_seconds=_number(environ, "JWKS_REFETCH_COOLDOWN_SECONDS", 30, 1, 3600),
            jwks_timeout_seconds=_number(environ, "JWKS_TIMEOUT_SECONDS", 2, 0.1, 10),
            jwks_cache_seconds=_number(environ, "JWKS_CACHE_SECONDS", 300, 1, 86400),
            leeway_seconds=_number(environ, "LEEWAY_SECONDS", 30, 0, 300),
        )


# --- verification ---------------------------------------------------------------------

@dataclass(frozen=True)
class Caller:
    subject: str
    scopes: frozenset[str]
    client_id: str

    def context(self) -> dict[str, str]:
        """What the integration reads as ``$context.authorizer.<key>`` (strings only)."""
        return {"sub": self.subject, "scopes": " ".join(sorted(self.scopes)), "clientId": self.client_id}


def bearer_token(authorization: Any) -> str:
    if not isinstance(authorization, str):
        raise Refused(DenyReason.BAD_EVENT, "authorizationToken is missing")
    if len(authorization) > MAX_AUTHORIZATION_CHARS:
        raise Refused(DenyReason.OVERSIZED, f"the Authorization header exceeds {MAX_AUTHORIZATION_CHARS} characters")
    if not re.fullmatch(TOKEN_VALIDATION_REGEX, authorization):
        raise Refused(DenyReason.MALFORMED, "the Authorization header is not 'Bearer <JWT>'")
    return authorization[len(BEARER_PREFIX):]


def _signing_key(token: str, keys: KeySource) -> tuple[str, PyJWK]:
    """The header's algorithm and the provider's key for it, checked before any verification."""
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError as error:
        raise Refused(DenyReason.MALFORMED, f"the token header cannot be read: {error}") from None
    algorithm = header.get("alg")
    if algorithm not in KEY_TYPE_OF_ALGORITHM:
        raise Refused(DenyReason.ALGORITHM,
                      f"alg {str(algorithm)[:20]!r} is not one of {', '.join(ALLOWED_ALGORITHMS)}")
    kid = header.get("kid")
    if not isinstance(kid, str) or not 0 < len(kid) <= 256:
        raise Refused(DenyReason.UNKNOWN_KEY, "the token names no key (kid)")
    try:
        key = keys.get_signing_key(kid)
    except jwt.PyJWKClientConnectionError as error:
        raise Refused(DenyReason.KEYS_UNAVAILABLE, str(error)) from None
    except jwt.PyJWKClientError:
        raise Refused(DenyReason.UNKNOWN_KEY, "no signing key of the provider has the token's kid") from None
    if key.key_type != KEY_TYPE_OF_ALGORITHM[algorithm] or key.algorithm_name != algorithm:
        raise Refused(DenyReason.ALGORITHM, f"the key {kid!r} is a {key.key_type} key for {key.algorithm_name}, "
                                            f"the token says {algorithm}")
    return algorithm, key


_DECODE_ERRORS = (
    (jwt.ExpiredSignatureError, DenyReason.EXPIRED),
    (jwt.ImmatureSignatureError, DenyReason.NOT_YET_VALID),
    (jwt.InvalidIssuerError, DenyReason.ISSUER),
    (jwt.InvalidAudienceError, DenyReason.AUDIENCE),
    (jwt.InvalidSignatureError, DenyReason.SIGNATURE),
    (jwt.InvalidAlgorithmError, DenyReason.ALGORITHM),
    (jwt.DecodeError, DenyReason.MALFORMED),
    (jwt.PyJWTError, DenyReason.CLAIMS),
)


def _scopes(claims: Mapping[str, Any]) -> frozenset[str]:
    """``scp`` (a list, or a space-separated string as Entra ID sends it) and ``scope`` (RFC 8693)."""
    scopes: set[str] = set()
    for name in ("scp", "scope"):
        value = claims.get(name)
        if value is None:
            continue
        if isinstance(value, str):
            scopes.update(value.split())
        elif isinstance(value, list) and all(isinstance(item, str) and _SCOPE.fullmatch(item) for item in value):
            scopes.update(value)
        else:
            raise Refused(DenyReason.CLAIMS, f"{name} must be a space-separated string or a list of scopes")
    return frozenset(scopes)


def verify(token: str, *, keys: KeySource, settings: Settings) -> Caller:
    """The caller a valid access token names; :class:`Refused` for any other token."""
    algorithm, key = _signing_key(token, keys)
    standard_audience = settings.audience_claim == "aud"
    try:
        claims = jwt.decode(
            token, key=key, algorithms=[algorithm], issuer=settings.issuer,
            audience=sorted(settings.audiences) if standard_audience else None,
            leeway=settings.leeway_seconds,
            options={"require": ["exp", "iss", "sub", settings.audience_claim], "verify_aud": standard_audience})
    except jwt.PyJWTError as error:
        reason = next(reason for kind, reason in _DECODE_ERRORS if isinstance(error, kind))
        raise Refused(reason, str(error)) from None
    if not standard_audience and claims.get(settings.audience_claim) not in settings.audiences:
        raise Refused(DenyReason.AUDIENCE, f"{settings.audience_claim} is not one of the API's audiences")
    subject = claims["sub"]
    if not isinstance(subject, str) or not subject:
        raise Refused(DenyReason.CLAIMS, "sub must be a non-empty string")
    client_id = next((claims[name] for name in CLIENT_ID_CLAIMS if isinstance(claims.get(name), str)), "")
    return Caller(subject=subject, scopes=_scopes(claims), client_id=client_id)


@dataclass(frozen=True)
class Decision:
    """The answer to API Gateway, and why a refusal refused (``reason`` is None when allowed)."""

    response: dict[str, Any]
    reason: DenyReason | None = None
    detail: str = ""


def decide(event: Any, *, keys: KeySource, settings: Settings) -> Decision:
    """The authorizer's answer to a TOKEN event (``type``, ``authorizationToken``, ``methodArn``)."""
    method_arn = event.get("methodArn") if isinstance(event, dict) else None
    try:
        if not isinstance(event, dict) or event.get("type") != "TOKEN":
            raise Refused(DenyReason.BAD_EVENT, "the event is not a TOKEN authorizer event")
        arn = MethodArn.parse(method_arn)
        caller = verify(bearer_token(event.get("authorizationToken")), keys=keys, settings=settings)
        allowed, denied = route_patterns(settings.permissions, caller.scopes)
        if not allowed:
            raise Refused(DenyReason.NO_MAPPED_ROUTE, "the token's scopes grant no route of this API")
    except Refused as refusal:
        return Decision(deny_everything(method_arn), refusal.reason, refusal.detail)
    return Decision(allow_routes(arn, principal_id=caller.subject, allowed=allowed, denied=denied,
                                 context=caller.context()))
