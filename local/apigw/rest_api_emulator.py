"""Runs a synthesized API Gateway REST API (AWS service, Lambda proxy and MOCK integrations).

The emulator reads the CloudFormation template the stack produced — resources, methods,
authorizers, validators, models, mapping templates, integration and gateway responses — and
executes a request the way API Gateway does:

1. route to the most specific resource (literal path parts beat ``{param}`` parts);
2. authorize: a ``COGNITO_USER_POOLS`` method asks its authorizer (tests sign in with
   ``user=<email>``; ``python -m local`` verifies real tokens, see :mod:`.authorizers`);
   a method with ``ApiKeyRequired`` needs one of the stage's keys in ``x-api-key``;
3. validate required parameters and the JSON body against the method's model;
4. ``AWS`` integrations: render the request template for the request's content type (or
   pass the body through, or answer 415, per ``PassthroughBehavior``), send it to the service
   (DynamoDB on moto), pick the integration response whose selection pattern matches the
   service's status code, apply its static header mappings, render its template, apply
   ``responseOverride``s; ``AWS_PROXY``: invoke the function with the proxy event and answer
   what it returns (a malformed answer or a function error is API Gateway's 502); ``MOCK``:
   the status code the request template names.

Only what the suite uses is covered; anything else fails loudly rather than guessing.
"""
from __future__ import annotations

import base64
import json
import re
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Callable, Iterable, Mapping
from urllib.parse import unquote

import jsonschema
from botocore.exceptions import ClientError, ParamValidationError

from local.apigw.apigw_vtl import Rendered, RequestParams
from local.apigw.apigw_vtl import render as render_template
from local.apigw.authorizers import AuthorizationFailed, TestUsers
from local.cfn import Resolver

JSON = "application/json"

# (authorizer properties, method scopes, request headers, test user) -> claims
Authorizer = Callable[[Mapping[str, Any], "list[str] | None", Mapping[str, str], "str | None"], dict[str, str]]
Service = Callable[[str, dict], "tuple[int, dict]"]
Function = Callable[[dict], Any]


class FunctionFailed(Exception):
    """The Lambda function raised or timed out (API Gateway answers 502)."""


def render(template: str, **kwargs: Any) -> Rendered:
    """Render like API Gateway, but fail on what it would silently turn into "" (a typo'd
    method or property), so a mistake in a template cannot pass unnoticed."""
    rendered = render_template(template, **kwargs)
    if rendered.warnings:
        raise AssertionError(f"template rendered with warnings {rendered.warnings}:\n{template}")
    return rendered


@dataclass
class ApiResponse:
    status: int
    headers: dict[str, str]
    body: str

    def json(self) -> Any:
        try:
            return json.loads(self.body)
        except json.JSONDecodeError as error:  # pragma: no cover - reported as a test failure
            raise AssertionError(f"response body is not JSON ({error}): {self.body!r}") from error

    def header(self, name: str) -> str | None:
        return next((value for key, value in self.headers.items() if key.lower() == name.lower()), None)


@dataclass
class _Method:
    path: str
    http_method: str
    props: dict


@dataclass
class ServiceCall:
    action: str
    payload: dict


