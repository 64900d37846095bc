"""A local OpenID Connect issuer standing in for Cognito user pools and their hosted sign-in.

One issuer serves several pools, each at ``<base>/<pool id>`` like Cognito's
``https://cognito-idp.<region>.amazonaws.com/<pool id>``, with its own RSA key, its app
clients (callback and sign-out URLs, allowed scopes: read from the synthesized template) and
the seeded users. It speaks the authorization code flow with PKCE (S256) only:

* ``authorize`` checks the client and its redirect URI first (an error there is shown, never
  redirected: RFC 6749 4.1.2.1), then the rest of the request (errors go back to the client
  with ``error``, ``error_description`` and ``state``);
* a signed-in user gets a single-use code bound to the client, redirect URI, PKCE challenge,
  scope and nonce, valid :data:`CODE_LIFETIME_SECONDS`;
* ``token`` exchanges it once (the first attempt consumes the code, whatever its outcome, so a
  code verifier cannot be guessed by retrying) for an RS256 ID token and access token with
  Cognito's claims (``sub``, ``email``, ``email_verified``, ``cognito:username``, ``aud`` or
  ``client_id``, ``token_use``, ``auth_time``, ``iat``, ``exp``, ``jti``, ``origin_jti``,
  ``event_id``, ``at_hash``, ``nonce``) and an opaque refresh token;
* the ``refresh_token`` grant renews them as Cognito's token endpoint does without refresh
  token rotation: new ID and access tokens with the sign-in's claims, scopes, ``auth_time`` and
  ``origin_jti``, no new refresh token, for the client the refresh token was issued to only,
  until it expires (:attr:`Issuer.refresh_token_lifetime_seconds` after the sign-in) or is
  revoked;
* ``revoke`` (RFC 7009, Cognito's ``/oauth2/revoke``) ends a refresh token and the access tokens
  it gave (user info refuses them). Cognito's ``/logout`` only clears its hosted-UI cookie and
  revokes no token, and neither does this one's.

This module holds the protocol only; :mod:`local.oidc.server` puts it on HTTP.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping
from urllib.parse import urlencode, urlsplit

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

from local.settings import DEFAULT_REFRESH_TOKEN_LIFETIME_SECONDS

CODE_LIFETIME_SECONDS = 300  # Cognito's authorization codes are valid five minutes
PENDING_LIFETIME_SECONDS = 900  # how long a sign-in page may stay open before it must start again
SEEDED_PASSWORD = "local-password"
SEEDED_EMAILS = ("alice@example.com", "bob@example.com")
MAX_PARAMETER_CHARS = 4096

# RFC 7636: a challenge is BASE64URL(SHA256(verifier)) without padding, 43 characters;
# a verifier is 43 to 128 unreserved characters.
_CHALLENGE = re.compile(r"^[A-Za-z0-9_-]{43}$")
_VERIFIER = re.compile(r"^[A-Za-z0-9._~-]{43,128}$")


class IssuerError(Exception):
    """A request the issuer refuses; ``error`` is the OAuth 2.0 error code."""

    def __init__(self, error: str, description: str, *, status: int = 400) -> None:
        super().__init__(f"{error}: {description}")
        self.error = error
        self.description = description
        self.status = status


class RejectedWithoutRedirect(IssuerError):
    """The client or redirect URI cannot be trusted: the error is shown, not sent back."""


class RedirectedError(IssuerError):
    """An authorization error sent back to the (verified) redirect URI."""

    def __init__(self, error: str, description: str, *, redirect_uri: str, state: str | None) -> None:
        super().__init__(error, description)
        self.location = _with_query(redirect_uri, {"error": error, "error_description": description,
                                                   **({"state": state} if state else {})})


class LoginRefused(IssuerError):
    """Wrong email or password: the sign-in page is shown again with the message."""


@dataclass(frozen=True)
class Client:
    client_id: str
    callback_urls: frozenset[str]
    logout_urls: frozenset[str]
    allowed_scopes: frozenset[str]
    allowed_flows: frozenset[str] = frozenset({"code"})

    @property
    def origins(self) -> frozenset[str]:
        """Origins of the client's callback URLs: the browsers that may call the token endpoint."""
        return frozenset(f"{parts.scheme}://{parts.netloc}" for parts in map(urlsplit, self.callback_urls))


