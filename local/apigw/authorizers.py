"""API Gateway's built-in token checks: the REST API Cognito user pool authorizer and the HTTP API
JWT authorizer, verifying tokens against the issuer's published keys like API Gateway does.

* REST ``COGNITO_USER_POOLS``: the token (alone or after ``Bearer``) must be signed by a key
  of one of the authorizer's user pools (their JWKS at ``<issuer>/.well-known/jwks.json``),
  have that pool's ``iss`` and not be expired. Without authorization scopes on the method it
  must be an ID token; with scopes, an access token holding one of them. The claims reach the
  integration as strings (``$context.authorizer.claims``), ``iat`` and ``exp`` as Java dates.
* HTTP API ``JWT``: the key is found through the issuer's discovery document (``jwks_uri``);
  RSA algorithms only; ``kid`` must name a published key; ``iss`` must equal the configured
  issuer; ``aud`` (or ``client_id`` when there is no ``aud``) one of the audiences; ``exp``,
  ``nbf`` and ``iat`` checked; the route's scopes (``scope``/``scp``) if it has any. Claims
  reach the integration as strings (arrays as ``[a b]``); failures answer 401 with a
  ``www-authenticate`` header naming the reason, as API Gateway does.
"""
from __future__ import annotations

import json
import threading
import time
import urllib.request
import uuid
from datetime import datetime, timezone
from typing import Any, Callable, Iterable, Mapping

import jwt

from local.apigw.apigw_vtl import java_date

RSA_ALGORITHMS = ["RS256", "RS384", "RS512"]
KEYS_CACHE_SECONDS = 7200  # API Gateway caches an issuer's public keys for up to two hours
FETCH_TIMEOUT_SECONDS = 5


class AuthorizationFailed(Exception):
    """The request is refused before the integration runs."""

    def __init__(self, status: int, message: str, *, reason: str = "", response_type: str = "UNAUTHORIZED",
                 headers: Mapping[str, str] | None = None) -> None:
        super().__init__(reason or message)
        self.status = status
        self.message = message
        self.reason = reason or message
        self.response_type = response_type
        self.headers = dict(headers or {})


class KeySets:
    """Public keys of issuers, fetched on first use and kept :data:`KEYS_CACHE_SECONDS`; an unknown
    ``kid`` fetches once more (a restarted local issuer has new keys)."""

    def __init__(self, fetch: Callable[[str], Any] | None = None) -> None:
        self._fetch = fetch or _fetch_json
        self._lock = threading.Lock()
        self._clients: dict[str, jwt.PyJWKClient] = {}
        self._jwks_uris: dict[str, str] = {}

    def jwks_uri_from_discovery(self, issuer: str) -> str:
        with self._lock:
            known = self._jwks_uris.get(issuer)
        if known:
            return known
        document = self._fetch(f"{issuer.rstrip('/')}/.well-known/openid-configuration")
        uri = document.get("jwks_uri") if isinstance(document, dict) else None
        if not isinstance(uri, str):
            raise AuthorizationFailed(401, "Unauthorized", reason="the issuer's discovery document has no jwks_uri")
        with self._lock:
            self._jwks_uris[issuer] = uri
        return uri

    def signing_key(self, jwks_uri: str, token: str) -> Any:
        with self._lock:
            client = self._clients.get(jwks_uri)
            if client is None:
                client = jwt.PyJWKClient(jwks_uri, cache_keys=True, lifespan=KEYS_CACHE_SECONDS,
                                         timeout=FETCH_TIMEOUT_SECONDS)
                self._clients[jwks_uri] = client
        try:
            return client.get_signing_key_from_jwt(token).key
        except jwt.PyJWKClientConnectionError as error:
            reason = f"the issuer's keys could not be fetched: {error}"
        except (jwt.PyJWKClientError, jwt.DecodeError) as error:
            reason = f"no published key signed this token: {error}"
        raise AuthorizationFailed(401, "Unauthorized", reason=reason)


def _fetch_json(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=FETCH_TIMEOUT_SECONDS) as response:
        return json.loads(response.read())


