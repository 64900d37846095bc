"""An OAuth 2.0 client of the local issuer: the authorization code flow with PKCE over HTTP.

It speaks only the protocol (query parameters, the sign-in form's fields, the token
endpoint's form), as a browser and oidc-client-ts do, and shares no code with the issuer;
``python -m local.token`` and the tests use it.
"""
from __future__ import annotations

import base64
import hashlib
import json
import re
import secrets
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from typing import Any, Mapping

TIMEOUT_SECONDS = 15


class SignInFailed(RuntimeError):
    """A step of the flow did not answer what the protocol says it answers."""


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes

    def header(self, name: str) -> str | None:
        return next((value for key, value in self.headers.items() if key.lower() == name.lower()), None)

    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")

    def location_query(self) -> dict[str, str]:
        location = self.header("location") or ""
        return {k: v[0] for k, v in urllib.parse.parse_qs(urllib.parse.urlsplit(location).query).items()}


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_OPENER = urllib.request.build_opener(_NoRedirect, urllib.request.ProxyHandler({}))


def http(method: str, url: str, *, body: bytes | str | None = None, headers: Mapping[str, str] | None = None,
         form: Mapping[str, str] | None = None, json_body: Any = None) -> Answer:
    """One request; redirects are not followed; error statuses are answers, not exceptions."""
    sent = dict(headers or {})
    if form is not None:
        body = urllib.parse.urlencode(form)
        sent.setdefault("Content-Type", "application/x-www-form-urlencoded")
    if json_body is not None:
        body = json.dumps(json_body)
        sent.setdefault("Content-Type", "application/json")
    data = body.encode("utf-8") if isinstance(body, str) else body
    request = urllib.request.Request(url, data=data, method=method, headers=sent)
    try:
        response = _OPENER.open(request, timeout=TIMEOUT_SECONDS)
    except urllib.error.HTTPError as error:
        response = error
    with response:
        return Answer(response.status, dict(response.headers.items()), response.read())


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode("ascii")).digest()).rstrip(b"=").decode()
    return verifier, challenge


@dataclass
class CodeFlow:
    """One sign-in of ``client_id`` at ``authority`` (an issuer URL)."""

    authority: str
    client_id: str
    redirect_uri: str
    scope: str = "openid email"
    state: str = field(default_factory=lambda: secrets.token_urlsafe(12))
    nonce: str = field(default_factory=lambda: secrets.token_urlsafe(12))
    verifier: str = ""
    challenge: str = ""

    def __post_init__(self) -> None:
        self.verifier, self.challenge = pkce_pair()

    def metadata(self) -> dict[str, Any]:
        return http("GET", f"{self.authority}/.well-known/openid-configuration").json()

    def authorize_params(self, **overrides: str | None) -> dict[str, str]:
        params = {"client_id": self.client_id, "redirect_uri": self.redirect_uri, "response_type": "code",
                  "scope": self.scope, "state": self.state, "nonce": self.nonce,
                  "code_challenge": self.challenge, "code_challenge_method": "S256"}
        params.update(overrides)
        return {k: v for k, v in params.items() if v is not None}

    def authorize(self, query: str | None = None, **overrides: str | None) -> Answer:
        query = query if query is not None else urllib.parse.urlencode(self.authorize_params(**overrides))
        return http("GET", f"{self.metadata()['authorization_endpoint']}?{query}")

    @staticmethod
    def sign_in_request(page: Answer) -> str:
        found = re.search(r'name="request" value="([^"]+)"', page.text)
        if not found:
            raise SignInFailed(f"no sign-in form in the page ({page.status}): {page.text[:300]}")
        return found.group(1)

    def submit(self, page: Answer, email: str, password: str) -> Answer:
        return http("POST", f"{self.authority}/login",
                    form={"request": self.sign_in_request(page), "email": email, "password": password})

    def code(self, email: str = "alice@example.com", password: str = "local-password") -> str:
        page = self.authorize()
        if page.status != 200:
            raise SignInFailed(f"the authorization request was refused ({page.status}): "
                               f"{page.header('location') or page.text[:300]}")
        signed_in = self.submit(page, email, password)
        if signed_in.status == 401:
            raise SignInFailed(f"the issuer refused the credentials of {email}: incorrect email or password")
        query = signed_in.location_query()
        if signed_in.status != 303 or query.get("state") != self.state or "code" not in query:
            raise SignInFailed(f"signing in did not redirect with a code ({signed_in.status}): "
                               f"{signed_in.header('location') or signed_in.text[:300]}")
        return query["code"]

    def exchange(self, code: str, **overrides: str | None) -> Answer:
        form = {"grant_type": "authorization_code", "code": code, "redirect_uri": self.redirect_uri,
                "code_verifier": self.verifier, "client_id": self.client_id}
        form.update(overrides)
        return http("POST", self.metadata()["token_endpoint"], form={k: v for k, v in form.items() if v is not None},
                    headers={"Origin": _origin(self.redirect_uri)})

    def tokens(self, email: str = "alice@example.com") -> dict[str, Any]:
        answer = self.exchange(self.code(email))
        if answer.status != 200:
            raise SignInFailed(f"the token endpoint refused the code ({answer.status}): {answer.text}")
        return answer.json()


def _origin(url: str) -> str:
    parts = urllib.parse.urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"
