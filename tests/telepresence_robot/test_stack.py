"""What a TelepresenceRobot-<robot> template promises, asserted by intent; and its configuration."""
from __future__ import annotations

import json
import re
from typing import Any

import aws_cdk as cdk
import jsonschema
import pytest
from aws_cdk.assertions import Capture, Match

from lambda_src.telepresence_robot.drive import logic as drive
from stacks.common.config import ConfigError
from stacks.suite import telepresence_robot_stack
from stacks.telepresence_robot import stack as robot_stack
from stacks.telepresence_robot.config import TelepresenceRobotConfig, domain_slug
from stacks.telepresence_robot.device import MASTER_ACTIONS
from stacks.telepresence_robot.viewers import VIEWER_ACTIONS
from tests.common.sites import hosted_site
from tests.conftest import project_context, synth_suite
from tests.support.templates import as_list, grants, only, render, resources, role_granting, role_statements

ROBOT = "robot1"
ARN_PREFIX = "arn:<AWS::Partition>:iot:<AWS::Region>:<AWS::AccountId>:"


@pytest.fixture(scope="module")
def template(suite):
    return suite.template(telepresence_robot_stack(ROBOT))


@pytest.fixture(scope="module")
def template_json(suite):
    return suite.template_json(telepresence_robot_stack(ROBOT))


@pytest.fixture(scope="module")
def channel_id(template_json):
    channel_id, _ = only(template_json, "AWS::KinesisVideo::SignalingChannel", Name=ROBOT)
    return channel_id


# --- the robot in AWS IoT --------------------------------------------------------------------

def test_the_stack_is_named_after_the_robot(suite):
    assert suite.stacks[telepresence_robot_stack(ROBOT)].stack_name == "TelepresenceRobot-robot1"


def test_the_thing_is_named_after_the_robot(template):
    template.has_resource_properties("AWS::IoT::Thing", {"ThingName": ROBOT})


def test_the_device_policy_allows_connecting_as_itself_its_action_topic_and_its_telemetry_only(template_json):
    _, policy = only(template_json, "AWS::IoT::Policy", PolicyName=f"{ROBOT}-device")
    statements = policy["PolicyDocument"]["Statement"]
    assert grants(statements) == {
        ("iot:Connect", f"{ARN_PREFIX}client/{ROBOT}"),
        ("iot:Subscribe", f"{ARN_PREFIX}topicfilter/{ROBOT}/action"),
        ("iot:Receive", f"{ARN_PREFIX}topic/{ROBOT}/action"),
        ("iot:Publish", f"{ARN_PREFIX}topic/{ROBOT}/telemetry"),
    }
    assert all(s["Effect"] == "Allow" for s in statements)


def test_only_a_certificate_attached_to_the_thing_may_connect(template_json):
    _, policy = only(template_json, "AWS::IoT::Policy", PolicyName=f"{ROBOT}-device")
    [connect] = [s for s in policy["PolicyDocument"]["Statement"] if s["Action"] == "iot:Connect"]
    assert connect["Condition"] == {"Bool": {"iot:Connection.Thing.IsAttached": "true"}}


def test_the_signaling_channel_is_the_robots_own_single_master_channel(template):
    template.has_resource_properties("AWS::KinesisVideo::SignalingChannel", {"Name": ROBOT, "Type": "SINGLE_MASTER"})


# --- the camera: role alias and role ---------------------------------------------------------

def test_the_camera_role_is_trusted_by_the_iot_credentials_provider_only(template_json):
    role = template_json["Resources"][role_granting(template_json, "kinesisvideo:ConnectAsMaster")]["Properties"]
    assert role["AssumeRolePolicyDocument"]["Statement"] == [{
        "Action": "sts:AssumeRole", "Effect": "Allow", "Principal": {"Service": "credentials.iot.amazonaws.com"}}]


def test_the_camera_role_may_only_be_the_master_of_the_robots_channel(template_json, channel_id):
    role_id = role_granting(template_json, "kinesisvideo:ConnectAsMaster")
    assert grants(role_statements(template_json, role_id)) == {
        (action, f"<{channel_id}.Arn>") for action in MASTER_ACTIONS}
    assert not template_json["Resources"][role_id]["Properties"].get("ManagedPolicyArns")
    assert set(MASTER_ACTIONS) == {"kinesisvideo:ConnectAsMaster", "kinesisvideo:GetSignalingChannelEndpoint",
                                   "kinesisvideo:GetIceServerConfig", "kinesisvideo:DescribeSignalingChannel"}


