"""What the robot reports on ``<robot>/telemetry``: counted, kept, and missed when it stops.

An IoT topic rule counts every report as a CloudWatch metric and writes the report itself to
an encrypted log group kept ``logRetentionDays``; a failing action writes the error to a
second log group. An alarm fires when no report arrived for ``silenceAlarmMinutes`` (missing
data is breaching: a robot that is off, or cannot reach AWS IoT, reports nothing at all).
"""
from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_iam as iam
from aws_cdk import aws_iot as iot
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from constructs import Construct

from stacks.common.alarms import AlarmTopic
from stacks.common.config import log_retention
from stacks.common.nag import acknowledge

METRIC_NAMESPACE_PREFIX = "TelepresenceRobot"
REPORTS_METRIC = "TelemetryReports"


def rule_name(robot: str) -> str:
    """Topic rule names allow letters, digits and underscores only (robot names have no underscore)."""
    return f"{robot.replace('-', '_')}_telemetry"


def metric_namespace(robot: str) -> str:
    """One namespace per robot: the IoT CloudWatch metric action cannot set dimensions."""
    return f"{METRIC_NAMESPACE_PREFIX}/{robot}"


class RobotTelemetry(Construct):
    def __init__(self, scope: Construct, id_: str, *, robot_name: str, telemetry_topic: str,
                 alarms: AlarmTopic, silence_alarm_minutes: int, log_retention_days: int) -> None:
        super().__init__(scope, id_)
        stack = cdk.Stack.of(self)
        self.rule_name = rule_name(robot_name)
        self.metric_namespace = metric_namespace(robot_name)
        rule_arn = stack.format_arn(service="iot", resource="rule", resource_name=self.rule_name)
        log_group_names = {"reports": f"/telepresence-robot/{robot_name}/telemetry",
                           "errors": f"/telepresence-robot/{robot_name}/telemetry-errors"}

        self.key = kms.Key(self, "LogKey", enable_key_rotation=True, removal_policy=cdk.RemovalPolicy.DESTROY,
                           pending_window=cdk.Duration.days(7),
                           description=f"Encrypts the telemetry log groups of robot {robot_name}")
        self.key.add_to_resource_policy(iam.PolicyStatement(
            sid="AllowCloudWatchLogsForTheseLogGroups",
            principals=[iam.ServicePrincipal(f"logs.{cdk.Aws.REGION}.amazonaws.com")],
            actions=["kms:Encrypt", "kms:Decrypt", "kms:ReEncryptFrom", "kms:ReEncryptTo", "kms:GenerateDataKey",
                     "kms:GenerateDataKeyWithoutPlaintext", "kms:DescribeKey"],
            resources=["*"],  # in a key policy, "*" means this key
            conditions={"ArnEquals": {"kms:EncryptionContext:aws:logs:arn": [
                stack.format_arn(service="logs", resource="log-group", resource_name=name,
                                 arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME)
                for name in log_group_names.values()]}},
        ))
        # Explicit names (the key policy names them) and DESTROY: these are operational records
        # kept for the retention period, and a retained, named group would block a redeploy.
        self.log_group, self.error_log_group = (
            logs.LogGroup(self, construct_id, log_group_name=log_group_names[kind], encryption_key=self.key,
                          retention=log_retention(log_retention_days), removal_policy=cdk.RemovalPolicy.DESTROY)
            for construct_id, kind in (("Reports", "reports"), ("Errors", "errors")))

        self.rule_role = iam.Role(
            self, "RuleRole",
            assumed_by=iam.ServicePrincipal("iot.amazonaws.com", conditions={
                "StringEquals": {"aws:SourceAccount": cdk.Aws.ACCOUNT_ID},
                "ArnEquals": {"aws:SourceArn": rule_arn},
            }),
            description=f"Topic rule {self.rule_name}: records telemetry of robot {robot_name}")
        self.rule_policy = iam.Policy(self, "RulePolicy", roles=[self.rule_role], statements=[
            iam.PolicyStatement(
                sid="WriteReportsAndErrors",
                actions=["logs:CreateLogStream", "logs:DescribeLogStreams", "logs:PutLogEvents"],
                resources=[self.log_group.log_group_arn, self.error_log_group.log_group_arn]),
            iam.PolicyStatement(
                sid="CountReportsInOwnNamespace", actions=["cloudwatch:PutMetricData"], resources=["*"],
                conditions={"StringEquals": {"cloudwatch:namespace": self.metric_namespace}}),
        ])
        acknowledge(self.rule_policy, "AwsSolutions-IAM5[Resource::*]",
                    "cloudwatch:PutMetricData supports no resource-level permissions; the statement is "
                    f"limited by condition to the {self.metric_namespace} metric namespace.")

        role_arn = self.rule_role.role_arn
        self.rule = iot.CfnTopicRule(
            self, "Rule", rule_name=self.rule_name,
            topic_rule_payload=iot.CfnTopicRule.TopicRulePayloadProperty(
                description=f"Records telemetry of robot {robot_name}",
                sql=f"SELECT * FROM '{telemetry_topic}'",
                aws_iot_sql_version="2016-03-23",
                rule_disabled=False,
                actions=[
                    iot.CfnTopicRule.ActionProperty(cloudwatch_metric=iot.CfnTopicRule.CloudwatchMetricActionProperty(
                        metric_namespace=self.metric_namespace, metric_name=REPORTS_METRIC,
                        metric_value="1", metric_unit="Count", role_arn=role_arn)),
                    iot.CfnTopicRule.ActionProperty(cloudwatch_logs=iot.CfnTopicRule.CloudwatchLogsActionProperty(
                        log_group_name=self.log_group.log_group_name, role_arn=role_arn)),
                ],
                error_action=iot.CfnTopicRule.ActionProperty(
                    cloudwatch_logs=iot.CfnTopicRule.CloudwatchLogsActionProperty(
                        log_group_name=self.error_log_group.log_group_name, role_arn=role_arn)),
            ))
        # The rule must not run before its role may write.
        self.rule.node.add_dependency(self.rule_policy)

        self.reports = cloudwatch.Metric(namespace=self.metric_namespace, metric_name=REPORTS_METRIC,
                                         statistic="Sum", period=cdk.Duration.minutes(1))
        # One-minute periods, all of the last N must be empty: "nothing for N minutes", whatever
        # the report interval (the config makes N span at least two reports).
        self.silence_alarm = alarms.alarm(
            self, "SilenceAlarm", metric=self.reports, threshold=1,
            comparison=cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
            evaluation_periods=silence_alarm_minutes,
            missing_data=cloudwatch.TreatMissingData.BREACHING,
            description=f"Robot {robot_name} has reported no telemetry for {silence_alarm_minutes} minutes "
                        "(it is off, or cannot reach AWS IoT)")
