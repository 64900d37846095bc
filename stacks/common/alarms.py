"""An encrypted SNS topic for alarms, and the one helper that wires alarms to it."""
from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cloudwatch_actions
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from constructs import Construct


class AlarmTopic(Construct):
    """Alarm notifications: a KMS-encrypted, TLS-only topic with an optional email subscriber.

    The key is customer managed because CloudWatch cannot publish to a topic encrypted
    with the AWS managed ``alias/aws/sns`` key.
    """

    def __init__(self, scope: Construct, id_: str, *, email: str | None,
                 removal_policy: cdk.RemovalPolicy = cdk.RemovalPolicy.DESTROY) -> None:
        super().__init__(scope, id_)
        self.key = kms.Key(self, "Key", enable_key_rotation=True, removal_policy=removal_policy,
                           description=f"Encrypts alarm notifications of {cdk.Stack.of(self).stack_name}")
        self.key.add_to_resource_policy(iam.PolicyStatement(
            sid="AllowCloudWatchAlarmsToPublish",
            principals=[iam.ServicePrincipal("cloudwatch.amazonaws.com")],
            actions=["kms:Decrypt", "kms:GenerateDataKey*"],
            resources=["*"],  # in a key policy, "*" means this key
            conditions={"StringEquals": {"aws:SourceAccount": cdk.Aws.ACCOUNT_ID}},
        ))
        self.topic = sns.Topic(self, "Topic", master_key=self.key, enforce_ssl=True,
                               display_name=f"{cdk.Stack.of(self).stack_name} alarms")
        self.topic.add_to_resource_policy(iam.PolicyStatement(
            sid="AllowCloudWatchAlarmsOfThisAccount",
            principals=[iam.ServicePrincipal("cloudwatch.amazonaws.com")],
            actions=["sns:Publish"],
            resources=[self.topic.topic_arn],
            conditions={"StringEquals": {"aws:SourceAccount": cdk.Aws.ACCOUNT_ID}},
        ))
        if email:
            self.topic.add_subscription(subscriptions.EmailSubscription(email))
        self._action = cloudwatch_actions.SnsAction(self.topic)

    def notify(self, alarm: cloudwatch.Alarm) -> cloudwatch.Alarm:
        """Send both the ALARM and the back-to-OK transitions of ``alarm`` to the topic."""
        alarm.add_alarm_action(self._action)
        alarm.add_ok_action(self._action)
        return alarm

    def alarm(self, scope: Construct, id_: str, *, metric: cloudwatch.IMetric, threshold: float,
              description: str, evaluation_periods: int = 1,
              comparison: cloudwatch.ComparisonOperator =
              cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
              missing_data: cloudwatch.TreatMissingData = cloudwatch.TreatMissingData.NOT_BREACHING,
              ) -> cloudwatch.Alarm:
        """Create an alarm on ``metric`` already wired to this topic."""
        return self.notify(cloudwatch.Alarm(
            scope, id_, metric=metric, threshold=threshold, evaluation_periods=evaluation_periods,
            datapoints_to_alarm=evaluation_periods, comparison_operator=comparison,
            treat_missing_data=missing_data, alarm_description=description))
