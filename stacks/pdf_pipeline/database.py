"""The audit database: Aurora PostgreSQL Serverless v2 behind RDS Proxy with end-to-end IAM
authentication, and the deploy-time migration that creates its schema and its one app user."""
from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_rds as rds
from constructs import Construct

from lambda_src.pdf_pipeline.db import migration_files
from stacks.common.nag import acknowledge
from stacks.pdf_pipeline.config import PdfPipelineConfig
from stacks.pdf_pipeline.network import PipelineNetwork

DATABASE_NAME = "pipeline"
PORT = 5432
# The database user every function connects as (granted rds_iam, no password): created by the
# migration, the only user the proxy lets in and the only one IAM lets the functions be.
APP_USER = "pipeline_app"
MASTER_USER = "pipeline_admin"
ENGINE_VERSION = rds.AuroraPostgresEngineVersion.VER_17_9
BACKUP_RETENTION = cdk.Duration.days(7)
# A custom resource whose function never answers fails the deploy after this, not after an hour.
MIGRATION_TIMEOUT_SECONDS = 900


class PipelineDatabase(Construct):
    """One Serverless v2 writer (no reader: a failover recreates the writer, and the audit queue
    holds events meanwhile) in the isolated subnets, encrypted, IAM authentication on, the master
    password managed and rotated by RDS in Secrets Manager, deletion protection unless
    ``dataRemovalPolicy`` is ``destroy``.

    RDS Proxy in front: ``DefaultAuthScheme IAM_AUTH`` (clients and the proxy itself authenticate
    with IAM, no secret) and TLS required. Its role may connect as ``pipeline_app`` only."""

    def __init__(self, scope: Construct, id_: str, *, config: PdfPipelineConfig, network: PipelineNetwork) -> None:
        super().__init__(scope, id_)
        retain = config.data_removal_policy == cdk.RemovalPolicy.RETAIN
        vpc = network.vpc
        self.cluster_security_group = ec2.SecurityGroup(
            self, "ClusterSecurityGroup", vpc=vpc, allow_all_outbound=False,
            description="Aurora: PostgreSQL from RDS Proxy and the migration function only")
        self.cluster = rds.DatabaseCluster(
            self, "Cluster",
            engine=rds.DatabaseClusterEngine.aurora_postgres(version=ENGINE_VERSION),
            writer=rds.ClusterInstance.serverless_v2("Writer", auto_minor_version_upgrade=True),
            serverless_v2_min_capacity=config.database.min_capacity,
            serverless_v2_max_capacity=config.database.max_capacity,
            vpc=vpc, vpc_subnets=network.isolated_subnets, security_groups=[self.cluster_security_group],
            port=PORT, default_database_name=DATABASE_NAME,
            credentials=rds.Credentials.from_username(MASTER_USER),
            manage_master_user_password=True,
            iam_authentication=True,
            storage_encrypted=True,
            backup=rds.BackupProps(retention=BACKUP_RETENTION),
            deletion_protection=retain,
            removal_policy=cdk.RemovalPolicy.RETAIN if retain else cdk.RemovalPolicy.DESTROY,
        )
        cfn_cluster: rds.CfnDBCluster = self.cluster.node.default_child  # type: ignore[assignment]
        acknowledge(cfn_cluster, "AwsSolutions-RDS11",
                    "PostgreSQL's default port: the cluster is in isolated subnets and its security group "
                    "admits only the proxy and the migration function, so another port would hide nothing.")
        if not retain:
            acknowledge(cfn_cluster, "AwsSolutions-RDS10",
                        "dataRemovalPolicy is destroy: the operator chose to delete the audit database "
                        "together with the stack.")
        self.master_secret = self.cluster.secret

        self.proxy_security_group = ec2.SecurityGroup(
            self, "ProxySecurityGroup", vpc=vpc, allow_all_outbound=False,
            description="RDS Proxy: PostgreSQL from the pipeline VPC functions, to Aurora")
        self.proxy_role = iam.Role(self, "ProxyRole", assumed_by=iam.ServicePrincipal("rds.amazonaws.com"),
                                   description="RDS Proxy connects to Aurora as the pipeline's app user (IAM auth)")
        self.cluster.grant_connect(self.proxy_role, APP_USER)
        self.proxy = rds.DatabaseProxy(
            self, "Proxy",
            proxy_target=rds.ProxyTarget.from_cluster(self.cluster),
            vpc=vpc, vpc_subnets=network.isolated_subnets, security_groups=[self.proxy_security_group],
            role=self.proxy_role,
            default_auth_scheme=rds.DefaultAuthScheme.IAM_AUTH,
            require_tls=True,
            # Pooled connections stay below the writer's limit, leaving room for the migration.
            max_connections_percent=90,
            idle_client_timeout=cdk.Duration.minutes(30),
        )
        # The proxy's target binding opens the proxy -> cluster path on the cluster's port itself.
        self.app_user_arn = cdk.Stack.of(self).format_arn(
            service="rds-db", resource="dbuser", arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME,
            resource_name=f"{self.proxy_resource_id}/{APP_USER}")

    @property
    def proxy_resource_id(self) -> str:
        """``prx-...``: the last field of the proxy's ARN, which IAM database users are named under."""
        return cdk.Fn.select(6, cdk.Fn.split(":", self.proxy.db_proxy_arn))

    def connection_environment(self) -> dict[str, str]:
        """DB_* for a function that connects through the proxy as the app user."""
        return {"DB_HOST": self.proxy.endpoint, "DB_PORT": str(PORT), "DB_NAME": DATABASE_NAME, "DB_USER": APP_USER}

    def migration_environment(self) -> dict[str, str]:
        """DB_* and MASTER_SECRET_ARN for the migration, which connects to the writer as the master user."""
        return {"DB_HOST": self.cluster.cluster_endpoint.hostname, "DB_PORT": str(PORT), "DB_NAME": DATABASE_NAME,
                "DB_USER": APP_USER, "MASTER_SECRET_ARN": self.master_secret.secret_arn}

    def allow_app_client(self, role: iam.IRole, security_group: ec2.ISecurityGroup) -> None:
        """``rds-db:connect`` as ``pipeline_app`` on this proxy only, and the network path to it."""
        role.add_to_principal_policy(iam.PolicyStatement(actions=["rds-db:connect"], resources=[self.app_user_arn]))
        self.proxy_security_group.add_ingress_rule(security_group, ec2.Port.tcp(PORT), "PostgreSQL from a function")
        security_group.add_egress_rule(self.proxy_security_group, ec2.Port.tcp(PORT), "PostgreSQL to RDS Proxy")

    def apply_migrations(self, migrate: lambda_.IFunction, *, role: iam.IRole,
                         security_group: ec2.ISecurityGroup) -> cdk.CfnCustomResource:
        """The custom resource that runs ``migrate`` (master user, straight to the writer) on
        every deploy whose migrations changed; it waits for the writer instance."""
        self.master_secret.grant_read(role)
        self.cluster_security_group.add_ingress_rule(security_group, ec2.Port.tcp(PORT),
                                                     "PostgreSQL from the migration function")
        security_group.add_egress_rule(self.cluster_security_group, ec2.Port.tcp(PORT), "PostgreSQL to Aurora")
        self.migration = cdk.CfnCustomResource(self, "Migrations", service_token=migrate.function_arn,
                                               service_timeout=MIGRATION_TIMEOUT_SECONDS)
        self.migration.add_property_override("MigrationsHash", migration_files.fingerprint())
        self.migration.add_property_override("AppUser", APP_USER)
        self.migration.node.add_dependency(self.cluster)
        return self.migration
