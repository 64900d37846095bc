"""ApiGatewayAccount: the one owner of API Gateway's account-level CloudWatch Logs role.

API Gateway writes REST API execution and access logs through a role set once per account
and region (``AWS::ApiGateway::Account``). A setting that several stacks write is a race
(the last deploy wins, parallel deploys collide) and leaves a role behind per stack, so the
suite gives it a stack of its own; every stack with a REST API depends on it, and
``cdk deploy <any stack>`` deploys it first when it is missing.

Deleting this stack keeps the role and the setting: stages of other applications in the
account may log through it too, and a setting that names a deleted role breaks them all.
"""
from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_iam as iam
from constructs import Construct

from stacks.common.nag import acknowledge

STACK_NAME = "ApiGatewayAccount"
PUSH_TO_CLOUDWATCH_POLICY = "service-role/AmazonAPIGatewayPushToCloudWatchLogs"


class ApiGatewayAccountStack(cdk.Stack):
    def __init__(self, scope: Construct, id_: str = STACK_NAME, **kwargs) -> None:
        super().__init__(scope, id_, description="API Gateway account settings: the CloudWatch Logs role "
                         "every REST API stage of this account and region logs through", **kwargs)
        self.role = iam.Role(
            self, "CloudWatchRole",
            assumed_by=iam.ServicePrincipal("apigateway.amazonaws.com"),
            description="API Gateway writes REST API execution and access logs of this account and region",
            managed_policies=[iam.ManagedPolicy.from_aws_managed_policy_name(PUSH_TO_CLOUDWATCH_POLICY)],
        )
        self.role.apply_removal_policy(cdk.RemovalPolicy.RETAIN)
        acknowledge(self.role, f"AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/"
                    f"{PUSH_TO_CLOUDWATCH_POLICY}]",
                    "API Gateway's account-wide logging role needs this AWS-maintained policy to create "
                    "and write the log groups of every API and stage in the account.")
        self.settings = apigw.CfnAccount(self, "Account", cloud_watch_role_arn=self.role.role_arn)
        self.settings.apply_removal_policy(cdk.RemovalPolicy.RETAIN)
        cdk.CfnOutput(self, "CloudWatchRoleArn", value=self.role.role_arn)
