"""What the ParallelClusterApi template promises, asserted by intent; and the starter-config command."""
from __future__ import annotations

import io
import json
import re
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import boto3
import cfnlint
import pytest
import yaml
from aws_cdk.assertions import Match
from moto import mock_aws

from lambda_src.parallelcluster_api.routes import FUNCTIONS, ROUTES, WORKFLOW_FUNCTIONS
from lambda_src.parallelcluster_api.schema import json_schema
from ops.parallelcluster.__main__ import main as ops_main
from ops.parallelcluster.starter_config import StarterConfigError, starter_config
from stacks.common.token_authorizer import TOKEN_VALIDATION_REGEX
from stacks.parallelcluster_api import iam_actions, outputs
from stacks.parallelcluster_api.config import MIN_POLL_INTERVAL_SECONDS, ParallelClusterApiConfig
from stacks.parallelcluster_api.functions import WITHOUT_PCLUSTER, layer_key
from stacks.parallelcluster_api.permissions import CLUSTER_NAME_TAG, is_read_only
from stacks.parallelcluster_api.stack import FLEET_CHANGERS, MAX_BODY_BYTES, STARTERS, WITHOUT_PCLUSTER_PERMISSIONS
from stacks.parallelcluster_api.workflow import EVENTS_PER_POLL, MAX_HISTORY_EVENTS, MAX_OPERATION, max_polls
from tests.conftest import project_context, synth_suite
from tests.support.templates import as_list, one, only, render, resources

STACK = outputs.STACK_NAME
CONTEXT = project_context()["parallelclusterApi"]
API_FUNCTIONS = sorted({route.function for route in ROUTES})
ALL_FUNCTIONS = sorted(FUNCTIONS)
LAYER_FUNCTIONS = [name for name in ALL_FUNCTIONS if name not in WITHOUT_PCLUSTER]
# The functions that call pcluster.lib, hence hold ParallelCluster's permissions.
PCLUSTER_FUNCTIONS = [name for name in ALL_FUNCTIONS if name not in WITHOUT_PCLUSTER_PERMISSIONS]
# The IAM Service Authorization Reference, as cfn-lint ships it: {service: {"Actions": {action: ...}}}.
IAM_REFERENCE = json.loads((Path(cfnlint.__file__).parent / "data" / "AdditionalSpecs" / "Policies.json").read_text())
# What IAM allows in a customer managed policy, whitespace not counted.
MANAGED_POLICY_LIMIT = 6144
BOUNDARY = "arn:aws:iam::123456789012:policy/hpc/Boundary"
VARIANT = {  # one more synth covers every switch the default leaves off
    **{k: v for k, v in CONTEXT.items()
       if k not in ("callbackUrls", "logoutUrls", "requireMfa", "cognitoFeaturePlan", "createVpc")},
    "identityProvider": "external", "issuer": "https://hpc.eu.auth0.com/", "audience": "https://pcluster.example.com",
    "jwksUrl": "https://hpc.eu.auth0.com/.well-known/jwks.json",
    "createVpc": False, "headNodeSubnetId": "subnet-0123456789abcdef0", "computeSubnetId": "subnet-0fedcba987654321f",
    "parallelclusterVersion": "3.15.1", "enableIamAdminAccess": True, "permissionsBoundaryArn": BOUNDARY,
}


@pytest.fixture(scope="module")
def template(suite):
    return suite.template(STACK)


@pytest.fixture(scope="module")
def template_json(suite):
    return suite.template_json(STACK)


@pytest.fixture(scope="module")
def variant_json():
    return synth_suite(context={"parallelclusterApi": VARIANT}).template_json(STACK)


# --- lookups -------------------------------------------------------------------------------------

def _functions(template_json: dict) -> dict[str, tuple[str, dict]]:
    """{function directory: (logical id, properties)} of the package's functions."""
    found = {}
    for logical_id, resource in resources(template_json, "AWS::Lambda::Function").items():
        match = re.fullmatch(r"parallelcluster_api\.(\w+)\.handler\.handler", resource["Properties"].get("Handler", ""))
        if match:
            found[match.group(1)] = (logical_id, resource["Properties"])
    return found


def _authorizer_function(template_json: dict) -> dict:
    (props,) = [r["Properties"] for r in resources(template_json, "AWS::Lambda::Function").values()
                if r["Properties"].get("Handler") == "token_authorizer.handler.handler"]
    return props


def _role_of(template_json: dict, function: str) -> str:
    return _functions(template_json)[function][1]["Role"]["Fn::GetAtt"][0]


def _role_documents(template_json: dict, role_id: str) -> list[dict]:
    """Every policy document of a role: inline policies naming it and its managed policies."""
    documents = [p["Properties"]["PolicyDocument"] for p in resources(template_json, "AWS::IAM::Policy").values()
                 if {"Ref": role_id} in p["Properties"]["Roles"]]
    for arn in template_json["Resources"][role_id]["Properties"].get("ManagedPolicyArns", []):
        assert set(arn) == {"Ref"}, f"{role_id} holds a managed policy from outside the stack: {arn}"
        documents.append(template_json["Resources"][arn["Ref"]]["Properties"]["PolicyDocument"])
    return documents


def _role_actions(template_json: dict, role_id: str) -> set[str]:
    return {action for document in _role_documents(template_json, role_id) for s in document["Statement"]
            if s["Effect"] == "Allow" for action in as_list(s["Action"])}


