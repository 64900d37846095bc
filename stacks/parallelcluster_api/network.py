"""Where clusters run: a VPC as in the original post, or subnets the account already has.

Created: one Availability Zone, a public subnet for head nodes (they need a public address for
SSH or DCV unless reached through a VPN) and a private subnet for compute nodes with one NAT
gateway for their outbound traffic; S3 and DynamoDB gateway endpoints (free) keep ParallelCluster's
bucket and table traffic off the NAT gateway, which bills every gigabyte it processes.
"""
from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_logs as logs
from constructs import Construct

from stacks.common.config import log_retention
from stacks.parallelcluster_api.config import NetworkConfig

VPC_CIDR = "10.0.0.0/16"
HEAD_NODE_SUBNET_MASK = 24
# 16,384 addresses: one per compute node and per EFA or extra network interface.
COMPUTE_SUBNET_MASK = 18


class ClusterNetwork(Construct):
    def __init__(self, scope: Construct, id_: str, *, config: NetworkConfig, log_retention_days: int) -> None:
        super().__init__(scope, id_)
        self.vpc: ec2.Vpc | None = None
        if not config.create_vpc:
            assert config.head_node_subnet_id and config.compute_subnet_id
            self.head_node_subnet_id = config.head_node_subnet_id
            self.compute_subnet_id = config.compute_subnet_id
            return
        self.vpc = ec2.Vpc(
            self, "Vpc", ip_addresses=ec2.IpAddresses.cidr(VPC_CIDR), max_azs=1, nat_gateways=1,
            subnet_configuration=[
                # Public addresses on launch, as ParallelCluster's own public-private template:
                # a head node there is reachable without an Elastic IP.
                ec2.SubnetConfiguration(name="HeadNodes", subnet_type=ec2.SubnetType.PUBLIC,
                                        cidr_mask=HEAD_NODE_SUBNET_MASK, map_public_ip_on_launch=True),
                ec2.SubnetConfiguration(name="ComputeNodes", subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS,
                                        cidr_mask=COMPUTE_SUBNET_MASK),
            ],
            gateway_endpoints={
                "S3": ec2.GatewayVpcEndpointOptions(service=ec2.GatewayVpcEndpointAwsService.S3),
                "DynamoDb": ec2.GatewayVpcEndpointOptions(service=ec2.GatewayVpcEndpointAwsService.DYNAMODB),
            })
        # Rejected flows only: accepted flows of MPI jobs between compute nodes would be most
        # of the log volume (billed per GB ingested) and say little about attacks.
        flow_log_group = logs.LogGroup(self, "FlowLogs", retention=log_retention(log_retention_days),
                                       removal_policy=cdk.RemovalPolicy.DESTROY)
        self.vpc.add_flow_log("RejectedFlows", traffic_type=ec2.FlowLogTrafficType.REJECT,
                              destination=ec2.FlowLogDestination.to_cloud_watch_logs(flow_log_group))
        self.head_node_subnet_id = self.vpc.public_subnets[0].subnet_id
        self.compute_subnet_id = self.vpc.private_subnets[0].subnet_id