def bearer_token(value: str | None) -> str | None:
    """The token of an identity source: alone, or prefixed with ``Bearer``."""
    if not value:
        return None
    value = value.strip()
    scheme, _, rest = value.partition(" ")
    return rest.strip() or None if scheme.lower() == "bearer" else value


def _header(headers: Mapping[str, str], name: str) -> str | None:
    return next((value for key, value in headers.items() if key.lower() == name.lower()), None)


def _algorithm(token: str) -> str:
    try:
        return jwt.get_unverified_header(token).get("alg", "")
    except jwt.DecodeError as error:
        raise AuthorizationFailed(401, "Unauthorized", reason=f"the token is not a JWT: {error}") from None


# -- REST API: Cognito user pool authorizer ------------------------------------------------

class TestUsers:
    """Tests of mapping templates sign requests in as ``user=<email>`` without tokens: claims like
    a Cognito ID token's (a stable ``sub`` per email)."""

    __test__ = False
    reads_properties = False  # no user pool is involved: the emulator need not resolve the authorizer

    def __call__(self, authorizer: Mapping[str, Any], scopes: list[str] | None, headers: Mapping[str, str],
                 user: str | None) -> dict[str, str]:
        if user is None:
            raise AuthorizationFailed(401, "Unauthorized")
        return {"email": user, "sub": str(uuid.uuid5(uuid.NAMESPACE_URL, user)), "email_verified": "true"}


class CognitoUserPools:
    """Verifies Cognito tokens; ``issuers`` maps each user pool ARN to its issuer URL."""

    def __init__(self, issuers: Mapping[str, str], keys: KeySets | None = None,
                 clock: Callable[[], float] = time.time) -> None:
        self.issuers = dict(issuers)
        self.keys = keys or KeySets()
        self._clock = clock

    def __call__(self, authorizer: Mapping[str, Any], scopes: list[str] | None, headers: Mapping[str, str],
                 user: str | None) -> dict[str, str]:
        source = str(authorizer.get("IdentitySource", "method.request.header.Authorization"))
        token = bearer_token(_header(headers, source.removeprefix("method.request.header.")))
        if token is None:
            raise AuthorizationFailed(401, "Unauthorized", reason="no token in " + source)
        if _algorithm(token) not in RSA_ALGORITHMS:
            raise AuthorizationFailed(401, "Unauthorized", reason="the token is not RSA-signed")
        try:
            claimed_issuer = jwt.decode(token, options={"verify_signature": False}).get("iss")
        except jwt.DecodeError as error:
            raise AuthorizationFailed(401, "Unauthorized", reason=f"the token is not a JWT: {error}") from None
        pools = [self.issuers.get(arn) for arn in authorizer.get("ProviderARNs", [])]
        if claimed_issuer not in pools:
            raise AuthorizationFailed(401, "Unauthorized", reason="the token was not issued by this API's user pools")
        key = self.keys.signing_key(f"{claimed_issuer}/.well-known/jwks.json", token)
        try:
            claims = jwt.decode(token, key, algorithms=RSA_ALGORITHMS, issuer=claimed_issuer,
                                options={"verify_aud": False, "require": ["exp", "iat", "token_use"]})
        except jwt.ExpiredSignatureError:
            raise AuthorizationFailed(401, "The incoming token has expired", reason="the token has expired") from None
        except jwt.PyJWTError as error:
            raise AuthorizationFailed(401, "Unauthorized", reason=f"the token is not valid: {error}") from None
        if scopes:
            granted = set(str(claims.get("scope", "")).split())
            if claims.get("token_use") != "access" or not granted.intersection(scopes):
                raise AuthorizationFailed(401, "Unauthorized",
                                          reason=f"the method needs an access token with one of the scopes {scopes}")
        elif claims.get("token_use") != "id":
            raise AuthorizationFailed(401, "Unauthorized",
                                      reason="the method has no authorization scopes, so it takes an ID token")
        return rest_claims(claims)


