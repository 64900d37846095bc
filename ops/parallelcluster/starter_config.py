"""A starter ParallelCluster 3 cluster configuration from the ParallelClusterApi stack's outputs.

The configuration is the smallest one that runs where the stack put the network: the head node
in the public subnet, one Slurm queue of small instances in the private subnet behind the NAT
gateway, scaling from zero. Submit it as ``clusterConfiguration`` of ``POST /v3/clusters``.
"""
from __future__ import annotations

import re
from typing import Any, Mapping

from stacks.parallelcluster_api import outputs

_SUBNET_ID = re.compile(r"^subnet-[0-9a-f]{8}(?:[0-9a-f]{9})?$")
_REGION = re.compile(r"^[a-z]{2}(?:-gov|-iso[a-z]*)?-[a-z]+-\d$")

HEAD_NODE_INSTANCE_TYPE = "t3.medium"
COMPUTE_INSTANCE_TYPE = "t3.micro"
MAX_COMPUTE_NODES = 4
OS = "alinux2023"

TEMPLATE = """\
# Starter ParallelCluster {version} configuration for the {stack} stack ({region}).
# Create a cluster with it: POST {api_url}v3/clusters with
#   {{"clusterName": "<name>", "clusterConfiguration": "<this file as a string>"}}
# Every key: https://docs.aws.amazon.com/parallelcluster/latest/ug/cluster-configuration-file-v3.html
Region: {region}
Image:
  Os: {os}
HeadNode:
  InstanceType: {head_node_instance_type}
  Networking:
    SubnetId: {head_node_subnet}  # {head_node_output}: public, head nodes get a public address
  # Ssh:
  #   KeyName: <an EC2 key pair of {region}, to log in with SSH>
Scheduling:
  Scheduler: slurm
  SlurmQueues:
    - Name: queue1
      ComputeResources:
        - Name: small
          InstanceType: {compute_instance_type}
          MinCount: 0  # no compute node runs (or costs) while no job waits
          MaxCount: {max_compute_nodes}
      Networking:
        SubnetIds:
          - {compute_subnet}  # {compute_output}: private, outbound through the NAT gateway
"""


class StarterConfigError(RuntimeError):
    """The stack does not have the outputs the configuration needs; the message says which."""


def stack_outputs(cloudformation: Any, stack_name: str) -> dict[str, str]:
    """``{OutputKey: OutputValue}`` of a deployed stack."""
    try:
        (stack,) = cloudformation.describe_stacks(StackName=stack_name)["Stacks"]
    except cloudformation.exceptions.ClientError as error:
        raise StarterConfigError(f"cannot read stack {stack_name}: {error}") from error
    return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}


def _output(values: Mapping[str, str], key: str, stack_name: str, pattern: re.Pattern[str] | None = None) -> str:
    value = values.get(key)
    if not value:
        raise StarterConfigError(f"stack {stack_name} has no output {key}: is it a ParallelClusterApi stack "
                                 "that finished deploying?")
    if pattern is not None and not pattern.fullmatch(value):
        raise StarterConfigError(f"output {key} of stack {stack_name} is not what the stack writes: {value!r}")
    return value


def starter_config(values: Mapping[str, str], *, stack_name: str, region: str) -> str:
    """The YAML text of the starter configuration for a stack with these outputs."""
    if not _REGION.fullmatch(region):
        raise StarterConfigError(f"not an AWS region: {region!r}")
    return TEMPLATE.format(
        version=_output(values, outputs.PARALLELCLUSTER_VERSION, stack_name), stack=stack_name, region=region,
        api_url=_output(values, outputs.API_URL, stack_name), os=OS,
        head_node_instance_type=HEAD_NODE_INSTANCE_TYPE, compute_instance_type=COMPUTE_INSTANCE_TYPE,
        max_compute_nodes=MAX_COMPUTE_NODES,
        head_node_subnet=_output(values, outputs.HEAD_NODE_SUBNET_ID, stack_name, _SUBNET_ID),
        head_node_output=outputs.HEAD_NODE_SUBNET_ID,
        compute_subnet=_output(values, outputs.COMPUTE_SUBNET_ID, stack_name, _SUBNET_ID),
        compute_output=outputs.COMPUTE_SUBNET_ID)
