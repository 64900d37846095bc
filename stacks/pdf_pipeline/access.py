"""Permission statements shared by the functions and the containers: each on exact resources,
and the reason for every wildcard a key prefix needs."""
from __future__ import annotations

from typing import Iterable, Sequence

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from constructs import Construct

from stacks.common.nag import acknowledge_wildcard_resources

S3_READ = ("s3:GetObject",)
S3_READ_VERSIONS = ("s3:GetObject", "s3:GetObjectVersion")
S3_WRITE = ("s3:PutObject",)
SQS_SEND = ("sqs:SendMessage",)
SQS_CONSUME = ("sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility", "sqs:GetQueueAttributes")

SOURCE_OBJECTS = ("documents are named by whoever uploads them: reads cover the objects of the staging bucket "
                  "and of the configured source buckets, nothing else")
DERIVED_OBJECTS = ("keys under this prefix carry batch, document and page ids chosen at run time; access is "
                   "limited to one prefix of one of this stack's buckets")


class SourceBuckets:
    """Where documents may be read from: the staging bucket and ``allowedSourceBuckets``."""

    def __init__(self, scope: Construct, staging_arn: str, allowed: Sequence[str]) -> None:
        stack = cdk.Stack.of(scope)
        self.bucket_arns = [staging_arn, *(stack.format_arn(service="s3", region="", account="", resource=name)
                                           for name in allowed)]
        self.object_arns = [f"{arn}/*" for arn in self.bucket_arns]


def allow(role: iam.IRole, actions: Iterable[str], resources: Sequence[str], *, wildcards: str | None = None) -> None:
    """``actions`` on exactly ``resources`` in the role's default policy; ``wildcards`` is the
    reason for the ``*`` they hold, acknowledged for those resources only."""
    role.add_to_principal_policy(iam.PolicyStatement(actions=list(actions), resources=list(resources)))
    if wildcards is not None:
        acknowledge_wildcard_resources(role.node.find_child("DefaultPolicy"), resources, wildcards)
