"""PythonFunction: the suite's Lambda defaults, its least-privilege role and the cdk-nag gate."""
from __future__ import annotations

import importlib.metadata
import json
import re
import runpy
import shutil
from pathlib import Path
from types import SimpleNamespace

import aws_cdk as cdk
import pytest
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk.assertions import Capture, Match, Template

from stacks.common.bundling import LOCK_INPUT_FILE, REQUIREMENTS_FILE
from stacks.common.config import LOG_RETENTION_DAYS, log_retention
from stacks.common.lambda_function import RUNTIME, PythonFunction
from stacks.common.nag import apply_quality_gates
from stacks.common.powertools import POWERTOOLS_VERSION, layer_parameter_name
from tests.conftest import ROOT

FIXTURE = Path(__file__).parent / "fixtures" / "sample_fn"
# Bundling runs pip; these tests are about the template, so they skip it (the hash stays custom).
NO_BUNDLING = {"aws:cdk:bundling-stacks": []}


def add_function(stack: cdk.Stack, id_: str = "Fn", **overrides) -> PythonFunction:
    props = dict(entry=FIXTURE, service_name="sample", metrics_namespace="Tests/Sample",
                 log_retention_days=90, description="sample function for tests")
    return PythonFunction(stack, id_, **{**props, **overrides})


@pytest.fixture(scope="module")
def sample():
    stack = cdk.Stack(cdk.App(context=NO_BUNDLING), "FunctionStack")
    fn = add_function(stack, environment={"TABLE_NAME": "links"})
    table = dynamodb.TableV2(stack, "Table",
                             partition_key=dynamodb.Attribute(name="pk", type=dynamodb.AttributeType.STRING))
    table.grant_read_data(fn.function)
    return SimpleNamespace(stack=stack, fn=fn, template=Template.from_stack(stack))


def policies_of_role(sample) -> list[dict]:
    role_ref = sample.stack.resolve(sample.fn.role.role_name)
    return [p["Properties"] for p in sample.template.find_resources("AWS::IAM::Policy").values()
            if role_ref in p["Properties"]["Roles"]]


# --- function defaults ------------------------------------------------------------------

def test_function_runs_python_3_12_or_newer_on_arm64(sample):
    runtime = Capture()
    sample.template.has_resource_properties("AWS::Lambda::Function", {
        "Runtime": runtime, "Architectures": ["arm64"]})

    version = re.fullmatch(r"python(\d+)\.(\d+)", runtime.as_string())
    assert version and tuple(map(int, version.groups())) >= (3, 12)


def test_function_uses_the_newest_python_runtime_cdk_knows(sample):
    # cdk-nag's AwsSolutions-L1 fails synth for anything older.
    newest = max((r for r in dir(lambda_.Runtime) if re.fullmatch(r"PYTHON_3_\d+", r)),
                 key=lambda name: int(name.rsplit("_", 1)[-1]))
    sample.template.has_resource_properties("AWS::Lambda::Function", {
        "Runtime": getattr(lambda_.Runtime, newest).name})


def test_x86_64_can_be_chosen_instead_of_arm64():
    stack = cdk.Stack(cdk.App(context=NO_BUNDLING), "X86Stack")
    add_function(stack, architecture=lambda_.Architecture.X86_64)

    Template.from_stack(stack).has_resource_properties("AWS::Lambda::Function", {
        "Architectures": ["x86_64"]})


def test_an_older_python_runtime_can_be_chosen_and_its_powertools_layer_follows():
    # For functions tied to a vendor layer built for one Python version (ParallelCluster's).
    stack = cdk.Stack(cdk.App(context=NO_BUNDLING), "OlderRuntimeStack")
    add_function(stack, runtime=lambda_.Runtime.PYTHON_3_12, architecture=lambda_.Architecture.X86_64)
    template = Template.from_stack(stack)

    template.has_resource_properties("AWS::Lambda::Function", {"Runtime": "python3.12"})
    layer_paths = [p["Default"] for p in template.to_json()["Parameters"].values()
                   if p["Default"].startswith("/aws/service/powertools/")]
    assert layer_paths == [layer_parameter_name(runtime=lambda_.Runtime.PYTHON_3_12,
                                                architecture=lambda_.Architecture.X86_64)]


def test_the_runtime_is_part_of_the_asset_hash():
    hashes = set()
    for runtime in (RUNTIME, lambda_.Runtime.PYTHON_3_12):
        stack = cdk.Stack(cdk.App(context=NO_BUNDLING), "HashStack")
        add_function(stack, runtime=runtime)
        code = Template.from_stack(stack).to_json()["Resources"]
        (function,) = [r for r in code.values() if r["Type"] == "AWS::Lambda::Function"]
        hashes.add(json.dumps(function["Properties"]["Code"], sort_keys=True))
    assert len(hashes) == 2


