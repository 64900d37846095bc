"""The local issuer on HTTP: Cognito's endpoint layout, one path prefix per user pool.

``/<pool>/.well-known/openid-configuration``, ``/<pool>/.well-known/jwks.json``,
``/<pool>/oauth2/authorize`` (the sign-in page), ``/<pool>/login`` (its form),
``/<pool>/oauth2/token``, ``/<pool>/oauth2/revoke``, ``/<pool>/oauth2/userInfo``,
``/<pool>/logout``; ``/`` lists the pools. Browsers call the metadata, token and revocation
endpoints from the web clients' origins, so those answer CORS: metadata to anyone, the token,
revocation and user info endpoints to the origins of the pool's callback URLs only. Their
errors are RFC 6749's JSON (``error``, ``error_description``), a form that is not one
included.
"""
from __future__ import annotations

from html import escape
from typing import Callable

from local.httpserver import Request, RequestRejected, Response
from local.oidc.issuer import (
    SEEDED_PASSWORD,
    Issuer,
    IssuerError,
    LoginRefused,
    RedirectedError,
)

# Every OAuth parameter is at most MAX_PARAMETER_CHARS (4096): a form several times that is
# refused before it is parsed, whatever the HTTP layer's own (10 MB) limit.
MAX_FORM_BYTES = 16 * 1024

_PAGE_HEADERS = {
    "Cache-Control": "no-store",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; "
                               "base-uri 'none'",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}
_STYLE = """
body { font-family: system-ui, sans-serif; max-width: 28rem; margin: 2rem auto; padding: 0 1rem; color: #1a1a1a; }
h1 { font-size: 1.4rem; } label { display: block; margin-top: .8rem; font-weight: 600; }
input { width: 100%; box-sizing: border-box; padding: .6rem; font-size: 1rem; border: 1px solid #555; }
button { margin-top: 1rem; padding: .6rem 1rem; font-size: 1rem; background: #0b5394; color: #fff; border: 0; }
.quick button { background: #fff; color: #0b5394; border: 1px solid #0b5394; width: 100%; }
.error { color: #a30000; font-weight: 600; } .note { color: #444; font-size: .9rem; }
"""


def issuer_handler(issuer: Issuer) -> Callable[[Request], Response]:
    """The request handler of the issuer's HTTP server."""

    def handle(request: Request) -> Response:
        parts = [part for part in request.path.split("/") if part]
        if not parts:
            return _index(issuer)
        pool_id, route = parts[0], "/".join(parts[1:])
        try:
            issuer.pool(pool_id)
        except IssuerError as error:
            return Response.json(404, {"error": error.error, "error_description": error.description})
        origin = request.header("origin")
        if request.method == "OPTIONS":
            return _preflight(issuer, pool_id, route, origin)
        if route == ".well-known/openid-configuration" and request.method == "GET":
            return Response.json(200, issuer.discovery(pool_id), {"Access-Control-Allow-Origin": "*"})
        if route == ".well-known/jwks.json" and request.method == "GET":
            return Response.json(200, issuer.jwks(pool_id), {"Access-Control-Allow-Origin": "*"})
        if route == "oauth2/authorize" and request.method == "GET":
            return _authorize(issuer, pool_id, request)
        if route == "login" and request.method == "POST":
            return _login(issuer, pool_id, request)
        if route == "oauth2/token" and request.method == "POST":
            return _token(issuer, pool_id, request, origin)
        if route == "oauth2/revoke" and request.method == "POST":
            return _revoke(issuer, pool_id, request, origin)
        if route == "oauth2/userInfo" and request.method in ("GET", "POST"):
            return _userinfo(issuer, pool_id, request, origin)
        if route == "logout" and request.method == "GET":
            try:
                return Response.redirect(issuer.end_session(pool_id, request.query))
            except IssuerError as error:
                return _error_page(error)
        return Response.json(404 if request.method in ("GET", "POST") else 405,
                             {"error": "not_found", "error_description": f"no {request.method} /{pool_id}/{route}"})

    return handle


def _cors(issuer: Issuer, pool_id: str, origin: str | None) -> dict[str, str]:
    clients = issuer.pool(pool_id).clients.values()
    if origin and any(origin in client.origins for client in clients):
        return {"Access-Control-Allow-Origin": origin, "Vary": "Origin"}
    return {"Vary": "Origin"}


def _preflight(issuer: Issuer, pool_id: str, route: str, origin: str | None) -> Response:
    if route in (".well-known/openid-configuration", ".well-known/jwks.json"):
        allowed = {"Access-Control-Allow-Origin": "*"}
    else:
        allowed = _cors(issuer, pool_id, origin)
    return Response(204, b"", {**allowed, "Access-Control-Allow-Methods": "GET, POST, OPTIONS",
                               "Access-Control-Allow-Headers": "authorization, content-type",
                               "Access-Control-Max-Age": "600"})


def _authorize(issuer: Issuer, pool_id: str, request: Request) -> Response:
    try:
        request_id = issuer.begin_authorization(pool_id, request.query)
    except RedirectedError as error:
        return Response.redirect(error.location)
    except IssuerError as error:
        return _error_page(error)
    return _login_page(issuer, pool_id, request_id)


