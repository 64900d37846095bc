"""The alarms of the reference post, wired to the stack's alarm topic."""
from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_cloudwatch as cloudwatch
from constructs import Construct

from stacks.common.alarms import AlarmTopic

_ONE_MINUTE = cdk.Duration.minutes(1)
_FIVE_MINUTES = cdk.Duration.minutes(5)
_OPERATIONS = ("GetItem", "Query", "UpdateItem", "DeleteItem")


class ApiAlarms(Construct):
    """API error rates and latency, DynamoDB system and user error rates (regional metrics)."""

    def __init__(self, scope: Construct, id_: str, *, alarms: AlarmTopic, stage: apigw.Stage,
                 table_name: str, latency_threshold_ms: int) -> None:
        super().__init__(scope, id_)
        # 4XXError and 5XXError averages are the share of requests that failed.
        self.client_errors = alarms.alarm(
            self, "Api4xxRate", threshold=0.01,
            metric=stage.metric_client_error(statistic="Average", period=_ONE_MINUTE),
            description="More than 1% of API requests answered 4xx over one minute")
        self.server_errors = alarms.alarm(
            self, "Api5xxRate", threshold=0.01,
            metric=stage.metric_server_error(statistic="Average", period=_ONE_MINUTE),
            description="More than 1% of API requests answered 5xx over one minute")
        self.latency = alarms.alarm(
            self, "ApiP99Latency", threshold=latency_threshold_ms,
            metric=stage.metric_latency(statistic="p99", period=_FIVE_MINUTES),
            description=f"p99 API latency above {latency_threshold_ms} ms over five minutes")

        requests = {f"r{i}": _table_metric(table_name, "SuccessfulRequestLatency", op, "SampleCount")
                    for i, op in enumerate(_OPERATIONS)}
        system = {f"s{i}": _table_metric(table_name, "SystemErrors", op, "Sum")
                  for i, op in enumerate(_OPERATIONS)}
        total_requests = " + ".join(f"FILL({name}, 0)" for name in requests)
        total_system = " + ".join(f"FILL({name}, 0)" for name in system)
        self.dynamodb_system_errors = alarms.alarm(
            self, "DynamoDbSystemErrorRate", threshold=1,
            metric=cloudwatch.MathExpression(
                expression=f"100 * ({total_system}) / MAX([{total_requests} + {total_system}, 1])",
                using_metrics={**requests, **system}, period=_ONE_MINUTE,
                label="DynamoDB system error rate (%)"),
            description="More than 1% of the links table's requests failed with a DynamoDB 5xx over one minute")
        # UserErrors has no table dimension: it counts the whole account and region.
        user_errors = cloudwatch.Metric(namespace="AWS/DynamoDB", metric_name="UserErrors",
                                        statistic="Sum", period=_ONE_MINUTE)
        self.dynamodb_user_errors = alarms.alarm(
            self, "DynamoDbUserErrorRate", threshold=1,
            metric=cloudwatch.MathExpression(
                expression=f"100 * FILL(u, 0) / MAX([{total_requests} + FILL(u, 0), 1])",
                using_metrics={**requests, "u": user_errors}, period=_ONE_MINUTE,
                label="DynamoDB user error rate (%)"),
            description="DynamoDB 4xx (UserErrors, account-wide) above 1% of the links table's requests "
                        "over one minute")


class EdgeAlarms(Construct):
    """CloudFront alarms. CloudFront publishes its metrics in us-east-1 only, so this construct
    must live in a us-east-1 stack."""

    def __init__(self, scope: Construct, id_: str, *, alarms: AlarmTopic, distribution_id: str) -> None:
        super().__init__(scope, id_)
        dimensions = {"DistributionId": distribution_id, "Region": "Global"}
        self.total_error_rate = alarms.alarm(
            self, "CloudFrontTotalErrorRate", threshold=5,
            metric=cloudwatch.Metric(namespace="AWS/CloudFront", metric_name="TotalErrorRate",
                                     dimensions_map=dimensions, statistic="Average", period=_ONE_MINUTE),
            description="More than 5% of CloudFront requests answered 4xx or 5xx over one minute")
        self.cache_hit_rate = alarms.alarm(
            self, "CloudFrontCacheHitRate", threshold=80,
            comparison=cloudwatch.ComparisonOperator.LESS_THAN_OR_EQUAL_TO_THRESHOLD,
            metric=cloudwatch.Metric(namespace="AWS/CloudFront", metric_name="CacheHitRate",
                                     dimensions_map=dimensions, statistic="Average", period=_FIVE_MINUTES),
            description="80% or less of CloudFront requests were cache hits over five minutes: "
                        "caching needs to be more aggressive")


def _table_metric(table_name: str, metric_name: str, operation: str, statistic: str) -> cloudwatch.Metric:
    return cloudwatch.Metric(namespace="AWS/DynamoDB", metric_name=metric_name, statistic=statistic,
                             dimensions_map={"TableName": table_name, "Operation": operation},
                             period=_ONE_MINUTE)