def _statements_allowing(template_json: dict, role_id: str, action: str) -> list[dict]:
    return [s for d in _role_documents(template_json, role_id) for s in d["Statement"]
            if action in as_list(s["Action"])]


def _all_documents(template_json: dict) -> list[tuple[str, dict]]:
    found = [(logical_id, r["Properties"]["PolicyDocument"]) for logical_id, r in template_json["Resources"].items()
             if r["Type"] in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy")]
    found += [(logical_id, p["PolicyDocument"]) for logical_id, r in resources(template_json, "AWS::IAM::Role").items()
              for p in r["Properties"].get("Policies", [])]
    return found


def _method_paths(template_json: dict) -> dict[tuple[str, str], dict]:
    """{(HTTP method, resource path): method properties}, paths rebuilt from the resource tree."""
    api_resources = resources(template_json, "AWS::ApiGateway::Resource")

    def path(reference: dict) -> str:
        if "Fn::GetAtt" in reference:  # the root resource
            return ""
        props = api_resources[reference["Ref"]]["Properties"]
        return f"{path(props['ParentId'])}/{props['PathPart']}"

    return {(m["Properties"]["HttpMethod"], path(m["Properties"]["ResourceId"])): m["Properties"]
            for m in resources(template_json, "AWS::ApiGateway::Method").values()}


def _definition(template_json: dict) -> dict:
    _, machine = one(template_json, "AWS::StepFunctions::StateMachine")
    parts = machine["Properties"]["DefinitionString"]["Fn::Join"][1]
    return json.loads("".join(part if isinstance(part, str) else render(part) for part in parts))


def _function_arn(template_json: dict, function: str) -> str:
    return f"<{_functions(template_json)[function][0]}.Arn>"


def _environment(props: dict) -> dict:
    return props["Environment"]["Variables"]


# --- the API -------------------------------------------------------------------------------------

def test_every_route_of_routes_py_is_a_method_and_there_is_no_other(template_json):
    assert set(_method_paths(template_json)) == {(route.method, route.path) for route in ROUTES}


def test_every_method_requires_the_token_authorizer(template_json):
    authorizer_id, authorizer = one(template_json, "AWS::ApiGateway::Authorizer")
    assert authorizer["Properties"]["Type"] == "TOKEN"
    for key, method in _method_paths(template_json).items():
        assert method["AuthorizationType"] == "CUSTOM", key
        assert method["AuthorizerId"] == {"Ref": authorizer_id}, key


def test_no_method_is_open_and_no_cors_preflight_is_answered(template_json):
    methods = _method_paths(template_json)
    assert not [key for key, m in methods.items() if m["AuthorizationType"] in ("NONE", None)]
    assert not [key for key in methods if key[0] == "OPTIONS"]


def test_the_authorizer_reads_bearer_jwts_from_authorization_and_caches_its_policy(template_json):
    _, authorizer = one(template_json, "AWS::ApiGateway::Authorizer")
    props = authorizer["Properties"]
    assert props["IdentitySource"] == "method.request.header.Authorization"
    assert props["IdentityValidationExpression"] == TOKEN_VALIDATION_REGEX
    assert re.fullmatch(TOKEN_VALIDATION_REGEX, "Bearer eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ1In0.c2ln")
    assert not re.fullmatch(TOKEN_VALIDATION_REGEX, "Basic dXNlcjpwYXNz")
    assert props["AuthorizerResultTtlInSeconds"] == CONTEXT["authorizerCacheSeconds"]


def test_the_authorizer_gets_the_configured_permissions_mapping(template_json):
    mapping = json.loads(_environment(_authorizer_function(template_json))["PERMISSIONS"])
    expected = ParallelClusterApiConfig.from_context(cdk.App(context={"parallelclusterApi": CONTEXT}).node).permissions
    assert sorted((m["method"], m["resource"], m["scope"]) for m in mapping) == sorted(
        (p.method, p.resource, p.scope) for p in expected)


def test_each_route_proxies_to_its_own_function(template_json):
    functions = _functions(template_json)
    for route in ROUTES:
        integration = _method_paths(template_json)[(route.method, route.path)]["Integration"]
        assert integration["Type"] == "AWS_PROXY"
        assert f"<{functions[route.function][0]}.Arn>" in render(integration["Uri"]), route.path


def test_request_bodies_are_validated_against_the_models_built_from_the_dataclasses(template_json):
    validated = 0
    for route in ROUTES:
        method = _method_paths(template_json)[(route.method, route.path)]
        validator = template_json["Resources"][method["RequestValidatorId"]["Ref"]]["Properties"]
        assert validator["ValidateRequestBody"] is True and validator["ValidateRequestParameters"] is True
        if route.request_model is None:
            assert "RequestModels" not in method, route.path
            continue
        model = template_json["Resources"][method["RequestModels"]["application/json"]["Ref"]]["Properties"]
        assert model["Schema"] == json_schema(route.request_model), route.path
        validated += 1
    assert validated == 3  # create, update, the compute fleet's status


def test_path_parameters_are_required_and_query_parameters_declared(template_json):
    methods = _method_paths(template_json)
    describe = methods[("GET", "/v3/clusters/{clusterName}")]["RequestParameters"]
    assert describe["method.request.path.clusterName"] is True
    create = methods[("POST", "/v3/clusters")]["RequestParameters"]
    assert create["method.request.querystring.dryrun"] is False
    assert create["method.request.querystring.validationFailureLevel"] is False
    legacy = methods[("POST", "/pcluster")]["RequestParameters"]
    assert legacy["method.request.querystring.command"] is True


def test_api_gateway_answers_its_own_errors_in_the_apis_message_shape(template_json):
    responses = {r["Properties"]["ResponseType"]: r["Properties"]
                 for r in resources(template_json, "AWS::ApiGateway::GatewayResponse").values()}
    for kind in ("DEFAULT_4XX", "DEFAULT_5XX"):
        assert responses[kind]["ResponseTemplates"]["application/json"] == '{"message": $context.error.messageString}'
    assert set(json.loads(responses["BAD_REQUEST_BODY"]["ResponseTemplates"]["application/json"])) == {"message"}


def test_the_stage_is_throttled_traced_and_writes_a_json_access_log(template_json):
    _, stage = one(template_json, "AWS::ApiGateway::Stage")
    props = stage["Properties"]
    [settings] = [s for s in props["MethodSettings"] if s["HttpMethod"] == "*" and s["ResourcePath"] == "/*"]
    assert (settings["ThrottlingRateLimit"], settings["ThrottlingBurstLimit"]) == (
        CONTEXT["throttleRateLimit"], CONTEXT["throttleBurstLimit"])
    assert props["TracingEnabled"] is True
    destination = render(props["AccessLogSetting"]["DestinationArn"])
    log_group_id = re.fullmatch(r"arn:<AWS::Partition>:logs:<AWS::Region>:<AWS::AccountId>:log-group:<(\w+)>",
                                destination).group(1)
    assert template_json["Resources"][log_group_id]["Properties"]["RetentionInDays"] == CONTEXT["logRetentionDays"]
    assert '"requestId"' in props["AccessLogSetting"]["Format"]


def test_the_stage_is_behind_a_waf_web_acl_with_the_configured_rate_limit(template_json):
    acl_id, acl = one(template_json, "AWS::WAFv2::WebACL")
    _, association = one(template_json, "AWS::WAFv2::WebACLAssociation")
    assert association["Properties"]["WebACLArn"] == {"Fn::GetAtt": [acl_id, "Arn"]}
    stage = render(association["Properties"]["ResourceArn"])
    assert re.fullmatch(r"arn:<AWS::Partition>:apigateway:<AWS::Region>::/restapis/<RestApi\w+>/stages/<\w+>", stage)
    [rate] = [r for r in acl["Properties"]["Rules"] if "RateBasedStatement" in r["Statement"]]
    assert rate["Statement"]["RateBasedStatement"]["Limit"] == CONTEXT["wafRequestsPerIpPer5Min"]


def test_the_waf_counts_bodies_over_8_kb_instead_of_blocking_cluster_configurations(template_json):
    _, acl = one(template_json, "AWS::WAFv2::WebACL")
    [common] = [r for r in acl["Properties"]["Rules"] if r["Name"] == "AWSManagedRulesCommonRuleSet"]
    overrides = common["Statement"]["ManagedRuleGroupStatement"]["RuleActionOverrides"]
    assert overrides == [{"Name": "SizeRestrictions_BODY", "ActionToUse": {"Count": {}}}]


# --- the functions and the ParallelCluster layer --------------------------------------------------

def test_there_is_one_function_per_operation_and_workflow_state(template_json):
    assert sorted(_functions(template_json)) == ALL_FUNCTIONS


def test_the_layer_is_the_official_object_of_the_configured_release(template_json, variant_json):
    for template, version in ((template_json, CONTEXT["parallelclusterVersion"]),
                              (variant_json, VARIANT["parallelclusterVersion"])):
        _, layer = one(template, "AWS::Lambda::LayerVersion")
        content = layer["Properties"]["Content"]
        assert render(content["S3Bucket"]) == "<AWS::Region>-aws-parallelcluster"
        assert content["S3Key"] == f"parallelcluster/{version}/layers/aws-parallelcluster/lambda-layer.zip"
        assert content["S3Key"] == layer_key(version)
        assert layer["Properties"]["CompatibleRuntimes"] == ["python3.12"]
        assert layer["Properties"]["CompatibleArchitectures"] == ["x86_64"]


@pytest.mark.parametrize("function", LAYER_FUNCTIONS)
def test_functions_that_call_pcluster_run_the_layers_runtime_with_the_layer_first(template_json, function):
    layer_id, _ = one(template_json, "AWS::Lambda::LayerVersion")
    props = _functions(template_json)[function][1]
    assert (props["Runtime"], props["Architectures"]) == ("python3.12", ["x86_64"])
    layers = props["Layers"]
    assert layers[0] == {"Ref": layer_id}
    # Powertools last, the x86_64 Python 3.12 build: its files win over the layer's older copy.
    powertools_parameter = template_json["Parameters"][layers[1]["Ref"]]["Default"]
    assert powertools_parameter.startswith("/aws/service/powertools/python/x86_64/python3.12/")


@pytest.mark.parametrize("function", sorted(WITHOUT_PCLUSTER))
def test_functions_that_never_import_pcluster_keep_the_suite_default_without_the_layer(template_json, function):
    layer_id, _ = one(template_json, "AWS::Lambda::LayerVersion")
    props = _functions(template_json)[function][1]
    assert props["Architectures"] == ["arm64"] and props["Runtime"] != "python3.12"
    assert {"Ref": layer_id} not in props["Layers"]


def test_api_functions_end_before_api_gateways_29_second_timeout(template_json):
    for function in API_FUNCTIONS:
        assert _functions(template_json)[function][1]["Timeout"] < 29, function


def test_every_function_gets_the_shared_settings_of_the_contract(template_json):
    block = CONTEXT
    for function, (_, props) in _functions(template_json).items():
        env = _environment(props)
        assert {"OPERATIONS_TABLE", "CLUSTERS_TABLE", "ADMIN_SCOPE", "OWNER_TAG_KEY", "DRYRUN_WAIT_SECONDS",
                "MAX_BODY_BYTES", "OPERATION_TIMEOUT_SECONDS"} <= set(env), function
        assert env["ADMIN_SCOPE"] == block["adminScope"] and env["DRYRUN_WAIT_SECONDS"] == str(
            block["dryRunWaitSeconds"])
        assert env["MAX_BODY_BYTES"] == str(MAX_BODY_BYTES) and env["OWNER_TAG_KEY"] == "parallelcluster-api:owner"
        assert ("STATE_MACHINE_ARN" in env) == (function in STARTERS), function


# --- the workflow ---------------------------------------------------------------------------------

def test_the_workflow_is_a_standard_traced_state_machine_logging_to_its_log_group(template_json):
    _, machine = one(template_json, "AWS::StepFunctions::StateMachine")
    props = machine["Properties"]
    assert props["StateMachineType"] == "STANDARD"
    assert props["StateMachineName"].endswith("ClusterOperation")
    assert props["TracingConfiguration"] == {"Enabled": True}
    logging = props["LoggingConfiguration"]
    assert logging["Level"] == "ALL" and logging["IncludeExecutionData"] is False
    log_group_id = logging["Destinations"][0]["CloudWatchLogsLogGroup"]["LogGroupArn"]["Fn::GetAtt"][0]
    assert template_json["Resources"][log_group_id]["Properties"]["RetentionInDays"] == CONTEXT["logRetentionDays"]


def test_the_workflow_submits_then_waits_and_polls_while_the_operation_is_in_progress(template_json):
    definition = _definition(template_json)
    states = definition["States"]
    submit = states[definition["StartAt"]]
    assert submit["Type"] == "Task" and submit["Resource"] == _function_arn(template_json, "submit_operation")
    assert submit["ResultPath"] == "$"  # each function answers the whole state
    submitted = states[submit["Next"]]
    assert submitted["Choices"] == [{"Variable": "$.status", "StringEquals": "IN_PROGRESS",
                                     "Next": "WaitBeforePolling"}]
    assert submitted["Default"] == "RecordOutcome"  # refused, dry run or done at once: recorded
    wait = states["WaitBeforePolling"]
    assert wait == {"Type": "Wait", "Seconds": CONTEXT["pollIntervalSeconds"], "Next": "PollCluster"}
    poll = states["PollCluster"]
    assert poll["Resource"] == _function_arn(template_json, "poll_cluster") and poll["ResultPath"] == "$"
    settled = states[poll["Next"]]
    assert {"Variable": "$.status", "StringEquals": "IN_PROGRESS", "Next": "WaitBeforePolling"} in settled["Choices"]
    assert settled["Default"] == "RecordOutcome"
    record = states["RecordOutcome"]
    assert record["Resource"] == _function_arn(template_json, "record_outcome")
    assert states[record["Next"]]["Type"] == "Succeed"


def test_an_operation_still_in_progress_after_the_longest_allowed_time_is_recorded_as_timed_out(template_json):
    states = _definition(template_json)["States"]
    [guard] = [c for c in states["Settled"]["Choices"] if "And" in c]
    conditions = guard["And"]
    assert {"Variable": "$.status", "StringEquals": "IN_PROGRESS"} in conditions
    [limit] = [c for c in conditions if "NumericGreaterThanEquals" in c]
    assert limit["Variable"] == "$.polls"
    assert limit["NumericGreaterThanEquals"] * CONTEXT["pollIntervalSeconds"] >= MAX_OPERATION.to_seconds()
    timed_out = states[guard["Next"]]
    assert timed_out["ResultPath"] == "$.error" and timed_out["Next"] == "RecordFailure"
    assert states["Settled"]["Choices"][0] is guard  # checked before "keep polling"


def test_the_functions_give_up_polling_at_the_same_limit(template_json):
    env = _environment(_functions(template_json)["poll_cluster"][1])
    assert env["OPERATION_TIMEOUT_SECONDS"] == str(int(MAX_OPERATION.to_seconds()))


def test_the_longest_operation_fits_the_execution_history_at_the_shortest_interval():
    assert max_polls(MIN_POLL_INTERVAL_SECONDS) * EVENTS_PER_POLL < 0.7 * MAX_HISTORY_EVENTS


def test_every_task_retries_lambda_service_errors_and_throttling(template_json):
    tasks = {name: s for name, s in _definition(template_json)["States"].items() if s["Type"] == "Task"}
    assert set(tasks) == {"SubmitOperation", "PollCluster", "RecordOutcome", "RecordFailure"}
    for name, task in tasks.items():
        retried = {error for retry in task["Retry"] for error in retry["ErrorEquals"]}
        assert {"Lambda.ServiceException", "Lambda.AWSLambdaException", "Lambda.SdkClientException",
                "Lambda.TooManyRequestsException"} <= retried, name
        assert all(retry["BackoffRate"] >= 2 for retry in task["Retry"] if retry.get("MaxAttempts") != 0), name


def test_only_polling_is_retried_on_its_own_failures_because_it_only_reads(template_json):
    states = _definition(template_json)["States"]
    for name, state in states.items():
        task_failures = [r for r in state.get("Retry", []) if "States.TaskFailed" in r["ErrorEquals"]]
        assert bool(task_failures) == (name == "PollCluster"), name


def test_a_poll_that_meets_a_state_the_workflow_never_writes_is_not_retried(template_json):
    retries = _definition(template_json)["States"]["PollCluster"]["Retry"]
    invalid = next(i for i, r in enumerate(retries) if r["ErrorEquals"] == ["InvalidState"])
    task_failed = next(i for i, r in enumerate(retries) if "States.TaskFailed" in r["ErrorEquals"])
    assert retries[invalid]["MaxAttempts"] == 0 and invalid < task_failed  # the first matching retrier wins


def test_a_throttled_submission_is_tried_again_later_with_backoff(template_json):
    [throttled] = [r for r in _definition(template_json)["States"]["SubmitOperation"]["Retry"]
                   if r["ErrorEquals"] == ["ParallelClusterThrottled"]]
    assert throttled["IntervalSeconds"] >= 30 and throttled["BackoffRate"] >= 2 and throttled["MaxAttempts"] >= 3


def test_every_failure_is_recorded_before_the_execution_fails(template_json):
    states = _definition(template_json)["States"]
    for name in ("SubmitOperation", "PollCluster", "RecordOutcome"):
        assert states[name]["Catch"] == [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error",
                                          "Next": "RecordFailure"}], name
    record_failure = states["RecordFailure"]
    assert record_failure["Resource"] == _function_arn(template_json, "record_outcome")
    assert record_failure["ResultPath"] is None  # the state, with its error, stays as it was
    assert states[record_failure["Next"]]["Type"] == "Fail"


