"""The VPC: public subnets for the Fargate workers (public IPs, no NAT gateway), isolated subnets
for Aurora, RDS Proxy and the functions that reach the database, and only the endpoints those
isolated functions need."""
from __future__ import annotations

from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_logs as logs
from constructs import Construct

from stacks.common.config import log_retention
from stacks.pdf_pipeline.config import PdfPipelineConfig

# Aurora's subnet group and RDS Proxy both need subnets in two Availability Zones.
AVAILABILITY_ZONES = 2
HTTPS = ec2.Port.tcp(443)


class PipelineNetwork(Construct):
    """No NAT gateway: Fargate tasks reach SQS, S3, ECR and CloudWatch through the internet
    gateway with public IPs (inbound closed by their security group). The isolated functions
    need S3 (a free gateway endpoint; CloudFormation's custom-resource responses go there too),
    Secrets Manager (the migration reads the master secret) and X-Ray (active tracing): the two
    interface endpoints live in one Availability Zone, which halves their hourly cost; if that
    zone fails, only tracing and the deploy-time migration wait for it."""

    def __init__(self, scope: Construct, id_: str, *, config: PdfPipelineConfig) -> None:
        super().__init__(scope, id_)
        self.vpc = ec2.Vpc(
            self, "Vpc", max_azs=AVAILABILITY_ZONES, nat_gateways=0,
            subnet_configuration=[
                ec2.SubnetConfiguration(name="workers", subnet_type=ec2.SubnetType.PUBLIC, cidr_mask=22,
                                        map_public_ip_on_launch=False),
                ec2.SubnetConfiguration(name="data", subnet_type=ec2.SubnetType.PRIVATE_ISOLATED, cidr_mask=24),
            ],
            gateway_endpoints={"S3": ec2.GatewayVpcEndpointOptions(service=ec2.GatewayVpcEndpointAwsService.S3)},
        )
        self.public_subnets = ec2.SubnetSelection(subnet_type=ec2.SubnetType.PUBLIC)
        self.isolated_subnets = ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_ISOLATED)
        # Rejected traffic only: accepted traffic includes every document the workers move.
        self.flow_log_group = logs.LogGroup(self, "RejectedTraffic",
                                            retention=log_retention(config.observability.log_retention_days))
        self.vpc.add_flow_log("RejectedTrafficLog", traffic_type=ec2.FlowLogTrafficType.REJECT,
                              destination=ec2.FlowLogDestination.to_cloud_watch_logs(self.flow_log_group))

        self.endpoint_security_group = ec2.SecurityGroup(
            self, "EndpointSecurityGroup", vpc=self.vpc, allow_all_outbound=False,
            description="Interface endpoints: HTTPS from the pipeline VPC functions only")
        one_zone = ec2.SubnetSelection(subnets=[self.vpc.isolated_subnets[0]])
        self.endpoints = {
            name: self.vpc.add_interface_endpoint(
                name, service=service, subnets=one_zone, open=False, private_dns_enabled=True,
                security_groups=[self.endpoint_security_group])
            for name, service in (("SecretsManager", ec2.InterfaceVpcEndpointAwsService.SECRETS_MANAGER),
                                  ("XRay", ec2.InterfaceVpcEndpointAwsService.XRAY))}

    def allow_endpoint_clients(self, security_group: ec2.ISecurityGroup) -> None:
        """HTTPS from ``security_group`` to the interface endpoints, both directions' rules."""
        self.endpoint_security_group.add_ingress_rule(security_group, HTTPS, "HTTPS from a VPC function")
        security_group.add_egress_rule(self.endpoint_security_group, HTTPS, "HTTPS to the interface endpoints")
