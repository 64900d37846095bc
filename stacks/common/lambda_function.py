"""The suite's Lambda function: one package directory in, a traced, least-privilege function out."""
from __future__ import annotations

import keyword
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, Sequence

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from stacks.common.bundling import handler_module, python_code
from stacks.common.config import log_retention
from stacks.common.nag import acknowledge
from stacks.common.powertools import powertools_layer

# The newest Python runtime aws-cdk-lib 2.275 knows. cdk-nag's AwsSolutions-L1 compares
# against the newest entry of Runtime.ALL for the family, so anything older fails synth;
# raise this together with aws-cdk-lib.
RUNTIME = lambda_.Runtime.PYTHON_3_14

DEFAULT_TIMEOUT = cdk.Duration.seconds(10)
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")

# What Lambda does with the execution role's permissions to give a function its network
# interfaces in a VPC (the AWSLambdaVPCAccessExecutionRole actions without the log ones).
NETWORK_INTERFACE_ACTIONS = (
    "ec2:CreateNetworkInterface", "ec2:DescribeNetworkInterfaces", "ec2:DescribeSubnets",
    "ec2:DeleteNetworkInterface", "ec2:AssignPrivateIpAddresses", "ec2:UnassignPrivateIpAddresses",
)


@dataclass(frozen=True)
class VpcPlacement:
    """Where a function's network interfaces go: subnets of a VPC, behind security groups."""
    vpc: ec2.IVpc
    subnets: ec2.SubnetSelection
    security_groups: Sequence[ec2.ISecurityGroup]


class PythonFunction(Construct):
    """A Python Lambda function built from ``lambda_src/<system>/<function>/``.

    Defaults: the newest Python runtime on arm64, X-Ray active tracing, its own log group
    with a retention, Powertools configured through environment variables, and its own
    role holding only what running needs (writing to its log group, sending traces).
    Grant anything else to ``function`` (``table.grant_read_data(fn.function)``); grants
    land on ``role``.

    Powertools comes from its official layer (:mod:`stacks.common.powertools`), the AWS SDK
    from the runtime; other dependencies are locked in the package's ``requirements.txt``
    and bundled without Docker, see :mod:`stacks.common.bundling`. ``bundles_aws_sdk=True``
    lets a lock pin boto3/botocore on purpose (a newer SDK than the runtime's).

    Functions of one system that share modules pass ``package_root`` (``lambda_src/<system>``):
    the whole system package is bundled, the handler is ``<system>.<function>.handler.handler``
    and modules import shared code relatively (``from ..shared import http``).

    ``vpc_placement`` puts the function in a VPC; the permissions Lambda needs to manage its
    network interfaces get a policy of their own (``network_policy``), which the function
    waits for, so neither its creation nor the deletion of its interfaces lacks them.

    ``runtime`` is for functions tied to an older Python by a layer they need (a vendor's
    layer built for one Python version); such a function fails cdk-nag's AwsSolutions-L1
    until its stack acknowledges that finding with the reason.
    """

    def __init__(self, scope: Construct, id_: str, *, entry: Path, service_name: str,
                 metrics_namespace: str, log_retention_days: int, description: str,
                 environment: Mapping[str, str] | None = None,
                 timeout: cdk.Duration = DEFAULT_TIMEOUT, memory_size: int = 256,
                 architecture: lambda_.Architecture = lambda_.Architecture.ARM_64,
                 runtime: lambda_.Runtime = RUNTIME,
                 log_level: str = "INFO",
                 reserved_concurrent_executions: int | None = None,
                 package_root: Path | None = None, bundles_aws_sdk: bool = False,
                 vpc_placement: VpcPlacement | None = None) -> None:
        super().__init__(scope, id_)
        entry = _checked_entry(entry)
        if package_root is not None:
            package_root = _checked_package_root(Path(package_root).resolve(), entry)
        if not service_name or not metrics_namespace:
            raise ValueError("service_name and metrics_namespace must be non-empty")
        if log_level not in LOG_LEVELS:
            raise ValueError(f"log_level must be one of {', '.join(LOG_LEVELS)}, got {log_level!r}")

        self.log_group = logs.LogGroup(self, "LogGroup", retention=log_retention(log_retention_days))
        self.role = iam.Role(self, "Role", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
                             description=f"Runs the {service_name} function: {description}"[:1000])
        # What running needs, in a policy of its own rather than the role's default policy:
        # grants made later by callers go to the default policy, and the acknowledgement
        # below must not extend to whatever they add there.
        self.execution_policy = iam.Policy(self, "ExecutionPolicy", roles=[self.role], statements=[
            iam.PolicyStatement(sid="WriteOwnLogs",
                                actions=["logs:CreateLogStream", "logs:PutLogEvents"],
                                resources=[self.log_group.log_group_arn]),
            iam.PolicyStatement(sid="SendTraces",
                                actions=["xray:PutTraceSegments", "xray:PutTelemetryRecords"],
                                resources=["*"]),
        ])
        acknowledge(self.execution_policy, "AwsSolutions-IAM5[Resource::*]",
                    "X-Ray PutTraceSegments and PutTelemetryRecords support no resource-level "
                    "permissions, so active tracing needs Resource '*'; this policy holds only "
                    "those two actions besides log writes scoped to the function's own log group.")

        self.function = lambda_.Function(
            self, "Function",
            runtime=runtime,
            architecture=architecture,
            # Bundles hold the package under its directory name (see bundling.py).
            handler=f"{handler_module(entry, package_root)}.handler",
            code=python_code(entry, runtime=runtime, architecture=architecture, package_root=package_root,
                             bundles_aws_sdk=bundles_aws_sdk),
            layers=[powertools_layer(self, runtime=runtime, architecture=architecture)],
            role=self.role,
            log_group=self.log_group,
            description=description,
            environment=_environment(environment or {}, service_name=service_name,
                                     metrics_namespace=metrics_namespace, log_level=log_level),
            timeout=timeout,
            memory_size=memory_size,
            reserved_concurrent_executions=reserved_concurrent_executions,
            vpc=vpc_placement.vpc if vpc_placement else None,
            vpc_subnets=vpc_placement.subnets if vpc_placement else None,
            security_groups=list(vpc_placement.security_groups) if vpc_placement else None,
        )
        # Active tracing is set on the resource rather than through ``tracing=``, because
        # the L2 prop adds the X-Ray statement to the role's default policy, where callers'
        # grants land too (see ExecutionPolicy above).
        cfn_function: lambda_.CfnFunction = self.function.node.default_child  # type: ignore[assignment]
        cfn_function.tracing_config = lambda_.CfnFunction.TracingConfigProperty(mode="Active")
        # The function must not start before it may write logs and traces.
        self.function.node.add_dependency(self.execution_policy)
        self.network_policy: iam.Policy | None = None
        if vpc_placement is not None:
            self.network_policy = iam.Policy(self, "NetworkInterfacePolicy", roles=[self.role], statements=[
                iam.PolicyStatement(sid="ManageOwnNetworkInterfaces", actions=list(NETWORK_INTERFACE_ACTIONS),
                                    resources=["*"])])
            acknowledge(self.network_policy, "AwsSolutions-IAM5[Resource::*]",
                        "Lambda creates, describes and deletes the function's VPC network interfaces with "
                        "these EC2 actions; their ids are not known in advance and the Describe actions "
                        "support no resource-level permissions, so AWS documents them on Resource '*'.")
            self.function.node.add_dependency(self.network_policy)


