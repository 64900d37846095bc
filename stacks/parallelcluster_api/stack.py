"""ParallelClusterApi: the ParallelCluster 3 API for many users, behind a third-party-IdP token authorizer.

Every route of ``lambda_src/parallelcluster_api/routes.py`` is one function behind API Gateway and
the reusable TOKEN authorizer; create, update and delete answer 202 with an operation id at once
and hand the long work to the ``ClusterOperation`` workflow (workflow.py). ParallelCluster runs
in-process from AWS's official Lambda layer (functions.py) with the official user policy made
explicit and split by need (permissions.py). See docs/parallelcluster_api.md.
"""
from __future__ import annotations

from typing import Iterable

import aws_cdk as cdk
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_iam as iam
from constructs import Construct

from lambda_src.parallelcluster_api.routes import ROUTES
from stacks.common.alarms import AlarmTopic
from stacks.common.lambda_function import PythonFunction
from stacks.common.token_authorizer import ThirdPartyTokenAuthorizer
from stacks.parallelcluster_api import outputs
from stacks.parallelcluster_api.api import ParallelClusterRestApi
from stacks.parallelcluster_api.config import ParallelClusterApiConfig
from stacks.parallelcluster_api.functions import FunctionSpec, ParallelClusterFunctions
from stacks.parallelcluster_api.identity import token_issuer
from stacks.parallelcluster_api.network import ClusterNetwork
from stacks.parallelcluster_api.permissions import ParallelClusterPermissions, Tier
from stacks.parallelcluster_api.storage import ParallelClusterApiTables
from stacks.parallelcluster_api.workflow import MAX_OPERATION, ClusterOperationWorkflow

OWNER_TAG_KEY = "parallelcluster-api:owner"
# Larger than cluster configurations get (the legacy form's base64 included); the operation's
# DynamoDB item, at most 400 KB, keeps the configuration with its validation messages. The
# functions refuse anything bigger with a 4xx before parsing.
MAX_BODY_BYTES = 128 * 1024

# Functions that start a ClusterOperation execution.
STARTERS = frozenset({"create_cluster", "update_cluster", "delete_cluster", "legacy_pcluster"})
# Functions that change a compute fleet (status, or terminating its nodes), besides submitting.
FLEET_CHANGERS = frozenset({"update_compute_fleet", "delete_cluster_instances", "legacy_pcluster",
                            "submit_operation"})
# What each function does with the two tables (shared/operations.py and shared/ownership.py of
# the function package): starters write the operation and claim, lock or release the cluster.
_OPERATION_WRITER = ("dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem")
_OPERATION_UPDATER = ("dynamodb:GetItem", "dynamodb:UpdateItem")
_CLUSTER_CLAIMER = ("dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem")
_OWNER_READER = ("dynamodb:GetItem",)
_OWNERS_READER = ("dynamodb:GetItem", "dynamodb:BatchGetItem")  # the owners of a page of clusters
# function: (Operations actions, Clusters actions)
ITEM_ACCESS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "get_operation": (("dynamodb:GetItem",), ()),
    "create_cluster": (_OPERATION_WRITER, _CLUSTER_CLAIMER),
    "update_cluster": (_OPERATION_WRITER, _CLUSTER_CLAIMER),
    "delete_cluster": (_OPERATION_WRITER, _CLUSTER_CLAIMER),
    "legacy_pcluster": (_OPERATION_WRITER, (*_CLUSTER_CLAIMER, "dynamodb:BatchGetItem")),
    "list_clusters": ((), _OWNERS_READER),
    "submit_operation": (_OPERATION_UPDATER, ()),
    "poll_cluster": (_OPERATION_UPDATER, ()),
    "record_outcome": (_OPERATION_UPDATER, ("dynamodb:UpdateItem", "dynamodb:DeleteItem")),
}
READ_ONLY_ITEM_ACCESS = ((), _OWNER_READER)  # every other route: ownership checks only
# Functions that hold no ParallelCluster permission: they never call pcluster.lib.
WITHOUT_PCLUSTER_PERMISSIONS = frozenset({"get_operation", "record_outcome"})