def test_every_invocation_is_traced_with_xray(sample):
    sample.template.has_resource_properties("AWS::Lambda::Function", {
        "TracingConfig": {"Mode": "Active"}})


def test_handler_string_names_the_handler_module_inside_the_function_package(sample):
    sample.template.has_resource_properties("AWS::Lambda::Function", {
        "Handler": "sample_fn.handler.handler"})


def test_defaults_are_ten_seconds_and_256_mb(sample):
    sample.template.has_resource_properties("AWS::Lambda::Function", {
        "Timeout": 10, "MemorySize": 256})


def test_function_logs_to_its_own_log_group_kept_for_the_configured_days(sample):
    sample.template.has_resource_properties("AWS::Logs::LogGroup", {"RetentionInDays": 90})
    sample.template.has_resource_properties("AWS::Lambda::Function", {
        "LoggingConfig": {"LogGroup": sample.stack.resolve(sample.fn.log_group.log_group_name)}})


def test_every_retention_config_accepts_is_rendered_as_that_many_days():
    stack = cdk.Stack(cdk.App(), "RetentionStack")
    for days in LOG_RETENTION_DAYS:
        logs.LogGroup(stack, f"Group{days}", retention=log_retention(days))

    groups = Template.from_stack(stack).find_resources("AWS::Logs::LogGroup")

    assert sorted(g["Properties"]["RetentionInDays"] for g in groups.values()) == list(LOG_RETENTION_DAYS)


def test_retention_cloudwatch_does_not_offer_is_rejected():
    stack = cdk.Stack(cdk.App(context=NO_BUNDLING), "BadRetentionStack")

    with pytest.raises(ValueError, match="log_retention_days"):
        add_function(stack, log_retention_days=42)


def test_powertools_is_configured_through_environment_variables(sample):
    sample.template.has_resource_properties("AWS::Lambda::Function", {
        "Environment": {"Variables": Match.object_like({
            "POWERTOOLS_SERVICE_NAME": "sample",
            "POWERTOOLS_METRICS_NAMESPACE": "Tests/Sample",
            "POWERTOOLS_LOG_LEVEL": "INFO",
            "POWERTOOLS_LOGGER_LOG_EVENT": "false",
        })}})


def test_callers_environment_is_kept_next_to_powertools_settings(sample):
    sample.template.has_resource_properties("AWS::Lambda::Function", {
        "Environment": {"Variables": Match.object_like({"TABLE_NAME": "links"})}})


def test_callers_cannot_override_powertools_settings_through_environment():
    stack = cdk.Stack(cdk.App(context=NO_BUNDLING), "ClashStack")

    with pytest.raises(ValueError, match="POWERTOOLS_LOG_LEVEL"):
        add_function(stack, environment={"POWERTOOLS_LOG_LEVEL": "DEBUG"})


def test_a_directory_without_handler_module_is_rejected(tmp_path):
    entry = Path(shutil.copytree(FIXTURE, tmp_path / "sample_fn"))
    (entry / "handler.py").unlink()
    stack = cdk.Stack(cdk.App(context=NO_BUNDLING), "NoHandlerStack")

    with pytest.raises(ValueError, match="handler.py"):
        add_function(stack, entry=entry)


def test_a_directory_name_python_cannot_import_is_rejected(tmp_path):
    entry = Path(shutil.copytree(FIXTURE, tmp_path / "sample-fn"))
    stack = cdk.Stack(cdk.App(context=NO_BUNDLING), "BadNameStack")

    with pytest.raises(ValueError, match="not importable"):
        add_function(stack, entry=entry)


# --- IAM --------------------------------------------------------------------------------

def test_role_has_no_managed_policies(sample):
    sample.template.has_resource_properties("AWS::IAM::Role", {
        "AssumeRolePolicyDocument": Match.object_like({"Statement": [Match.object_like({
            "Principal": {"Service": "lambda.amazonaws.com"}})]}),
        "ManagedPolicyArns": Match.absent(),
    })


def test_log_permissions_are_scoped_to_the_functions_own_log_group(sample):
    own_log_group = sample.stack.resolve(sample.fn.log_group.log_group_arn)
    log_statements = [s for policy in policies_of_role(sample)
                      for s in policy["PolicyDocument"]["Statement"]
                      if any(a.startswith("logs:") for a in _as_list(s["Action"]))]

    assert log_statements, "the role must be allowed to write its logs"
    assert all(s["Resource"] == own_log_group for s in log_statements)
    assert {a for s in log_statements for a in _as_list(s["Action"])} == {
        "logs:CreateLogStream", "logs:PutLogEvents"}


