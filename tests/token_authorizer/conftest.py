"""The token authorizer against a real JWKS endpoint on loopback.

The identity provider is an ``http.server`` thread serving a key set of RSA and EC keys made
with ``cryptography`` for the session; tests sign tokens with the private halves. The server
counts the key set requests it receives and can be switched to answer 503, to answer late,
or to trickle its answer a byte at a time.
"""
from __future__ import annotations

import json
import os
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Iterator

# The root conftest keeps the AWS SDKs away from real accounts; these configure Powertools.
os.environ.update({
    "POWERTOOLS_TRACE_DISABLED": "true",
    "POWERTOOLS_SERVICE_NAME": "token-authorizer",
    "POWERTOOLS_METRICS_NAMESPACE": "Tests/TokenAuthorizer",
    "POWERTOOLS_LOG_LEVEL": "WARNING",
})

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

from lambda_src.token_authorizer import handler as authorizer_handler
from lambda_src.token_authorizer.logic import Decision
from tests.support.lambda_context import FakeLambdaContext

AUDIENCE = "https://api.example.com"
CLIENT_ID = "machine-client"
API = "arn:aws:execute-api:us-east-1:123456789012:abcdef1234"
STAGE = "prod"
JWKS_PATH = "/.well-known/jwks.json"
PERMISSIONS = [
    {"method": "GET", "resource": "/items", "scope": "api/read"},
    {"method": "GET", "resource": "/items/{itemId}", "scope": "api/read"},
    {"method": "POST", "resource": "/items", "scope": "api/write"},
    {"method": "DELETE", "resource": "/items/{itemId}", "scope": "api/write"},
    {"method": "GET", "resource": "/items/{itemId}/audit", "scope": "api/admin"},
    {"method": "*", "resource": "/admin/{proxy+}", "scope": "api/admin"},
]
UNSET = object()


@dataclass(frozen=True)
class SigningKey:
    kid: str
    algorithm: str
    private_key: Any

    @property
    def public_jwk(self) -> dict[str, Any]:
        serializer = RSAAlgorithm if self.algorithm == "RS256" else ECAlgorithm
        return {**serializer.to_jwk(self.private_key.public_key(), as_dict=True),
                "kid": self.kid, "alg": self.algorithm, "use": "sig"}


def rsa_key(kid: str) -> SigningKey:
    return SigningKey(kid, "RS256", rsa.generate_private_key(public_exponent=65537, key_size=2048))


def ec_key(kid: str) -> SigningKey:
    return SigningKey(kid, "ES256", ec.generate_private_key(ec.SECP256R1()))


@dataclass
class JwksServer:
    """What the fake identity provider serves, and how many key set requests it got."""

    url: str
    issuer: str
    keys: list[dict[str, Any]] = field(default_factory=list)
    mode: str = "ok"  # ok | down | slow | trickle
    delay_seconds: float = 0.0
    requests: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def reset(self, keys: list[dict[str, Any]]) -> None:
        with self.lock:
            self.keys, self.mode, self.delay_seconds, self.requests = list(keys), "ok", 0.0, 0


def _handler_class(state: JwksServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path != JWKS_PATH:
                self.send_error(404)
                return
            with state.lock:
                state.requests += 1
                mode, delay, body = state.mode, state.delay_seconds, json.dumps({"keys": state.keys}).encode()
            if mode == "down":
                self.send_error(503)
                return
            if mode == "slow":
                time.sleep(delay)
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if mode == "trickle":  # each byte well within any socket timeout, the whole far beyond
                for byte in body:
                    self.wfile.write(bytes([byte]))
                    self.wfile.flush()
                    time.sleep(delay)
            else:
                self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # the client hung up on a slow answer, as the tests intend


@dataclass
class Provider:
    """The session's identity provider: its server and its keys."""

    server: JwksServer
    rsa: SigningKey
    ec: SigningKey
    unpublished: SigningKey  # a key the provider never published

    def published(self) -> list[dict[str, Any]]:
        return [self.rsa.public_jwk, self.ec.public_jwk]


@pytest.fixture(scope="session")
def provider() -> Iterator[Provider]:
    state = JwksServer(url="", issuer="")
    httpd = _QuietServer(("127.0.0.1", 0), _handler_class(state))
    host, port = httpd.server_address[:2]
    state.url, state.issuer = f"http://{host}:{port}{JWKS_PATH}", f"http://{host}:{port}"
    thread = threading.Thread(target=httpd.serve_forever, name="jwks-server", daemon=True)
    thread.start()
    try:
        yield Provider(server=state, rsa=rsa_key("rsa-1"), ec=ec_key("ec-1"), unpublished=rsa_key("rsa-unpublished"))
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


class Authorizer:
    """The deployed function as API Gateway calls it, with a fresh execution environment."""

    def __init__(self, provider: Provider, monkeypatch: pytest.MonkeyPatch) -> None:
        self.provider = provider
        self._monkeypatch = monkeypatch
        self.configure()

    def configure(self, **environment: str) -> None:
        """(Re)start the execution environment with these settings over the defaults."""
        defaults = {
            "ISSUER": self.provider.server.issuer, "AUDIENCE": AUDIENCE, "AUDIENCE_CLAIM": "aud",
            "JWKS_URL": self.provider.server.url, "PERMISSIONS": json.dumps(PERMISSIONS),
            "JWKS_REFETCH_COOLDOWN_SECONDS": "30", "JWKS_TIMEOUT_SECONDS": "0.5",
            "JWKS_CACHE_SECONDS": "300", "LEEWAY_SECONDS": "30",
        }
        for name, value in {**defaults, **environment}.items():
            self._monkeypatch.setenv(name, value)
        authorizer_handler._configured.cache_clear()

    def token(self, key: SigningKey | None = None, *, kid: Any = UNSET, **claims: Any) -> str:
        """A token signed by ``key`` (the provider's RSA key by default); a claim set to
        ``UNSET`` is left out."""
        key = key or self.provider.rsa
        now = int(time.time())
        payload = {"iss": self.provider.server.issuer, "aud": AUDIENCE, "sub": "user-1", "client_id": CLIENT_ID,
                   "iat": now, "exp": now + 300, "scope": "api/read", "jti": str(uuid.uuid4())}
        payload.update(claims)
        payload = {name: value for name, value in payload.items() if value is not UNSET}
        headers = {"kid": key.kid if kid is UNSET else kid}
        return jwt.encode(payload, key.private_key, algorithm=key.algorithm, headers=headers)

    @staticmethod
    def event(authorization: Any, *, method: str = "GET", path: str = "items") -> dict[str, Any]:
        """A TOKEN authorizer event for ``method /path`` of the stage, as API Gateway sends it."""
        return {"type": "TOKEN", "authorizationToken": authorization, "methodArn": f"{API}/{STAGE}/{method}/{path}"}

    def handle(self, event: Any) -> dict[str, Any]:
        """The function's answer, as API Gateway receives it."""
        return authorizer_handler.handler(event, FakeLambdaContext())

    def decide(self, event: Any) -> Decision:
        """The function's decision with its reason (what it logs and counts)."""
        return authorizer_handler._decision(event)

    def bearer(self, token: str, **route: str) -> Decision:
        return self.decide(self.event(f"Bearer {token}", **route))


@pytest.fixture
def authorizer(provider: Provider, monkeypatch: pytest.MonkeyPatch) -> Authorizer:
    provider.server.reset(provider.published())
    return Authorizer(provider, monkeypatch)