def rest_claims(claims: Mapping[str, Any]) -> dict[str, str]:
    """Claims as a REST API integration sees them: strings, ``iat``/``exp`` as Java dates."""
    shown: dict[str, str] = {}
    for name, value in claims.items():
        if name in ("iat", "exp") and isinstance(value, (int, float)):
            shown[name] = java_date(datetime.fromtimestamp(value, timezone.utc))
        else:
            shown[name] = _claim_text(value)
    return shown


def _claim_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "[" + " ".join(_claim_text(item) for item in value) + "]"
    if isinstance(value, dict):
        return json.dumps(value, separators=(",", ":"))
    return str(value)


# -- HTTP API: JWT authorizer --------------------------------------------------------------

class JwtAuthorizer:
    """One ``AWS::ApiGatewayV2::Authorizer`` of type JWT (properties resolved)."""

    def __init__(self, properties: Mapping[str, Any], keys: KeySets | None = None,
                 clock: Callable[[], float] = time.time) -> None:
        configuration = properties["JwtConfiguration"]
        self.issuer: str = configuration["Issuer"]
        self.audiences = list(configuration.get("Audience") or [])
        self.identity_source = list(properties.get("IdentitySource") or ["$request.header.Authorization"])
        self.keys = keys or KeySets()
        self._clock = clock

    def __call__(self, headers: Mapping[str, str], route_scopes: Iterable[str] | None) -> tuple[dict[str, str],
                                                                                                list[str] | None]:
        """The claims and scopes the integration gets, or :class:`AuthorizationFailed`."""
        source = self.identity_source[0].removeprefix("$request.header.")
        token = bearer_token(_header(headers, source))
        if token is None:
            raise AuthorizationFailed(401, "Unauthorized", reason="no token",
                                      headers={"www-authenticate": "Bearer"})
        try:
            if _algorithm(token) not in RSA_ALGORITHMS:
                raise _invalid("the token's algorithm is not supported")
            key = self.keys.signing_key(self.keys.jwks_uri_from_discovery(self.issuer), token)
            claims = jwt.decode(token, key, algorithms=RSA_ALGORITHMS,
                                options={"verify_aud": False, "verify_iss": False, "verify_exp": False,
                                         "verify_nbf": False, "verify_iat": False})
        except AuthorizationFailed as failed:
            raise _invalid(failed.reason) from None
        except jwt.PyJWTError as error:
            raise _invalid(f"the token is not valid: {error}") from None
        self._check_claims(claims)
        scopes = _scopes(claims)
        wanted = list(route_scopes or [])
        if wanted and not (scopes and set(scopes).intersection(wanted)):
            raise AuthorizationFailed(403, "Forbidden", reason="the token has none of the route's scopes",
                                      headers={"www-authenticate": f'Bearer scope="{" ".join(wanted)}" '
                                               'error="insufficient_scope" error_description="the token does not '
                                               'have the required scopes"'})
        return {name: _claim_text(value) for name, value in claims.items()}, scopes

    def _check_claims(self, claims: Mapping[str, Any]) -> None:
        now = self._clock()
        if claims.get("iss") != self.issuer:
            raise _invalid("the token does not have a valid issuer")
        audience = claims.get("aud") if "aud" in claims else claims.get("client_id")
        audiences = audience if isinstance(audience, list) else [audience]
        if not any(value in self.audiences for value in audiences):
            raise _invalid("the token does not have a valid audience")
        exp = claims.get("exp")
        if not isinstance(exp, (int, float)) or exp <= now:
            raise _invalid("the token has expired")
        for name in ("nbf", "iat"):
            value = claims.get(name)
            if value is not None and (not isinstance(value, (int, float)) or value > now):
                raise _invalid(f"the token's {name} is in the future")


def _invalid(description: str) -> AuthorizationFailed:
    quoted = description.replace('"', "'")
    return AuthorizationFailed(401, "Unauthorized", reason=description, headers={
        "www-authenticate": f'Bearer scope="" error="invalid_token" error_description="{quoted}"'})


def _scopes(claims: Mapping[str, Any]) -> list[str] | None:
    raw = claims.get("scope", claims.get("scp"))
    if isinstance(raw, str):
        return raw.split() or None
    if isinstance(raw, list):
        return [str(item) for item in raw] or None
    return None
