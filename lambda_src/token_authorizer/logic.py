"""TOKEN authorizer decisions: verify a JWT access token, map its scopes to API routes.

Pure apart from the key source it is given (:class:`KeySource`, see ``jwks.py``): no AWS SDK.

A decision is always an IAM policy, never an exception: API Gateway answers 403 to a Deny and
500 to anything it cannot read, and the 401 for a missing or malformed ``Authorization``
header comes from the authorizer's validation expression (:data:`TOKEN_VALIDATION_REGEX`)
before the function runs.

The permissions mapping and the policies it becomes are in ``policy.py``.
"""
from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from typing import Any, Mapping, Protocol

import jwt
from jwt import PyJWK

from .policy import (
    SCOPE_TOKEN,
    TOKEN_VALIDATION_REGEX,
    ConfigurationError,
    MethodArn,
    Permission,
    allow_routes,
    deny_everything,
    parse_permissions,
    route_patterns,
)

BEARER_PREFIX = "Bearer "
# API Gateway refuses requests whose headers exceed 10 KiB; no access token comes close.
MAX_AUTHORIZATION_CHARS = 8192

# Never ``none``, never HMAC (a public key used as an HMAC secret forges any token): each
# allowed algorithm is tied to the only key type that may verify it.
KEY_TYPE_OF_ALGORITHM = {"RS256": "RSA", "ES256": "EC"}
ALLOWED_ALGORITHMS = tuple(KEY_TYPE_OF_ALGORITHM)
# Where identity providers put the OAuth client's id: Cognito and Okta ``client_id``,
# Auth0 and Entra ID (v2) ``azp``, Entra ID (v1) ``appid``, Okta also ``cid``.
CLIENT_ID_CLAIMS = ("client_id", "azp", "appid", "cid")


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


class KeySource(Protocol):
    def get_signing_key(self, kid: str) -> PyJWK: ...


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
        elif isinstance(value, list) and all(isinstance(item, str) and SCOPE_TOKEN.fullmatch(item) for item in value):
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
        try:
            arn = MethodArn.parse(method_arn)
        except ValueError as error:
            raise Refused(DenyReason.BAD_EVENT, str(error)) from None
        caller = verify(bearer_token(event.get("authorizationToken")), keys=keys, settings=settings)
        allowed, denied = route_patterns(settings.permissions, caller.scopes)
        if not allowed:
            raise Refused(DenyReason.NO_MAPPED_ROUTE, "the token's scopes grant no route of this API")
    except Refused as refusal:
        return Decision(deny_everything(method_arn), refusal.reason, refusal.detail)
    return Decision(allow_routes(arn, principal_id=caller.subject, allowed=allowed, denied=denied,
                                 context=caller.context()))