def _checked_entry(entry: Path) -> Path:
    entry = Path(entry).resolve()
    if not entry.is_dir():
        raise ValueError(f"entry must be a function package directory, got {entry}")
    missing = [name for name in ("__init__.py", "handler.py") if not (entry / name).is_file()]
    if missing:
        raise ValueError(f"function package {entry} lacks {', '.join(missing)}")
    if not entry.name.isidentifier() or keyword.iskeyword(entry.name):
        raise ValueError(f"function directory name {entry.name!r} is not importable: "
                         "the handler string is '<directory>.handler.handler'")
    return entry


def _checked_package_root(root: Path, entry: Path) -> Path:
    if not entry.is_relative_to(root):
        raise ValueError(f"entry {entry} is not inside package_root {root}")
    for directory in entry.relative_to(root).parents:  # root itself and every package between
        package = root / directory
        if not (package / "__init__.py").is_file():
            raise ValueError(f"{package} must be a package (have __init__.py) for relative imports")
    if not root.name.isidentifier() or keyword.iskeyword(root.name):
        raise ValueError(f"package_root name {root.name!r} is not importable")
    return root


def _environment(extra: Mapping[str, str], *, service_name: str, metrics_namespace: str,
                 log_level: str) -> dict[str, str]:
    powertools = {
        "POWERTOOLS_SERVICE_NAME": service_name,
        "POWERTOOLS_METRICS_NAMESPACE": metrics_namespace,
        "POWERTOOLS_LOG_LEVEL": log_level,
        # Events carry user data; logging them wholesale would keep PII for the retention.
        "POWERTOOLS_LOGGER_LOG_EVENT": "false",
        # Same for responses recorded as trace metadata (and they can exceed segment size).
        "POWERTOOLS_TRACER_CAPTURE_RESPONSE": "false",
    }
    clashes = sorted(set(extra) & set(powertools))
    if clashes:
        raise ValueError(f"environment must not set {', '.join(clashes)}: PythonFunction sets "
                         "them from its own props")
    return {**powertools, **extra}