def test_the_role_alias_is_named_after_the_robot_and_points_at_the_camera_role(template_json):
    camera_role = role_granting(template_json, "kinesisvideo:ConnectAsMaster")
    _, alias = only(template_json, "AWS::IoT::RoleAlias", RoleAlias=f"{ROBOT}-camera")
    assert alias["RoleArn"] == {"Fn::GetAtt": [camera_role, "Arn"]}
    assert alias["CredentialDurationSeconds"] <= template_json["Resources"][camera_role]["Properties"].get(
        "MaxSessionDuration", 3600)


def test_the_role_alias_policy_lets_the_certificate_assume_that_alias_only(template_json):
    alias_id, _ = only(template_json, "AWS::IoT::RoleAlias", RoleAlias=f"{ROBOT}-camera")
    _, policy = only(template_json, "AWS::IoT::Policy", PolicyName=f"{ROBOT}-assume-camera-role")
    assert grants(policy["PolicyDocument"]["Statement"]) == {
        ("iot:AssumeRoleWithCertificate", f"<{alias_id}.RoleAliasArn>")}


# --- viewers -----------------------------------------------------------------------------------

def test_the_identity_pool_has_no_unauthenticated_identities_and_no_role_for_them(template_json):
    pool_id, pool = only(template_json, "AWS::Cognito::IdentityPool")
    assert pool["AllowUnauthenticatedIdentities"] is False
    assert pool["AllowClassicFlow"] is False
    [provider] = pool["CognitoIdentityProviders"]
    assert provider["ServerSideTokenCheck"] is True
    _, attachment = only(template_json, "AWS::Cognito::IdentityPoolRoleAttachment")
    assert attachment["IdentityPoolId"] == {"Ref": pool_id}
    assert set(attachment["Roles"]) == {"authenticated"}


def test_signed_in_viewers_get_a_role_trusted_for_this_identity_pool_and_authenticated_identities(template_json):
    pool_id, _ = only(template_json, "AWS::Cognito::IdentityPool")
    _, attachment = only(template_json, "AWS::Cognito::IdentityPoolRoleAttachment")
    viewer_role = attachment["Roles"]["authenticated"]["Fn::GetAtt"][0]
    assert viewer_role == role_granting(template_json, "kinesisvideo:ConnectAsViewer")
    trust = template_json["Resources"][viewer_role]["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert trust == [{
        "Action": "sts:AssumeRoleWithWebIdentity", "Effect": "Allow",
        "Principal": {"Federated": "cognito-identity.amazonaws.com"},
        "Condition": {"StringEquals": {"cognito-identity.amazonaws.com:aud": {"Ref": pool_id}},
                      "ForAnyValue:StringLike": {"cognito-identity.amazonaws.com:amr": "authenticated"}},
    }]


# cdk-nag's rendering of the policy variable ${cognito-identity.amazonaws.com:sub}.
VIEWER_IDENTITY = "<cognito-identity.amazonaws.com:sub>"
VIEWER_IOT_GRANTS = {
    ("iot:Connect", f"{ARN_PREFIX}client/{ROBOT}-viewer-{VIEWER_IDENTITY}-*"),
    ("iot:Subscribe", f"{ARN_PREFIX}topicfilter/{ROBOT}/telemetry"),
    ("iot:Receive", f"{ARN_PREFIX}topic/{ROBOT}/telemetry"),
}


def _method(template_json: dict, http_method: str, path: str) -> dict:
    """The API method of ``http_method`` on the resource ``/<path>``."""
    found = [m["Properties"] for m in resources(template_json, "AWS::ApiGateway::Method").values()
             if m["Properties"]["HttpMethod"] == http_method and "Ref" in m["Properties"]["ResourceId"]
             and template_json["Resources"][m["Properties"]["ResourceId"]["Ref"]]["Properties"]["PathPart"] == path]
    assert len(found) == 1, f"expected one {http_method} /{path}, found {len(found)}"
    return found[0]