class RestApiEmulator:
    def __init__(self, template: dict, *, physical_names: Mapping[str, Any] | None = None,
                 resolver: Resolver | None = None, services: Mapping[str, Service] | None = None,
                 functions: Mapping[str, Function] | None = None, authorizer: Authorizer | None = None,
                 api_keys: Iterable[str] = (), stage: str = "prod") -> None:
        self.template = template
        self.resources: dict[str, dict] = template["Resources"]
        api_ids = {logical_id: "local" for logical_id, resource in self.resources.items()
                   if resource["Type"] == "AWS::ApiGateway::RestApi"}
        self.resolve = (resolver or Resolver(physical_names or {})).with_names(api_ids)
        self.services = dict(services or {})
        self.functions = dict(functions or {})
        self.authorizer: Authorizer = authorizer or TestUsers()
        self.api_keys = frozenset(api_keys)
        self.stage = stage
        self.calls: list[ServiceCall] = []
        self.methods = self._methods()
        self.gateway_responses = {
            props["ResponseType"]: props
            for props in self._of_type("AWS::ApiGateway::GatewayResponse")}

    # -- template reading ----------------------------------------------------------------

    def _of_type(self, cfn_type: str) -> list[dict]:
        return [r.get("Properties", {}) for r in self.resources.values() if r["Type"] == cfn_type]

    def _resource_path(self, ref: Any) -> str:
        if isinstance(ref, dict) and "Fn::GetAtt" in ref:
            return ""  # the API's root resource
        logical_id = ref["Ref"]
        props = self.resources[logical_id]["Properties"]
        return f"{self._resource_path(props['ParentId'])}/{props['PathPart']}"

    def _methods(self) -> list[_Method]:
        return [_Method(path=self._resource_path(p["ResourceId"]) or "/", http_method=p["HttpMethod"], props=p)
                for p in self._of_type("AWS::ApiGateway::Method")]

    def _route(self, http_method: str, path: str) -> tuple[_Method | None, dict[str, str]]:
        parts = [unquote(p) for p in path.split("/") if p]
        best: tuple[int, _Method, dict[str, str]] | None = None
        for method in self.methods:
            if method.http_method not in (http_method, "ANY"):
                continue
            pattern = [p for p in method.path.split("/") if p]
            if len(pattern) != len(parts):
                continue
            params, literal_matches = {}, 0
            for expected, actual in zip(pattern, parts, strict=False):
                if expected.startswith("{") and expected.endswith("}"):
                    params[expected[1:-1]] = actual
                elif expected == actual:
                    literal_matches += 1
                else:
                    break
            else:
                if best is None or literal_matches > best[0]:
                    best = (literal_matches, method, params)
        return (best[1], best[2]) if best else (None, {})

    def model_schema(self, method: _Method) -> dict | None:
        models = method.props.get("RequestModels") or {}
        if JSON not in models:
            return None
        logical_id = models[JSON]["Ref"]
        return self.resources[logical_id]["Properties"]["Schema"]

    def _validator(self, method: _Method) -> dict:
        ref = method.props.get("RequestValidatorId")
        return self.resources[ref["Ref"]]["Properties"] if ref else {}

    def _authorizer_props(self, method: _Method) -> dict:
        ref = method.props.get("AuthorizerId")
        if not ref or not getattr(self.authorizer, "reads_properties", True):
            return {}
        return self.resolve(self.resources[ref["Ref"]]["Properties"])

    # -- request handling ----------------------------------------------------------------

    def request(self, http_method: str, path: str, *, body: Any = None, user: str | None = None,
                headers: Mapping[str, str] | None = None, query: Mapping[str, str] | None = None,
                source_ip: str = "203.0.113.9", user_agent: str = "pytest") -> ApiResponse:
        raw_body = body if isinstance(body, str) or body is None else json.dumps(body)
        headers = dict(headers or {})
        if raw_body is not None and not _header(headers, "content-type"):
            headers["Content-Type"] = JSON
        query = dict(query or {})
        method, path_params = self._route(http_method, path)
        params = RequestParams(path=path_params, querystring=query, header=headers)
        context = self._context(http_method, method, path, source_ip, user_agent)
        if method is None:
            return self._gateway_response("MISSING_AUTHENTICATION_TOKEN", "403", params, context,
                                          "Missing Authentication Token")
        if method.props.get("AuthorizationType") == "COGNITO_USER_POOLS":
            try:
                claims = self.authorizer(self._authorizer_props(method), method.props.get("AuthorizationScopes"),
                                         headers, user)
            except AuthorizationFailed as failed:
                return self._gateway_response(failed.response_type, str(failed.status), params, context,
                                              failed.message)
            context["authorizer"] = {"claims": claims}
        if method.props.get("ApiKeyRequired"):
            key = _header(headers, "x-api-key")
            if key not in self.api_keys:
                return self._gateway_response("INVALID_API_KEY", "403", params, context, "Forbidden")
            context["identity"]["apiKey"] = key
        validator = self._validator(method)
        if validator.get("ValidateRequestParameters"):
            for name, required in (method.props.get("RequestParameters") or {}).items():
                location, _, key = name.removeprefix("method.request.").partition(".")
                source = {"path": path_params, "querystring": query, "header": headers}[location]
                value = _header(source, key) if location == "header" else source.get(key)
                if required and not value:
                    return self._gateway_response("BAD_REQUEST_PARAMETERS", "400", params, context,
                                                  f"Missing required request parameters: [{key}]")
        schema = self.model_schema(method)
        if validator.get("ValidateRequestBody") and schema is not None and _media_type(headers) == JSON:
            problem = self._body_problem(raw_body, schema)
            if problem is not None:
                context["error"]["validationErrorString"] = problem
                return self._gateway_response("BAD_REQUEST_BODY", "400", params, context, "Invalid request body")
        integration = method.props["Integration"]
        if integration["Type"] == "AWS_PROXY":
            return self._invoke_proxy(method, path, raw_body, headers, query, path_params, context, params)
        return self._integrate(method, raw_body or "", headers, params, context)

    @staticmethod
    def _body_problem(raw_body: str | None, schema: dict) -> str | None:
        try:
            document = json.loads(raw_body or "")
        except json.JSONDecodeError as error:
            return f"[Invalid JSON: {error.msg}]"
        errors = sorted(jsonschema.Draft4Validator(schema).iter_errors(document), key=lambda e: list(e.path))
        if not errors:
            return None
        # API Gateway lists the problems in one bracketed string; quotes come back escaped.
        return "[" + ", ".join(e.message for e in errors).replace('"', '\\"') + "]"

    def _context(self, http_method: str, method: _Method | None, path: str, source_ip: str,
                 user_agent: str) -> dict:
        now = datetime.now(timezone.utc)
        return {
            "requestId": str(uuid.uuid4()), "extendedRequestId": str(uuid.uuid4()),
            "requestTime": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "requestTimeEpoch": int(now.timestamp() * 1000),
            "httpMethod": http_method, "resourcePath": method.path if method else "",
            "path": f"/{self.stage}{path}", "stage": self.stage,
            "identity": {"sourceIp": source_ip, "userAgent": user_agent},
            "error": {"message": "", "messageString": '""', "validationErrorString": ""},
        }

    def _gateway_response(self, response_type: str, default_status: str, params: RequestParams,
                          context: dict, message: str) -> ApiResponse:
        fallback = "DEFAULT_4XX" if default_status.startswith("4") else "DEFAULT_5XX"
        props = self.gateway_responses.get(response_type) or self.gateway_responses.get(fallback) or {}
        context["error"]["message"] = message
        context["error"]["messageString"] = json.dumps(message)
        template = (props.get("ResponseTemplates") or {}).get(JSON, '{"message": $context.error.messageString}')
        rendered = render(self.resolve(template), params=params, context=context)
        headers = {name.removeprefix("gatewayresponse.header."): value.strip("'")
                   for name, value in self.resolve(props.get("ResponseParameters") or {}).items()}
        headers.setdefault("Content-Type", JSON)
        return ApiResponse(status=int(props.get("StatusCode", default_status)), headers=headers,
                           body=rendered.text)

    def _integrate(self, method: _Method, raw_body: str, headers: Mapping[str, str], params: RequestParams,
                   context: dict) -> ApiResponse:
        integration = method.props["Integration"]
        templates = self.resolve(integration.get("RequestTemplates") or {})
        media_type = _media_type(headers)
        if media_type in templates:
            request_text = render(templates[media_type], body=raw_body, params=params, context=context).text
        else:
            passthrough = integration.get("PassthroughBehavior", "WHEN_NO_MATCH")
            if passthrough == "NEVER" or (passthrough == "WHEN_NO_TEMPLATES" and templates):
                return self._gateway_response("UNSUPPORTED_MEDIA_TYPE", "415", params, context,
                                              "Unsupported Media Type")
            request_text = raw_body  # passed through to the integration unchanged
        if integration["Type"] == "MOCK":
            status, response_body = _mock_status(request_text), ""
        elif integration["Type"] == "AWS":
            uri = self.resolve(integration["Uri"])
            match = re.search(r":([a-z0-9-]+):action/([A-Za-z]+)$", uri)
            if not match:
                raise AssertionError(f"unsupported integration URI {uri}")
            service, action = match.groups()
            try:
                payload = json.loads(request_text)
            except json.JSONDecodeError:
                status, response = 400, {"__type": "com.amazon.coral.service#SerializationException",
                                          "message": "the request body is not JSON"}
            else:
                self.calls.append(ServiceCall(action, payload))
                status, response = self.services[service](action, payload)
            response_body = json.dumps(response)
        else:
            raise AssertionError(f"unsupported integration type {integration['Type']}")
        return self._integration_response(integration, status, response_body, params, context)

    def _integration_response(self, integration: dict, status: int, body: str, params: RequestParams,
                              context: dict) -> ApiResponse:
        responses = integration.get("IntegrationResponses") or []
        chosen = next((r for r in responses if r.get("SelectionPattern")
                       and re.fullmatch(r["SelectionPattern"], str(status))), None)
        chosen = chosen or next((r for r in responses if not r.get("SelectionPattern")), None)
        if chosen is None:
            raise AssertionError(f"no integration response matches status {status}")
        headers = {}
        for name, value in self.resolve(chosen.get("ResponseParameters") or {}).items():
            if not (value.startswith("'") and value.endswith("'")):
                raise AssertionError(f"only static header mappings are emulated, got {name}={value}")
            headers[name.removeprefix("method.response.header.")] = value[1:-1]
        template = self.resolve((chosen.get("ResponseTemplates") or {}).get(JSON, ""))
        rendered = render(template, body=body, params=params, context=context)
        headers.update(rendered.header_overrides)
        if rendered.text.strip():
            headers.setdefault("Content-Type", JSON)
        return ApiResponse(status=rendered.status_override or int(chosen["StatusCode"]), headers=headers,
                           body=rendered.text.strip())

    # -- Lambda proxy integration --------------------------------------------------------

    def _invoke_proxy(self, method: _Method, path: str, raw_body: str | None, headers: Mapping[str, str],
                      query: Mapping[str, str], path_params: Mapping[str, str], context: dict,
                      params: RequestParams) -> ApiResponse:
        uri = self.resolve(method.props["Integration"]["Uri"])
        match = re.search(r":function:([^/:]+)(?::[^/]+)?/invocations$", uri)
        if not match or match.group(1) not in self.functions:
            raise AssertionError(f"no local function for integration URI {uri}")
        request_context = {key: value for key, value in context.items() if key != "error"}
        request_context.update(resourceId=method.path, protocol="HTTP/1.1", accountId=self.resolve(
            {"Ref": "AWS::AccountId"}), apiId="local", domainName="localhost", domainPrefix="localhost")
        event = {
            "resource": method.path, "path": path, "httpMethod": method.http_method,
            "headers": dict(headers) or None, "multiValueHeaders": {k: [v] for k, v in headers.items()} or None,
            "queryStringParameters": dict(query) or None,
            "multiValueQueryStringParameters": {k: [v] for k, v in query.items()} or None,
            "pathParameters": dict(path_params) or None, "stageVariables": None,
            "requestContext": request_context, "body": raw_body, "isBase64Encoded": False,
        }
        try:
            answer = self.functions[match.group(1)](event)
        except FunctionFailed:
            return self._gateway_response("DEFAULT_5XX", "502", params, context, "Internal server error")
        response = _proxy_response(answer)
        if response is None:
            return self._gateway_response("DEFAULT_5XX", "502", params, context, "Internal server error")
        return response


