"""The shared constructs the systems compose, each built alone in a small app with the gates on."""
from __future__ import annotations

import json

import aws_cdk as cdk
import pytest
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_iam as iam
from aws_cdk.assertions import Match, Template

from stacks.common.config import ConfigError, ContextBlock
from stacks.common.iot import CREDENTIAL_PROVIDER, DATA_ATS, IotEndpoint
from stacks.common.json_schema import api_gateway_schema
from stacks.common.nag import acknowledge_wildcard_resources, apply_quality_gates
from stacks.common.rest_api import observed_rest_api
from stacks.common.users import UserPoolSettings
from tests.conftest import project_context

PINNED = cdk.Environment(account="123456789012", region="eu-west-1")


def _synth(build, env: cdk.Environment | None = None, *, gates: bool = True) -> Template:
    """Build into a fresh stack, synthesize (with cdk-nag, which raises on any finding, unless
    ``gates`` is off), return the template."""
    app = cdk.App()
    stack = cdk.Stack(app, "Shared", env=env)
    build(stack)
    if gates:
        apply_quality_gates(app)
    assembly = app.synth()
    return Template.from_json(assembly.get_stack_by_name("Shared").template)


# --- IotEndpoint ------------------------------------------------------------------------

def test_each_endpoint_type_is_described_at_deploy_time_by_one_shared_provider():
    template = _synth(lambda stack: [IotEndpoint(stack, "Data", endpoint_type=DATA_ATS),
                                     IotEndpoint(stack, "Credentials", endpoint_type=CREDENTIAL_PROVIDER)])
    # The SDK call is JSON inside the template (joined with tokens when it references any).
    calls = [json.dumps(r["Properties"]["Create"]) for r in template.find_resources("Custom::AWS").values()]
    assert sorted(endpoint_type for call in calls for endpoint_type in ("iot:Data-ATS", "iot:CredentialProvider")
                  if endpoint_type in call and "describeEndpoint" in call) == [
        "iot:CredentialProvider", "iot:Data-ATS"]
    template.resource_count_is("AWS::Lambda::Function", 1)
    template.has_resource_properties("AWS::IAM::Policy", {"PolicyDocument": {"Statement": [
        Match.object_like({"Action": "iot:DescribeEndpoint", "Resource": "*"})]}})


def test_every_describe_call_waits_for_the_provider_functions_log_group():
    # The project's feature flags: with them CDK gives the provider function its log group.
    stack = cdk.Stack(cdk.App(context=project_context()), "Shared")
    IotEndpoint(stack, "Data", endpoint_type=DATA_ATS)
    IotEndpoint(stack, "Credentials", endpoint_type=CREDENTIAL_PROVIDER)
    template = Template.from_stack(stack)
    (function_id,) = template.find_resources("AWS::Lambda::Function")
    log_groups = {log_id for log_id, group in template.find_resources("AWS::Logs::LogGroup").items()
                  if function_id in json.dumps(group["Properties"]["LogGroupName"])}
    assert len(log_groups) == 1, "the provider's /aws/lambda/<function> group is in the template"
    calls = template.find_resources("Custom::AWS")
    assert len(calls) == 2
    for call in calls.values():
        assert call["Properties"]["ServiceToken"] == {"Fn::GetAtt": [function_id, "Arn"]}
        assert log_groups <= set(call["DependsOn"])


def test_an_unknown_endpoint_type_is_refused():
    with pytest.raises(ValueError, match="endpoint_type must be one of"):
        IotEndpoint(cdk.Stack(cdk.App(), "S"), "Legacy", endpoint_type="iot:Data")


# --- acknowledge_wildcard_resources -----------------------------------------------------

def _policy_with(stack: cdk.Stack, resource_name: str) -> None:
    arn = stack.format_arn(service="iot", resource="topic", resource_name=resource_name)
    policy = iam.Policy(stack, "Publish", statements=[iam.PolicyStatement(actions=["iot:Publish"], resources=[arn])])
    role = iam.Role(stack, "Role", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))
    policy.attach_to_role(role)
    acknowledge_wildcard_resources(policy, [arn], "Topics are computed per record inside one branch of the namespace.")


