"""Powertools for AWS Lambda (Python) from its official public Lambda layer.

The layer (AWS account 017000801446, one per region, Python version and architecture)
carries Powertools with its extras, the X-Ray SDK for the tracer among them, and relies on
the runtime's boto3. Taking it from the layer keeps every bundle down to the function's
own code and its few locked third-party dependencies.

Its ARN is read at deploy time from the public SSM parameter Powertools publishes for each
release (``/aws/service/powertools/python/<architecture>/<runtime>/<version>``), so the
stacks stay region-agnostic and the version is pinned: the same release as
``requirements-dev.txt`` installs for the tests, which therefore run what Lambda runs.
"""
from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_ssm as ssm
from constructs import Construct

# Keep equal to the aws-lambda-powertools pin in requirements-dev.txt (a test checks).
POWERTOOLS_VERSION = "3.37.0"


def layer_parameter_name(*, runtime: lambda_.Runtime, architecture: lambda_.Architecture,
                         version: str = POWERTOOLS_VERSION) -> str:
    """The public SSM parameter that holds the layer version ARN of one release."""
    return f"/aws/service/powertools/python/{architecture.name}/{runtime.name}/{version}"


def powertools_layer(scope: Construct, *, runtime: lambda_.Runtime,
                     architecture: lambda_.Architecture) -> lambda_.ILayerVersion:
    """The stack's reference to the Powertools layer for ``runtime`` on ``architecture``
    (one per stack and combination, shared by its functions)."""
    stack = cdk.Stack.of(scope)
    id_ = f"PowertoolsLayer-{runtime.name}-{architecture.name}"
    existing = stack.node.try_find_child(id_)
    if existing is not None:
        return existing  # type: ignore[return-value]
    arn = ssm.StringParameter.value_for_string_parameter(
        stack, layer_parameter_name(runtime=runtime, architecture=architecture))
    return lambda_.LayerVersion.from_layer_version_arn(stack, id_, arn)