def test_the_state_machine_may_invoke_exactly_its_three_functions(template_json):
    _, machine = one(template_json, "AWS::StepFunctions::StateMachine")
    role_id = machine["Properties"]["RoleArn"]["Fn::GetAtt"][0]
    invoked = {render(r) for s in _statements_allowing(template_json, role_id, "lambda:InvokeFunction")
               for r in as_list(s["Resource"])}
    arns = {_function_arn(template_json, f) for f in WORKFLOW_FUNCTIONS}
    assert invoked == arns | {f"{arn}:*" for arn in arns}


def test_only_the_functions_that_start_operations_may_start_executions(template_json):
    holders = {f for f in ALL_FUNCTIONS if "states:StartExecution" in _role_actions(template_json,
                                                                                    _role_of(template_json, f))}
    assert holders == set(STARTERS)


# --- tables ----------------------------------------------------------------------------------------

def test_operations_are_keyed_by_id_and_expire_through_ttl_and_clusters_by_name(template):
    template.has_resource_properties("AWS::DynamoDB::GlobalTable", {
        "KeySchema": [{"AttributeName": "operationId", "KeyType": "HASH"}],
        "TimeToLiveSpecification": {"AttributeName": "expiresAt", "Enabled": True}})
    template.has_resource_properties("AWS::DynamoDB::GlobalTable", {
        "KeySchema": [{"AttributeName": "clusterName", "KeyType": "HASH"}]})


