"""The suite as a whole: what the stacks share, and what no two of them may write."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from stacks.common.config import ConfigError
from stacks.common.rest_api import ENDPOINT_ACCESS_MODE, TLS_SECURITY_POLICY
from tests.conftest import ROOT, project_context, synth_suite
from tests.support.templates import resources

ACCOUNT_STACK = "ApiGatewayAccount"


def resources_of_type(suite, resource_type: str) -> dict[str, list[dict]]:
    return {name: list(resources(suite.template_json(name), resource_type).values()) for name in suite.stacks}


def test_only_the_account_stack_writes_the_api_gateway_account_setting(suite):
    writers = {name: len(found) for name, found in resources_of_type(suite, "AWS::ApiGateway::Account").items()
               if found}
    assert writers == {ACCOUNT_STACK: 1}


def test_the_account_logging_role_and_setting_outlive_the_stack(suite):
    template = suite.template_json(ACCOUNT_STACK)["Resources"]
    (account,) = [r for r in template.values() if r["Type"] == "AWS::ApiGateway::Account"]
    (role,) = [r for r in template.values() if r["Type"] == "AWS::IAM::Role"]
    assert account["DeletionPolicy"] == role["DeletionPolicy"] == "Retain"
    assert role["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {
        "Service": "apigateway.amazonaws.com"}


def test_every_stack_whose_rest_api_stages_log_is_deployed_after_the_account_stack(suite):
    staged = {name for name, stages in resources_of_type(suite, "AWS::ApiGateway::Stage").items() if stages}
    assert staged >= {"UrlShortener", "MarsWeather", "TelepresenceRobot-robot1"}
    for name in staged:
        stage = resources_of_type(suite, "AWS::ApiGateway::Stage")[name][0]["Properties"]
        assert stage["MethodSettings"][0]["LoggingLevel"] == "ERROR" and "AccessLogSetting" in stage
        dependencies = {dependency.stack_name for dependency in suite.stacks[name].dependencies}
        assert ACCOUNT_STACK in dependencies, name
    unstaged = set(suite.stacks) - staged - {ACCOUNT_STACK}
    for name in unstaged:
        assert ACCOUNT_STACK not in {d.stack_name for d in suite.stacks[name].dependencies}, name


def test_an_account_whose_logging_role_is_managed_elsewhere_gets_no_account_stack():
    suite = synth_suite(context={"apiGatewayAccount": {"manageCloudWatchRole": False}})
    assert ACCOUNT_STACK not in suite.stacks
    assert all(not d for d in resources_of_type(suite, "AWS::ApiGateway::Account").values())
    assert all(not stack.dependencies for stack in suite.stacks.values())


def test_a_typo_in_the_account_settings_fails_synth_naming_the_key():
    with pytest.raises(ConfigError, match=r"apiGatewayAccount\.manageCloudwatchRole is not a known setting"):
        synth_suite(context={"apiGatewayAccount": {"manageCloudwatchRole": False}})


def test_every_rest_api_refuses_tls_below_1_2(suite):
    apis = [api for found in resources_of_type(suite, "AWS::ApiGateway::RestApi").values() for api in found]
    assert len(apis) >= 3
    for api in apis:
        assert api["Properties"]["SecurityPolicy"] == TLS_SECURITY_POLICY
        assert api["Properties"]["EndpointAccessMode"] == ENDPOINT_ACCESS_MODE
    # Enhanced policies (TLS 1.2 and 1.3, no 1.0) are the ones that start with SecurityPolicy_TLS1[23].
    assert TLS_SECURITY_POLICY.startswith(("SecurityPolicy_TLS13_", "SecurityPolicy_TLS12_"))


# --- teardown: `cdk destroy` of any stack must not stop half-way ---------------------------

DESTROY_DATA = {block: {"dataRemovalPolicy": "destroy"}
                for block in ("urlShortener", "askAroundMe", "telepresenceRobot")}


@pytest.fixture(scope="module")
def destroyable_suite():
    context = {block: {**project_block, **DESTROY_DATA.get(block, {})}
               for block, project_block in project_context().items() if isinstance(project_block, dict)}
    return synth_suite(context=context)


@pytest.mark.parametrize("which", ["default", "destroy"])
def test_every_bucket_the_stack_deletes_is_emptied_first(suite, destroyable_suite, which):
    synthesized = suite if which == "default" else destroyable_suite
    for name in synthesized.stacks:
        resources = synthesized.template_json(name)["Resources"]
        emptied = {json.dumps(r["Properties"]["BucketName"]) for r in resources.values()
                   if r["Type"] == "Custom::S3AutoDeleteObjects"}
        for bucket_id, bucket in resources.items():
            if bucket["Type"] == "AWS::S3::Bucket" and bucket.get("DeletionPolicy", "Delete") == "Delete":
                assert json.dumps({"Ref": bucket_id}) in emptied, f"{name}: {bucket_id} is deleted but never emptied"


def test_deletion_protection_is_on_exactly_when_data_is_retained(suite, destroyable_suite):
    def protected(resource: dict) -> bool:
        properties = resource["Properties"]
        if resource["Type"] == "AWS::DynamoDB::GlobalTable":
            return all(replica.get("DeletionProtectionEnabled") is True for replica in properties["Replicas"])
        if resource["Type"] == "AWS::Cognito::UserPool":
            return properties.get("DeletionProtection") == "ACTIVE"
        return properties.get("DeletionProtectionEnabled") is True

    checked = 0
    for synthesized in (suite, destroyable_suite):
        for name in synthesized.stacks:
            for resource in synthesized.template_json(name)["Resources"].values():
                if resource["Type"] in ("AWS::DynamoDB::GlobalTable", "AWS::DynamoDB::Table", "AWS::Cognito::UserPool"):
                    retained = resource.get("DeletionPolicy") == "Retain"
                    assert protected(resource) == retained, (name, resource["Type"])
                    checked += 1
    assert checked >= 8


def test_synthesized_assemblies_are_removed_when_the_test_process_ends():
    script = ("from tests.conftest import _synth_root; root = _synth_root(); "
              "(root / 'synth-x').mkdir(); print(root)")
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=True)
    root = Path(result.stdout.strip())
    assert root.name.startswith("cdk-test-") and not root.exists()
