"""What the UrlShortener template promises, asserted by intent."""
from __future__ import annotations

import json

import pytest
from aws_cdk.assertions import Capture, Match

from stacks.suite import URL_SHORTENER, URL_SHORTENER_EDGE
from tests.common.sites import hosted_site
from tests.conftest import synth_suite
from tests.support.templates import render, resources, role_statements


def _of_type(template_json: dict, cfn_type: str) -> list[dict]:
    return list(resources(template_json, cfn_type).values())


def _method(template_json: dict, http_method: str, action_or_type: str) -> dict:
    for resource in _of_type(template_json, "AWS::ApiGateway::Method"):
        props = resource["Properties"]
        integration = json.dumps(props.get("Integration", {}))
        if props["HttpMethod"] == http_method and action_or_type in integration:
            return props
    raise AssertionError(f"no {http_method} method with {action_or_type}")


# -- no Lambda ---------------------------------------------------------------------------

def _deploy_time_functions(template_json: dict) -> set[str]:
    """Functions that only serve custom resources (CDK's providers, run during deployments)."""
    tokens = {json.dumps(r["Properties"]["ServiceToken"]) for r in template_json["Resources"].values()
              if r["Type"].startswith("Custom::") or r["Type"] == "AWS::CloudFormation::CustomResource"}
    return {logical_id for logical_id in resources(template_json, "AWS::Lambda::Function")
            if json.dumps({"Fn::GetAtt": [logical_id, "Arn"]}) in tokens}


def test_no_lambda_function_serves_any_request(shortener_template_json):
    # The dashboard's deployment (its files and config.json) is CDK's only function here.
    assert set(resources(shortener_template_json, "AWS::Lambda::Function")) == \
        _deploy_time_functions(shortener_template_json)
    integrations = {r["Properties"]["Integration"]["Type"]
                    for r in _of_type(shortener_template_json, "AWS::ApiGateway::Method")}
    assert integrations == {"AWS", "MOCK"}


def test_every_data_route_is_a_direct_dynamodb_integration(shortener_template_json):
    for http_method, action in (("GET", "GetItem"), ("GET", "Query"), ("POST", "UpdateItem"),
                                ("PUT", "UpdateItem"), ("DELETE", "DeleteItem")):
        props = _method(shortener_template_json, http_method, f"dynamodb:action/{action}")
        assert props["Integration"]["Type"] == "AWS"
        assert props["Integration"]["PassthroughBehavior"] == "NEVER"


# -- table -------------------------------------------------------------------------------

def test_links_table_is_on_demand_encrypted_recoverable_and_retained(shortener_template):
    shortener_template.has_resource("AWS::DynamoDB::GlobalTable", {
        "DeletionPolicy": "Retain",
        "Properties": Match.object_like({
            "BillingMode": "PAY_PER_REQUEST",
            "SSESpecification": {"SSEEnabled": True},
            "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
            "Replicas": [Match.object_like({"PointInTimeRecoverySpecification": {
                "PointInTimeRecoveryEnabled": True}, "DeletionProtectionEnabled": True})],
            "GlobalSecondaryIndexes": [Match.object_like({
                "IndexName": "OwnerIndex",
                "KeySchema": [{"AttributeName": "owner", "KeyType": "HASH"},
                              {"AttributeName": "id", "KeyType": "RANGE"}]})],
        }),
    })


def test_table_removal_policy_follows_config():
    suite = synth_suite(context={"urlShortener": {"dataRemovalPolicy": "destroy"}})
    suite.template(URL_SHORTENER).has_resource("AWS::DynamoDB::GlobalTable", {"DeletionPolicy": "Delete"})


# -- IAM ---------------------------------------------------------------------------------

def _policy_statements_of_role(template_json: dict, role_description_start: str) -> list[dict]:
    [role_id] = [k for k, r in resources(template_json, "AWS::IAM::Role").items()
                 if r["Properties"].get("Description", "").startswith(role_description_start)]
    return role_statements(template_json, role_id)


def test_read_role_may_only_get_items_and_query_the_owner_index(shortener_template_json):
    statements = _policy_statements_of_role(shortener_template_json, "API Gateway reads links")
    granted = {(s["Action"], json.dumps(s["Resource"])) for s in statements}
    assert {action for action, _ in granted} == {"dynamodb:GetItem", "dynamodb:Query"}
    query_resource = next(resource for action, resource in granted if action == "dynamodb:Query")
    assert "/index/OwnerIndex" in query_resource


def test_write_role_may_only_update_and_delete_items_of_the_table(shortener_template_json):
    statements = _policy_statements_of_role(shortener_template_json, "API Gateway writes links")
    assert len(statements) == 1
    assert sorted(statements[0]["Action"]) == ["dynamodb:DeleteItem", "dynamodb:UpdateItem"]
    assert "index" not in json.dumps(statements[0]["Resource"])


