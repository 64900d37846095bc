"""Runs a synthesized API Gateway REST API (AWS service and MOCK integrations) in-process.

The emulator reads the CloudFormation template the stack produced — resources, methods,
validators, models, mapping templates, integration and gateway responses — and executes a
request the way API Gateway does:

1. route to the most specific resource (literal path parts beat ``{param}`` parts);
2. authorize (a Cognito-authorized method without a user gets the UNAUTHORIZED response);
3. validate required parameters and the JSON body against the method's model;
4. render the integration request template, send it to the service (DynamoDB on moto);
5. pick the integration response whose selection pattern matches the service's status code,
   apply its static header mappings, render its template, apply ``responseOverride``s.

Only what the suite uses is covered; anything else fails loudly rather than guessing.
"""
from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Callable, Mapping

import jsonschema
from botocore.exceptions import ClientError

from local.apigw.apigw_vtl import Rendered, RequestParams
from local.apigw.apigw_vtl import render as render_template

JSON = "application/json"


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


class CfnResolver:
    """Resolves the intrinsics the templates use, with physical names supplied by the test."""

    def __init__(self, physical_names: Mapping[str, str]) -> None:
        self.physical_names = dict(physical_names)

    def __call__(self, value: Any) -> Any:
        if isinstance(value, str):
            return value
        if isinstance(value, list):
            return [self(v) for v in value]
        if isinstance(value, dict):
            if "Ref" in value:
                return self._name(value["Ref"])
            if "Fn::Join" in value:
                separator, parts = value["Fn::Join"]
                return separator.join(str(self(part)) for part in parts)
            if "Fn::GetAtt" in value:
                logical_id, attribute = value["Fn::GetAtt"]
                return self._name(f"{logical_id}.{attribute}")
            return {key: self(v) for key, v in value.items()}
        return value

    def _name(self, key: str) -> str:
        if key not in self.physical_names:
            raise AssertionError(f"the test gave no physical name for {key!r}")
        return self.physical_names[key]