def test_tables_are_encrypted_recoverable_and_retained_by_default(template_json):
    tables = resources(template_json, "AWS::DynamoDB::GlobalTable")
    assert len(tables) == 2
    for table in tables.values():
        props = table["Properties"]
        assert props["SSESpecification"]["SSEEnabled"] is True
        replica = props["Replicas"][0]
        assert replica["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True
        assert replica["DeletionProtectionEnabled"] is True
        assert table["DeletionPolicy"] == "Retain"


def test_get_operation_may_only_read_operations(template_json):
    role_id = _role_of(template_json, "get_operation")
    table_id, _ = only(template_json, "AWS::DynamoDB::GlobalTable",
                       KeySchema=[{"AttributeName": "operationId", "KeyType": "HASH"}])
    dynamodb = [(a, render(r)) for d in _role_documents(template_json, role_id) for s in d["Statement"]
                for a in as_list(s["Action"]) if a.startswith("dynamodb:") for r in as_list(s["Resource"])]
    assert dynamodb == [("dynamodb:GetItem", f"<{table_id}.Arn>")]


# --- IAM: the official user policy, explicit and tiered -------------------------------------------

def test_no_statement_of_the_stack_allows_a_wildcard_action(template_json, variant_json):
    for template in (template_json, variant_json):
        checked = 0
        for logical_id, document in _all_documents(template):
            for statement in document["Statement"]:
                if statement["Effect"] != "Allow":
                    continue
                checked += 1
                assert "NotAction" not in statement, logical_id
                assert not [a for a in as_list(statement["Action"]) if "*" in a], (logical_id, statement["Sid"]
                                                                                   if "Sid" in statement else "")
        assert checked > 40


def test_the_explicit_lists_are_what_the_official_wildcards_match_in_the_iam_reference():
    assert iam_actions.reference_actions() == {name: getattr(iam_actions, name) for name in iam_actions.WILDCARDS}
    assert len(iam_actions.EC2_DESCRIBE) > 150 and "DescribeInstances" in iam_actions.EC2_DESCRIBE


def _parallelcluster_statements(template_json: dict) -> list[dict]:
    return [s for r in resources(template_json, "AWS::IAM::ManagedPolicy").values()
            if r["Properties"]["Description"].startswith("ParallelCluster API")
            for s in r["Properties"]["PolicyDocument"]["Statement"]]


def test_every_action_granted_exists_in_the_iam_reference(template_json, variant_json):
    for template in (template_json, variant_json):
        for statement in _parallelcluster_statements(template):
            for action in as_list(statement["Action"]):
                service, name = action.split(":", 1)
                assert name.lower() in IAM_REFERENCE[service]["Actions"], action


def test_actions_on_named_resources_all_support_resource_level_permissions(template_json, variant_json):
    # Otherwise IAM would never match them and they would silently not be granted.
    for template in (template_json, variant_json):
        for statement in _parallelcluster_statements(template):
            if as_list(statement["Resource"]) == ["*"]:
                continue
            for action in as_list(statement["Action"]):
                service, name = action.split(":", 1)
                assert IAM_REFERENCE[service]["Actions"][name.lower()].get("Resources"), (action, statement["Sid"])


def test_every_managed_policy_fits_iams_size_limit_and_every_role_its_ten_policies(template_json, variant_json):
    for template in (template_json, variant_json):
        for logical_id, policy in resources(template, "AWS::IAM::ManagedPolicy").items():
            text = json.dumps(policy["Properties"]["PolicyDocument"], separators=(",", ":"))
            assert len(text) <= MANAGED_POLICY_LIMIT, logical_id
        for logical_id, role in resources(template, "AWS::IAM::Role").items():
            assert len(role["Properties"].get("ManagedPolicyArns", [])) <= 10, logical_id


def test_only_submit_operation_may_create_update_or_delete_cluster_stacks(template_json):
    for function in PCLUSTER_FUNCTIONS:
        actions = _role_actions(template_json, _role_of(template_json, function))
        changes = {"cloudformation:CreateStack", "cloudformation:UpdateStack", "cloudformation:DeleteStack",
                   "ec2:RunInstances", "iam:PassRole"} & actions
        assert bool(changes) == (function == "submit_operation"), (function, changes)


def test_cluster_stacks_can_be_changed_only_when_tagged_by_parallelcluster(template_json):
    role_id = _role_of(template_json, "submit_operation")
    for action in ("cloudformation:UpdateStack", "cloudformation:DeleteStack"):
        [statement] = _statements_allowing(template_json, role_id, action)
        assert statement["Condition"] == {"Null": {f"aws:ResourceTag/{CLUSTER_NAME_TAG}": "false"}}
    [create] = _statements_allowing(template_json, role_id, "cloudformation:CreateStack")
    assert create["Condition"] == {"ForAnyValue:StringEquals": {"aws:TagKeys": [CLUSTER_NAME_TAG]}}


def test_only_parallelclusters_own_instances_can_be_terminated_and_only_by_fleet_changers(template_json):
    for function in PCLUSTER_FUNCTIONS:
        statements = _statements_allowing(template_json, _role_of(template_json, function), "ec2:TerminateInstances")
        assert bool(statements) == (function in FLEET_CHANGERS), function
        for statement in statements:
            assert statement["Condition"]["Null"] == {f"aws:ResourceTag/{CLUSTER_NAME_TAG}": "false"}


@pytest.mark.parametrize("function", [f for f in PCLUSTER_FUNCTIONS if f not in FLEET_CHANGERS])
def test_functions_that_only_describe_hold_only_read_actions_of_parallelcluster(template_json, function):
    role_id = _role_of(template_json, function)
    managed = [template_json["Resources"][arn["Ref"]]["Properties"]["PolicyDocument"]
               for arn in template_json["Resources"][role_id]["Properties"]["ManagedPolicyArns"]]
    actions = {a for d in managed for s in d["Statement"] for a in as_list(s["Action"])}
    assert "ec2:DescribeInstances" in actions and "cloudformation:DescribeStacks" in actions
    assert not [a for a in actions if not is_read_only(a)]


def test_every_broad_resource_is_limited_to_the_stacks_region(template_json):
    global_services = ("iam:", "route53:")
    for statement in _parallelcluster_statements(template_json):
        if as_list(statement["Resource"]) != ["*"] or as_list(statement["Action"])[0].startswith(global_services):
            continue
        assert render(statement["Condition"]["StringEquals"]["aws:RequestedRegion"]) == "<AWS::Region>", statement


def test_iam_admin_actions_are_absent_unless_enabled(template_json, variant_json):
    admin = {"iam:CreateRole", "iam:PutRolePolicy", "iam:AttachRolePolicy", "iam:DeleteRole"}
    granted = {a for s in _parallelcluster_statements(template_json) for a in as_list(s["Action"])}
    assert not admin & granted
    role_id = _role_of(variant_json, "submit_operation")
    assert admin <= _role_actions(variant_json, role_id)


def test_with_a_boundary_created_roles_must_carry_it_and_every_role_of_the_stack_has_it(variant_json):
    role_id = _role_of(variant_json, "submit_operation")
    [create] = _statements_allowing(variant_json, role_id, "iam:CreateRole")
    assert create["Condition"] == {"StringEquals": {"iam:PermissionsBoundary": [BOUNDARY]}}
    assert [render(r) for r in as_list(create["Resource"])] == [
        "arn:<AWS::Partition>:iam::<AWS::AccountId>:role/parallelcluster/*"]
    for logical_id, role in resources(variant_json, "AWS::IAM::Role").items():
        assert role["Properties"].get("PermissionsBoundary") == BOUNDARY, logical_id


# --- identity --------------------------------------------------------------------------------------

def test_the_resource_server_offers_read_write_and_admin(template):
    template.has_resource_properties("AWS::Cognito::UserPoolResourceServer", {
        "Identifier": "parallelcluster",
        "Scopes": [Match.object_like({"ScopeName": "read"}), Match.object_like({"ScopeName": "write"}),
                   Match.object_like({"ScopeName": "admin"})]})


def test_only_administrators_create_users(template):
    template.has_resource_properties("AWS::Cognito::UserPool", {
        "AdminCreateUserConfig": {"AllowAdminCreateUserOnly": True}, "MfaConfiguration": "ON"})


def _clients(template_json: dict) -> dict[str, dict]:
    return {logical_id: r["Properties"]
            for logical_id, r in resources(template_json, "AWS::Cognito::UserPoolClient").items()}


def test_people_sign_in_with_the_code_flow_and_get_read_and_write_never_admin(template_json):
    [people] = [c for c in _clients(template_json).values() if c["AllowedOAuthFlows"] == ["code"]]
    assert people["GenerateSecret"] is False
    assert set(people["AllowedOAuthScopes"]) == {"openid", "email", "parallelcluster/read", "parallelcluster/write"}


def test_machines_use_client_credentials_with_a_secret_and_only_administrators_get_admin(template_json):
    machines = [c for c in _clients(template_json).values() if c["AllowedOAuthFlows"] == ["client_credentials"]]
    assert len(machines) == 2 and all(c["GenerateSecret"] is True for c in machines)
    scopes = sorted(sorted(render(s).split(">")[-1] for s in c["AllowedOAuthScopes"]) for c in machines)
    assert scopes == [["/admin", "/read", "/write"], ["/read", "/write"]]
    for client in machines:
        for scope in client["AllowedOAuthScopes"]:
            server_id = scope["Fn::Join"][1][0]["Ref"]
            assert template_json["Resources"][server_id]["Type"] == "AWS::Cognito::UserPoolResourceServer"


def test_the_people_client_is_created_after_the_scopes_it_names(template_json):
    server_id, _ = one(template_json, "AWS::Cognito::UserPoolResourceServer")
    [people_id] = [i for i, c in _clients(template_json).items() if c["AllowedOAuthFlows"] == ["code"]]
    assert server_id in as_list(template_json["Resources"][people_id].get("DependsOn", []))


def test_the_authorizer_trusts_the_user_pool_and_tokens_of_its_three_clients(template_json):
    env = _environment(_authorizer_function(template_json))
    pool_id, _ = one(template_json, "AWS::Cognito::UserPool")
    assert render(env["ISSUER"]) == f"<{pool_id}.ProviderURL>"
    # Cognito access tokens carry no aud: the app client they were issued to is in client_id.
    assert env["AUDIENCE_CLAIM"] == "client_id"
    assert sorted(render(env["AUDIENCE"]).split()) == sorted(f"<{client_id}>" for client_id in _clients(template_json))


def test_an_external_identity_provider_replaces_cognito(variant_json):
    assert not resources(variant_json, "AWS::Cognito::UserPool")
    env = _environment(_authorizer_function(variant_json))
    assert (env["ISSUER"], env["AUDIENCE"], env["JWKS_URL"]) == (VARIANT["issuer"], VARIANT["audience"],
                                                                 VARIANT["jwksUrl"])
    assert env["AUDIENCE_CLAIM"] == "aud"
    assert not {outputs.USER_POOL_ID, outputs.TOKEN_ENDPOINT, outputs.MACHINE_CLIENT_ID} & set(variant_json["Outputs"])


# --- network and outputs ---------------------------------------------------------------------------

def test_the_vpc_has_a_public_head_node_subnet_and_a_private_compute_subnet_behind_one_nat(template_json):
    subnets = resources(template_json, "AWS::EC2::Subnet")
    assert len(subnets) == 2 and len(resources(template_json, "AWS::EC2::NatGateway")) == 1
    head = template_json["Outputs"][outputs.HEAD_NODE_SUBNET_ID]["Value"]["Ref"]
    compute = template_json["Outputs"][outputs.COMPUTE_SUBNET_ID]["Value"]["Ref"]
    assert subnets[head]["Properties"]["MapPublicIpOnLaunch"] is True
    assert subnets[compute]["Properties"]["MapPublicIpOnLaunch"] is False
    routes = {render(r["Properties"]["RouteTableId"]): r["Properties"] for r in
              resources(template_json, "AWS::EC2::Route").values()}
    associations = {a["Properties"]["SubnetId"]["Ref"]: render(a["Properties"]["RouteTableId"])
                    for a in resources(template_json, "AWS::EC2::SubnetRouteTableAssociation").values()}
    assert "NatGatewayId" in routes[associations[compute]] and "GatewayId" in routes[associations[head]]


def test_s3_and_dynamodb_traffic_of_clusters_bypasses_the_nat_gateway(template_json):
    endpoints = [render(e["Properties"]["ServiceName"])
                 for e in resources(template_json, "AWS::EC2::VPCEndpoint").values()]
    assert sorted(e.rsplit(".", 1)[-1] for e in endpoints) == ["dynamodb", "s3"]


def test_configured_subnets_are_used_without_a_vpc(variant_json):
    assert not resources(variant_json, "AWS::EC2::VPC")
    assert variant_json["Outputs"][outputs.HEAD_NODE_SUBNET_ID]["Value"] == VARIANT["headNodeSubnetId"]
    assert variant_json["Outputs"][outputs.COMPUTE_SUBNET_ID]["Value"] == VARIANT["computeSubnetId"]


def test_the_outputs_tell_clients_where_to_go_and_how_to_start(template_json):
    names = set(template_json["Outputs"])
    assert {outputs.API_URL, outputs.HEAD_NODE_SUBNET_ID, outputs.COMPUTE_SUBNET_ID, outputs.USER_POOL_ID,
            outputs.PEOPLE_CLIENT_ID, outputs.MACHINE_CLIENT_ID, outputs.ADMIN_CLIENT_ID, outputs.TOKEN_ENDPOINT,
            outputs.STARTER_CONFIG_COMMAND, outputs.PARALLELCLUSTER_VERSION} <= names
    assert render(template_json["Outputs"][outputs.TOKEN_ENDPOINT]["Value"]).endswith(
        ".auth.<AWS::Region>.amazoncognito.com/oauth2/token")
    command = render(template_json["Outputs"][outputs.STARTER_CONFIG_COMMAND]["Value"])
    assert command == ("python -m ops.parallelcluster starter-config --stack ParallelClusterApi "
                       "--region <AWS::Region> > cluster.yaml")


# --- alarms ----------------------------------------------------------------------------------------

def test_api_5xx_function_errors_and_workflow_failures_alarm_to_the_alarm_topic(template_json):
    topic_id, _ = one(template_json, "AWS::SNS::Topic")
    alarms = [a["Properties"] for a in resources(template_json, "AWS::CloudWatch::Alarm").values()]
    assert all(a["AlarmActions"] == [{"Ref": topic_id}] for a in alarms)
    by_metric = [a.get("MetricName") for a in alarms]
    assert "5XXError" in by_metric
    errors = {a["Dimensions"][0]["Value"]["Ref"] for a in alarms if a.get("MetricName") == "Errors"}
    functions = {logical_id for logical_id, _ in _functions(template_json).values()}
    assert functions <= errors
    [workflow] = [a for a in alarms if "Metrics" in a]
    used = {m["MetricStat"]["Metric"]["MetricName"] for m in workflow["Metrics"] if "MetricStat" in m}
    assert used == {"ExecutionsFailed", "ExecutionsTimedOut", "ExecutionsAborted"}


# --- the starter configuration --------------------------------------------------------------------

STACK_OUTPUTS = {outputs.API_URL: "https://abc123.execute-api.eu-west-1.amazonaws.com/prod/",
                 outputs.HEAD_NODE_SUBNET_ID: "subnet-0123456789abcdef0",
                 outputs.COMPUTE_SUBNET_ID: "subnet-0fedcba987654321f",
                 outputs.PARALLELCLUSTER_VERSION: "3.16.1"}


def test_the_outputs_the_starter_command_reads_are_outputs_of_the_stack(template_json):
    assert set(STACK_OUTPUTS) <= set(template_json["Outputs"])


def test_the_starter_configuration_puts_head_nodes_public_and_compute_nodes_private():
    config = yaml.safe_load(starter_config(STACK_OUTPUTS, stack_name=STACK, region="eu-west-1"))
    assert config["Region"] == "eu-west-1"
    assert config["HeadNode"]["Networking"]["SubnetId"] == "subnet-0123456789abcdef0"
    [queue] = config["Scheduling"]["SlurmQueues"]
    assert config["Scheduling"]["Scheduler"] == "slurm"
    assert queue["Networking"]["SubnetIds"] == ["subnet-0fedcba987654321f"]
    assert queue["ComputeResources"][0]["MinCount"] == 0
    assert config["Image"]["Os"] == "alinux2023"


def test_a_stack_without_the_subnet_outputs_gets_a_message_naming_the_output():
    partial = {k: v for k, v in STACK_OUTPUTS.items() if k != outputs.COMPUTE_SUBNET_ID}
    with pytest.raises(StarterConfigError, match=outputs.COMPUTE_SUBNET_ID):
        starter_config(partial, stack_name=STACK, region="eu-west-1")


def test_an_output_that_is_not_a_subnet_id_is_refused_rather_than_written_into_yaml():
    with pytest.raises(StarterConfigError, match=outputs.HEAD_NODE_SUBNET_ID):
        starter_config({**STACK_OUTPUTS, outputs.HEAD_NODE_SUBNET_ID: "subnet-1\nHeadNode: {}"},
                       stack_name=STACK, region="eu-west-1")


def _deploy_fake_stack(outputs_: dict[str, str], region: str) -> None:
    template: dict[str, Any] = {
        "Resources": {"Topic": {"Type": "AWS::SNS::Topic"}},
        "Outputs": {key: {"Value": value} for key, value in outputs_.items()}}
    boto3.client("cloudformation", region_name=region).create_stack(StackName=STACK,
                                                                     TemplateBody=json.dumps(template))


@mock_aws
def test_the_command_writes_the_configuration_of_the_deployed_stack_to_stdout():
    _deploy_fake_stack(STACK_OUTPUTS, "eu-west-1")
    stdout = io.StringIO()
    with redirect_stdout(stdout):
        assert ops_main(["starter-config", "--stack", STACK, "--region", "eu-west-1"]) == 0
    assert yaml.safe_load(stdout.getvalue())["HeadNode"]["Networking"]["SubnetId"] == "subnet-0123456789abcdef0"


@mock_aws
def test_the_command_fails_with_a_message_when_the_stack_does_not_exist():
    stderr = io.StringIO()
    with redirect_stderr(stderr), redirect_stdout(io.StringIO()) as stdout:
        assert ops_main(["starter-config", "--stack", "NoSuchStack", "--region", "eu-west-1"]) == 1
    assert "NoSuchStack" in stderr.getvalue() and stdout.getvalue() == ""
