"""What ParallelCluster may do in the account: the official API's user policy, explicit and tiered.

Source: ``cloudformation/policies/parallelcluster-policies.yaml`` of aws/aws-parallelcluster (the
policies the official API's ``ParallelClusterLambdaRole`` holds), for what this API offers: Slurm
clusters (the only scheduler ParallelCluster 3.16 accepts) and official images, no image
building (no route builds images). Differences, each for least privilege:

- no wildcard action: ``ec2:Describe*``, ``fsx:*`` and ``elasticfilesystem:*`` are the explicit
  lists of :mod:`iam_actions`; ``s3:*`` and ``s3:Get*``/``s3:List*`` are the S3 calls the
  library makes (``pcluster/aws/s3.py``, ``s3_resource.py``, ``models/s3_bucket.py``);
- every action runs in the stack's region only (the API pins the region), and ARNs name it;
- ``UpdateStack``/``DeleteStack`` only on stacks tagged ``parallelcluster:cluster-name`` (so not
  this stack, nor any other stack of the account), ``TerminateInstances`` only on instances
  carrying that tag; log groups only ``/aws/parallelcluster/*`` and ``/aws/lambda/pcluster-*`` (the
  names the library gives them); service-linked roles only under ``aws-service-role/``;
- dropped: AWS Batch (CodeBuild, ECR, Batch, EventBridge), image building, log export, and
  three actions no function of this API needs (see ``_NEVER``);
- tiers, so each function holds what its operations need: ``READ`` (describe and list, every
  function that calls the library), ``FLEET`` (start/stop the compute fleet, terminate compute
  nodes), ``MANAGE`` (create, update and delete cluster stacks: CloudFormation creates a
  cluster's resources with the caller's credentials, hence most of the list) and ``IAM_ADMIN``
  (only with ``enableIamAdminAccess``, as the official ``EnableIamAdminAccess``).
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from enum import Enum
from typing import Any, Iterable, Mapping, Sequence

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from constructs import Construct

from stacks.common.nag import acknowledge, nag_rendering
from stacks.parallelcluster_api.iam_actions import EC2_DESCRIBE, EFS, EFS_UNSCOPED, FSX, FSX_UNSCOPED

# A customer managed policy holds at most 6,144 characters (whitespace not counted). Sizes are
# measured on the template's JSON, where ARNs are longer Fn::Join expressions than the text IAM
# stores, so this budget leaves room.
POLICY_CHARACTERS = 6_000
CLUSTER_NAME_TAG = "parallelcluster:cluster-name"

# In the official wildcards, never needed here: no function mounts a file system over NFS, no
# API should lift an FSx SnapLock retention, and the account-wide EFS and FSx settings are not
# a cluster's to change.
_NEVER = frozenset({"elasticfilesystem:ClientMount", "elasticfilesystem:ClientWrite",
                    "elasticfilesystem:ClientRootAccess", "fsx:BypassSnaplockEnterpriseRetention",
                    "elasticfilesystem:PutAccountPreferences", "fsx:UpdateSharedVpcConfiguration"})
_READ_VERBS = ("Describe", "Get", "List", "Filter", "Query")


class Tier(Enum):
    READ = "describe and list clusters, fleets, instances, stack events, logs and official images"
    FLEET = "start and stop compute fleets, terminate compute nodes"
    MANAGE = "create, update and delete cluster stacks and the resources CloudFormation makes for them"
    IAM_ADMIN = "create and delete the IAM roles of clusters (enableIamAdminAccess)"


@dataclass(frozen=True)
class Grant:
    sid: str
    actions: tuple[str, ...]
    resources: tuple[str, ...]
    # Why the resources are as broad as they are; every grant with a '*' in a resource has one.
    why: str
    conditions: Mapping[str, Any] = field(default_factory=dict)
    tier: Tier | None = None  # None: split by verb into READ and MANAGE


def _arn(service: str, resource: str, *, region: bool = True, account: bool = True) -> str:
    return (f"arn:{cdk.Aws.PARTITION}:{service}:{cdk.Aws.REGION if region else ''}:"
            f"{cdk.Aws.ACCOUNT_ID if account else ''}:{resource}")


def _iam(resource: str, *, account: bool = True) -> str:
    return _arn("iam", resource, region=False, account=account)


def _in_region() -> dict[str, Any]:
    return {"StringEquals": {"aws:RequestedRegion": cdk.Aws.REGION}}


def official_grants(*, iam_admin: bool, permissions_boundary_arn: str | None) -> tuple[Grant, ...]:
    """The official statements, explicit (see the module docstring for every difference)."""
    region = _in_region()
    tagged_cluster = {"Null": {f"aws:ResourceTag/{CLUSTER_NAME_TAG}": "false"}}
    ec2_write = ("AllocateAddress", "AssociateAddress", "AttachNetworkInterface", "AuthorizeSecurityGroupEgress",
                 "AuthorizeSecurityGroupIngress", "CreateFleet", "CreateLaunchTemplate",
                 "CreateLaunchTemplateVersion", "CreateNetworkInterface", "CreatePlacementGroup",
                 "CreateSecurityGroup", "CreateSnapshot", "CreateTags", "DeleteTags", "CreateVolume",
                 "DeleteLaunchTemplate", "DeleteNetworkInterface", "DeletePlacementGroup", "DeleteSecurityGroup",
                 "DeleteVolume", "DisassociateAddress", "ModifyLaunchTemplate", "ModifyNetworkInterfaceAttribute",
                 "ModifyVolume", "ModifyVolumeAttribute", "ReleaseAddress", "RevokeSecurityGroupEgress",
                 "RevokeSecurityGroupIngress", "RunInstances")
    cluster_buckets = (_arn("s3", "parallelcluster-*", region=False, account=False),
                       _arn("s3", "aws-parallelcluster-*", region=False, account=False))
    cluster_logs = (_arn("logs", "log-group:/aws/parallelcluster/*"), _arn("logs", "log-group:/aws/lambda/pcluster-*"))
    grants = [
        Grant("Ec2Describe", tuple(f"ec2:{a}" for a in EC2_DESCRIBE), ("*",), conditions=region, tier=Tier.READ,
              why="EC2 Describe actions support no resource-level permissions; read-only, this region only"),
        Grant("Ec2ClusterResources", tuple(f"ec2:{a}" for a in ec2_write), ("*",), conditions=region,
              tier=Tier.MANAGE,
              why="the ids of the instances, volumes, interfaces, security groups and launch templates a cluster "
                  "stack creates are not known before; this region only, as the official policy"),
        Grant("Ec2TerminateClusterInstances", ("ec2:TerminateInstances",), ("*",),
              conditions={**region, **tagged_cluster}, tier=Tier.FLEET,
              why=f"instance ids are not known before; only instances tagged {CLUSTER_NAME_TAG} (ParallelCluster's "
                  "own), this region only"),
        Grant("ClusterTables", ("dynamodb:DescribeTable", "dynamodb:ListTagsOfResource", "dynamodb:GetItem",
                                "dynamodb:Query", "dynamodb:CreateTable", "dynamodb:DeleteTable",
                                "dynamodb:TagResource"),
              (_arn("dynamodb", "table/parallelcluster-*"),),
              why="every cluster has its own table named parallelcluster-<cluster>"),
        Grant("ClusterFleetStatus", ("dynamodb:PutItem", "dynamodb:UpdateItem"),
              (_arn("dynamodb", "table/parallelcluster-*"),), tier=Tier.FLEET,
              why="the compute fleet status lives in the cluster's table parallelcluster-<cluster>"),
        Grant("Route53Records", ("route53:ChangeResourceRecordSets", "route53:ChangeTagsForResource",
                                 "route53:DeleteHostedZone", "route53:GetHostedZone",
                                 "route53:ListResourceRecordSets", "route53:ListQueryLoggingConfigs"),
              (_arn("route53", "hostedzone/*", region=False, account=False),),
              why="the private hosted zone of a cluster is created by its stack, its id not known before"),
        Grant("Route53Changes", ("route53:GetChange",), (_arn("route53", "change/*", region=False, account=False),),
              why="change ids are generated by Route 53"),
        Grant("Route53CreateZone", ("route53:CreateHostedZone",), ("*",), tier=Tier.MANAGE,
              why="CreateHostedZone supports no resource-level permissions"),
        Grant("CreateClusterStacks", ("cloudformation:CreateStack",), (_arn("cloudformation", "stack/*"),),
              conditions={"ForAnyValue:StringEquals": {"aws:TagKeys": [CLUSTER_NAME_TAG]}}, tier=Tier.MANAGE,
              why=f"stack names are cluster names; only stacks created with the {CLUSTER_NAME_TAG} tag"),
        Grant("ChangeClusterStacks", ("cloudformation:UpdateStack", "cloudformation:DeleteStack"),
              (_arn("cloudformation", "stack/*"),), conditions=tagged_cluster, tier=Tier.MANAGE,
              why=f"stack names are cluster names; only stacks tagged {CLUSTER_NAME_TAG}, so never this stack "
                  "or another stack of the account"),
        Grant("ReadStacks", ("cloudformation:DescribeStacks", "cloudformation:DescribeStackEvents",
                             "cloudformation:DescribeStackResources", "cloudformation:GetTemplate"),
              (_arn("cloudformation", "stack/*"),), tier=Tier.READ,
              why="stack names are cluster names, chosen by the callers"),
        Grant("ListStacks", ("cloudformation:ListStacks",), ("*",), conditions=region, tier=Tier.READ,
              why="ListStacks supports no resource-level permissions"),
        Grant("ClusterDashboards", ("cloudwatch:PutDashboard", "cloudwatch:DeleteDashboards",
                                    "cloudwatch:GetDashboard"),
              (_arn("cloudwatch", "dashboard/*", region=False),), conditions=region,
              why="a cluster's dashboard is named after the cluster and its region"),
        Grant("ClusterAlarms", ("cloudwatch:PutMetricAlarm", "cloudwatch:DeleteAlarms", "cloudwatch:DescribeAlarms",
                                "cloudwatch:PutCompositeAlarm"),
              (_arn("cloudwatch", "alarm:*"),), conditions=region,
              why="a cluster's alarms are named after the cluster, chosen by the callers"),
        Grant("ListDashboards", ("cloudwatch:ListDashboards",), ("*",), conditions=region, tier=Tier.READ,
              why="ListDashboards supports no resource-level permissions"),
        Grant("IamRead", ("iam:GetRole", "iam:GetRolePolicy", "iam:GetPolicy", "iam:SimulatePrincipalPolicy",
                          "iam:GetInstanceProfile"),
              (_iam("role/*"), _iam("policy/*"), _iam("policy/*", account=False), _iam("instance-profile/*")),
              tier=Tier.READ,
              why="the validators read the roles, policies and instance profiles a configuration names, which "
                  "can be any of the account's or AWS managed policies"),
        Grant("ClusterInstanceProfiles", ("iam:CreateInstanceProfile", "iam:DeleteInstanceProfile",
                                          "iam:AddRoleToInstanceProfile", "iam:RemoveRoleFromInstanceProfile"),
              (_iam("instance-profile/parallelcluster/*"),), tier=Tier.MANAGE,
              why="ParallelCluster creates its instance profiles under the /parallelcluster/ path"),
        Grant("PassClusterRoles", ("iam:PassRole",), (_iam("role/parallelcluster/*"),),
              conditions={"StringEqualsIfExists": {"iam:PassedToService": [
                  "lambda.amazonaws.com", "ec2.amazonaws.com", "ec2.amazonaws.com.cn", "spotfleet.amazonaws.com"]}},
              tier=Tier.MANAGE, why="ParallelCluster's roles live under the /parallelcluster/ path"),
        Grant("ServiceLinkedRoles", ("iam:CreateServiceLinkedRole", "iam:DeleteServiceLinkedRole"),
              (_iam("role/aws-service-role/*"),),
              conditions={"StringEquals": {"iam:AWSServiceName": [
                  "fsx.amazonaws.com", "s3.data-source.lustre.fsx.amazonaws.com",
                  "elasticloadbalancing.amazonaws.com", "autoscaling.amazonaws.com"]}},
              tier=Tier.MANAGE, why="service-linked roles of FSx, Elastic Load Balancing and Auto Scaling only"),
        Grant("ClusterFunctions", tuple(f"lambda:{a}" for a in (
            "CreateFunction", "TagResource", "DeleteFunction", "GetFunctionConfiguration", "GetFunction",
            "InvokeFunction", "AddPermission", "RemovePermission", "UpdateFunctionConfiguration", "ListTags",
            "UntagResource")),
              (_arn("lambda", "function:parallelcluster-*"), _arn("lambda", "function:pcluster-*")),
              why="a cluster stack's own functions are named pcluster-* (parallelcluster-* before)"),
        Grant("ClusterBuckets", tuple(f"s3:{a}" for a in (
            "ListBucket", "ListBucketVersions", "GetBucketLocation", "GetBucketVersioning", "GetObject",
            "GetObjectVersion", "CreateBucket", "PutBucketVersioning", "PutEncryptionConfiguration",
            "PutBucketPolicy", "PutObject", "AbortMultipartUpload", "DeleteObject", "DeleteObjectVersion")),
              cluster_buckets, conditions=region,
              why="ParallelCluster's own bucket is parallelcluster-<hash>-v1-do-not-delete, its objects below it"),
        Grant("ReleaseBucket", ("s3:ListBucket", "s3:GetBucketLocation", "s3:GetObject", "s3:GetObjectVersion"),
              (_arn("s3", f"{cdk.Aws.REGION}-aws-parallelcluster*", region=False, account=False),),
              conditions=region, tier=Tier.READ,
              why="the official templates and resources of each release live in <region>-aws-parallelcluster"),
        Grant("ClusterFileSystems", tuple(f"fsx:{a}" for a in FSX), (_arn("fsx", "*"),),
              why="managed FSx file systems, volumes and caches of a cluster are created by its stack; this "
                  "account and region only, as the official policy"),
        Grant("ClusterElasticFileSystems", tuple(f"elasticfilesystem:{a}" for a in EFS),
              (_arn("elasticfilesystem", "*"),),
              why="managed EFS file systems of a cluster are created by its stack; this account and region only, "
                  "as the official policy"),
        # The official policy names these on its fsx/elasticfilesystem ARN, where IAM never
        # matches them (they support no resource-level permissions); CloudFormation's FSx and EFS
        # handlers and ParallelCluster's validators call them, so they are granted where they apply.
        Grant("FileSystemsAccountWide", tuple(f"fsx:{a}" for a in FSX_UNSCOPED), ("*",), conditions=region,
              why="FSx Describe actions support no resource-level permissions; this region only"),
        Grant("ElasticFileSystemsAccountWide", tuple(f"elasticfilesystem:{a}" for a in EFS_UNSCOPED), ("*",),
              conditions=region,
              why="CreateFileSystem and DescribeAccountPreferences support no resource-level permissions; this "
                  "region only"),
        Grant("ClusterLogGroups", ("logs:CreateLogGroup", "logs:DeleteLogGroup", "logs:PutRetentionPolicy",
                                   "logs:TagResource", "logs:UntagResource", "logs:PutMetricFilter",
                                   "logs:DeleteMetricFilter", "logs:DescribeMetricFilters",
                                   "logs:DescribeLogStreams", "logs:FilterLogEvents", "logs:GetLogEvents"),
              cluster_logs, conditions=region,
              why="a cluster's log groups are /aws/parallelcluster/<cluster>-<time> and /aws/lambda/pcluster-*"),
        Grant("DescribeLogGroups", ("logs:DescribeLogGroups",), ("*",), conditions=region, tier=Tier.READ,
              why="DescribeLogGroups supports no resource-level permissions"),
        Grant("ClusterResourceGroups", ("resource-groups:ListGroupResources", "resource-groups:GetGroupConfiguration"),
              (_arn("resource-groups", "group/*"),), conditions=region, tier=Tier.READ,
              why="the resource groups capacity reservations belong to are named by the configuration"),
        Grant("LoginNodes", tuple(f"autoscaling:{a}" for a in (
            "DeleteAutoScalingGroup", "DeleteLifecycleHook", "DescribeAutoScalingGroups", "DescribeLifecycleHooks",
            "DescribeScalingActivities", "PutLifecycleHook", "UpdateAutoScalingGroup")) + tuple(
            f"elasticloadbalancing:{a}" for a in (
                "CreateListener", "CreateTargetGroup", "DescribeTags", "DeleteListener", "DeleteLoadBalancer",
                "DeleteTargetGroup", "DescribeListeners", "DescribeLoadBalancers", "DescribeTargetGroups",
                "DescribeTargetHealth", "ModifyLoadBalancerAttributes")),
              ("*",), conditions={**region, "ForAllValues:StringEquals": {"aws:TagKeys": [CLUSTER_NAME_TAG]}},
              why="login-node groups and load balancers are created by the cluster stack; the tag condition of the "
                  "official policy, this region only"),
        Grant("CreateLoginNodes", ("autoscaling:CreateAutoScalingGroup", "elasticloadbalancing:AddTags",
                                   "elasticloadbalancing:CreateLoadBalancer"),
              ("*",), conditions=region, tier=Tier.MANAGE,
              why="names of login-node groups and load balancers are generated by CloudFormation; this region only"),
    ]
    if iam_admin:
        grants.extend(_iam_admin_grants(permissions_boundary_arn))
    return tuple(grants)


def _iam_admin_grants(permissions_boundary_arn: str | None) -> list[Grant]:
    boundary = ({"StringEquals": {"iam:PermissionsBoundary": [permissions_boundary_arn]}}
                if permissions_boundary_arn else {})
    roles = (_iam("role/parallelcluster/*"),)
    why = "ParallelCluster creates its roles under the /parallelcluster/ path"
    attachable = [_iam("policy/parallelcluster*"), _iam("policy/parallelcluster/*")] + [
        _iam(f"policy/{name}", account=False) for name in (
            "CloudWatchAgentServerPolicy", "AmazonSSMManagedInstanceCore", "AWSBatchFullAccess",
            "AmazonS3ReadOnlyAccess", "service-role/AWSBatchServiceRole",
            "service-role/AmazonEC2ContainerServiceforEC2Role", "service-role/AmazonECSTaskExecutionRolePolicy",
            "service-role/AmazonEC2SpotFleetTaggingRole", "EC2InstanceProfileForImageBuilder",
            "service-role/AWSLambdaBasicExecutionRole")]
    return [
        # The official statement also lists iam:CreateServiceLinkedRole here, on a resource no
        # service-linked role can have (they live under aws-service-role/): left out.
        Grant("IamClusterRoles", ("iam:DeleteRole", "iam:TagRole"), roles, tier=Tier.IAM_ADMIN, why=why),
        Grant("IamCreateClusterRoles", ("iam:CreateRole", "iam:PutRolePolicy", "iam:DeleteRolePolicy"), roles,
              conditions=boundary, tier=Tier.IAM_ADMIN, why=why),
        Grant("IamAttachClusterPolicies", ("iam:AttachRolePolicy", "iam:DetachRolePolicy"), roles,
              conditions={"ArnLike": {"iam:PolicyARN": attachable}, **boundary}, tier=Tier.IAM_ADMIN,
              why=why + "; only ParallelCluster's own and the AWS managed policies the official policy lists"),
    ]


def is_read_only(action: str) -> bool:
    verb = action.split(":", 1)[1]
    return verb.startswith(_READ_VERBS) or action == "iam:SimulatePrincipalPolicy"


def tiered(grants: Iterable[Grant]) -> dict[Tier, list[Grant]]:
    """Grants by tier; a grant without one is split by verb into its READ and MANAGE halves."""
    result: dict[Tier, list[Grant]] = {tier: [] for tier in Tier}
    for grant in grants:
        actions = tuple(a for a in grant.actions if a not in _NEVER)
        if grant.tier is not None:
            result[grant.tier].append(replace(grant, actions=actions))
            continue
        reads = tuple(a for a in actions if is_read_only(a))
        writes = tuple(a for a in actions if not is_read_only(a))
        if reads:
            result[Tier.READ].append(replace(grant, sid=f"{grant.sid}Read", actions=reads, tier=Tier.READ))
        if writes:
            result[Tier.MANAGE].append(replace(grant, actions=writes, tier=Tier.MANAGE))
    return result


def _statement(grant: Grant) -> iam.PolicyStatement:
    return iam.PolicyStatement(sid=grant.sid, actions=list(grant.actions), resources=list(grant.resources),
                               conditions=dict(grant.conditions) or None)


def _size(stack: cdk.Stack, grant: Grant) -> int:
    return len(json.dumps(stack.resolve(_statement(grant).to_statement_json()), separators=(",", ":")))


def _fitting(stack: cdk.Stack, grant: Grant, budget: int) -> list[Grant]:
    """``grant`` itself, or its actions split into parts that each fit ``budget``."""
    if _size(stack, grant) <= budget:
        return [grant]
    half = len(grant.actions) // 2
    return (_fitting(stack, replace(grant, sid=f"{grant.sid}A", actions=grant.actions[:half]), budget)
            + _fitting(stack, replace(grant, sid=f"{grant.sid}B", actions=grant.actions[half:]), budget))


def packed(stack: cdk.Stack, grants: Sequence[Grant], budget: int = POLICY_CHARACTERS) -> list[list[Grant]]:
    """``grants`` in as few documents of at most ``budget`` characters as first-fit finds."""
    parts = [(part, _size(stack, part)) for grant in grants for part in _fitting(stack, grant, budget)]
    documents: list[tuple[int, list[Grant]]] = []
    for part, size in sorted(parts, key=lambda entry: -entry[1]):
        for index, (used, members) in enumerate(documents):
            if used + size + 1 <= budget:
                documents[index] = (used + size + 1, [*members, part])
                break
        else:
            documents.append((size + 40, [part]))  # 40: {"Version":"2012-10-17","Statement":[]}
    return [members for _, members in documents]


class ParallelClusterPermissions(Construct):
    """The tiers as customer managed policies, each within IAM's size limit, ready to attach."""

    def __init__(self, scope: Construct, id_: str, *, iam_admin: bool,
                 permissions_boundary_arn: str | None) -> None:
        super().__init__(scope, id_)
        stack = cdk.Stack.of(self)
        self.grants = tiered(official_grants(iam_admin=iam_admin, permissions_boundary_arn=permissions_boundary_arn))
        self.policies: dict[Tier, list[iam.ManagedPolicy]] = {}
        for tier, grants in self.grants.items():
            self.policies[tier] = []
            for number, members in enumerate(packed(stack, grants), start=1):
                policy = iam.ManagedPolicy(
                    self, f"{tier.name.title().replace('_', '')}{number}",
                    description=f"ParallelCluster API ({tier.name}): {tier.value}"[:1000],
                    statements=[_statement(g) for g in members])
                _acknowledge_broad_resources(policy, members)
                self.policies[tier].append(policy)

    def attach(self, role: iam.IRole, *tiers: Tier) -> None:
        for tier in tiers:
            for policy in self.policies[tier]:
                role.add_managed_policy(policy)


def _acknowledge_broad_resources(policy: iam.ManagedPolicy, grants: Sequence[Grant]) -> None:
    stack = cdk.Stack.of(policy)
    reasons: dict[str, list[str]] = {}
    for grant in grants:
        for resource in grant.resources:
            rendered = nag_rendering(stack.resolve(resource))
            if "*" in rendered and grant.why not in reasons.setdefault(rendered, []):
                reasons[rendered].append(grant.why)
    for rendered, why in reasons.items():
        acknowledge(policy, f"AwsSolutions-IAM5[Resource::{rendered}]",
                    "ParallelCluster's official user policy, made explicit: " + "; ".join(why) + ".")
