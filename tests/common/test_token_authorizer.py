"""ThirdPartyTokenAuthorizer: a TOKEN authorizer any REST API of the suite can put on its methods."""
from __future__ import annotations

import json
import re
import subprocess
import sys
from types import SimpleNamespace

import aws_cdk as cdk
import pytest
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_cognito as cognito
from aws_cdk.assertions import Capture, Match, Template

from stacks.common.nag import apply_quality_gates
from stacks.common.rest_api import body_validator, observed_rest_api
from stacks.common.token_authorizer import RoutePermission, ThirdPartyTokenAuthorizer
from tests.conftest import ROOT

# The post's token validation expression, written out here rather than imported: the template
# must carry exactly this.
POST_VALIDATION_REGEX = r"^(Bearer )[a-zA-Z0-9\-_]+?\.[a-zA-Z0-9\-_]+?\.([a-zA-Z0-9\-_]+)$"
ISSUER = "https://idp.example.com/oauth2/default"
PERMISSIONS = (
    RoutePermission("GET", "/items", "api/read"),
    RoutePermission("GET", "/items/{itemId}", "api/read"),
    RoutePermission("POST", "/items", "api/write"),
)
NO_BUNDLING = {"aws:cdk:bundling-stacks": []}


def _props(**overrides):
    props = dict(issuer=ISSUER, audience="https://api.example.com", jwks_url=None, permissions=PERMISSIONS,
                 results_cache_ttl=cdk.Duration.minutes(5), log_retention_days=90, service_name="items-api",
                 metrics_namespace="Tests/Items")
    return {**props, **overrides}


def _guarded_api(stack: cdk.Stack, **overrides) -> ThirdPartyTokenAuthorizer:
    """The suite's REST API with two methods behind the authorizer."""
    auth = ThirdPartyTokenAuthorizer(stack, "Auth", **_props(**overrides))
    observed = observed_rest_api(stack, api_name="items", description="items", stage_name="prod",
                                 rate_limit=10, burst_limit=20, log_retention_days=90,
                                 waf_requests_per_ip_per_5_min=500)
    validator = body_validator(observed.api)
    items = observed.api.root.add_resource("items")
    for resource in (items, items.add_resource("{itemId}")):
        method = resource.add_method(
            "GET", apigw.MockIntegration(), authorizer=auth.authorizer,
            authorization_type=apigw.AuthorizationType.CUSTOM, request_validator=validator)
        auth.acknowledge_method(method)
    return auth


def _template(**overrides) -> Template:
    stack = cdk.Stack(cdk.App(context=NO_BUNDLING), "Items")
    _guarded_api(stack, **overrides)
    return Template.from_stack(stack)


@pytest.fixture(scope="module")
def items():
    app = cdk.App(context=NO_BUNDLING)
    stack = cdk.Stack(app, "Items")
    auth = _guarded_api(stack)
    apply_quality_gates(app)
    assembly = app.synth()  # cdk-nag runs here and raises on any finding not acknowledged
    return SimpleNamespace(stack=stack, auth=auth,
                           template=Template.from_json(assembly.get_stack_by_name("Items").template))


def _environment(template: Template) -> dict:
    functions = [f for f in template.find_resources("AWS::Lambda::Function").values()
                 if "PERMISSIONS" in f["Properties"].get("Environment", {}).get("Variables", {})]
    assert len(functions) == 1
    return functions[0]["Properties"]["Environment"]["Variables"]


def test_the_authorizer_reads_the_token_from_the_authorization_header(items):
    items.template.has_resource_properties("AWS::ApiGateway::Authorizer", {
        "Type": "TOKEN", "IdentitySource": "method.request.header.Authorization"})


def test_headers_that_are_no_bearer_jwt_are_refused_by_the_posts_validation_expression(items):
    expression = Capture()
    items.template.has_resource_properties("AWS::ApiGateway::Authorizer", {
        "IdentityValidationExpression": expression})

    assert expression.as_string() == POST_VALIDATION_REGEX
    assert re.fullmatch(expression.as_string(), "Bearer eyJh.eyJz.c2ln")
    for refused in ("eyJh.eyJz.c2ln", "Basic dXNlcg==", "Bearer eyJh.eyJz.", "Bearer eyJh.eyJz"):
        assert not re.fullmatch(expression.as_string(), refused), refused


def test_policies_are_cached_for_the_configured_time(items):
    items.template.has_resource_properties("AWS::ApiGateway::Authorizer", {"AuthorizerResultTtlInSeconds": 300})


def test_a_cache_time_of_zero_turns_policy_caching_off():
    _template(results_cache_ttl=cdk.Duration.seconds(0)).has_resource_properties(
        "AWS::ApiGateway::Authorizer", {"AuthorizerResultTtlInSeconds": 0})


def test_the_methods_of_the_api_use_the_authorizer(items):
    authorizer_id = next(iter(items.template.find_resources("AWS::ApiGateway::Authorizer")))
    methods = items.template.find_resources("AWS::ApiGateway::Method", {"Properties": {"HttpMethod": "GET"}})

    assert len(methods) == 2
    assert all(m["Properties"]["AuthorizationType"] == "CUSTOM"
               and m["Properties"]["AuthorizerId"] == {"Ref": authorizer_id} for m in methods.values())