def test_viewers_may_only_be_viewers_of_the_robots_channel_and_receive_its_telemetry(template_json, channel_id):
    viewer_role = role_granting(template_json, "kinesisvideo:ConnectAsViewer")
    assert grants(role_statements(template_json, viewer_role)) == {
        (action, f"<{channel_id}.Arn>") for action in VIEWER_ACTIONS} | VIEWER_IOT_GRANTS
    assert not template_json["Resources"][viewer_role]["Properties"].get("ManagedPolicyArns")
    assert set(VIEWER_ACTIONS) == {"kinesisvideo:ConnectAsViewer", "kinesisvideo:GetSignalingChannelEndpoint",
                                   "kinesisvideo:GetIceServerConfig", "kinesisvideo:DescribeSignalingChannel"}


def test_users_sign_in_by_email_with_a_strict_password_and_are_created_by_an_administrator(template):
    template.has_resource_properties("AWS::Cognito::UserPool", {
        "UsernameAttributes": ["email"],
        "AdminCreateUserConfig": {"AllowAdminCreateUserOnly": True},
        "Policies": {"PasswordPolicy": Match.object_like({
            "MinimumLength": 12, "RequireLowercase": True, "RequireUppercase": True, "RequireNumbers": True,
            "RequireSymbols": True})},
        "MfaConfiguration": "ON",
    })


def test_the_app_client_is_a_public_code_flow_client_with_the_configured_urls(template):
    template.has_resource_properties("AWS::Cognito::UserPoolClient", {
        "GenerateSecret": False,
        "AllowedOAuthFlows": ["code"],
        "CallbackURLs": Match.array_with(["http://localhost:8080/callback"]),
        "LogoutURLs": Match.array_with(["http://localhost:8080/"]),
    })


# --- drive API -------------------------------------------------------------------------------

@pytest.mark.parametrize("path", ["publish", "session"])
def test_every_post_requires_a_cognito_id_token_of_the_robots_user_pool(template_json, path):
    method = _method(template_json, "POST", path)
    assert method["AuthorizationType"] == "COGNITO_USER_POOLS"
    authorizer = template_json["Resources"][method["AuthorizerId"]["Ref"]]["Properties"]
    user_pool_id, _ = only(template_json, "AWS::Cognito::UserPool")
    assert authorizer["Type"] == "COGNITO_USER_POOLS"
    assert authorizer["IdentitySource"] == "method.request.header.Authorization"
    assert authorizer["ProviderARNs"] == [{"Fn::GetAtt": [user_pool_id, "Arn"]}]
    assert method["Integration"]["Type"] == "AWS_PROXY"


def test_post_publish_validates_the_body_against_the_command_model(template_json):
    method = _method(template_json, "POST", "publish")
    validator = template_json["Resources"][method["RequestValidatorId"]["Ref"]]["Properties"]
    assert validator["ValidateRequestBody"] is True
    model = template_json["Resources"][method["RequestModels"]["application/json"]["Ref"]]["Properties"]
    assert model["ContentType"] == "application/json"
    assert method["Integration"]["Type"] == "AWS_PROXY"


def test_the_command_model_is_the_drive_functions_own_schema(template_json):
    _, model = only(template_json, "AWS::ApiGateway::Model", Name="DriveCommand")
    assert model["Schema"] == drive.COMMAND_SCHEMA


def test_the_command_model_never_refuses_a_stop_and_bounds_every_other_command(template_json):
    _, model = only(template_json, "AWS::ApiGateway::Model", Name="DriveCommand")
    validator = jsonschema.Draft4Validator(model["Schema"])
    assert validator.is_valid({"action": "stop", "duration_ms": 0, "speed": True, "target": "robot2"})
    assert validator.is_valid({"action": "forward", "speed": 100, "duration_ms": 10_000})
    for refused in ({"action": "forward", "target": "robot2"}, {"action": "left", "speed": 101},
                    {"action": "right", "duration_ms": 0}, {"action": "jump"}, {"speed": 5}):
        assert not validator.is_valid(refused), refused


def test_an_invalid_body_gets_400_with_a_json_message_and_cors_headers(template_json):
    _, response = only(template_json, "AWS::ApiGateway::GatewayResponse", ResponseType="BAD_REQUEST_BODY")
    assert response["StatusCode"] == "400"
    # The primary origin, which the robot's own web client can read: its own.
    assert render(response["ResponseParameters"]["gatewayresponse.header.Access-Control-Allow-Origin"]) == \
        f"'{hosted_site(template_json).url}'"
    body = json.loads(response["ResponseTemplates"]["application/json"])
    assert set(body) == {"message"} and "action" in body["message"]


