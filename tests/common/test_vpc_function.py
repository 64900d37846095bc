"""PythonFunction(vpc_placement=...): a function in a VPC gets its network-interface permissions
in a policy of its own, waits for it, and functions outside a VPC are unchanged."""
from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import aws_cdk as cdk
import pytest
from aws_cdk import aws_ec2 as ec2
from aws_cdk.assertions import Template

from stacks.common.lambda_function import NETWORK_INTERFACE_ACTIONS, PythonFunction, VpcPlacement
from stacks.common.nag import acknowledge, apply_quality_gates

FIXTURE = Path(__file__).parent / "fixtures" / "sample_fn"
NO_BUNDLING = {"aws:cdk:bundling-stacks": []}


def _function(stack: cdk.Stack, id_: str, **overrides) -> PythonFunction:
    return PythonFunction(stack, id_, entry=FIXTURE, service_name="sample", metrics_namespace="Tests/Sample",
                          log_retention_days=90, description="sample function for tests", **overrides)


@pytest.fixture(scope="module")
def placed():
    app = cdk.App(context=NO_BUNDLING)
    stack = cdk.Stack(app, "VpcFunctionStack")
    vpc = ec2.Vpc(stack, "Vpc", max_azs=2, nat_gateways=0, restrict_default_security_group=False,
                  subnet_configuration=[ec2.SubnetConfiguration(name="isolated", cidr_mask=24,
                                                                subnet_type=ec2.SubnetType.PRIVATE_ISOLATED)])
    acknowledge(vpc.node.default_child, "AwsSolutions-VPC7", "A test fixture VPC that is never deployed anywhere.")
    group = ec2.SecurityGroup(stack, "Group", vpc=vpc, allow_all_outbound=False)
    inside = _function(stack, "Inside", vpc_placement=VpcPlacement(
        vpc=vpc, subnets=ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_ISOLATED), security_groups=[group]))
    outside = _function(stack, "Outside")
    apply_quality_gates(app)
    template = Template.from_stack(stack)  # synthesizes: cdk-nag raises on unacknowledged findings
    return SimpleNamespace(stack=stack, vpc=vpc, group=group, inside=inside, outside=outside,
                           template=template.to_json())


def _resource(placed, construct) -> dict:
    return placed.template["Resources"][placed.stack.get_logical_id(construct.node.default_child)]


def test_the_function_runs_in_the_chosen_subnets_behind_the_chosen_security_group(placed):
    config = _resource(placed, placed.inside.function)["Properties"]["VpcConfig"]

    assert config["SecurityGroupIds"] == [placed.stack.resolve(placed.group.security_group_id)]
    assert config["SubnetIds"] == [placed.stack.resolve(s.subnet_id) for s in placed.vpc.isolated_subnets]


def test_network_interface_permissions_are_a_policy_of_their_own_on_the_function_role(placed):
    policy = _resource(placed, placed.inside.network_policy)["Properties"]

    assert policy["Roles"] == [placed.stack.resolve(placed.inside.role.role_name)]
    [statement] = policy["PolicyDocument"]["Statement"]
    assert sorted(statement["Action"]) == sorted(NETWORK_INTERFACE_ACTIONS)


def test_the_function_is_created_only_after_its_network_interface_permissions(placed):
    depends_on = _resource(placed, placed.inside.function).get("DependsOn", [])

    assert placed.stack.get_logical_id(placed.inside.network_policy.node.default_child) in depends_on


def test_a_function_outside_a_vpc_has_no_vpc_config_and_no_network_policy(placed):
    assert "VpcConfig" not in _resource(placed, placed.outside.function)["Properties"]
    assert placed.outside.network_policy is None
