"""``GET /mars`` behind an API key and a usage plan: what a PyPortal can call."""
from __future__ import annotations

from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from stacks.common.nag import acknowledge
from stacks.common.rest_api import observed_rest_api
from stacks.mars_weather.config import MarsWeatherConfig


class MarsApi(Construct):
    def __init__(self, scope: Construct, id_: str, *, config: MarsWeatherConfig,
                 function: lambda_.IFunction) -> None:
        super().__init__(scope, id_)
        rest = observed_rest_api(
            self, api_name="api", description="Mars photo and weather for a PyPortal display", stage_name="prod",
            rate_limit=config.throttle_rate_limit, burst_limit=config.throttle_burst_limit,
            log_retention_days=config.observability.log_retention_days, waf_requests_per_ip_per_5_min=300,
            api_key_source_type=apigw.ApiKeySourceType.HEADER)
        self.api, self.access_log, self.firewall = rest.api, rest.access_log, rest.firewall
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
