"""The shared config reader and deployment environment."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import aws_cdk as cdk
import pytest

from stacks.common.config import LOG_RETENTION_DAYS, ConfigError, ContextBlock, log_retention
from stacks.common.environment import deployment_environment
from tests.conftest import ROOT, project_context, synth_suite


def test_a_missing_required_value_names_its_key():
    with pytest.raises(ConfigError, match=r"^system\.apiUrl is required$"):
        ContextBlock("system", {}).https_url("apiUrl")


def test_a_context_block_that_is_not_an_object_is_refused():
    with pytest.raises(ConfigError, match=r"^system must be an object"):
        ContextBlock("system", ["not", "an", "object"])


def test_every_accepted_retention_maps_to_a_cdk_value():
    assert {log_retention(days) for days in LOG_RETENTION_DAYS}.__len__() == len(LOG_RETENTION_DAYS)


def test_stacks_are_environment_agnostic_by_default():
    env = deployment_environment(cdk.App().node, environ={"CDK_DEFAULT_ACCOUNT": "111111111111",
                                                         "CDK_DEFAULT_REGION": "eu-west-1"})
    assert env.account is None and env.region is None


def test_context_pins_the_environment_before_environment_variables():
    app = cdk.App(context={"region": "eu-central-1"})
    env = deployment_environment(app.node, environ={"CDK_DEPLOY_ACCOUNT": "123456789012",
                                                    "CDK_DEPLOY_REGION": "us-west-2"})
    assert (env.account, env.region) == ("123456789012", "eu-central-1")


@pytest.mark.parametrize("context, environ, key", [
    ({"account": "12345"}, {}, "context key 'account'"),
    ({"region": "mars-north-1x"}, {}, "context key 'region'"),
    ({}, {"CDK_DEPLOY_REGION": "nowhere"}, "CDK_DEPLOY_REGION"),
])
def test_a_bad_environment_names_its_source(context, environ, key):
    with pytest.raises(ConfigError, match=key):
        deployment_environment(cdk.App(context=context).node, environ=environ)


# --- context from the command line ------------------------------------------------------

def _project_file(tmp_path, block: dict):
    path = tmp_path / "cdk.json"
    path.write_text(json.dumps({"context": {"system": block}}))
    return path


def test_a_json_string_from_the_command_line_changes_only_the_keys_it_names(tmp_path):
    # `cdk synth -c system='{"pageSize": 50}'` hands the app the block as a string.
    app = cdk.App(context={"system": '{"pageSize": 50}'})
    block = ContextBlock.from_node(app.node, "system",
                                   project_file=_project_file(tmp_path, {"pageSize": 25, "stageName": "prod"}))

    assert block.integer("pageSize", minimum=1, maximum=100) == 50
    assert block.string("stageName") == "prod"


@pytest.mark.parametrize("text", ["pageSize=50", "[1, 2]", "{'pageSize': 50}", ""])
def test_a_command_line_block_that_is_not_a_json_object_names_the_key(tmp_path, text):
    app = cdk.App(context={"system": text})
    with pytest.raises(ConfigError, match=r"^system must be a JSON object \(-c system="):
        ContextBlock.from_node(app.node, "system", project_file=_project_file(tmp_path, {}))


def test_the_documented_override_synthesizes_with_the_new_value_and_keeps_the_rest():
    suite = synth_suite(context={"urlShortener": '{"pageSize": 50}'})
    template = suite.template_json("UrlShortener")
    request_templates = [json.dumps(r["Properties"]["Integration"].get("RequestTemplates", {}))
                         for r in template["Resources"].values() if r["Type"] == "AWS::ApiGateway::Method"]
    assert any('Limit\\": 50' in text for text in request_templates)
    # Keys the command line did not name keep their cdk.json values, not the code's defaults.
    (alarm,) = [r for r in template["Resources"].values() if r["Type"] == "AWS::CloudWatch::Alarm"
                and r["Properties"].get("ExtendedStatistic") == "p99"]
    assert alarm["Properties"]["Threshold"] == project_context()["urlShortener"]["latencyAlarmMs"]


def test_a_bad_value_ends_synth_with_one_line_naming_the_key(tmp_path):
    context = {**project_context(), "urlShortener": '{"pageSize": 0}'}
    result = subprocess.run([sys.executable, "app.py"], cwd=ROOT, capture_output=True, text=True, env={
        **os.environ, "CDK_CONTEXT_JSON": json.dumps(context), "CDK_OUTDIR": str(tmp_path)})

    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1] == (
        "Configuration error: urlShortener.pageSize must be an integer from 1 to 100, got 0")
    assert "Traceback" not in result.stderr