def test_errors_api_gateway_answers_itself_carry_cors_headers(template_json):
    for response_type in ("DEFAULT_4XX", "DEFAULT_5XX"):
        _, response = only(template_json, "AWS::ApiGateway::GatewayResponse", ResponseType=response_type)
        assert "gatewayresponse.header.Access-Control-Allow-Origin" in response["ResponseParameters"]


@pytest.mark.parametrize("path", ["publish", "session"])
def test_the_preflight_answers_the_web_client_and_the_configured_origin_for_post(template_json, path):
    preflight = _method(template_json, "OPTIONS", path)
    assert preflight["AuthorizationType"] == "NONE" and preflight["Integration"]["Type"] == "MOCK"
    [response] = preflight["Integration"]["IntegrationResponses"]
    headers = response["ResponseParameters"]
    site_url = hosted_site(template_json).url
    assert render(headers["method.response.header.Access-Control-Allow-Origin"]) == f"'{site_url}'"
    assert headers["method.response.header.Access-Control-Allow-Methods"] == "'POST,OPTIONS'"
    assert headers["method.response.header.Access-Control-Allow-Headers"] == "'Authorization,Content-Type'"
    # The configured origin is echoed by the response template when a request comes from it.
    assert '"http://localhost:8080"' in render(response["ResponseTemplates"]["application/json"])


def test_the_stage_is_throttled_traced_and_access_logged(template_json):
    _, stage = only(template_json, "AWS::ApiGateway::Stage")
    assert stage["TracingEnabled"] is True
    assert "DestinationArn" in stage["AccessLogSetting"]
    assert '"user": "$context.authorizer.claims.sub"' in stage["AccessLogSetting"]["Format"]
    [settings] = [s for s in stage["MethodSettings"] if s["ResourcePath"] == "/*"]
    assert (settings["ThrottlingRateLimit"], settings["ThrottlingBurstLimit"]) == (10, 20)
    assert settings["DataTraceEnabled"] is False


def test_the_stage_is_behind_a_web_acl(template):
    template.has_resource_properties("AWS::WAFv2::WebACLAssociation", {"ResourceArn": Match.any_value()})


def test_the_drive_function_publishes_to_the_robots_topic_on_the_ats_data_endpoint(template_json):
    _, function = only(template_json, "AWS::Lambda::Function", Handler="drive.handler.handler")
    assert function["Runtime"] == "python3.14" and function["Architectures"] == ["arm64"]
    env = function["Environment"]["Variables"]
    assert env["ROBOT_NAME"] == ROBOT
    assert json.loads(render(env["ALLOWED_ORIGINS"])) == [hosted_site(template_json).url, "http://localhost:8080"]
    endpoint_resource, attribute = env["IOT_DATA_ENDPOINT"]["Fn::GetAtt"]
    assert attribute == "endpointAddress"
    assert '"endpointType":"iot:Data-ATS"' in json.dumps(
        template_json["Resources"][endpoint_resource]["Properties"]["Create"]).replace("\\", "").replace(" ", "")


def test_the_drive_function_may_publish_to_the_action_topic_and_nothing_else_in_iot(template_json):
    _, function = only(template_json, "AWS::Lambda::Function", Handler="drive.handler.handler")
    role_id = function["Role"]["Fn::GetAtt"][0]
    iot_grants = {g for g in grants(role_statements(template_json, role_id)) if g[0].startswith("iot")}
    assert iot_grants == {("iot:Publish", f"{ARN_PREFIX}topic/{ROBOT}/action")}


