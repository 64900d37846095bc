"""The suite's REST API: regional, traced, logged, throttled and behind a WAF web ACL."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

import aws_cdk as cdk
from aws_cdk import aws_apigateway as apigw
from constructs import Construct

from stacks.common.api_logging import ApiAccessLog, ApiFlavor
from stacks.common.nag import acknowledge
from stacks.common.waf import RegionalApiFirewall


@dataclass(frozen=True)
class ObservedRestApi:
    api: apigw.RestApi
    access_log: ApiAccessLog
    firewall: RegionalApiFirewall


def observed_rest_api(scope: Construct, *, api_name: str, description: str, stage_name: str,
                      rate_limit: int, burst_limit: int, log_retention_days: int,
                      waf_requests_per_ip_per_5_min: int,
                      method_options: Mapping[str, apigw.MethodDeploymentOptions] | None = None,
                      api_key_source_type: apigw.ApiKeySourceType | None = None) -> ObservedRestApi:
    """A REST API named ``<stack>-<api_name>`` in ``scope`` (children ``Api``, ``AccessLog``,
    ``Firewall``): X-Ray, metrics, execution logs at ERROR only (full request logging would
    write users' tokens and bodies), the common JSON access log, stage throttling, and a
    regional WAF web ACL with a per-IP rate limit."""
    access_log = ApiAccessLog(scope, "AccessLog", flavor=ApiFlavor.REST, api_name=api_name,
                              retention_days=log_retention_days)
    api = apigw.RestApi(
        scope, "Api",
        rest_api_name=f"{cdk.Stack.of(scope).stack_name}-{api_name}",
        description=description,
        endpoint_types=[apigw.EndpointType.REGIONAL],
        cloud_watch_role=True,
        cloud_watch_role_removal_policy=cdk.RemovalPolicy.RETAIN,
        api_key_source_type=api_key_source_type,
        deploy_options=apigw.StageOptions(
            stage_name=stage_name, tracing_enabled=True, metrics_enabled=True,
            logging_level=apigw.MethodLoggingLevel.ERROR, data_trace_enabled=False,
            access_log_destination=access_log.rest_destination,
            access_log_format=access_log.rest_format,
            throttling_rate_limit=rate_limit, throttling_burst_limit=burst_limit,
            method_options=dict(method_options) if method_options else None),
    )
    acknowledge(api.node.find_child("CloudWatchRole"),
                "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/"
                "AmazonAPIGatewayPushToCloudWatchLogs]",
                "API Gateway's account-wide logging role needs this AWS-maintained policy to write "
                "execution logs to log groups it creates per API and stage.")
    firewall = RegionalApiFirewall(scope, "Firewall", stage_arn=api.deployment_stage.stage_arn,
                                   requests_per_ip_per_5_min=waf_requests_per_ip_per_5_min)
    return ObservedRestApi(api=api, access_log=access_log, firewall=firewall)
