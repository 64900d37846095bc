"""Runs a synthesized API Gateway HTTP API (routes to Lambda proxy integrations, payload 2.0).

Read from the template: the API's CORS configuration, its routes (``RouteKey``, authorizer,
authorization scopes, target integration), integrations and JWT authorizers. A request:

1. CORS preflight (``OPTIONS`` with ``Origin`` and ``Access-Control-Request-Method``) is
   answered by API Gateway itself, 204, whatever the routes;
2. is matched to a route: the most literal path segments win over ``{param}``, which wins
   over a greedy ``{proxy+}``; an exact method over ``ANY``; ``$default`` last; none: 404;
3. is authorized by the route's JWT authorizer (401/403 with ``www-authenticate``);
4. becomes a payload 2.0 event (lowercased headers, repeated headers and query values joined
   with commas, cookies apart, text bodies as text and others base64) for the function;
5. the function's answer is read as API Gateway reads format 2.0 (an object with
   ``statusCode``, or anything else inferred as a 200 JSON body); a function error is 500.

With CORS configured, every answer to an allowed origin carries the configured CORS headers
and the integration's own CORS headers are dropped, as API Gateway does.
"""
from __future__ import annotations

import base64
import json
import re
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Callable, Mapping
from urllib.parse import parse_qsl, unquote

from local.apigw.authorizers import AuthorizationFailed, JwtAuthorizer, KeySets
from local.apigw.rest_api_emulator import ApiResponse, FunctionFailed
from local.cfn import Resolver, Template

Function = Callable[[dict], Any]

_TEXT_TYPES = re.compile(r"^(text/.*|application/(json|.*\+json|xml|.*\+xml|javascript|x-www-form-urlencoded))$")


@dataclass
class _Route:
    method: str  # "GET", ..., "ANY", or "$default"
    segments: list[str]
    props: dict
    function_name: str

    @property
    def rank(self) -> tuple[int, int, int, int]:
        literal = sum(1 for s in self.segments if not s.startswith("{"))
        greedy = any(s.endswith("+}") for s in self.segments)
        return (self.method != "$default", not greedy, literal, self.method != "ANY")