def test_no_policy_grants_a_wildcard_action_or_a_wildcard_iot_or_kinesis_video_resource(template_json):
    # CDK's provider that deploys the web client holds CDK's own S3 grants (s3:GetObject* ...):
    # tests/common/test_static_site.py bounds them to the site's and the assets' buckets.
    deployment_role = {"Ref": hosted_site(template_json).deployment_role_id}
    statements = [s for r in resources(template_json, "AWS::IAM::Policy").values()
                  if deployment_role not in r["Properties"]["Roles"]
                  for s in r["Properties"]["PolicyDocument"]["Statement"]]
    statements += [s for r in resources(template_json, "AWS::IoT::Policy").values()
                   for s in r["Properties"]["PolicyDocument"]["Statement"]]
    scoped = {"iot:Connect", "iot:Subscribe", "iot:Receive", "iot:Publish", "iot:AssumeRoleWithCertificate"}
    # The one wildcard: each viewer tab's own client-id suffix, after the viewer's identity id.
    viewer_client_ids = ("iot:Connect", f"{ARN_PREFIX}client/{ROBOT}-viewer-{VIEWER_IDENTITY}-*")
    for action, resource in grants(statements) - {viewer_client_ids}:
        assert "*" not in action, action
        if ":iot:" in resource or action in scoped or action.startswith("kinesisvideo:"):
            assert "*" not in resource, (action, resource)


# --- telemetry -------------------------------------------------------------------------------

def _session_function(template_json: dict) -> tuple[str, dict]:
    return only(template_json, "AWS::Lambda::Function", Handler="browser_iot.open_session.handler.handler")


def test_the_viewers_iot_policy_allows_exactly_what_their_role_allows(template_json):
    _, policy = _viewer_iot_policy(template_json)
    assert grants(policy["PolicyDocument"]["Statement"]) == VIEWER_IOT_GRANTS


def _viewer_iot_policy(template_json: dict) -> tuple[str, dict]:
    [found] = [(logical_id, r["Properties"]) for logical_id, r in resources(template_json, "AWS::IoT::Policy").items()
               if "PolicyName" not in r["Properties"]]  # the device's policies are named after the robot
    return found


def test_post_session_attaches_the_viewers_policy_to_identities_of_the_viewers_pool(template_json):
    session_id, function = _session_function(template_json)
    env = function["Environment"]["Variables"]
    policy_id, _ = _viewer_iot_policy(template_json)
    pool_id, _ = only(template_json, "AWS::Cognito::IdentityPool")
    user_pool_id, _ = only(template_json, "AWS::Cognito::UserPool")
    assert env["IOT_POLICY_NAME"] == {"Ref": policy_id}
    assert env["IDENTITY_POOL_ID"] == {"Ref": pool_id}
    assert env["LOGIN_PROVIDER"] == {"Fn::GetAtt": [user_pool_id, "ProviderName"]}
    assert env["CLIENT_ID_PREFIX"] == f"{ROBOT}-viewer"
    assert json.loads(env["SESSION_TOPICS"]) == {"telemetry": f"{ROBOT}/telemetry"}
    site_url = hosted_site(template_json).url
    assert json.loads(render(env["ALLOWED_ORIGINS"])) == [site_url, "http://localhost:8080"]
    integration = _method(template_json, "POST", "session")["Integration"]
    assert session_id in json.dumps(integration["Uri"])


def test_the_session_function_may_only_attach_policies(template_json):
    session_id, function = _session_function(template_json)
    role = function["Role"]["Fn::GetAtt"][0]
    extra = {g for g in grants(role_statements(template_json, role)) if not g[0].startswith(("logs:", "xray:"))}
    assert extra == {("iot:AttachPolicy", "*")}


def test_the_viewers_policy_is_detached_from_every_identity_before_it_is_deleted(template_json):
    policy_id, _ = _viewer_iot_policy(template_json)
    targets_id, targets = only(template_json, "Custom::IotPolicyTargets")
    assert targets["PolicyName"] == {"Ref": policy_id}
    assert policy_id in as_list(template_json["Resources"][targets_id].get("DependsOn", []))
    session_id, _ = _session_function(template_json)
    assert targets_id in as_list(template_json["Resources"][session_id].get("DependsOn", []))


def test_a_failing_session_function_raises_an_alarm(template_json):
    session_id, _ = _session_function(template_json)
    alarms = [a["Properties"] for a in resources(template_json, "AWS::CloudWatch::Alarm").values()
              if a["Properties"].get("MetricName") == "Errors"
              and {"Name": "FunctionName", "Value": {"Ref": session_id}} in a["Properties"].get("Dimensions", [])]
    assert len(alarms) == 1

