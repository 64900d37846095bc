"""The suite's REST API: regional, traced, logged, throttled and behind a WAF web ACL."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

import aws_cdk as cdk
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_cognito as cognito
from constructs import Construct, IConstruct

from stacks.common.api_logging import ApiAccessLog, ApiFlavor, CallerIdentity
from stacks.common.nag import acknowledge
from stacks.common.waf import RegionalApiFirewall

JSON = "application/json"

# TLS 1.3 and 1.2 only (hybrid post-quantum key exchange), never TLS 1.0 as the default
# endpoint policy allows. An enhanced policy needs an endpoint access mode: STRICT refuses
# requests whose SNI host is not the API's own endpoint (domain fronting).
TLS_SECURITY_POLICY = "SecurityPolicy_TLS13_1_2_PQ_2025_09"
ENDPOINT_ACCESS_MODE = "STRICT"


@dataclass(frozen=True)
class ObservedRestApi:
    api: apigw.RestApi
    access_log: ApiAccessLog
    firewall: RegionalApiFirewall


def observed_rest_api(scope: Construct, *, api_name: str, description: str, stage_name: str,
                      rate_limit: int, burst_limit: int, log_retention_days: int,
                      waf_requests_per_ip_per_5_min: int,
                      method_options: Mapping[str, apigw.MethodDeploymentOptions] | None = None,
                      api_key_source_type: apigw.ApiKeySourceType | None = None,
                      caller: CallerIdentity = CallerIdentity.JWT_CLAIMS) -> ObservedRestApi:
    """A REST API named ``<stack>-<api_name>`` in ``scope`` (children ``Api``, ``AccessLog``,
    ``Firewall``): X-Ray, metrics, execution logs at ERROR only (full request logging would
    write users' tokens and bodies), the common JSON access log, stage throttling, and a
    regional WAF web ACL with a per-IP rate limit.

    The stage logs through the account's API Gateway CloudWatch role, which the
    ``ApiGatewayAccount`` stack owns (``stacks/account``); the suite makes every stack with
    a REST API depend on it. ``caller`` says where the access log's ``user`` comes from, by
    the API's authorization type."""
    access_log = ApiAccessLog(scope, "AccessLog", flavor=ApiFlavor.REST, api_name=api_name,
                              retention_days=log_retention_days, caller=caller)
    api = apigw.RestApi(
        scope, "Api",
        rest_api_name=f"{cdk.Stack.of(scope).stack_name}-{api_name}",
        description=description,
        endpoint_types=[apigw.EndpointType.REGIONAL],
        cloud_watch_role=False,
        api_key_source_type=api_key_source_type,
        deploy_options=apigw.StageOptions(
            stage_name=stage_name, tracing_enabled=True, metrics_enabled=True,
            logging_level=apigw.MethodLoggingLevel.ERROR, data_trace_enabled=False,
            access_log_destination=access_log.rest_destination,
            access_log_format=access_log.rest_format,
            throttling_rate_limit=rate_limit, throttling_burst_limit=burst_limit,
            method_options=dict(method_options) if method_options else None),
    )
    cfn_api: apigw.CfnRestApi = api.node.default_child  # type: ignore[assignment]
    cfn_api.security_policy = TLS_SECURITY_POLICY
    cfn_api.endpoint_access_mode = ENDPOINT_ACCESS_MODE
    firewall = RegionalApiFirewall(scope, "Firewall", stage_arn=api.deployment_stage.stage_arn,
                                   requests_per_ip_per_5_min=waf_requests_per_ip_per_5_min)
    return ObservedRestApi(api=api, access_log=access_log, firewall=firewall)


def cognito_authorizer(scope: Construct, user_pool: cognito.IUserPool) -> apigw.CognitoUserPoolsAuthorizer:
    """The user pool's tokens in ``Authorization`` (API Gateway rejects a missing one with 401)."""
    return apigw.CognitoUserPoolsAuthorizer(scope, "Authorizer", cognito_user_pools=[user_pool],
                                            identity_source=apigw.IdentitySource.header("Authorization"))


def body_validator(api: apigw.RestApi) -> apigw.RequestValidator:
    """Validates the body against the method's model, and its required parameters."""
    return api.add_request_validator("BodyValidator", validate_request_body=True, validate_request_parameters=True)


def cors_gateway_responses(api: apigw.RestApi, *, primary_origin: str, bad_request_body: str) -> None:
    """Errors API Gateway answers itself (validation, auth, throttling) carry CORS headers too,
    so a browser can read them; ``bad_request_body`` is the JSON of a body that fails the model."""
    headers = {"Access-Control-Allow-Origin": f"'{primary_origin}'", "Vary": "'Origin'"}
    api.add_gateway_response("BadRequestBody", type=apigw.ResponseType.BAD_REQUEST_BODY, status_code="400",
                             response_headers=headers, templates={JSON: bad_request_body})
    for name, response_type in (("Default4xx", apigw.ResponseType.DEFAULT_4_XX),
                                ("Default5xx", apigw.ResponseType.DEFAULT_5_XX)):
        api.add_gateway_response(name, type=response_type, response_headers=headers,
                                 templates={JSON: '{"message": $context.error.messageString}'})


def acknowledge_unauthenticated(method: IConstruct, reason: str) -> None:
    """A method without an authorizer on purpose (public redirects, CORS preflight)."""
    acknowledge(method, "AwsSolutions-APIG4", f"No authorizer on purpose: {reason}.")
    acknowledge(method, "AwsSolutions-COG4", f"No Cognito authorizer on purpose: {reason}.")


PREFLIGHT_REASON = "CORS preflight requests never carry credentials, so the OPTIONS mock answers without one"