def _login(issuer: Issuer, pool_id: str, request: Request) -> Response:
    try:
        form = _form(request)
    except IssuerError as error:
        return _error_page(error)
    request_id = _field(form, "request")
    email, password = _field(form, "email"), _field(form, "password")
    try:
        return Response.redirect(issuer.sign_in(pool_id, request_id, email, password), status=303)
    except LoginRefused as error:
        return _login_page(issuer, pool_id, request_id, error=error.description, email=email, status=401)
    except IssuerError as error:
        return _error_page(error)


def _token(issuer: Issuer, pool_id: str, request: Request, origin: str | None) -> Response:
    return _client_call(issuer, pool_id, request, origin,
                        lambda form: Response.json(200, issuer.exchange(pool_id, form)))


def _revoke(issuer: Issuer, pool_id: str, request: Request, origin: str | None) -> Response:
    def revoke(form: dict[str, list[str]]) -> Response:
        issuer.revoke(pool_id, form)
        return Response(200)  # Cognito: "A successful response contains an empty body"

    return _client_call(issuer, pool_id, request, origin, revoke)


def _client_call(issuer: Issuer, pool_id: str, request: Request, origin: str | None,
                 answer: Callable[[dict[str, list[str]]], Response]) -> Response:
    """A form an app client POSTs (token, revocation): CORS, no caching, errors as RFC 6749 JSON."""
    headers = {"Cache-Control": "no-store", "Pragma": "no-cache", **_cors(issuer, pool_id, origin)}
    try:
        if request.header("authorization"):
            raise IssuerError("invalid_client", "the app clients are public (no secret): send client_id in the body",
                              status=401)
        response = answer(_form(request))
    except IssuerError as error:
        return Response.json(error.status, {"error": error.error, "error_description": error.description}, headers)
    response.headers.update(headers)
    return response


def _form(request: Request) -> dict[str, list[str]]:
    if len(request.body) > MAX_FORM_BYTES:
        raise IssuerError("invalid_request", f"the form is larger than {MAX_FORM_BYTES} bytes")
    try:
        return request.form()
    except RequestRejected as rejected:
        raise IssuerError("invalid_request", rejected.message) from None


def _userinfo(issuer: Issuer, pool_id: str, request: Request, origin: str | None) -> Response:
    headers = _cors(issuer, pool_id, origin)
    try:
        return Response.json(200, issuer.userinfo(pool_id, request.header("authorization")), headers)
    except IssuerError as error:
        return Response.json(error.status, {"error": error.error, "error_description": error.description},
                             {**headers, "WWW-Authenticate": f'Bearer error="{error.error}"'})


def _field(form: dict[str, list[str]], name: str) -> str:
    values = form.get(name) or [""]
    return values[0] if len(values) == 1 else ""


def _page(title: str, body: str, status: int = 200) -> Response:
    html = (f'<!doctype html><html lang="en"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{escape(title)}</title><style>{_STYLE}</style></head><body><main>{body}</main></body></html>")
    return Response(status, html, _PAGE_HEADERS, content_type="text/html; charset=utf-8")


def _login_page(issuer: Issuer, pool_id: str, request_id: str, *, error: str | None = None, email: str = "",
                status: int = 200) -> Response:
    try:
        client = issuer.pending_client(request_id)
    except IssuerError as expired:
        return _error_page(expired)
    pool = issuer.pool(pool_id)
    action = f"/{escape(pool_id)}/login"
    hidden = f'<input type="hidden" name="request" value="{escape(request_id)}">'
    message = f'<p class="error" role="alert">{escape(error)}</p>' if error else ""
    quick = "".join(
        f'<form method="post" action="{action}" class="quick">{hidden}'
        f'<input type="hidden" name="email" value="{escape(user.email)}">'
        f'<input type="hidden" name="password" value="{escape(user.password)}">'
        f'<button type="submit">Sign in as {escape(user.email)}</button></form>'
        for user in pool.users.values())
    body = (f"<h1>Sign in</h1><p class=\"note\">Local stand-in for the Cognito hosted sign-in of user pool "
            f"<code>{escape(pool_id)}</code> (app client <code>{escape(client.client_id)}</code>).</p>{message}"
            f'<form method="post" action="{action}">{hidden}'
            f'<label for="email">Email</label>'
            f'<input id="email" name="email" type="email" autocomplete="username" required value="{escape(email)}">'
            f'<label for="password">Password</label>'
            f'<input id="password" name="password" type="password" autocomplete="current-password" required>'
            f'<button type="submit">Sign in</button></form>'
            f"<h2>Test users</h2><p class=\"note\">Password <code>{escape(SEEDED_PASSWORD)}</code>.</p>{quick}")
    return _page("Sign in", body, status)


def _error_page(error: IssuerError) -> Response:
    body = (f'<h1>Sign-in error</h1><p class="error" role="alert">{escape(error.error)}: '
            f"{escape(error.description)}</p>")
    return _page("Sign-in error", body, error.status)


def _index(issuer: Issuer) -> Response:
    rows = "".join(f"<li><a href=\"/{escape(pool_id)}/.well-known/openid-configuration\">{escape(pool.issuer)}</a>"
                   f" (clients: {escape(', '.join(sorted(pool.clients)))})</li>"
                   for pool_id, pool in issuer.pools.items())
    users = ", ".join(escape(email) for email in next(iter(issuer.pools.values())).users) if issuer.pools else ""
    return _page("Local OpenID Connect issuer", f"<h1>Local OpenID Connect issuer</h1><ul>{rows}</ul>"
                 f"<p>Users: {users}; password <code>{escape(SEEDED_PASSWORD)}</code>.</p>")