@dataclass(frozen=True)
class User:
    email: str
    password: str


@dataclass
class _Pending:
    client: Client
    redirect_uri: str
    scope: tuple[str, ...]
    state: str
    nonce: str | None
    code_challenge: str
    expires_at: float


@dataclass
class _Code:
    client_id: str
    redirect_uri: str
    scope: tuple[str, ...]
    nonce: str | None
    code_challenge: str
    email: str
    auth_time: int
    expires_at: float
    used: bool = False


@dataclass
class _RefreshGrant:
    """What a refresh token stands for: one sign-in of a user to a client."""

    client_id: str
    scope: tuple[str, ...]
    email: str
    auth_time: int
    origin_jti: str  # shared by every token of the sign-in, as Cognito's (for revocation)
    expires_at: float
    revoked: bool = False


@dataclass
class Pool:
    """One user pool: its issuer URL, signing key, app clients and users."""

    pool_id: str
    issuer: str
    clients: dict[str, Client]
    users: dict[str, User]
    key: rsa.RSAPrivateKey = field(default_factory=lambda: rsa.generate_private_key(public_exponent=65537,
                                                                                     key_size=2048))
    kid: str = field(default_factory=lambda: secrets.token_urlsafe(12))

    def sub(self, email: str) -> str:
        """A user's stable id in this pool (each pool gives the same person a different ``sub``)."""
        return str(uuid.uuid5(uuid.NAMESPACE_URL, f"{self.issuer}#{email.lower()}"))