class RestApiEmulator:
    def __init__(self, template: dict, *, physical_names: Mapping[str, str],
                 services: Mapping[str, Callable[[str, dict], tuple[int, dict]]],
                 stage: str = "prod") -> None:
        self.template = template
        self.resources: dict[str, dict] = template["Resources"]
        self.resolve = CfnResolver(physical_names)
        self.services = dict(services)
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
        parts = [p for p in path.split("/") if p]
        best: tuple[int, _Method, dict[str, str]] | None = None
        for method in self.methods:
            if method.http_method != http_method:
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

    # -- request handling ----------------------------------------------------------------

    def request(self, http_method: str, path: str, *, body: Any = None, user: str | None = None,
                headers: Mapping[str, str] | None = None, query: Mapping[str, str] | None = None) -> ApiResponse:
        raw_body = body if isinstance(body, str) or body is None else json.dumps(body)
        headers = {"Content-Type": JSON, **(headers or {})}
        query = dict(query or {})
        method, path_params = self._route(http_method, path)
        params = RequestParams(path=path_params, querystring=query, header=headers)
        context = self._context(http_method, method, user)
        if method is None:
            return self._gateway_response("MISSING_AUTHENTICATION_TOKEN", "403", params, context,
                                          "Missing Authentication Token")
        if method.props.get("AuthorizationType") == "COGNITO_USER_POOLS" and user is None:
            return self._gateway_response("UNAUTHORIZED", "401", params, context, "Unauthorized")
        validator = self._validator(method)
        if validator.get("ValidateRequestParameters"):
            for name, required in (method.props.get("RequestParameters") or {}).items():
                location, _, key = name.removeprefix("method.request.").partition(".")
                source = {"path": path_params, "querystring": query, "header": headers}[location]
                if required and not source.get(key):
                    return self._gateway_response("BAD_REQUEST_PARAMETERS", "400", params, context,
                                                  f"Missing required request parameters: [{key}]")
        schema = self.model_schema(method)
        if validator.get("ValidateRequestBody") and schema is not None:
            problem = self._body_problem(raw_body, schema)
            if problem is not None:
                context["error"]["validationErrorString"] = problem
                return self._gateway_response("BAD_REQUEST_BODY", "400", params, context, "Invalid request body")
        return self._integrate(method, raw_body or "", params, context)

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

    def _context(self, http_method: str, method: _Method | None, user: str | None) -> dict:
        now = datetime.now(timezone.utc)
        context: dict[str, Any] = {
            "requestId": str(uuid.uuid4()), "extendedRequestId": str(uuid.uuid4()),
            "requestTime": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "requestTimeEpoch": int(now.timestamp() * 1000),
            "httpMethod": http_method, "resourcePath": method.path if method else "",
            "stage": self.stage, "identity": {"sourceIp": "203.0.113.9", "userAgent": "pytest"},
            "error": {"message": "", "messageString": '""', "validationErrorString": ""},
        }
        if user is not None:
            context["authorizer"] = {"claims": {"email": user, "sub": str(uuid.uuid5(uuid.NAMESPACE_URL, user)),
                                                "email_verified": "true"}}
        return context

    def _gateway_response(self, response_type: str, default_status: str, params: RequestParams,
                          context: dict, message: str) -> ApiResponse:
        fallback = "DEFAULT_4XX" if default_status.startswith("4") else "DEFAULT_5XX"
        props = self.gateway_responses.get(response_type) or self.gateway_responses.get(fallback) or {}
        context["error"]["message"] = message
        context["error"]["messageString"] = json.dumps(message)
        template = (props.get("ResponseTemplates") or {}).get(JSON, '{"message": $context.error.messageString}')
        rendered = render(template, params=params, context=context)
        headers = {name.removeprefix("gatewayresponse.header."): value.strip("'")
                   for name, value in (props.get("ResponseParameters") or {}).items()}
        return ApiResponse(status=int(props.get("StatusCode", default_status)), headers=headers,
                           body=rendered.text)

    def _integrate(self, method: _Method, raw_body: str, params: RequestParams, context: dict) -> ApiResponse:
        integration = method.props["Integration"]
        templates = self.resolve(integration.get("RequestTemplates") or {})
        if JSON not in templates:
            raise AssertionError(f"{method.http_method} {method.path} has no {JSON} request template")
        request = render(templates[JSON], body=raw_body, params=params, context=context)
        if integration["Type"] == "MOCK":
            status, response_body = int(request.json()["statusCode"]), ""
        elif integration["Type"] == "AWS":
            uri = self.resolve(integration["Uri"])
            match = re.search(r":([a-z0-9-]+):action/([A-Za-z]+)$", uri)
            if not match:
                raise AssertionError(f"unsupported integration URI {uri}")
            service, action = match.groups()
            payload = request.json()  # a template that renders invalid JSON is a bug, not a 400
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
        for name, value in (chosen.get("ResponseParameters") or {}).items():
            if not (value.startswith("'") and value.endswith("'")):
                raise AssertionError(f"only static header mappings are emulated, got {name}={value}")
            headers[name.removeprefix("method.response.header.")] = value[1:-1]
        template = self.resolve((chosen.get("ResponseTemplates") or {}).get(JSON, ""))
        rendered = render(template, body=body, params=params, context=context)
        headers.update(rendered.header_overrides)
        return ApiResponse(status=rendered.status_override or int(chosen["StatusCode"]), headers=headers,
                           body=rendered.text.strip())


def dynamodb_service(client) -> Callable[[str, dict], tuple[int, dict]]:
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
        response.pop("ResponseMetadata", None)
        return 200, _jsonable(response)
    return call


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    if isinstance(value, (bytes, bytearray)):
        import base64
        return base64.b64encode(value).decode()
    return value
