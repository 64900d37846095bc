"""The gates every stack passes: cdk-nag (inside synth) and cfn-lint (over the templates)."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import aws_cdk as cdk
import pytest
from aws_cdk import aws_sqs as sqs

from stacks.common.nag import acknowledge, apply_quality_gates
from tests.conftest import ROOT


def test_the_suite_synthesizes_with_no_unacknowledged_nag_finding(suite):
    # AwsSolutionsChecks runs inside synth and raises on any error or warning left unacknowledged.
    assert all((suite.outdir / stack.template_file).exists() for stack in suite.stacks.values())


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
    with pytest.raises(RuntimeError) as failure:
        app.synth()
    assert "NotAcknowledged" in str(failure.value) and "Scoped/Acknowledged/Resource" not in str(failure.value)


@pytest.mark.parametrize("rule, reason", [
    ("AwsSolutions-SQS3", "because"),
    ("AwsSolutions", "a rule family is not one finding at all"),
    ("SQS3", "the rule id must carry its pack prefix to be found"),
])
def test_vague_acknowledgements_are_refused(rule, reason):
    stack = cdk.Stack(cdk.App(), "Vague")
    with pytest.raises(ValueError):
        acknowledge(sqs.Queue(stack, "Queue"), rule, reason)


def test_cfn_lint_reports_nothing_on_any_template(suite):
    templates = sorted(str(path) for path in Path(suite.outdir).glob("*.template.json"))
    assert templates
    # The same command `make synth` runs: errors and warnings both fail.
    result = subprocess.run([str(Path(sys.executable).parent / "cfn-lint"), "--non-zero-exit-code",
                             "informational", "--", *templates], capture_output=True, text=True, cwd=ROOT)
    assert (result.returncode, result.stdout) == (0, "")


def test_pyflakes_reports_nothing_in_the_projects_python():
    # Unused imports and names, undefined names, shadowed loop variables: cheap bugs to rule out.
    result = subprocess.run([sys.executable, "-m", "pyflakes", "app.py", "stacks", "lambda_src", "device",
                             "tests", "benchmarks", "scripts"], cwd=ROOT, capture_output=True, text=True)
    findings = [line for line in result.stdout.splitlines() if line.strip()]
    assert findings == [], "\n".join(findings)
