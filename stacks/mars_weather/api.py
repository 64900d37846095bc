"""``GET /mars`` behind an API key and a usage plan: what a PyPortal can call."""
from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from stacks.common.api_logging import ApiAccessLog, ApiFlavor
from stacks.common.nag import acknowledge
from stacks.common.waf import RegionalApiFirewall
from stacks.mars_weather.config import MarsWeatherConfig


class MarsApi(Construct):
    def __init__(self, scope: Construct, id_: str, *, config: MarsWeatherConfig,
                 function: lambda_.IFunction) -> None:
        super().__init__(scope, id_)
        self.access_log = ApiAccessLog(self, "AccessLog", flavor=ApiFlavor.REST, api_name="mars-weather",
                                       retention_days=config.observability.log_retention_days)
        self.api = apigw.RestApi(
            self, "Api",
            rest_api_name=f"{cdk.Stack.of(self).stack_name}-api",
            description="Mars photo and weather for a PyPortal display",
            endpoint_types=[apigw.EndpointType.REGIONAL],
            cloud_watch_role=True,
            cloud_watch_role_removal_policy=cdk.RemovalPolicy.RETAIN,
            api_key_source_type=apigw.ApiKeySourceType.HEADER,
            deploy_options=apigw.StageOptions(
                stage_name="prod", tracing_enabled=True, metrics_enabled=True,
                logging_level=apigw.MethodLoggingLevel.ERROR, data_trace_enabled=False,
                access_log_destination=self.access_log.rest_destination,
                access_log_format=self.access_log.rest_format,
                throttling_rate_limit=config.throttle_rate_limit,
                throttling_burst_limit=config.throttle_burst_limit),
        )
        acknowledge(self.api.node.find_child("CloudWatchRole"),
                    "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/"
                    "AmazonAPIGatewayPushToCloudWatchLogs]",
                    "API Gateway's account-wide logging role needs this AWS-maintained policy to write "
                    "execution logs to log groups it creates per API and stage.")
        self.firewall = RegionalApiFirewall(self, "Firewall", stage_arn=self.api.deployment_stage.stage_arn,
                                            requests_per_ip_per_5_min=300)
        # GET has no body; validating both keeps one validator for any route added later.
        params_validator = self.api.add_request_validator(
            "RequestValidator", validate_request_parameters=True, validate_request_body=True)
        self.method = self.api.root.add_resource("mars").add_method(
            "GET", apigw.LambdaIntegration(function, proxy=True),
            api_key_required=True, request_validator=params_validator,
            request_parameters={"method.request.header.x-api-key": True})
        for rule in ("AwsSolutions-APIG4", "AwsSolutions-COG4"):
            acknowledge(self.method, rule,
                        "The PyPortal cannot sign requests or run a Cognito sign-in; the route requires "
                        "an API key tied to a usage plan with throttling and a daily quota instead.")
        self.api_key = self.api.add_api_key("DeviceKey", description="Key for the PyPortal display")
        self.usage_plan = self.api.add_usage_plan(
            "DevicePlan", description="Throttle and daily quota for display devices",
            throttle=apigw.ThrottleSettings(rate_limit=config.throttle_rate_limit,
                                            burst_limit=config.throttle_burst_limit),
            quota=apigw.QuotaSettings(limit=config.daily_quota, period=apigw.Period.DAY),
            api_stages=[apigw.UsagePlanPerApiStage(api=self.api, stage=self.api.deployment_stage)])
        self.usage_plan.add_api_key(self.api_key)
        self.url = self.api.url_for_path("/mars")
