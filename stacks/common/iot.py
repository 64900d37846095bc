"""The account's AWS IoT endpoints, described at deploy time.

Endpoint host names are per account and region and cannot be derived from the ARN
partition, so they are read with ``iot:DescribeEndpoint`` by a CDK-managed custom resource
(a deploy-time SDK call; no function of ours serves any request).
"""
from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import custom_resources as cr
from constructs import Construct

from stacks.common.nag import acknowledge

# The ATS-signed data endpoint: the legacy VeriSign one is deprecated.
DATA_ATS = "iot:Data-ATS"
# Where a device certificate is exchanged for temporary IAM credentials through a role alias.
CREDENTIAL_PROVIDER = "iot:CredentialProvider"
ENDPOINT_TYPES = (DATA_ATS, CREDENTIAL_PROVIDER)

# CDK's provider function for AwsCustomResource: one per stack, shared by every call.
_PROVIDER_ID = "AWS679f53fac002430cb0da5b7982bd2287"


class IotEndpoint(Construct):
    """``address``: the host name (no scheme) of one IoT endpoint type of this account."""

    def __init__(self, scope: Construct, id_: str, *, endpoint_type: str = DATA_ATS) -> None:
        super().__init__(scope, id_)
        if endpoint_type not in ENDPOINT_TYPES:
            raise ValueError(f"endpoint_type must be one of {', '.join(ENDPOINT_TYPES)}, got {endpoint_type!r}")
        call = cr.AwsSdkCall(service="Iot", action="describeEndpoint",
                             parameters={"endpointType": endpoint_type},
                             physical_resource_id=cr.PhysicalResourceId.of(f"describe-{endpoint_type}"))
        self.describe = cr.AwsCustomResource(
            self, "Describe", on_create=call, on_update=call,
            policy=cr.AwsCustomResourcePolicy.from_statements([
                iam.PolicyStatement(actions=["iot:DescribeEndpoint"], resources=["*"])]),
            install_latest_aws_sdk=False)
        acknowledge(self.describe.node.find_child("CustomResourcePolicy"), "AwsSolutions-IAM5[Resource::*]",
                    "iot:DescribeEndpoint supports no resource-level permissions; the policy allows "
                    "only that read-only call, made once at deploy time.")
        provider = _acknowledge_provider(cdk.Stack.of(self))
        _wait_for_log_group(self.describe, provider)
        self.address: str = self.describe.get_response_field("endpointAddress")


def _wait_for_log_group(call: cr.AwsCustomResource, provider: Construct) -> None:
    """The provider's log group (``/aws/lambda/<function>``) is created by CloudFormation
    beside the function, with nothing making the call wait for it; a call that runs first
    makes Lambda create the group itself, and the stack then fails with "already exists"
    (aws/aws-cdk issue 34612). The call therefore depends on the group."""
    log_group = provider.node.try_find_child("LogGroup")
    if log_group is not None:
        call.node.add_dependency(log_group)


def _acknowledge_provider(stack: cdk.Stack) -> Construct:
    provider = stack.node.find_child(_PROVIDER_ID)
    role = provider.node.find_child("ServiceRole")
    acknowledge(role, "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/"
                "AWSLambdaBasicExecutionRole]",
                "CDK's AwsCustomResource provider function writes its own logs through the AWS "
                "managed basic execution policy; it runs only during deployments.")
    acknowledge(provider, "AwsSolutions-L1",
                "The runtime of CDK's AwsCustomResource provider is chosen by aws-cdk-lib and "
                "moves forward with it; it runs only during deployments.")
    return provider