class HttpApiEmulator:
    def __init__(self, template: Template, *, resolver: Resolver, functions: Mapping[str, Function],
                 keys: KeySets | None = None) -> None:
        api_id, api = template.one("AWS::ApiGatewayV2::Api")
        self.resolve = resolver.with_names({api_id: "local"})
        self.functions = dict(functions)
        self.cors = self.resolve(api.get("CorsConfiguration")) or None
        keys = keys or KeySets()
        self.authorizers = {logical_id: JwtAuthorizer(self.resolve(props), keys)
                            for logical_id, props in template.of_type("AWS::ApiGatewayV2::Authorizer").items()
                            if props.get("AuthorizerType") == "JWT"}
        integrations = template.of_type("AWS::ApiGatewayV2::Integration")
        self.routes: list[_Route] = []
        for props in template.of_type("AWS::ApiGatewayV2::Route").values():
            integration_id = _integration_id(props["Target"])
            integration = integrations[integration_id]
            if integration.get("IntegrationType") != "AWS_PROXY" or integration.get("PayloadFormatVersion") != "2.0":
                raise AssertionError(f"route {props['RouteKey']}: only Lambda proxy integrations with payload 2.0 "
                                     "are emulated")
            function_arn = self.resolve(integration["IntegrationUri"])
            route_key = props["RouteKey"]
            method, _, path = route_key.partition(" ")
            self.routes.append(_Route(method, [s for s in path.split("/") if s], props,
                                      function_arn.rsplit(":function:", 1)[-1]))

    # -- routing -----------------------------------------------------------------------

    def _match(self, method: str, path: str) -> tuple[_Route | None, dict[str, str]]:
        parts = [unquote(p) for p in path.split("/") if p]
        candidates: list[tuple[_Route, dict[str, str]]] = []
        for route in self.routes:
            if route.method == "$default":
                candidates.append((route, {}))
                continue
            if route.method not in (method, "ANY"):
                continue
            params = _match_segments(route.segments, parts)
            if params is not None:
                candidates.append((route, params))
        if not candidates:
            return None, {}
        return max(candidates, key=lambda candidate: candidate[0].rank)

    # -- requests ------------------------------------------------------------------------

    def request(self, method: str, path: str, *, raw_query: str = "", headers: list[tuple[str, str]] | None = None,
                body: bytes = b"", source_ip: str = "127.0.0.1") -> ApiResponse:
        header_items = list(headers or [])
        lowered: dict[str, str] = {}
        cookies: list[str] = []
        for name, value in header_items:
            key = name.lower()
            if key == "cookie":
                cookies.extend(part.strip() for part in value.split(";") if part.strip())
                continue
            lowered[key] = f"{lowered[key]},{value}" if key in lowered else value
        origin = lowered.get("origin")
        if method == "OPTIONS" and self.cors and origin and "access-control-request-method" in lowered:
            return ApiResponse(204, self._preflight_headers(origin), "")
        response = self._handle(method, path, raw_query, lowered, cookies, body, source_ip)
        return self._with_cors(response, origin)

    def _handle(self, method: str, path: str, raw_query: str, headers: dict[str, str], cookies: list[str],
                body: bytes, source_ip: str) -> ApiResponse:
        route, path_params = self._match(method, path)
        if route is None:
            return _json(404, {"message": "Not Found"})
        authorizer_context: dict[str, Any] = {}
        if route.props.get("AuthorizationType") == "JWT":
            authorizer = self.authorizers[route.props["AuthorizerId"]["Ref"]]
            try:
                claims, scopes = authorizer(headers, route.props.get("AuthorizationScopes"))
            except AuthorizationFailed as failed:
                return _json(failed.status, {"message": failed.message}, failed.headers)
            authorizer_context = {"jwt": {"claims": claims, "scopes": scopes}}
        event = self._event(method, path, raw_query, headers, cookies, body, source_ip, route, path_params,
                            authorizer_context)
        try:
            answer = self.functions[route.function_name](event)
        except FunctionFailed:
            return _json(500, {"message": "Internal Server Error"})
        return _response(answer)

    def _event(self, method: str, path: str, raw_query: str, headers: dict[str, str], cookies: list[str],
               body: bytes, source_ip: str, route: _Route, path_params: dict[str, str],
               authorizer: dict[str, Any]) -> dict[str, Any]:
        now = datetime.now(timezone.utc)
        route_key = route.props["RouteKey"]
        event: dict[str, Any] = {"version": "2.0", "routeKey": route_key, "rawPath": path,
                                 "rawQueryString": raw_query}
        if cookies:
            event["cookies"] = cookies
        event["headers"] = headers
        query: dict[str, str] = {}
        for name, value in parse_qsl(raw_query, keep_blank_values=True):
            query[name] = f"{query[name]},{value}" if name in query else value
        if query:
            event["queryStringParameters"] = query
        request_id = str(uuid.uuid4())
        event["requestContext"] = {
            "accountId": self.resolve({"Ref": "AWS::AccountId"}), "apiId": "local",
            **({"authorizer": authorizer} if authorizer else {}),
            "domainName": headers.get("host", "localhost"), "domainPrefix": "localhost",
            "http": {"method": method, "path": path, "protocol": "HTTP/1.1", "sourceIp": source_ip,
                     "userAgent": headers.get("user-agent", "")},
            "requestId": request_id, "routeKey": route_key, "stage": "$default",
            "time": now.strftime("%d/%b/%Y:%H:%M:%S +0000"), "timeEpoch": int(now.timestamp() * 1000),
        }
        if path_params:
            event["pathParameters"] = path_params
        if body:
            if _is_text(headers.get("content-type"), body):
                event["body"], event["isBase64Encoded"] = body.decode("utf-8"), False
            else:
                event["body"], event["isBase64Encoded"] = base64.b64encode(body).decode("ascii"), True
        else:
            event["isBase64Encoded"] = False
        return event

    # -- CORS ----------------------------------------------------------------------------

    def _allowed(self, origin: str) -> str | None:
        origins = (self.cors or {}).get("AllowOrigins") or []
        if "*" in origins:
            return "*"
        return origin if origin in origins else None

    def _preflight_headers(self, origin: str) -> dict[str, str]:
        allowed = self._allowed(origin)
        if allowed is None:
            return {}
        cors = self.cors or {}
        headers = {"access-control-allow-origin": allowed,
                   "access-control-allow-methods": ",".join(cors.get("AllowMethods") or ["*"]),
                   "access-control-allow-headers": ",".join(cors.get("AllowHeaders") or [])}
        if cors.get("MaxAge") is not None:
            headers["access-control-max-age"] = str(cors["MaxAge"])
        if cors.get("AllowCredentials"):
            headers["access-control-allow-credentials"] = "true"
        return headers

    def _with_cors(self, response: ApiResponse, origin: str | None) -> ApiResponse:
        if not self.cors:
            return response
        headers = {k: v for k, v in response.headers.items() if not k.lower().startswith("access-control-")}
        allowed = self._allowed(origin) if origin else None
        if allowed is not None:
            headers["access-control-allow-origin"] = allowed
            if self.cors.get("ExposeHeaders"):
                headers["access-control-expose-headers"] = ",".join(self.cors["ExposeHeaders"])
            if self.cors.get("AllowCredentials"):
                headers["access-control-allow-credentials"] = "true"
        return ApiResponse(response.status, headers, response.body)