class Issuer:
    """Every pool's protocol state: sign-in requests, codes, and the tokens they become."""

    def __init__(self, pools: Mapping[str, Pool], *, token_lifetime_seconds: int = 3600,
                 refresh_token_lifetime_seconds: int = DEFAULT_REFRESH_TOKEN_LIFETIME_SECONDS,
                 clock: Callable[[], float] = time.time) -> None:
        self.pools = dict(pools)
        self.token_lifetime_seconds = token_lifetime_seconds
        self.refresh_token_lifetime_seconds = refresh_token_lifetime_seconds
        self._clock = clock
        self._lock = threading.Lock()
        self._pending: dict[str, _Pending] = {}
        self._codes: dict[str, _Code] = {}
        self._refresh_grants: dict[str, _RefreshGrant] = {}  # by refresh token
        # origin_jti of revoked sign-ins -> when the last access token they gave expires
        self._revoked_origins: dict[str, float] = {}

    # -- metadata --------------------------------------------------------------------------

    def pool(self, pool_id: str) -> Pool:
        try:
            return self.pools[pool_id]
        except KeyError:
            raise IssuerError("not_found", f"no user pool {pool_id!r} here", status=404) from None

    def discovery(self, pool_id: str) -> dict[str, Any]:
        """OpenID Connect Discovery 1.0 metadata, the endpoints on this issuer."""
        pool = self.pool(pool_id)
        scopes = sorted(set().union(*(client.allowed_scopes for client in pool.clients.values())))
        return {
            "issuer": pool.issuer,
            "authorization_endpoint": f"{pool.issuer}/oauth2/authorize",
            "token_endpoint": f"{pool.issuer}/oauth2/token",
            "userinfo_endpoint": f"{pool.issuer}/oauth2/userInfo",
            "end_session_endpoint": f"{pool.issuer}/logout",
            "revocation_endpoint": f"{pool.issuer}/oauth2/revoke",
            "jwks_uri": f"{pool.issuer}/.well-known/jwks.json",
            "response_types_supported": ["code"],
            "response_modes_supported": ["query"],
            "grant_types_supported": ["authorization_code", "refresh_token"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "token_endpoint_auth_methods_supported": ["none"],
            "revocation_endpoint_auth_methods_supported": ["none"],
            "code_challenge_methods_supported": ["S256"],
            "scopes_supported": scopes,
            "claims_supported": ["aud", "auth_time", "cognito:username", "email", "email_verified", "exp",
                                 "iat", "iss", "nonce", "sub", "token_use"],
        }

    def jwks(self, pool_id: str) -> dict[str, Any]:
        pool = self.pool(pool_id)
        numbers = pool.key.public_key().public_numbers()
        return {"keys": [{"kty": "RSA", "alg": "RS256", "use": "sig", "kid": pool.kid,
                          "n": _b64_uint(numbers.n), "e": _b64_uint(numbers.e)}]}

    # -- authorization ---------------------------------------------------------------------

    def begin_authorization(self, pool_id: str, query: Mapping[str, list[str]]) -> str:
        """Validate an authorization request; the id of the sign-in it starts."""
        pool = self.pool(pool_id)
        params = _single_values(query, on_error=RejectedWithoutRedirect)
        client_id = params.get("client_id")
        if not client_id:
            raise RejectedWithoutRedirect("invalid_request", "client_id is required")
        client = pool.clients.get(client_id)
        if client is None:
            raise RejectedWithoutRedirect("invalid_client", f"this user pool has no app client {client_id!r}")
        redirect_uri = params.get("redirect_uri")
        if not redirect_uri:
            raise RejectedWithoutRedirect("invalid_request", "redirect_uri is required")
        if redirect_uri not in client.callback_urls:
            raise RejectedWithoutRedirect(
                "invalid_request", f"redirect_uri {redirect_uri!r} is not a callback URL of client {client_id!r} "
                f"(allowed: {', '.join(sorted(client.callback_urls))})")
        state = params.get("state")

        def refuse(error: str, description: str) -> RedirectedError:
            return RedirectedError(error, description, redirect_uri=redirect_uri, state=state)

        if params.get("response_type") != "code":
            raise refuse("unsupported_response_type", "only response_type=code (authorization code flow) is supported")
        if "code" not in client.allowed_flows:
            raise refuse("unauthorized_client", f"client {client_id!r} may not use the authorization code flow")
        if not state:
            raise refuse("invalid_request", "state is required (it protects the client against forged callbacks)")
        scope = tuple(dict.fromkeys((params.get("scope") or "").split()))
        if not scope:
            raise refuse("invalid_scope", "scope is required")
        refused = [name for name in scope if name not in client.allowed_scopes]
        if refused:
            raise refuse("invalid_scope", f"scope {' '.join(refused)!r} is not allowed for client {client_id!r} "
                         f"(allowed: {' '.join(sorted(client.allowed_scopes))})")
        challenge = params.get("code_challenge")
        if not challenge:
            raise refuse("invalid_request", "code_challenge is required: this issuer accepts PKCE (S256) only")
        if params.get("code_challenge_method") != "S256":
            raise refuse("invalid_request", "code_challenge_method must be S256")
        if not _CHALLENGE.match(challenge):
            raise refuse("invalid_request", "code_challenge must be 43 base64url characters (SHA-256 of the verifier)")
        if params.get("prompt") == "none":
            raise refuse("login_required", "no session: the user must sign in")
        request_id = secrets.token_urlsafe(24)
        with self._lock:
            self._expire()
            self._pending[request_id] = _Pending(client, redirect_uri, scope, state, params.get("nonce"),
                                                 challenge, self._clock() + PENDING_LIFETIME_SECONDS)
        return request_id

    def pending_client(self, request_id: str) -> Client:
        with self._lock:
            pending = self._pending.get(request_id)
        if pending is None:
            raise IssuerError("invalid_request", "this sign-in request is unknown or expired: start again from the app")
        return pending.client

    def sign_in(self, pool_id: str, request_id: str, email: str, password: str) -> str:
        """Check the credentials; the redirect (with a new code) that completes the request."""
        pool = self.pool(pool_id)
        with self._lock:
            self._expire()
            pending = self._pending.get(request_id)
            if pending is None:
                raise IssuerError("invalid_request",
                                  "this sign-in request is unknown or expired: start again from the app")
            user = pool.users.get(email.strip().lower())
            if user is None or not hmac.compare_digest(user.password.encode(), password.encode()):
                raise LoginRefused("access_denied", "Incorrect email or password.", status=401)
            del self._pending[request_id]
            code = secrets.token_urlsafe(32)
            now = self._clock()
            self._codes[code] = _Code(pending.client.client_id, pending.redirect_uri, pending.scope, pending.nonce,
                                      pending.code_challenge, user.email, int(now), now + CODE_LIFETIME_SECONDS)
        return _with_query(pending.redirect_uri, {"code": code, "state": pending.state})

    # -- token -----------------------------------------------------------------------------

    def exchange(self, pool_id: str, form: Mapping[str, list[str]]) -> dict[str, Any]:
        """The token endpoint: a code and its verifier become tokens, once; a refresh token
        renews them."""
        pool = self.pool(pool_id)
        params = _single_values(form, on_error=IssuerError)
        grant_type = params.get("grant_type")
        if not grant_type:
            raise IssuerError("invalid_request", "grant_type is required")
        if grant_type not in ("authorization_code", "refresh_token"):
            raise IssuerError("unsupported_grant_type", f"grant_type {grant_type!r} is not supported: "
                              "only authorization_code and refresh_token")
        client_id = self._client_id(pool, params)
        if grant_type == "refresh_token":
            return self._refresh(pool, client_id, params)
        code_value = params.get("code")
        if not code_value:
            raise IssuerError("invalid_request", "code is required")
        with self._lock:
            code = self._codes.get(code_value)
            if code is None or code.expires_at <= self._clock():
                raise IssuerError("invalid_grant", "the authorization code is invalid or expired")
            if code.used:
                raise IssuerError("invalid_grant", "the authorization code was already used")
            code.used = True  # consumed by this attempt, whatever its outcome
        if code.client_id != client_id:
            raise IssuerError("invalid_grant", "the authorization code was issued to another client")
        if params.get("redirect_uri") != code.redirect_uri:
            raise IssuerError("invalid_grant", "redirect_uri does not match the authorization request")
        verifier = params.get("code_verifier")
        if not verifier:
            raise IssuerError("invalid_grant", "code_verifier is required (PKCE)")
        if not _VERIFIER.match(verifier):
            raise IssuerError("invalid_grant", "code_verifier must be 43 to 128 unreserved characters")
        if not hmac.compare_digest(_s256(verifier), code.code_challenge):
            raise IssuerError("invalid_grant", "code_verifier does not match the code_challenge")
        refresh_token = secrets.token_urlsafe(48)
        grant = _RefreshGrant(code.client_id, code.scope, code.email, code.auth_time, str(uuid.uuid4()),
                              self._clock() + self.refresh_token_lifetime_seconds)
        with self._lock:
            self._expire()
            self._refresh_grants[refresh_token] = grant
        return {**self._tokens(pool, grant, code.nonce), "refresh_token": refresh_token}

    def _refresh(self, pool: Pool, client_id: str, params: Mapping[str, str]) -> dict[str, Any]:
        # Cognito ignores `scope` here (it is read for client_credentials only): the renewed
        # tokens have the sign-in's scopes, whatever a client asks.
        token = params.get("refresh_token")
        if not token:
            raise IssuerError("invalid_request", "refresh_token is required")
        grant = self._live_grant(token)
        if grant.client_id != client_id:
            raise IssuerError("invalid_grant", "the refresh token was issued to another client")
        return self._tokens(pool, grant, nonce=None)  # OpenID Connect Core 12.2: no nonce on refresh

    def _live_grant(self, token: str) -> _RefreshGrant:
        with self._lock:
            grant = self._refresh_grants.get(token)
        if grant is None:
            raise IssuerError("invalid_grant", "the refresh token is invalid or has expired")
        if grant.revoked:
            raise IssuerError("invalid_grant", "the refresh token has been revoked")
        if grant.expires_at <= self._clock():
            raise IssuerError("invalid_grant", "the refresh token has expired")
        return grant

    @staticmethod
    def _client_id(pool: Pool, params: Mapping[str, str]) -> str:
        client_id = params.get("client_id")
        if not client_id or client_id not in pool.clients:
            raise IssuerError("invalid_client", "client_id is missing or not an app client of this pool", status=401)
        return client_id

    def _tokens(self, pool: Pool, grant: _RefreshGrant, nonce: str | None) -> dict[str, Any]:
        now = int(self._clock())
        sub = pool.sub(grant.email)
        common = {"sub": sub, "iss": pool.issuer, "origin_jti": grant.origin_jti, "event_id": str(uuid.uuid4()),
                  "auth_time": grant.auth_time, "iat": now, "exp": now + self.token_lifetime_seconds}
        access_token = self._sign(pool, {**common, "client_id": grant.client_id, "token_use": "access",
                                         "scope": " ".join(grant.scope), "jti": str(uuid.uuid4()), "username": sub})
        answer: dict[str, Any] = {"access_token": access_token, "token_type": "Bearer",
                                  "expires_in": self.token_lifetime_seconds}
        if "openid" in grant.scope:
            claims: dict[str, Any] = {**common, "at_hash": _at_hash(access_token), "aud": grant.client_id,
                                      "token_use": "id", "cognito:username": sub, "jti": str(uuid.uuid4())}
            if "email" in grant.scope:
                claims.update(email=grant.email, email_verified=True)
            if nonce:
                claims["nonce"] = nonce
            answer["id_token"] = self._sign(pool, claims)
        return answer

    # -- revocation ------------------------------------------------------------------------

    def revoke(self, pool_id: str, form: Mapping[str, list[str]]) -> None:
        """Cognito's ``/oauth2/revoke`` (RFC 7009): the refresh token, and the tokens it gave,
        stop working. An unknown, expired or already revoked token is not an error (Cognito
        answers 200 to "an invalid token"); an ID or access token is ``unsupported_token_type``."""
        pool = self.pool(pool_id)
        params = _single_values(form, on_error=IssuerError)
        client_id = self._client_id(pool, params)
        token = params.get("token")
        if not token:
            raise IssuerError("invalid_request", "token is required: the refresh token to revoke")
        with self._lock:
            grant = self._refresh_grants.get(token)
            if grant is None:
                if self._signed_by(pool, token):
                    raise IssuerError("unsupported_token_type", "only refresh tokens can be revoked")
                return
            if grant.client_id != client_id:
                raise IssuerError("invalid_grant", "the refresh token was issued to another client")
            grant.revoked = True
            self._revoked_origins[grant.origin_jti] = self._clock() + self.token_lifetime_seconds

    @staticmethod
    def _signed_by(pool: Pool, token: str) -> bool:
        try:
            jwt.decode(token, pool.key.public_key(), algorithms=["RS256"],
                       options={"verify_exp": False, "verify_aud": False})
        except jwt.PyJWTError:
            return False
        return True

    def _sign(self, pool: Pool, claims: dict[str, Any]) -> str:
        return jwt.encode(claims, pool.key, algorithm="RS256", headers={"kid": pool.kid})

    # -- user info and sign-out ------------------------------------------------------------

    def userinfo(self, pool_id: str, authorization: str | None) -> dict[str, Any]:
        pool = self.pool(pool_id)
        scheme, _, token = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not token:
            raise IssuerError("invalid_token", "send the access token as Authorization: Bearer <token>", status=401)
        try:
            claims = jwt.decode(token, pool.key.public_key(), algorithms=["RS256"], issuer=pool.issuer,
                                options={"require": ["exp", "iat", "sub"]})
        except jwt.PyJWTError as error:
            raise IssuerError("invalid_token", f"the access token is not valid: {error}", status=401) from None
        if claims.get("token_use") != "access":
            raise IssuerError("invalid_token", "userInfo takes an access token, not an ID token", status=401)
        with self._lock:
            revoked = claims.get("origin_jti") in self._revoked_origins
        if revoked:
            raise IssuerError("invalid_token", "Access Token has been revoked", status=401)
        email = next((user.email for user in pool.users.values() if pool.sub(user.email) == claims["sub"]), None)
        info: dict[str, Any] = {"sub": claims["sub"], "username": claims["sub"]}
        if email and "email" in claims.get("scope", "").split():
            info.update(email=email, email_verified="true")
        return info

    def end_session(self, pool_id: str, query: Mapping[str, list[str]]) -> str:
        """Sign-out: where to send the browser. Takes Cognito's ``client_id`` + ``logout_uri`` or
        OpenID Connect RP-Initiated Logout's ``post_logout_redirect_uri`` (+ ``client_id`` or
        ``id_token_hint``, ``state``); the target must be a sign-out URL of that client."""
        pool = self.pool(pool_id)
        params = _single_values(query, on_error=RejectedWithoutRedirect)
        target = params.get("logout_uri") or params.get("post_logout_redirect_uri")
        client_id = params.get("client_id") or self._audience_of(pool, params.get("id_token_hint"))
        if not client_id or client_id not in pool.clients:
            raise RejectedWithoutRedirect("invalid_request",
                                          "name the app client: client_id, or an id_token_hint it issued")
        client = pool.clients[client_id]
        if not target:
            raise RejectedWithoutRedirect("invalid_request", "logout_uri (or post_logout_redirect_uri) is required")
        if target not in client.logout_urls:
            raise RejectedWithoutRedirect(
                "invalid_request", f"{target!r} is not a sign-out URL of client {client_id!r} "
                f"(allowed: {', '.join(sorted(client.logout_urls))})")
        state = params.get("state")
        return _with_query(target, {"state": state}) if state else target

    @staticmethod
    def _audience_of(pool: Pool, id_token: str | None) -> str | None:
        if not id_token:
            return None
        try:  # expired hints are fine for sign-out (OpenID RP-Initiated Logout 1.0, section 2)
            claims = jwt.decode(id_token, pool.key.public_key(), algorithms=["RS256"], issuer=pool.issuer,
                                options={"verify_exp": False, "verify_aud": False})
        except jwt.PyJWTError:
            raise RejectedWithoutRedirect("invalid_request", "id_token_hint was not issued by this pool") from None
        audience = claims.get("aud")
        return audience if isinstance(audience, str) else None

    def _expire(self) -> None:
        now = self._clock()
        for store in (self._pending, self._codes, self._refresh_grants):
            for key in [key for key, value in store.items() if value.expires_at <= now]:
                del store[key]
        for origin in [origin for origin, until in self._revoked_origins.items() if until <= now]:
            del self._revoked_origins[origin]


def seeded_users() -> dict[str, User]:
    return {email: User(email, SEEDED_PASSWORD) for email in SEEDED_EMAILS}


def _single_values(params: Mapping[str, list[str]], *, on_error: type[IssuerError]) -> dict[str, str]:
    """Each OAuth parameter at most once (RFC 6749 section 3.1) and of a sane length."""
    values: dict[str, str] = {}
    for name, given in params.items():
        if len(given) > 1:
            raise on_error("invalid_request", f"parameter {name!r} is given more than once")
        if len(given[0]) > MAX_PARAMETER_CHARS:
            raise on_error("invalid_request", f"parameter {name!r} is longer than {MAX_PARAMETER_CHARS} characters")
        values[name] = given[0]
    return values


def _with_query(url: str, params: Mapping[str, str]) -> str:
    return url + ("&" if urlsplit(url).query else "?") + urlencode(params)


def _s256(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode("ascii")).digest()).rstrip(b"=").decode("ascii")


def _at_hash(access_token: str) -> str:
    digest = hashlib.sha256(access_token.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest[:16]).rstrip(b"=").decode("ascii")


def _b64_uint(value: int) -> str:
    raw = value.to_bytes((value.bit_length() + 7) // 8, "big")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")