def test_only_xray_is_granted_on_every_resource(sample):
    wildcard_actions = {a for policy in policies_of_role(sample)
                        for s in policy["PolicyDocument"]["Statement"] if s["Resource"] == "*"
                        for a in _as_list(s["Action"])}

    assert wildcard_actions == {"xray:PutTraceSegments", "xray:PutTelemetryRecords"}


def test_grants_to_the_function_land_on_its_role(sample):
    granted = {a for policy in policies_of_role(sample)
               for s in policy["PolicyDocument"]["Statement"] for a in _as_list(s["Action"])}

    assert "dynamodb:GetItem" in granted


def _as_list(value) -> list:
    return value if isinstance(value, list) else [value]


# --- cdk-nag ----------------------------------------------------------------------------

def test_a_function_passes_the_aws_solutions_checks(tmp_path):
    app = cdk.App(context=NO_BUNDLING, outdir=str(tmp_path))
    apply_quality_gates(app)
    add_function(cdk.Stack(app, "NagStack"))

    app.synth()  # raises on any unacknowledged finding


def test_the_xray_acknowledgement_does_not_cover_wildcards_callers_grant(tmp_path):
    app = cdk.App(context=NO_BUNDLING, outdir=str(tmp_path))
    apply_quality_gates(app)
    fn = add_function(cdk.Stack(app, "NagStack"))
    fn.function.add_to_role_policy(iam.PolicyStatement(actions=["cloudwatch:PutMetricData"],
                                                       resources=["*"]))

    with pytest.raises(RuntimeError, match="ValidationFailed"):
        app.synth()

    report = json.loads((tmp_path / "validation-report.json").read_text())
    findings = {(v["ruleName"], c["constructPath"]) for plugin in report["pluginReports"]
                for v in plugin["violations"] for c in v["violatingConstructs"]}
    assert {rule for rule, _ in findings} == {"AwsSolutions-IAM5[Resource::*]"}
    # Reported on the role's own policy, where grants land, not on the acknowledged one.
    assert all(path.startswith(f"{fn.role.node.path}/") for _, path in findings)


# --- Powertools from its official layer -------------------------------------------------

def test_powertools_comes_from_the_official_layer_of_the_pinned_release(sample):
    layer = Capture()
    sample.template.has_resource_properties("AWS::Lambda::Function", {"Layers": [layer]})
    (parameter_id,) = layer.as_object().values()  # {"Ref": <the stack parameter>}
    parameter = sample.template.to_json()["Parameters"][parameter_id]

    # Resolved by CloudFormation in the stack's own region at deploy time; the value is the ARN
    # in Powertools' account 017000801446.
    assert parameter["Type"] == "AWS::SSM::Parameter::Value<String>"
    assert parameter["Default"] == f"/aws/service/powertools/python/arm64/{RUNTIME.name}/{POWERTOOLS_VERSION}"


def test_functions_of_a_stack_share_one_layer_reference_per_architecture():
    stack = cdk.Stack(cdk.App(context=NO_BUNDLING), "Shared")
    add_function(stack, "One")
    add_function(stack, "Two")
    add_function(stack, "Intel", architecture=lambda_.Architecture.X86_64)
    parameters = Template.from_stack(stack).to_json()["Parameters"]
    layer_paths = sorted(p["Default"] for p in parameters.values() if p["Default"].startswith("/aws/service/"))

    assert layer_paths == [layer_parameter_name(runtime=RUNTIME, architecture=lambda_.Architecture.ARM_64),
                           layer_parameter_name(runtime=RUNTIME, architecture=lambda_.Architecture.X86_64)]
    assert layer_paths[1].split("/")[5] == "x86_64"


def test_the_tests_run_the_powertools_release_the_layer_carries():
    dev_pins = (ROOT / "requirements-dev.txt").read_text()
    assert re.search(rf"^aws-lambda-powertools(\[[^\]]*\])?=={re.escape(POWERTOOLS_VERSION)}\s", dev_pins, re.M)
    assert importlib.metadata.version("aws-lambda-powertools") == POWERTOOLS_VERSION


def test_the_lock_script_targets_the_runtime_and_files_the_bundler_uses():
    script = runpy.run_path(str(ROOT / "scripts" / "lock_lambda_deps.py"))
    assert f"python{script['LAMBDA_PYTHON']}" == RUNTIME.name
    assert (script["LOCK_INPUT_FILE"], script["REQUIREMENTS_FILE"]) == (LOCK_INPUT_FILE, REQUIREMENTS_FILE)
