"""JSON access logs for API Gateway stages, with saved Logs Insights queries."""
from __future__ import annotations

import enum
import json

import aws_cdk as cdk
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_logs as logs
from constructs import Construct

from stacks.common.config import log_retention


class ApiFlavor(enum.Enum):
    REST = "rest"
    HTTP = "http"


# Same field names for both flavours, so one set of queries serves every API of the suite.
# status and responseLatency are always numbers; everything else may be "-" and is quoted.
_COMMON_FIELDS = {
    "requestId": "$context.requestId",
    "requestTime": "$context.requestTime",
    "requestTimeEpoch": "$context.requestTimeEpoch",
    "domainName": "$context.domainName",
    "apiId": "$context.apiId",
    "stage": "$context.stage",
    "httpMethod": "$context.httpMethod",
    "path": "$context.path",
    "protocol": "$context.protocol",
    "status": "$context.status",
    "responseLength": "$context.responseLength",
    "responseLatency": "$context.responseLatency",
    "sourceIp": "$context.identity.sourceIp",
    "userAgent": "$context.identity.userAgent",
    "errorMessage": "$context.error.message",
    "errorType": "$context.error.responseType",
}


class CallerIdentity(enum.Enum):
    """Where the ``user`` field of the access log comes from: the caller's opaque id, never
    their email (access logs are kept longer than PII should be). Each authorizer type puts
    it somewhere else."""
    JWT_CLAIMS = "$context.authorizer.claims.sub"            # Cognito user pool or HTTP API JWT authorizer
    LAMBDA_AUTHORIZER = "$context.authorizer.principalId"    # TOKEN/REQUEST authorizer's principal
    IAM = "$context.identity.caller"                         # SigV4: the IAM principal id
_FLAVOR_FIELDS = {
    ApiFlavor.REST: {
        "extendedRequestId": "$context.extendedRequestId",
        "resourcePath": "$context.resourcePath",
        "routeKey": "$context.httpMethod $context.resourcePath",
        "integrationLatency": "$context.integration.latency",
        "integrationStatus": "$context.integration.status",
        "integrationError": "$context.integration.error",
        "xrayTraceId": "$context.xrayTraceId",
        "wafResponse": "$context.wafResponseCode",
    },
    ApiFlavor.HTTP: {
        "resourcePath": "$context.routeKey",
        "routeKey": "$context.routeKey",
        "integrationLatency": "$context.integrationLatency",
        "integrationStatus": "$context.integrationStatus",
        "integrationError": "$context.integrationErrorMessage",
    },
}
_NUMERIC_FIELDS = ("status", "responseLatency")

# Saved Logs Insights queries over the fields above: (name suffix, query parts).
_QUERIES = (
    ("requests-per-domain", dict(
        stats_statements=["count(*) as requests by domainName"], sort="requests desc")),
    ("top-paths", dict(
        stats_statements=["count(*) as requests, avg(responseLatency) as avgLatencyMs by httpMethod, resourcePath"],
        sort="requests desc", limit=25)),
    ("errors-by-path", dict(
        filter_statements=["status >= 400"],
        stats_statements=["sum(status < 500) as clientErrors, sum(status >= 500) as serverErrors"
                          " by httpMethod, resourcePath, status"],
        sort="serverErrors desc")),
)


def access_log_format(flavor: ApiFlavor, caller: CallerIdentity = CallerIdentity.JWT_CLAIMS) -> str:
    """The JSON line API Gateway writes per request."""
    fields = {**_COMMON_FIELDS, "user": caller.value, **_FLAVOR_FIELDS[flavor]}
    body = json.dumps(fields)
    for name in _NUMERIC_FIELDS:
        body = body.replace(f'"{name}": "{fields[name]}"', f'"{name}": {fields[name]}')
    return body


class ApiAccessLog(Construct):
    """A log group for one API stage's JSON access log, plus the saved queries over it."""

    def __init__(self, scope: Construct, id_: str, *, flavor: ApiFlavor, api_name: str,
                 retention_days: int, caller: CallerIdentity = CallerIdentity.JWT_CLAIMS,
                 removal_policy: cdk.RemovalPolicy = cdk.RemovalPolicy.RETAIN) -> None:
        super().__init__(scope, id_)
        self.log_group = logs.LogGroup(self, "LogGroup", retention=log_retention(retention_days),
                                       removal_policy=removal_policy)
        self.format = access_log_format(flavor, caller)
        self.query_definitions = [
            logs.QueryDefinition(
                self, f"Query{index}",
                query_definition_name=f"{cdk.Stack.of(self).stack_name}/{api_name}/{suffix}",
                query_string=logs.QueryString(**query),
                log_groups=[self.log_group])
            for index, (suffix, query) in enumerate(_QUERIES)
        ]

    @property
    def rest_destination(self) -> apigw.LogGroupLogDestination:
        return apigw.LogGroupLogDestination(self.log_group)

    @property
    def rest_format(self) -> apigw.AccessLogFormat:
        return apigw.AccessLogFormat.custom(self.format)

    @property
    def http_settings(self) -> apigwv2.CfnStage.AccessLogSettingsProperty:
        """For an HTTP API stage (``CfnStage.access_log_settings``): no role needed."""
        return apigwv2.CfnStage.AccessLogSettingsProperty(destination_arn=self.log_group.log_group_arn,
                                                          format=self.format)