def _integration_id(target: Any) -> str:
    """The integration's logical id in a route's ``Target`` (``integrations/`` + its Ref)."""
    if isinstance(target, dict) and "Fn::Join" in target:
        for part in target["Fn::Join"][1]:
            if isinstance(part, dict) and "Ref" in part:
                return part["Ref"]
    raise AssertionError(f"unsupported route target {target}")


def _match_segments(pattern: list[str], parts: list[str]) -> dict[str, str] | None:
    params: dict[str, str] = {}
    for index, expected in enumerate(pattern):
        if expected.startswith("{") and expected.endswith("+}"):
            if index >= len(parts):
                return None
            params[expected[1:-2]] = "/".join(parts[index:])
            return params
        if index >= len(parts):
            return None
        if expected.startswith("{") and expected.endswith("}"):
            params[expected[1:-1]] = parts[index]
        elif expected != parts[index]:
            return None
    return params if len(pattern) == len(parts) else None


def _is_text(content_type: str | None, body: bytes) -> bool:
    media_type = (content_type or "").split(";")[0].strip().lower()
    if media_type and not _TEXT_TYPES.match(media_type):
        return False
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _json(status: int, document: Any, headers: Mapping[str, str] | None = None) -> ApiResponse:
    return ApiResponse(status, {"content-type": "application/json", **(headers or {})}, json.dumps(document))


def _response(answer: Any) -> ApiResponse:
    """A payload 2.0 answer as API Gateway reads it."""
    if isinstance(answer, dict) and "statusCode" in answer:
        status = answer["statusCode"]
        headers = answer.get("headers") or {}
        body = answer.get("body")
        if not isinstance(status, int) or not isinstance(headers, dict) or not isinstance(body, (str, type(None))):
            return _json(500, {"message": "Internal Server Error"})
        if answer.get("cookies"):
            raise AssertionError("cookies in payload 2.0 answers (one set-cookie each) are not emulated")
        merged = {str(k).lower(): str(v) for k, v in headers.items()}
        text = body or ""
        if answer.get("isBase64Encoded"):
            try:
                text = base64.b64decode(text, validate=True).decode("utf-8", "replace")
            except ValueError:
                return _json(500, {"message": "Internal Server Error"})
        return ApiResponse(status, merged, text)
    body = answer if isinstance(answer, str) else json.dumps(answer)
    return ApiResponse(200, {"content-type": "application/json"}, body)