def test_no_iam_statement_grants_a_wildcard_action(shortener_template_json):
    # CDK's provider that deploys the dashboard holds CDK's own S3 grants (s3:GetObject* ...):
    # tests/common/test_static_site.py bounds them to the site's and the assets' buckets.
    deployment_role = {"Ref": hosted_site(shortener_template_json).deployment_role_id}
    for policy in _of_type(shortener_template_json, "AWS::IAM::Policy"):
        if deployment_role in policy["Properties"]["Roles"]:
            continue
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
            assert not any("*" in action for action in actions), statement


# -- API surface -------------------------------------------------------------------------

def test_redirect_route_is_public_and_the_app_routes_need_cognito(shortener_template_json):
    assert _method(shortener_template_json, "GET", "GetItem")["AuthorizationType"] == "NONE"
    for http_method, action in (("GET", "Query"), ("POST", "UpdateItem"), ("PUT", "UpdateItem"),
                                ("DELETE", "DeleteItem")):
        assert _method(shortener_template_json, http_method, action)["AuthorizationType"] == "COGNITO_USER_POOLS"


def test_redirect_answers_301_with_location_and_five_minute_cache(shortener_template):
    shortener_template.has_resource_properties("AWS::ApiGateway::Method", {
        "HttpMethod": "GET",
        "Integration": Match.object_like({"IntegrationResponses": Match.array_with([Match.object_like({
            "StatusCode": "301",
            "ResponseParameters": {"method.response.header.Cache-Control": "'max-age=300'"},
            "ResponseTemplates": {"application/json": Match.string_like_regexp(
                r"responseOverride\.header\.Location")}})])}),
    })


def test_create_and_update_validate_the_body_against_models(shortener_template_json):
    validators = {k: r["Properties"] for k, r in
                  resources(shortener_template_json, "AWS::ApiGateway::RequestValidator").items()}
    for http_method in ("POST", "PUT"):
        props = _method(shortener_template_json, http_method, "UpdateItem")
        assert "application/json" in props["RequestModels"]
        assert validators[props["RequestValidatorId"]["Ref"]]["ValidateRequestBody"] is True


def test_a_bad_body_gets_a_custom_400_with_the_validation_message(shortener_template_json):
    [response] = [r["Properties"] for r in _of_type(shortener_template_json, "AWS::ApiGateway::GatewayResponse")
                  if r["Properties"]["ResponseType"] == "BAD_REQUEST_BODY"]
    assert response["StatusCode"] == "400"
    assert "validationErrorString" in response["ResponseTemplates"]["application/json"]
    # The dashboard can read it: the primary origin is the dashboard's own.
    assert render(response["ResponseParameters"]["gatewayresponse.header.Access-Control-Allow-Origin"]) == \
        f"'{hosted_site(shortener_template_json).url}'"


def test_preflight_routes_are_mock_integrations_with_cors_headers(shortener_template_json):
    options = [r["Properties"] for r in _of_type(shortener_template_json, "AWS::ApiGateway::Method")
               if r["Properties"]["HttpMethod"] == "OPTIONS"]
    assert {o["Integration"]["Type"] for o in options} == {"MOCK"}
    methods = sorted(o["Integration"]["IntegrationResponses"][0]["ResponseParameters"][
        "method.response.header.Access-Control-Allow-Methods"] for o in options)
    assert methods == ["'GET,POST,OPTIONS'", "'PUT,DELETE,OPTIONS'"]
    assert "'*'" not in json.dumps(options)


def test_stage_traces_logs_json_and_throttles_with_a_redirect_override(shortener_template):
    shortener_template.has_resource_properties("AWS::ApiGateway::Stage", {
        "TracingEnabled": True,
        "AccessLogSetting": Match.object_like({"Format": Match.string_like_regexp(r'"resourcePath"')}),
        "MethodSettings": Match.array_with([
            Match.object_like({"HttpMethod": "*", "ResourcePath": "/*",
                               "ThrottlingRateLimit": 2000, "ThrottlingBurstLimit": 1000}),
            Match.object_like({"HttpMethod": "GET", "ResourcePath": "/~1{linkId}",
                               "ThrottlingRateLimit": 10000, "ThrottlingBurstLimit": 5000}),
        ]),
    })


def test_the_stage_sits_behind_a_regional_waf_web_acl(shortener_template):
    shortener_template.has_resource_properties("AWS::WAFv2::WebACL", {
        "Scope": "REGIONAL",
        "Rules": Match.array_with([Match.object_like({"Statement": {"RateBasedStatement": Match.object_like(
            {"AggregateKeyType": "IP"})}})]),
    })
    shortener_template.resource_count_is("AWS::WAFv2::WebACLAssociation", 1)