class ParallelClusterApiStack(cdk.Stack):
    def __init__(self, scope: Construct, id_: str, *, config: ParallelClusterApiConfig, **kwargs) -> None:
        super().__init__(scope, id_, description="ParallelCluster 3 API (API Gateway, TOKEN authorizer, Step "
                                                 "Functions, the official ParallelCluster Lambda layer)", **kwargs)
        retention = config.observability.log_retention_days
        self.alarm_topic = AlarmTopic(self, "Alarms", email=config.observability.alarm_email)
        self.tables = ParallelClusterApiTables(self, "Tables", removal_policy=config.data_removal_policy)
        self.network = ClusterNetwork(self, "Network", config=config.network, log_retention_days=retention)
        issuer, self.identity = token_issuer(self, config)
        self.permissions = ParallelClusterPermissions(
            self, "ParallelClusterPolicies", iam_admin=config.enable_iam_admin_access,
            permissions_boundary_arn=config.permissions_boundary_arn)
        self.functions = ParallelClusterFunctions(
            self, "Functions", parallelcluster_version=config.parallelcluster_version, log_retention_days=retention,
            environment={
                "OPERATIONS_TABLE": self.tables.operations.table_name,
                "CLUSTERS_TABLE": self.tables.clusters.table_name,
                "ADMIN_SCOPE": config.admin_scope,
                "OWNER_TAG_KEY": OWNER_TAG_KEY,
                "DRYRUN_WAIT_SECONDS": str(config.dry_run_wait_seconds),
                "MAX_BODY_BYTES": str(MAX_BODY_BYTES),
                "OPERATION_TIMEOUT_SECONDS": str(int(MAX_OPERATION.to_seconds())),
            })
        add = self.functions.add
        submit = add(FunctionSpec("submit_operation", "ClusterOperation: asks ParallelCluster to create, update "
                                  "or delete a cluster; records validation failures and dry runs",
                                  timeout=cdk.Duration.minutes(10)))
        poll = add(FunctionSpec("poll_cluster", "ClusterOperation: describes the cluster until it settles",
                                timeout=cdk.Duration.minutes(2)))
        record = add(FunctionSpec("record_outcome", "ClusterOperation: records the operation's outcome",
                                  timeout=cdk.Duration.seconds(30)))
        self.workflow = ClusterOperationWorkflow(
            self, "ClusterOperation", submit=submit.function, poll=poll.function, record=record.function,
            poll_interval_seconds=config.poll_interval_seconds, log_retention_days=retention)
        state_machine = self.workflow.state_machine
        for route in ROUTES:
            environment = {"STATE_MACHINE_ARN": state_machine.state_machine_arn} if route.function in STARTERS else {}
            fn = add(FunctionSpec(route.function, f"{route.method} {route.path}", environment=environment))
            if route.function in STARTERS:
                state_machine.grant_start_execution(fn.function)

        for name, fn in self.functions.functions.items():
            self._grant_items(fn, *ITEM_ACCESS.get(name, READ_ONLY_ITEM_ACCESS))
        for name, fn in self.functions.functions.items():
            if name in WITHOUT_PCLUSTER_PERMISSIONS:
                continue
            tiers = [Tier.READ]
            if name in FLEET_CHANGERS:
                tiers.append(Tier.FLEET)
            if name == "submit_operation":
                tiers += [Tier.MANAGE, Tier.IAM_ADMIN]
            self.permissions.attach(fn.role, *tiers)

        self.authorizer = ThirdPartyTokenAuthorizer(
            self, "TokenAuthorizer", issuer=issuer.issuer, audience=issuer.audiences,
            audience_claim=issuer.audience_claim, jwks_url=issuer.jwks_url,
            permissions=config.permissions, results_cache_ttl=cdk.Duration.seconds(config.authorizer_cache_seconds),
            log_retention_days=retention, service_name="parallelcluster-api-authorizer",
            metrics_namespace="ParallelClusterApi")
        self.api = ParallelClusterRestApi(self, "RestApi", config=config,
                                          functions={name: self.functions.functions[name] for name in
                                                     {route.function for route in ROUTES}},
                                          authorizer=self.authorizer.authorizer)
        if config.permissions_boundary_arn:
            iam.PermissionsBoundary.of(self).apply(iam.ManagedPolicy.from_managed_policy_arn(
                self, "PermissionsBoundary", config.permissions_boundary_arn))
        self._alarms([*self.functions.functions.values(), self.authorizer.function])
        self._outputs(config)

    def _grant_items(self, fn: PythonFunction, operations: Iterable[str], clusters: Iterable[str]) -> None:
        for table, actions in ((self.tables.operations, tuple(operations)), (self.tables.clusters, tuple(clusters))):
            if actions:
                fn.role.add_to_principal_policy(iam.PolicyStatement(actions=list(actions),
                                                                    resources=[table.table_arn]))

    def _alarms(self, functions: Iterable[PythonFunction]) -> None:
        minute = cdk.Duration.minutes(1)
        topic = self.alarm_topic
        topic.alarm(self, "Api5xx", threshold=0,
                    metric=self.api.api.deployment_stage.metric_server_error(period=minute, statistic="Sum"),
                    description="The ParallelCluster API answered 5xx")
        for fn in functions:
            topic.alarm(fn, "Errors", threshold=0, metric=fn.function.metric_errors(period=minute),
                        description=f"{fn.node.id} failed (an error or a timeout, not a 4xx answer)")
        state_machine = self.workflow.state_machine
        failures = cloudwatch.MathExpression(
            expression="failed + timedOut + aborted", period=minute, label="ClusterOperation executions that failed",
            using_metrics={"failed": state_machine.metric_failed(period=minute, statistic="Sum"),
                           "timedOut": state_machine.metric_timed_out(period=minute, statistic="Sum"),
                           "aborted": state_machine.metric_aborted(period=minute, statistic="Sum")})
        topic.alarm(self, "WorkflowFailures", threshold=0, metric=failures,
                    description="A ClusterOperation execution failed: an operation could not be submitted, polled "
                                "or recorded (its record says why)")

    def _outputs(self, config: ParallelClusterApiConfig) -> None:
        values: dict[str, tuple[str, str | None]] = {
            outputs.API_URL: (self.api.api.url, "The API's base URL; routes are /v3/... and /pcluster"),
            outputs.HEAD_NODE_SUBNET_ID: (self.network.head_node_subnet_id, "Public subnet for head nodes"),
            outputs.COMPUTE_SUBNET_ID: (self.network.compute_subnet_id, "Private subnet (NAT) for compute nodes"),
            outputs.PARALLELCLUSTER_VERSION: (config.parallelcluster_version, "ParallelCluster release the API runs"),
            outputs.STATE_MACHINE_ARN: (self.workflow.state_machine.state_machine_arn, None),
            outputs.ALARM_TOPIC_ARN: (self.alarm_topic.topic.topic_arn, None),
            outputs.STARTER_CONFIG_COMMAND: (
                f"python -m ops.parallelcluster starter-config --stack {self.stack_name} --region {self.region} "
                "> cluster.yaml", "Writes a starter cluster configuration from these outputs"),
        }
        if self.identity is not None:
            identity = self.identity
            values.update({
                outputs.USER_POOL_ID: (identity.user_pool.user_pool_id, None),
                outputs.PEOPLE_CLIENT_ID: (identity.people_client.user_pool_client_id,
                                           "Public code-flow (PKCE) client for people: scopes read, write"),
                outputs.MACHINE_CLIENT_ID: (identity.machine_client.user_pool_client_id,
                                            "Client-credentials client for programs: scopes read, write"),
                outputs.ADMIN_CLIENT_ID: (identity.admin_client.user_pool_client_id,
                                          "Client-credentials client for administrators: read, write, admin"),
                outputs.TOKEN_ENDPOINT: (identity.token_endpoint, "OAuth 2.0 token endpoint"),
                outputs.HOSTED_DOMAIN: (identity.users.hosted_domain_url, "Cognito hosted sign-in domain"),
            })
        for key, (value, description) in values.items():
            cdk.CfnOutput(self, key, value=value, description=description)