def _header(headers: Mapping[str, str], name: str) -> str | None:
    return next((value for key, value in headers.items() if key.lower() == name.lower()), None)


def _media_type(headers: Mapping[str, str]) -> str:
    """The request's content type without parameters; API Gateway assumes JSON when there is none."""
    value = _header(headers, "content-type")
    return value.split(";")[0].strip().lower() if value else JSON


def _mock_status(request_text: str) -> int:
    """The ``statusCode`` a MOCK integration's request template names. API Gateway reads it
    leniently: ``{ statusCode: 200 }`` (unquoted key) works, so this does too."""
    match = re.search(r'["\']?statusCode["\']?\s*:\s*(\d{3})', request_text)
    if not match:
        raise AssertionError(f"MOCK request template names no statusCode: {request_text!r}")
    return int(match.group(1))


def _proxy_response(answer: Any) -> ApiResponse | None:
    """A Lambda proxy answer as API Gateway returns it; None when it is malformed (502)."""
    if not isinstance(answer, dict) or not isinstance(answer.get("statusCode"), int):
        return None
    headers = answer.get("headers") or {}
    multi = answer.get("multiValueHeaders") or {}
    body = answer.get("body")
    if not isinstance(headers, dict) or not isinstance(multi, dict) or not isinstance(body, (str, type(None))):
        return None
    merged = {str(k): str(v) for k, v in headers.items()}
    merged.update({str(k): ",".join(map(str, v)) for k, v in multi.items() if isinstance(v, list)})
    text = body or ""
    if answer.get("isBase64Encoded"):
        try:
            text = base64.b64decode(text, validate=True).decode("utf-8", "replace")
        except ValueError:
            return None
    return ApiResponse(status=answer["statusCode"], headers=merged, body=text)


def dynamodb_service(client) -> Service:
    """Sends a rendered DynamoDB request to a boto3 client (moto) and answers like DynamoDB's
    JSON protocol: the status code and the response or error document."""
    def call(action: str, payload: dict) -> tuple[int, dict]:
        operation = re.sub(r"(?<!^)(?=[A-Z])", "_", action).lower()
        try:
            response = getattr(client, operation)(**payload)
        except ClientError as error:
            status = error.response["ResponseMetadata"]["HTTPStatusCode"]
            code = error.response["Error"]["Code"]
            return status, {"__type": f"com.amazonaws.dynamodb.v20120810#{code}",
                            "message": error.response["Error"].get("Message", "")}
        except ParamValidationError as error:  # what DynamoDB's own validation would refuse
            return 400, {"__type": "com.amazon.coral.validate#ValidationException", "message": str(error)}
        response.pop("ResponseMetadata", None)
        return 200, _jsonable(response)
    return call


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    if isinstance(value, (bytes, bytearray)):
        return base64.b64encode(value).decode()
    return value