# -- Cognito -----------------------------------------------------------------------------

def test_user_pool_signs_in_by_verified_email_with_a_password_policy(shortener_template):
    shortener_template.has_resource_properties("AWS::Cognito::UserPool", {
        "UsernameAttributes": ["email"],
        "AutoVerifiedAttributes": ["email"],
        "Policies": {"PasswordPolicy": Match.object_like({"MinimumLength": 12, "RequireSymbols": True})},
        "MfaConfiguration": "ON",
    })


def test_app_client_uses_the_code_flow_with_email_and_openid(shortener_template):
    shortener_template.has_resource_properties("AWS::Cognito::UserPoolClient", {
        "AllowedOAuthFlows": ["code"],
        "AllowedOAuthScopes": Match.array_with(["openid", "email"]),
        "CallbackURLs": Match.array_with(["http://localhost:8080/callback"]),
        "LogoutURLs": Match.array_with(["http://localhost:8080/"]),
        "GenerateSecret": False,
    })
    shortener_template.resource_count_is("AWS::Cognito::UserPoolDomain", 1)
    shortener_template.has_resource_properties("AWS::ApiGateway::Authorizer", {
        "Type": "COGNITO_USER_POOLS", "IdentitySource": "method.request.header.Authorization"})


# -- CloudFront --------------------------------------------------------------------------