def test_telemetry_is_counted_and_logged_by_a_topic_rule_with_an_error_action(template_json):
    _, rule = only(template_json, "AWS::IoT::TopicRule", RuleName=f"{ROBOT}_telemetry")
    payload = rule["TopicRulePayload"]
    assert payload["Sql"] == f"SELECT * FROM '{ROBOT}/telemetry'"
    assert payload["RuleDisabled"] is False
    metric = next(a["CloudwatchMetric"] for a in payload["Actions"] if "CloudwatchMetric" in a)
    assert (metric["MetricNamespace"], metric["MetricName"], metric["MetricValue"]) == (
        f"TelepresenceRobot/{ROBOT}", "TelemetryReports", "1")
    reports = next(a["CloudwatchLogs"] for a in payload["Actions"] if "CloudwatchLogs" in a)
    errors = payload["ErrorAction"]["CloudwatchLogs"]
    for action in (reports, errors):
        log_group = template_json["Resources"][action["LogGroupName"]["Ref"]]["Properties"]
        assert "KmsKeyId" in log_group and log_group["RetentionInDays"] == 90
    assert reports["LogGroupName"] != errors["LogGroupName"]


def test_the_rule_role_serves_only_this_rule_and_writes_only_its_log_groups(template_json):
    _, rule = only(template_json, "AWS::IoT::TopicRule", RuleName=f"{ROBOT}_telemetry")
    role_id = rule["TopicRulePayload"]["ErrorAction"]["CloudwatchLogs"]["RoleArn"]["Fn::GetAtt"][0]
    [trust] = template_json["Resources"][role_id]["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"Service": "iot.amazonaws.com"}
    assert render(trust["Condition"]["ArnEquals"]["aws:SourceArn"]) == f"{ARN_PREFIX}rule/{ROBOT}_telemetry"
    log_groups = {action["CloudwatchLogs"]["LogGroupName"]["Ref"]
                  for action in rule["TopicRulePayload"]["Actions"] + [rule["TopicRulePayload"]["ErrorAction"]]
                  if "CloudwatchLogs" in action}
    statements = role_statements(template_json, role_id)
    assert {render(r) for s in statements if "logs:PutLogEvents" in as_list(s["Action"])
            for r in as_list(s["Resource"])} == {f"<{group}.Arn>" for group in log_groups}
    [put_metric] = [s for s in statements if "cloudwatch:PutMetricData" in as_list(s["Action"])]
    assert put_metric["Condition"] == {"StringEquals": {"cloudwatch:namespace": f"TelepresenceRobot/{ROBOT}"}}


def test_an_alarm_fires_when_the_robot_reports_nothing_for_the_configured_minutes(template):
    topic = Capture()
    template.has_resource_properties("AWS::CloudWatch::Alarm", {
        "Namespace": f"TelepresenceRobot/{ROBOT}", "MetricName": "TelemetryReports", "Statistic": "Sum",
        "Period": 60, "EvaluationPeriods": 5, "DatapointsToAlarm": 5,
        "ComparisonOperator": "LessThanThreshold", "Threshold": 1, "TreatMissingData": "breaching",
        "AlarmActions": [topic], "OKActions": Match.any_value(),
    })
    template.has_resource("AWS::SNS::Topic", {"Properties": Match.object_like({
        "KmsMasterKeyId": Match.any_value()})})
    assert set(topic.as_object()) == {"Ref"}


# --- outputs ---------------------------------------------------------------------------------

def test_every_output_the_provisioning_command_and_the_web_app_read_is_present(template_json):
    outputs = template_json["Outputs"]
    assert set(robot_stack.DEVICE_OUTPUTS) | {
        "ApiUrl", "UserPoolId", "UserPoolClientId", "IdentityPoolId", "AlarmTopicArn"} <= set(outputs)
    assert set(robot_stack.DEVICE_OUTPUTS) == {
        "ThingName", "IotPolicyName", "RoleAliasPolicyName", "RoleAlias", "IotDataEndpoint",
        "IotCredentialsEndpoint", "SignalingChannelArn"}


def test_the_provisioning_command_reads_exactly_the_device_outputs():
    from device.robot.provision import REQUIRED_OUTPUTS

    assert set(REQUIRED_OUTPUTS) == set(robot_stack.DEVICE_OUTPUTS)


def test_outputs_name_the_robots_own_resources(template_json, channel_id):
    outputs = {key: output["Value"] for key, output in template_json["Outputs"].items()}
    thing_id, _ = only(template_json, "AWS::IoT::Thing", ThingName=ROBOT)
    device_policy_id, _ = only(template_json, "AWS::IoT::Policy", PolicyName=f"{ROBOT}-device")
    alias_policy_id, _ = only(template_json, "AWS::IoT::Policy", PolicyName=f"{ROBOT}-assume-camera-role")
    alias_id, _ = only(template_json, "AWS::IoT::RoleAlias", RoleAlias=f"{ROBOT}-camera")
    pool_id, _ = only(template_json, "AWS::Cognito::IdentityPool")
    assert outputs["ThingName"] == {"Ref": thing_id}
    assert outputs["IotPolicyName"] == {"Ref": device_policy_id}
    assert outputs["RoleAliasPolicyName"] == {"Ref": alias_policy_id}
    assert outputs["RoleAlias"] == {"Ref": alias_id}
    assert outputs["SignalingChannelArn"] == {"Fn::GetAtt": [channel_id, "Arn"]}
    assert outputs["IdentityPoolId"] == {"Ref": pool_id}
    assert render(outputs["ApiUrl"]).endswith("/publish")
    assert outputs["TelemetryIntervalSeconds"] == "30"
    for key, endpoint_type in (("IotDataEndpoint", "iot:Data-ATS"),
                               ("IotCredentialsEndpoint", "iot:CredentialProvider")):
        resource_id, attribute = outputs[key]["Fn::GetAtt"]
        assert attribute == "endpointAddress"
        create = json.dumps(template_json["Resources"][resource_id]["Properties"]["Create"])
        assert endpoint_type in create


# --- configuration ---------------------------------------------------------------------------

def config_from(block: dict[str, Any]) -> TelepresenceRobotConfig:
    return TelepresenceRobotConfig.from_context(cdk.App(context={"telepresenceRobot": block}).node)


def test_defaults_build_one_robot_named_robot1():
    config = TelepresenceRobotConfig.from_context(cdk.App().node)
    assert config.robots == ("robot1",)
    assert (config.telemetry_interval_seconds, config.silence_alarm_minutes) == (30, 5)
    assert config.self_sign_up is False


def test_the_cdk_json_block_is_valid_and_names_robot1():
    config = config_from(project_context()["telepresenceRobot"])
    assert config.robots == ("robot1",)


@pytest.mark.parametrize("block, key", [
    ({"robots": []}, "robots"),
    ({"robots": "robot1"}, "robots"),
    ({"robots": ["robot_1"]}, "robots"),
    ({"robots": ["-robot"]}, "robots"),
    ({"robots": ["r" * 64]}, "robots"),
    ({"robots": ["robot1", "robot1"]}, "robots"),
    ({"robots": ["Robot1", "robot1"]}, "robots"),
    ({"robots": [1]}, "robots"),
    ({"allowedOrigins": ["localhost:8080"]}, "allowedOrigins"),
    ({"callbackUrls": ["http://example.com/callback"]}, "callbackUrls"),
    ({"logoutUrls": []}, "logoutUrls"),
    ({"cognitoDomainPrefix": "My_Robots"}, "cognitoDomainPrefix"),
    ({"cognitoDomainPrefix": "r" * 60}, "cognitoDomainPrefix"),
    ({"selfSignUp": "yes"}, "selfSignUp"),
    ({"telemetryIntervalSeconds": 0}, "telemetryIntervalSeconds"),
    ({"telemetryIntervalSeconds": "30"}, "telemetryIntervalSeconds"),
    ({"silenceAlarmMinutes": 0}, "silenceAlarmMinutes"),
    ({"silenceAlarmMinutes": 1441}, "silenceAlarmMinutes"),
    ({"telemetryIntervalSeconds": 300, "silenceAlarmMinutes": 5}, "silenceAlarmMinutes"),
    ({"throttleRateLimit": 0}, "throttleRateLimit"),
    ({"throttleBurstLimit": True}, "throttleBurstLimit"),
    ({"wafRequestsPerIpPer5Min": 5}, "wafRequestsPerIpPer5Min"),
    ({"dataRemovalPolicy": "keep"}, "dataRemovalPolicy"),
    ({"logRetentionDays": 8}, "logRetentionDays"),
    ({"alarmEmail": "not-an-address"}, "alarmEmail"),
    ({"robot": ["robot1"]}, "robot"),
])
def test_a_bad_value_fails_naming_the_key(block, key):
    with pytest.raises(ConfigError, match=rf"^telepresenceRobot\.{key} "):
        config_from(block)


def test_the_block_must_be_an_object():
    with pytest.raises(ConfigError, match=r"^telepresenceRobot must be an object"):
        config_from(["robot1"])  # type: ignore[arg-type]


def test_each_robot_gets_its_own_hosted_domain_from_a_configured_prefix():
    config = config_from({"robots": ["robot1", "Kitchen-Bot"], "cognitoDomainPrefix": "acme-robots"})
    assert config.user_pool_settings("robot1").domain_prefix == "acme-robots-robot1"
    assert config.user_pool_settings("Kitchen-Bot").domain_prefix == "acme-robots-kitchen-bot"


@pytest.mark.parametrize("robot", ["r" * 63, "aws-bot", "Cognito1", "my-amazon-robot"])
def test_long_or_reserved_robot_names_still_give_a_valid_default_domain(robot):
    slug = domain_slug(robot)
    assert len(f"robot-{slug}-123456789012-ap-southeast-2") <= 63
    assert not any(word in slug for word in ("aws", "amazon", "cognito"))
    assert slug == slug.lower() and slug == domain_slug(robot)


# --- several robots ----------------------------------------------------------------------------

@pytest.fixture(scope="module")
def two_robots():
    block = {**project_context()["telepresenceRobot"], "robots": ["robot1", "kitchen-bot"]}
    return synth_suite(context={"telepresenceRobot": block})


def _physical_names(template_json: dict) -> set[tuple[str, str]]:
    names = set()
    for resource_type, key in (("AWS::IoT::Thing", "ThingName"), ("AWS::IoT::Policy", "PolicyName"),
                               ("AWS::IoT::RoleAlias", "RoleAlias"), ("AWS::KinesisVideo::SignalingChannel", "Name"),
                               ("AWS::IoT::TopicRule", "RuleName"), ("AWS::Logs::LogGroup", "LogGroupName"),
                               ("AWS::Cognito::UserPoolDomain", "Domain")):
        for resource in resources(template_json, resource_type).values():
            name = render(resource["Properties"].get(key, "<unnamed>"))
            # Names made from another resource's (generated) name are unique already.
            if not re.search(r"<(?!AWS::)", name):
                names.add((resource_type, name))
    return names


def test_two_robots_get_two_stacks_with_distinct_names(two_robots):
    names = {telepresence_robot_stack("robot1"), telepresence_robot_stack("kitchen-bot")}
    assert names <= set(two_robots.stacks)
    assert {two_robots.stacks[name].stack_name for name in names} == {
        "TelepresenceRobot-robot1", "TelepresenceRobot-kitchen-bot"}


def test_two_robots_share_no_named_resource(two_robots):
    first = _physical_names(two_robots.template_json(telepresence_robot_stack("robot1")))
    second = _physical_names(two_robots.template_json(telepresence_robot_stack("kitchen-bot")))
    assert len(first) >= 9 and len(second) == len(first)
    assert not first & second


def test_the_second_robots_policies_name_only_the_second_robot(two_robots):
    template_json = two_robots.template_json(telepresence_robot_stack("kitchen-bot"))
    _, policy = only(template_json, "AWS::IoT::Policy", PolicyName="kitchen-bot-device")
    assert grants(policy["PolicyDocument"]["Statement"]) == {
        ("iot:Connect", f"{ARN_PREFIX}client/kitchen-bot"),
        ("iot:Subscribe", f"{ARN_PREFIX}topicfilter/kitchen-bot/action"),
        ("iot:Receive", f"{ARN_PREFIX}topic/kitchen-bot/action"),
        ("iot:Publish", f"{ARN_PREFIX}topic/kitchen-bot/telemetry"),
    }
    _, function = only(template_json, "AWS::Lambda::Function", Handler="drive.handler.handler")
    role_id = function["Role"]["Fn::GetAtt"][0]
    assert {g for g in grants(role_statements(template_json, role_id)) if g[0].startswith("iot")} == {
        ("iot:Publish", f"{ARN_PREFIX}topic/kitchen-bot/action")}