def test_the_function_is_told_issuer_audience_keys_and_permissions(items):
    environment = _environment(items.template)

    assert {name: environment[name] for name in ("ISSUER", "AUDIENCE", "AUDIENCE_CLAIM", "JWKS_URL")} == {
        "ISSUER": ISSUER, "AUDIENCE": "https://api.example.com", "AUDIENCE_CLAIM": "aud",
        "JWKS_URL": f"{ISSUER}/.well-known/jwks.json"}
    assert json.loads(environment["PERMISSIONS"]) == [
        {"method": "GET", "resource": "/items", "scope": "api/read"},
        {"method": "GET", "resource": "/items/{itemId}", "scope": "api/read"},
        {"method": "POST", "resource": "/items", "scope": "api/write"}]


def test_the_function_is_told_the_key_handling_limits(items):
    environment = _environment(items.template)

    assert {name: environment[name] for name in ("JWKS_TIMEOUT_SECONDS", "JWKS_REFETCH_COOLDOWN_SECONDS",
                                                 "JWKS_CACHE_SECONDS", "LEEWAY_SECONDS")} == {
        "JWKS_TIMEOUT_SECONDS": "2", "JWKS_REFETCH_COOLDOWN_SECONDS": "30", "JWKS_CACHE_SECONDS": "300",
        "LEEWAY_SECONDS": "30"}


def test_the_function_outlasts_its_key_set_fetch():
    template = _template(jwks_timeout=cdk.Duration.seconds(5))
    timeout = Capture()
    template.has_resource_properties("AWS::Lambda::Function", {
        "Timeout": timeout, "Environment": {"Variables": Match.object_like({"JWKS_TIMEOUT_SECONDS": "5"})}})

    assert timeout.as_number() > 5


def test_an_explicit_jwks_url_is_passed_as_given():
    environment = _environment(_template(
        issuer="https://login.microsoftonline.com/tenant/v2.0",
        jwks_url="https://login.microsoftonline.com/tenant/discovery/v2.0/keys"))

    assert environment["JWKS_URL"] == "https://login.microsoftonline.com/tenant/discovery/v2.0/keys"


def test_an_issuer_ending_in_a_slash_gets_a_jwks_url_without_a_double_slash():
    environment = _environment(_template(issuer="https://tenant.auth0.com/"))

    assert (environment["ISSUER"], environment["JWKS_URL"]) == (
        "https://tenant.auth0.com/", "https://tenant.auth0.com/.well-known/jwks.json")


def test_a_cognito_user_pool_is_named_by_its_provider_url_and_app_client_ids():
    stack = cdk.Stack(cdk.App(context=NO_BUNDLING), "Items")
    pool = cognito.UserPool(stack, "Pool")
    people, machines = pool.add_client("People"), pool.add_client("Machines")
    _guarded_api(stack, issuer=pool.user_pool_provider_url,
                 audience=[people.user_pool_client_id, machines.user_pool_client_id], audience_claim="client_id")
    environment = _environment(Template.from_stack(stack))

    assert environment["AUDIENCE_CLAIM"] == "client_id"
    assert "Fn::Join" in environment["JWKS_URL"] and "/.well-known/jwks.json" in json.dumps(environment["JWKS_URL"])
    audience_refs = [part["Ref"] for part in environment["AUDIENCE"]["Fn::Join"][1] if isinstance(part, dict)]
    assert len(audience_refs) == 2


def test_no_statement_of_the_function_grants_a_wildcard_action(items):
    actions = [action for policy in items.template.find_resources("AWS::IAM::Policy").values()
               for statement in policy["Properties"]["PolicyDocument"]["Statement"]
               for action in ([statement["Action"]] if isinstance(statement["Action"], str) else statement["Action"])]

    assert actions and not [action for action in actions if "*" in action]


def test_only_this_authorizer_of_the_api_may_invoke_the_function(items):
    source_arn = Capture()
    items.template.has_resource_properties("AWS::Lambda::Permission", {
        "Action": "lambda:InvokeFunction", "Principal": "apigateway.amazonaws.com", "SourceArn": source_arn})

    assert "/authorizers/" in json.dumps(source_arn.as_object())


def test_the_api_with_the_authorizer_passes_cdk_nag(items):
    # The fixture's synth runs cdk-nag, which raises on any finding not acknowledged.
    assert items.template.find_resources("AWS::ApiGateway::Authorizer")


@pytest.mark.parametrize(("overrides", "message"), [
    ({"permissions": (RoutePermission("GET", "items", "api/read"),)}, "resource must be an API Gateway resource"),
    ({"permissions": ()}, "non-empty JSON list"),
    ({"permissions": tuple(RoutePermission("GET", f"/r{i}/{{id}}", f"scope/{i}") for i in range(60))},
     "environment variables"),
    ({"results_cache_ttl": cdk.Duration.hours(2)}, "results_cache_ttl must be between 0 s and 3600 s"),
    ({"jwks_timeout": cdk.Duration.seconds(30)}, "jwks_timeout must be between"),
    ({"issuer": "http://idp.example.com"}, "issuer must be an https:// URL"),
    ({"jwks_url": "http://idp.example.com/keys"}, "jwks_url must be an https:// URL"),
    ({"audience": "two words"}, "each audience must be one non-empty word"),
    ({"audience": []}, "at least one audience"),
])
def test_a_configuration_the_function_could_not_run_with_fails_synth(overrides, message):
    stack = cdk.Stack(cdk.App(context=NO_BUNDLING), "Items")

    with pytest.raises(ValueError, match=message):
        ThirdPartyTokenAuthorizer(stack, "Auth", **_props(**overrides))


def test_the_construct_needs_none_of_the_functions_dependencies_at_synth():
    # The CDK app's own requirements (requirements.txt) do not include PyJWT.
    code = ("import sys, stacks.common.token_authorizer; "
            "print(sorted(m for m in ('jwt', 'cryptography') if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)

    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == "[]"