def test_cloudfront_is_https_only_with_security_headers_and_encrypted_logs(shortener_template):
    shortener_template.has_resource_properties("AWS::CloudFront::Distribution", {
        "DistributionConfig": Match.object_like({
            "DefaultCacheBehavior": Match.object_like({"ViewerProtocolPolicy": "https-only",
                                                       "ResponseHeadersPolicyId": Match.any_value()}),
            "CacheBehaviors": [Match.object_like({"PathPattern": "/app", "ViewerProtocolPolicy": "https-only"}),
                               Match.object_like({"PathPattern": "/app/*", "ViewerProtocolPolicy": "https-only"})],
            "Logging": Match.object_like({"Bucket": Match.any_value()}),
        }),
    })
    shortener_template.has_resource_properties("AWS::S3::Bucket", {
        "BucketEncryption": {"ServerSideEncryptionConfiguration": [
            {"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]},
        "PublicAccessBlockConfiguration": Match.object_like({"BlockPublicAcls": True}),
    })
    shortener_template.has_resource_properties("AWS::CloudFront::ResponseHeadersPolicy", {
        "ResponseHeadersPolicyConfig": Match.object_like({"SecurityHeadersConfig": Match.object_like({
            "StrictTransportSecurity": Match.object_like({"Override": True})})})})


def test_app_routes_are_never_cached_and_forward_authorization(shortener_template):
    shortener_template.has_resource_properties("AWS::CloudFront::CachePolicy", {
        "CachePolicyConfig": Match.object_like({
            "DefaultTTL": 0, "MinTTL": 0, "MaxTTL": 1,
            "ParametersInCacheKeyAndForwardedToOrigin": Match.object_like({
                "HeadersConfig": {"HeaderBehavior": "whitelist", "Headers": ["Authorization"]}})})})


def test_redirects_are_cached_per_the_origin_cache_control(shortener_template):
    shortener_template.has_resource_properties("AWS::CloudFront::CachePolicy", {
        "CachePolicyConfig": Match.object_like({
            "DefaultTTL": 0, "MinTTL": 0, "MaxTTL": 86400,
            "ParametersInCacheKeyAndForwardedToOrigin": Match.object_like({
                "HeadersConfig": {"HeaderBehavior": "none"}})})})


_POLICY_CONFIGS = {"AWS::CloudFront::CachePolicy": "CachePolicyConfig",
                   "AWS::CloudFront::OriginRequestPolicy": "OriginRequestPolicyConfig",
                   "AWS::CloudFront::ResponseHeadersPolicy": "ResponseHeadersPolicyConfig"}
# Also named per account: the dashboard's origin access control and its routing function.
_NAMED_CONFIGS = {**_POLICY_CONFIGS, "AWS::CloudFront::OriginAccessControl": "OriginAccessControlConfig",
                  "AWS::CloudFront::Function": None}


def test_cloudfront_names_carry_the_region_so_a_second_region_can_deploy(shortener_template_json):
    # These names are unique per account: without the region a deployment in a second region fails.
    named = {cfn_type: [(r["Properties"][config] if config else r["Properties"])["Name"]
                        for r in _of_type(shortener_template_json, cfn_type)]
             for cfn_type, config in _NAMED_CONFIGS.items()}
    assert {cfn_type: len(names) for cfn_type, names in named.items()} == {
        "AWS::CloudFront::CachePolicy": 2, "AWS::CloudFront::OriginRequestPolicy": 1,
        "AWS::CloudFront::ResponseHeadersPolicy": 2, "AWS::CloudFront::OriginAccessControl": 1,
        "AWS::CloudFront::Function": 1}
    for name in (name for names in named.values() for name in names):
        assert {"Ref": "AWS::Region"} in name["Fn::Join"][1], name


def test_pinned_cloudfront_policy_names_are_unique_per_region_and_readable():
    names = {}
    for region in ("eu-west-1", "us-east-1"):
        template = synth_suite(context={"region": region}).template_json(URL_SHORTENER)
        names[region] = {resource["Properties"][config]["Name"] for cfn_type, config in _POLICY_CONFIGS.items()
                         for resource in _of_type(template, cfn_type)}
    assert not names["eu-west-1"] & names["us-east-1"]
    assert "UrlShortener-SecurityHeaders-eu-west-1" in names["eu-west-1"]


# -- alarms ------------------------------------------------------------------------------

@pytest.mark.parametrize("metric, threshold, period", [
    ("4XXError", 0.01, 60), ("5XXError", 0.01, 60), ("TotalErrorRate", 5, 60)])
def test_error_rate_alarms_match_the_reference(shortener_template, metric, threshold, period):
    topic = Capture()
    shortener_template.has_resource_properties("AWS::CloudWatch::Alarm", {
        "MetricName": metric, "Threshold": threshold, "Period": period,
        "ComparisonOperator": "GreaterThanThreshold", "AlarmActions": [topic]})
    assert "AlarmsTopic" in topic.as_object()["Ref"]


def test_p99_latency_alarm_fires_above_75ms_over_five_minutes(shortener_template):
    shortener_template.has_resource_properties("AWS::CloudWatch::Alarm", {
        "MetricName": "Latency", "ExtendedStatistic": "p99", "Threshold": 75, "Period": 300})


def test_cache_hit_rate_alarm_fires_at_80_percent_or_less(shortener_template):
    shortener_template.has_resource_properties("AWS::CloudWatch::Alarm", {
        "MetricName": "CacheHitRate", "Threshold": 80, "Period": 300,
        "ComparisonOperator": "LessThanOrEqualToThreshold"})
    shortener_template.resource_count_is("AWS::CloudFront::MonitoringSubscription", 1)


@pytest.mark.parametrize("metric", ["SystemErrors", "UserErrors"])
def test_dynamodb_error_alarms_exist(shortener_template_json, metric):
    alarms = [r["Properties"] for r in _of_type(shortener_template_json, "AWS::CloudWatch::Alarm")]
    matching = [a for a in alarms if metric in json.dumps(a.get("Metrics", []))]
    assert len(matching) == 1 and matching[0]["Threshold"] == 1 and matching[0]["AlarmActions"]


def test_an_agnostic_template_refuses_regions_without_cloudfront_metrics(shortener_template_json):
    rules = shortener_template_json.get("Rules", {})
    assertions = [a for rule in rules.values() for a in rule["Assertions"]]
    assert any(a["Assert"] == {"Fn::Equals": [{"Ref": "AWS::Region"}, "us-east-1"]} for a in assertions)


def test_a_pinned_region_moves_cloudfront_alarms_to_a_us_east_1_stack():
    suite = synth_suite(context={"region": "eu-west-1", "account": "123456789012"})
    edge = suite.stacks[URL_SHORTENER_EDGE]
    assert edge.region == "us-east-1"
    suite.template(URL_SHORTENER_EDGE).has_resource_properties("AWS::CloudWatch::Alarm", {
        "MetricName": "CacheHitRate"})
    main = suite.template_json(URL_SHORTENER)
    assert "CacheHitRate" not in json.dumps(main["Resources"])
    assert "us-east-1" not in json.dumps(main.get("Rules", {}))


# -- outputs and logs --------------------------------------------------------------------

def test_outputs_name_everything_a_client_needs(shortener_template_json):
    assert {"ApiUrl", "CloudFrontUrl", "UserPoolId", "UserPoolClientId", "HostedDomain"} <= set(
        shortener_template_json["Outputs"])


def test_saved_insights_queries_cover_domains_paths_and_errors(shortener_template_json):
    names = sorted(r["Properties"]["Name"] for r in _of_type(shortener_template_json,
                                                               "AWS::Logs::QueryDefinition"))
    assert [n.rsplit("/", 1)[1] for n in names] == ["errors-by-path", "requests-per-domain", "top-paths"]
