"""The REST API: every route is a VTL mapping template in front of DynamoDB, no Lambda."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping

from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_cognito as cognito
from aws_cdk import aws_iam as iam
from constructs import Construct

from stacks.common.mapping_templates import load_mapping_template
from stacks.common.rest_api import (
    JSON,
    PREFLIGHT_REASON,
    acknowledge_unauthenticated,
    body_validator,
    cognito_authorizer,
    cors_gateway_responses,
    observed_rest_api,
)
from stacks.url_shortener.config import UrlShortenerConfig
from stacks.url_shortener.storage import LinkTable

VTL_DIR = Path(__file__).parent / "vtl"

# Short ids are path segments: a safe slug, never the /app resource's own name.
LINK_ID_PATTERN = r"^(?!app$)[A-Za-z0-9_-]{1,64}$"
# http(s) only (so no javascript: or data: URLs), a host, then anything without whitespace.
# Whitespace is refused because the URL becomes a Location header.
URL_PATTERN = r"^https?://[^\s/?#]+([/?#]\S*)?$"
URL_MAX_LENGTH = 2048

_CORS_REQUEST_HEADERS = "'authorization,content-type'"
_CORS_MAX_AGE = "'600'"


@dataclass(frozen=True)
class _LinkRoute:
    """One ``/app`` route: which DynamoDB action it maps to and what its answers mean."""
    resource: apigw.IResource
    http_method: str
    action: str
    request_template: str
    success: str
    success_template: str
    condition_failed_status: str
    condition_failed_message: str
    model: apigw.IModel | None = None
    template_values: Mapping[str, str] = field(default_factory=dict)
    path_parameters: tuple[str, ...] = ()
    query_parameters: tuple[str, ...] = ()


@dataclass(frozen=True)
class _Response:
    status: str
    template: str
    selection_pattern: str | None = None
    parameters: dict[str, str] | None = None


class ShortenerApi(Construct):
    """REST API ``/{linkId}`` (public redirect) and ``/app`` (the caller's own links).

    ``allowed_origins`` are the CORS origins, the primary first (``config.allowed_origins``
    with the stack's own dashboard before them, see ``stacks.common.static_site.cors_origins``)."""

    def __init__(self, scope: Construct, id_: str, *, config: UrlShortenerConfig, links: LinkTable,
                 user_pool: cognito.IUserPool, allowed_origins: tuple[str, ...]) -> None:
        super().__init__(scope, id_)
        self._config = config
        self._links = links
        self.allowed_origins = allowed_origins
        self.primary_origin = allowed_origins[0]
        throttle = config.throttle
        rest = observed_rest_api(
            self, api_name="api", stage_name=config.stage_name,
            description="URL shortener: API Gateway mapping templates in front of DynamoDB",
            rate_limit=throttle.rate_limit, burst_limit=throttle.burst_limit,
            log_retention_days=config.observability.log_retention_days,
            waf_requests_per_ip_per_5_min=config.waf_requests_per_ip_per_5_min,
            method_options={"/{linkId}/GET": apigw.MethodDeploymentOptions(
                throttling_rate_limit=throttle.redirect_rate_limit,
                throttling_burst_limit=throttle.redirect_burst_limit)})
        self.api, self.access_log, self.firewall = rest.api, rest.access_log, rest.firewall
        self.read_role, self.write_role = self._integration_roles()
        self.authorizer = cognito_authorizer(self, user_pool)
        self.params_validator = self.api.add_request_validator(
            "ParamsValidator", validate_request_parameters=True, validate_request_body=False)
        self.body_validator = body_validator(self.api)
        self.create_link_model, self.update_link_model = self._models()
        cors_gateway_responses(
            self.api, primary_origin=self.primary_origin,
            bad_request_body='{"message": "Invalid request body: $context.error.validationErrorString"}')

        link = self.api.root.add_resource("{linkId}")
        app = self.api.root.add_resource("app")
        app_link = app.add_resource("{linkId}")
        self._redirect_method(link)
        owner_index = {"OwnerIndexName": LinkTable.OWNER_INDEX, "PageSize": str(config.page_size)}
        no_link = "You have no link with this id"
        for route in (
            _LinkRoute(app, "GET", "Query", "list-request.vtl", "200", "list-response.vtl", "400",
                       "The request could not be processed", template_values=owner_index,
                       query_parameters=("next",)),
            _LinkRoute(app, "POST", "UpdateItem", "create-request.vtl", "201", "link-response.vtl", "409",
                       "A link with this id already exists", model=self.create_link_model),
            _LinkRoute(app_link, "PUT", "UpdateItem", "update-request.vtl", "200", "link-response.vtl", "404",
                       no_link, model=self.update_link_model, path_parameters=("linkId",)),
            _LinkRoute(app_link, "DELETE", "DeleteItem", "delete-request.vtl", "204", "empty-response.vtl", "404",
                       no_link, path_parameters=("linkId",)),
        ):
            self._link_method(route)
        self._preflight(app, "'GET,POST,OPTIONS'")
        self._preflight(app_link, "'PUT,DELETE,OPTIONS'")

    # -- templates -----------------------------------------------------------------------

    def _template(self, name: str, **values: str) -> str:
        return load_mapping_template(VTL_DIR / name, values)

    def _response_template(self, name: str, **values: str) -> str:
        """Response templates that answer browsers start with the CORS origin echo."""
        cors = self._template("cors-origin.vtl", AllowedOrigins=json.dumps(list(self.allowed_origins)))
        return self._template(name, CorsOrigin=cors, **values)

    def _request_template(self, name: str, **values: str) -> str:
        return self._template(name, TableName=self._links.table.table_name, **values)

    # -- IAM -----------------------------------------------------------------------------

    def _integration_roles(self) -> tuple[iam.Role, iam.Role]:
        principal = iam.ServicePrincipal("apigateway.amazonaws.com")
        read_role = iam.Role(self, "ReadRole", assumed_by=principal,
                             description="API Gateway reads links: GetItem on the table, Query on the owner index")
        read_role.add_to_policy(iam.PolicyStatement(
            actions=["dynamodb:GetItem"], resources=[self._links.table.table_arn]))
        read_role.add_to_policy(iam.PolicyStatement(
            actions=["dynamodb:Query"], resources=[self._links.owner_index_arn]))
        write_role = iam.Role(self, "WriteRole", assumed_by=principal,
                              description="API Gateway writes links: UpdateItem and DeleteItem on the table")
        write_role.add_to_policy(iam.PolicyStatement(
            actions=["dynamodb:UpdateItem", "dynamodb:DeleteItem"], resources=[self._links.table.table_arn]))
        return read_role, write_role

    # -- validation and errors -----------------------------------------------------------

    def _models(self) -> tuple[apigw.Model, apigw.Model]:
        link_id = apigw.JsonSchema(type=apigw.JsonSchemaType.STRING, pattern=LINK_ID_PATTERN,
                                   min_length=1, max_length=64,
                                   description="Short id: letters, digits, '-' and '_' (not 'app')")
        url = apigw.JsonSchema(type=apigw.JsonSchemaType.STRING, pattern=URL_PATTERN, min_length=10,
                               max_length=URL_MAX_LENGTH, description="Target: an http(s) URL")
        create = self.api.add_model("CreateLinkModel", content_type=JSON, model_name="CreateLink",
                                    schema=apigw.JsonSchema(
                                        schema=apigw.JsonSchemaVersion.DRAFT4, title="CreateLink",
                                        type=apigw.JsonSchemaType.OBJECT, required=["id", "url"],
                                        properties={"id": link_id, "url": url}, additional_properties=False))
        update = self.api.add_model("UpdateLinkModel", content_type=JSON, model_name="UpdateLink",
                                    schema=apigw.JsonSchema(
                                        schema=apigw.JsonSchemaVersion.DRAFT4, title="UpdateLink",
                                        type=apigw.JsonSchemaType.OBJECT, required=["url"],
                                        properties={"id": link_id, "url": url}, additional_properties=False))
        return create, update

    # -- methods -------------------------------------------------------------------------

    def _integration(self, *, action: str, role: iam.Role, request_template: str,
                     responses: list[_Response]) -> apigw.AwsIntegration:
        return apigw.AwsIntegration(
            service="dynamodb", action=action,
            options=apigw.IntegrationOptions(
                credentials_role=role,
                passthrough_behavior=apigw.PassthroughBehavior.NEVER,
                request_templates={JSON: request_template},
                integration_responses=[apigw.IntegrationResponse(
                    status_code=response.status, selection_pattern=response.selection_pattern,
                    response_templates={JSON: response.template},
                    response_parameters=response.parameters) for response in responses],
            ))

    def _cors_parameters(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        return {"method.response.header.Access-Control-Allow-Origin": f"'{self.primary_origin}'",
                "method.response.header.Vary": "'Origin'",
                **(extra or {})}

    def _api_responses(self, *, success: str, success_template: str, condition_failed_status: str,
                       condition_failed_message: str) -> list[_Response]:
        no_cache = {"method.response.header.Cache-Control": "'no-cache, no-store'"}
        return [
            _Response(success, self._response_template(success_template),
                      parameters=self._cors_parameters(no_cache)),
            _Response("400", self._response_template(
                "error-response.vtl", ConditionFailedStatus=condition_failed_status,
                ConditionFailedMessage=condition_failed_message),
                selection_pattern=r"4\d{2}", parameters=self._cors_parameters(no_cache)),
            _Response("500", self._response_template("server-error-response.vtl"),
                      selection_pattern=r"5\d{2}", parameters=self._cors_parameters(no_cache)),
        ]

    @staticmethod
    def _method_responses(statuses: list[str], headers: list[str]) -> list[apigw.MethodResponse]:
        return [apigw.MethodResponse(status_code=status,
                                     response_parameters={f"method.response.header.{h}": True for h in headers})
                for status in statuses]

    def _redirect_method(self, link: apigw.IResource) -> None:
        cache = f"'max-age={self._config.redirect_cache_seconds}'"
        not_found = self._config.not_found_url
        integration = self._integration(
            action="GetItem", role=self.read_role,
            request_template=self._request_template("redirect-request.vtl"),
            responses=[
                _Response("301", self._template("redirect-response.vtl", NotFoundUrl=not_found),
                          parameters={"method.response.header.Cache-Control": cache}),
                _Response("302", self._template("redirect-error-response.vtl", NotFoundUrl=not_found),
                          selection_pattern=r"4\d{2}",
                          parameters={"method.response.header.Cache-Control": cache}),
                _Response("500", '{"message": "The service failed to look the link up, please retry"}',
                          selection_pattern=r"5\d{2}",
                          parameters={"method.response.header.Cache-Control": "'no-store'"}),
            ])
        method = link.add_method(
            "GET", integration, request_validator=self.params_validator,
            request_parameters={"method.request.path.linkId": True},
            method_responses=self._method_responses(["301", "302", "500", "503"], ["Location", "Cache-Control"]))
        acknowledge_unauthenticated(method, "short links are public by design: anyone holding the link is "
                                            "redirected without signing in")

    def _link_method(self, route: _LinkRoute) -> apigw.Method:
        """A signed-in caller's route over their own links: one DynamoDB action, its answers."""
        integration = self._integration(
            action=route.action, role=self.read_role if route.action == "Query" else self.write_role,
            request_template=self._request_template(route.request_template, **route.template_values),
            responses=self._api_responses(success=route.success, success_template=route.success_template,
                                          condition_failed_status=route.condition_failed_status,
                                          condition_failed_message=route.condition_failed_message))
        parameters = {**{f"method.request.path.{name}": True for name in route.path_parameters},
                      **{f"method.request.querystring.{name}": False for name in route.query_parameters}}
        statuses = list(dict.fromkeys([route.success, "400", route.condition_failed_status, "500", "503"]))
        return route.resource.add_method(
            route.http_method, integration,
            authorization_type=apigw.AuthorizationType.COGNITO, authorizer=self.authorizer,
            request_validator=self.body_validator if route.model else self.params_validator,
            request_parameters=parameters or None,
            request_models={JSON: route.model} if route.model else None,
            method_responses=self._method_responses(
                statuses, ["Access-Control-Allow-Origin", "Vary", "Cache-Control"]))

    def _preflight(self, resource: apigw.IResource, methods: str) -> None:
        headers = {
            "method.response.header.Access-Control-Allow-Origin": f"'{self.primary_origin}'",
            "method.response.header.Access-Control-Allow-Methods": methods,
            "method.response.header.Access-Control-Allow-Headers": _CORS_REQUEST_HEADERS,
            "method.response.header.Access-Control-Max-Age": _CORS_MAX_AGE,
            "method.response.header.Vary": "'Origin'",
        }
        integration = apigw.MockIntegration(
            passthrough_behavior=apigw.PassthroughBehavior.NEVER,
            request_templates={JSON: self._template("options-request.vtl")},
            integration_responses=[apigw.IntegrationResponse(
                status_code="204", response_parameters=headers,
                response_templates={JSON: self._response_template("empty-response.vtl")})])
        method = resource.add_method(
            "OPTIONS", integration,
            method_responses=[apigw.MethodResponse(
                status_code="204", response_parameters={name: True for name in headers})])
        acknowledge_unauthenticated(method, PREFLIGHT_REASON)