@pytest.mark.parametrize("env", [None, PINNED], ids=["agnostic", "pinned"])
@pytest.mark.parametrize("name", ["app/geo/*", "app/users/${cognito-identity.amazonaws.com:sub}/*"])
def test_wildcard_resources_are_acknowledged_as_nag_names_them(env, name):
    _synth(lambda stack: _policy_with(stack, name), env=env)  # raises on an unacknowledged IAM5


def test_a_resource_without_a_wildcard_needs_no_acknowledgement():
    _synth(lambda stack: _policy_with(stack, "app/system"))


# --- observed_rest_api --------------------------------------------------------------------

def _api(stack: cdk.Stack) -> None:
    rest = observed_rest_api(stack, api_name="api", description="test", stage_name="v1", rate_limit=7,
                             burst_limit=9, log_retention_days=30, waf_requests_per_ip_per_5_min=500)
    rest.api.root.add_method("GET", apigw.MockIntegration())  # an API needs one method to synthesize


def test_a_rest_api_is_traced_logged_throttled_and_behind_a_waf():
    # Without the gates: the placeholder method has no authorizer or validator, the API's setup is the subject.
    template = _synth(_api, gates=False)
    template.has_resource_properties("AWS::ApiGateway::Stage", {
        "StageName": "v1", "TracingEnabled": True,
        "AccessLogSetting": {"DestinationArn": Match.any_value(), "Format": Match.string_like_regexp("requestId")},
        "MethodSettings": [Match.object_like({"LoggingLevel": "ERROR", "DataTraceEnabled": False,
                                              "MetricsEnabled": True, "ThrottlingRateLimit": 7,
                                              "ThrottlingBurstLimit": 9})]})
    template.has_resource_properties("AWS::ApiGateway::RestApi", {
        "Name": "Shared-api", "EndpointConfiguration": {"Types": ["REGIONAL"]}})
    template.resource_count_is("AWS::WAFv2::WebACLAssociation", 1)
    template.has_resource_properties("AWS::Logs::LogGroup", {"RetentionInDays": 30})


# --- UserPoolSettings ---------------------------------------------------------------------

@pytest.mark.parametrize("values, key", [
    ({"callbackUrls": ["http://example.com/callback"]}, "app.callbackUrls"),
    ({"logoutUrls": ["ftp://example.com/"]}, "app.logoutUrls"),
    ({"cognitoDomainPrefix": "my-aws-app"}, "app.cognitoDomainPrefix"),
    ({"cognitoDomainPrefix": "Upper"}, "app.cognitoDomainPrefix"),
    ({"requireMfa": "yes"}, "app.requireMfa"),
    ({"cognitoFeaturePlan": "lite"}, "app.cognitoFeaturePlan"),
])
def test_bad_user_pool_settings_name_their_key(values, key):
    with pytest.raises(ConfigError, match=key.replace(".", r"\.")):
        UserPoolSettings.read(ContextBlock("app", values))


def test_user_pool_defaults_point_at_the_local_web_app():
    settings = UserPoolSettings.read(ContextBlock("app", {}))
    assert settings.callback_urls == ("http://localhost:8080/callback",)
    assert settings.require_mfa and settings.plus_plan and settings.context_key == "app"


# --- JSON Schema -> API Gateway model ----------------------------------------------------

ROUND_TRIP_SCHEMA = {
    "$schema": "http://json-schema.org/draft-04/schema#",
    "title": "Sample", "type": "object", "additionalProperties": False, "required": ["kind"],
    "properties": {
        "kind": {"type": "string", "enum": ["a", "b"], "maxLength": 8, "pattern": "^[ab]$"},
        "count": {"type": ["integer", "null"], "minimum": 0, "maximum": 9},
        "tags": {"type": "array", "items": {"type": "string", "minLength": 1}, "maxItems": 3, "uniqueItems": True},
    },
    "anyOf": [{"properties": {"kind": {"enum": ["a"]}}}, {"required": ["count"]}],
}


def test_a_json_schema_becomes_an_api_gateway_model_that_synthesizes_back_to_itself():
    def build(stack):
        api = apigw.RestApi(stack, "Api")
        api.root.add_method("ANY")
        api.add_model("Sample", content_type="application/json", schema=api_gateway_schema(ROUND_TRIP_SCHEMA))

    template = _synth(build, gates=False)
    (model,) = template.find_resources("AWS::ApiGateway::Model").values()
    assert model["Properties"]["Schema"] == ROUND_TRIP_SCHEMA
