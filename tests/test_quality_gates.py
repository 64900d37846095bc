"""The gates every stack passes: cdk-nag inside synth (cfn-lint and ruff run in `make lint`)."""
from __future__ import annotations

import aws_cdk as cdk
import pytest
from aws_cdk import aws_sqs as sqs

from stacks.common.nag import acknowledge, apply_quality_gates
from stacks.suite import build_suite, suite_app
from tests.conftest import project_context


def test_the_gate_covers_every_stack_of_the_suite(tmp_path):
    # One unencrypted, non-TLS queue planted in each stack: synth must name every one of them.
    app = suite_app(context={**project_context(), "aws:cdk:bundling-stacks": []}, outdir=str(tmp_path))
    stacks = build_suite(app, {})
    for stack in stacks.values():
        sqs.Queue(stack, "PlantedInsecureQueue")
    with pytest.raises(RuntimeError, match="AwsSolutions-SQS") as failure:
        app.synth()
    report = str(failure.value)
    missed = [name for name, stack in stacks.items() if f"{stack.stack_name}/PlantedInsecureQueue" not in report]
    assert missed == []


def test_no_identity_pool_of_the_suite_gives_guests_anything(suite):
    pools = attachments = 0
    for name in suite.stacks:
        for resource in suite.template_json(name)["Resources"].values():
            if resource["Type"] == "AWS::Cognito::IdentityPool":
                pools += 1
                assert resource["Properties"]["AllowUnauthenticatedIdentities"] is False, name
                assert resource["Properties"]["AllowClassicFlow"] is False, name
            elif resource["Type"] == "AWS::Cognito::IdentityPoolRoleAttachment":
                attachments += 1
                assert set(resource["Properties"]["Roles"]) == {"authenticated"}, name
            elif resource["Type"] == "AWS::IAM::Role":
                assert "unauthenticated" not in str(resource["Properties"]["AssumeRolePolicyDocument"]), name
    assert pools == attachments >= 2


def test_an_unacknowledged_finding_fails_synth():
    app = cdk.App()
    stack = cdk.Stack(app, "Insecure")
    sqs.Queue(stack, "PlainQueue")
    apply_quality_gates(app)
    with pytest.raises(RuntimeError, match="AwsSolutions-SQS"):
        app.synth()


def test_an_acknowledged_finding_is_scoped_to_its_resource():
    app = cdk.App()
    stack = cdk.Stack(app, "Scoped")
    acknowledged = sqs.Queue(stack, "Acknowledged", enforce_ssl=True)
    acknowledge(acknowledged.node.default_child, "AwsSolutions-SQS3",
                "This queue is itself a dead-letter queue in this test fixture.")
    sqs.Queue(stack, "NotAcknowledged", enforce_ssl=True)
    apply_quality_gates(app)
    with pytest.raises(RuntimeError, match="AwsSolutions-SQS3") as failure:
        app.synth()
    assert "NotAcknowledged" in str(failure.value) and "Scoped/Acknowledged/Resource" not in str(failure.value)


@pytest.mark.parametrize("rule, reason", [
    ("AwsSolutions-SQS3", "because"),
    ("AwsSolutions", "a rule family is not one finding at all"),
    ("SQS3", "the rule id must carry its pack prefix to be found"),
])
def test_vague_acknowledgements_are_refused(rule, reason):
    stack = cdk.Stack(cdk.App(), "Vague")
    with pytest.raises(ValueError, match="acknowledg"):
        acknowledge(sqs.Queue(stack, "Queue"), rule, reason)
