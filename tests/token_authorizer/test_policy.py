"""The policy: every mapped route the token's scopes grant, for the request's stage, and nothing else."""
from __future__ import annotations

import json

import pytest

from lambda_src.token_authorizer import handler as authorizer_handler
from lambda_src.token_authorizer.logic import DenyReason
from lambda_src.token_authorizer.policy import ConfigurationError, Permission, parse_permissions, route_patterns

from .conftest import API, CLIENT_ID, STAGE, UNSET
from .helpers import assert_refused, effect

ROUTES = [("GET", "items"), ("GET", "items/42"), ("POST", "items"), ("DELETE", "items/42"),
          ("GET", "items/42/audit"), ("GET", "admin/users/7"), ("POST", "admin/reindex")]


def allowed_routes(response) -> list[tuple[str, str]]:
    return [route for route in ROUTES if effect(response, *route) == "Allow"]


def test_the_policy_allows_exactly_the_routes_of_the_read_scope(authorizer):
    response = authorizer.handle(authorizer.event(f"Bearer {authorizer.token(scope='api/read')}"))

    assert allowed_routes(response) == [("GET", "items"), ("GET", "items/42")]


def test_the_policy_lists_the_granted_routes_as_execute_api_arns_of_the_stage(authorizer):
    response = authorizer.handle(authorizer.event(f"Bearer {authorizer.token(scope='api/read api/write')}"))

    allow, deny = response["policyDocument"]["Statement"]
    prefix = f"{API}/{STAGE}/"
    assert allow == {"Action": "execute-api:Invoke", "Effect": "Allow", "Resource": [
        f"{prefix}DELETE/items/*", f"{prefix}GET/items", f"{prefix}GET/items/*", f"{prefix}POST/items"]}
    assert deny == {"Action": "execute-api:Invoke", "Effect": "Deny", "Resource": [f"{prefix}GET/items/*/audit"]}
    assert response["policyDocument"]["Version"] == "2012-10-17"


def test_one_policy_serves_every_route_whichever_route_asked_for_it(authorizer):
    token = authorizer.token(scope="api/read api/write")

    policies = {json.dumps(authorizer.handle(authorizer.event(f"Bearer {token}", method=method, path=path)),
                           sort_keys=True) for method, path in ROUTES}

    assert len(policies) == 1


def test_a_route_nested_under_a_granted_path_parameter_stays_denied(authorizer):
    response = authorizer.handle(authorizer.event(f"Bearer {authorizer.token(scope='api/read')}"))

    assert effect(response, "GET", "items/42") == "Allow"
    assert effect(response, "GET", "items/42/audit") == "Deny"


def test_the_admin_scope_opens_its_greedy_route_for_every_method(authorizer):
    response = authorizer.handle(authorizer.event(f"Bearer {authorizer.token(scope='api/admin')}"))

    assert allowed_routes(response) == [("GET", "items/42/audit"), ("GET", "admin/users/7"),
                                        ("POST", "admin/reindex")]


def test_the_policy_covers_only_the_stage_of_the_request(authorizer):
    response = authorizer.handle(authorizer.event(f"Bearer {authorizer.token(scope='api/read')}"))

    resources = [r for s in response["policyDocument"]["Statement"] for r in s["Resource"]]
    assert resources and all(r.startswith(f"{API}/{STAGE}/") for r in resources)


def test_the_context_carries_subject_scopes_and_client_id(authorizer):
    response = authorizer.handle(authorizer.event(f"Bearer {authorizer.token(scope='api/write api/read')}"))

    assert response["principalId"] == "user-1"
    assert response["context"] == {"sub": "user-1", "scopes": "api/read api/write", "clientId": CLIENT_ID}


def test_scopes_are_read_from_an_scp_list(authorizer):
    response = authorizer.handle(authorizer.event(f"Bearer {authorizer.token(scope=UNSET, scp=['api/write'])}"))

    assert allowed_routes(response) == [("POST", "items"), ("DELETE", "items/42")]


def test_scopes_are_read_from_an_scp_string(authorizer):
    response = authorizer.handle(authorizer.event(f"Bearer {authorizer.token(scope=UNSET, scp='api/write api/read')}"))

    assert allowed_routes(response) == [("GET", "items"), ("GET", "items/42"), ("POST", "items"),
                                        ("DELETE", "items/42")]


def test_an_scp_of_another_type_is_refused(authorizer):
    assert_refused(authorizer.bearer(authorizer.token(scope=UNSET, scp={"api/read": True})), DenyReason.CLAIMS)


def test_a_token_without_scopes_is_refused(authorizer):
    assert_refused(authorizer.bearer(authorizer.token(scope=UNSET)), DenyReason.NO_MAPPED_ROUTE)


def test_a_token_whose_scopes_map_to_no_route_is_refused(authorizer):
    assert_refused(authorizer.bearer(authorizer.token(scope="openid email")), DenyReason.NO_MAPPED_ROUTE)


def test_a_refusal_is_an_explicit_deny_of_the_stage_for_a_403(authorizer):
    response = authorizer.handle(authorizer.event(f"Bearer {authorizer.token(scope='openid')}"))

    assert response == {"principalId": "anonymous", "policyDocument": {"Version": "2012-10-17", "Statement": [
        {"Action": "execute-api:Invoke", "Effect": "Deny", "Resource": [f"{API}/{STAGE}/*"]}]}}


# --- events and configuration that are not what they should be ---------------------------

def test_an_event_that_is_not_a_token_event_is_refused(authorizer):
    event = {**authorizer.event(f"Bearer {authorizer.token()}"), "type": "REQUEST"}

    assert_refused(authorizer.decide(event), DenyReason.BAD_EVENT)


@pytest.mark.parametrize("method_arn", [None, "arn:aws:s3:::bucket/key", "x" * 2000])
def test_an_event_without_a_method_arn_is_refused_with_a_deny_of_everything(authorizer, method_arn):
    event = {**authorizer.event(f"Bearer {authorizer.token()}"), "methodArn": method_arn}

    response = authorizer.handle(event)

    assert response["policyDocument"]["Statement"] == [
        {"Action": "execute-api:Invoke", "Effect": "Deny", "Resource": ["*"]}]


def test_an_event_that_is_not_an_object_is_refused(authorizer):
    response = authorizer.handle(["not", "an", "event"])

    assert [s["Effect"] for s in response["policyDocument"]["Statement"]] == ["Deny"]


def test_an_invalid_configuration_refuses_every_token_instead_of_failing(authorizer):
    authorizer.configure(PERMISSIONS="[{\"method\": \"GET\"}]")

    assert_refused(authorizer.bearer(authorizer.token()), DenyReason.CONFIGURATION)


def test_a_plain_http_key_set_url_off_loopback_is_a_configuration_error(authorizer):
    authorizer.configure(JWKS_URL="http://idp.example.com/keys")

    assert_refused(authorizer.bearer(authorizer.token()), DenyReason.CONFIGURATION)


def test_a_bug_refuses_the_token_instead_of_failing_the_request(authorizer, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr(authorizer_handler, "decide", broken)

    assert_refused(authorizer.bearer(authorizer.token()), DenyReason.INTERNAL)


# --- the mapping itself ------------------------------------------------------------------

def test_the_root_resource_maps_to_the_arn_of_the_root_path():
    allowed, denied = route_patterns([Permission("GET", "/", "api/read")], frozenset({"api/read"}))

    assert (allowed, denied) == (["GET/"], [])


def test_a_specific_method_keeps_its_own_scope_under_an_any_method_grant():
    permissions = [Permission("*", "/items", "api/admin"), Permission("GET", "/items", "api/audit")]

    allowed, denied = route_patterns(permissions, frozenset({"api/admin"}))

    assert (allowed, denied) == (["*/items"], ["GET/items"])


def test_entries_for_one_route_are_alternatives():
    permissions = [Permission("GET", "/items", "api/read"), Permission("GET", "/items", "api/admin")]

    assert route_patterns(permissions, frozenset({"api/admin"})) == (["GET/items"], [])


@pytest.mark.parametrize(("entry", "message"), [
    ({"method": "FETCH", "resource": "/items", "scope": "api/read"}, "method must be one of"),
    ({"method": "GET", "resource": "items", "scope": "api/read"}, "resource must be an API Gateway resource path"),
    ({"method": "GET", "resource": "/items/*", "scope": "api/read"}, "resource must be an API Gateway resource path"),
    ({"method": "GET", "resource": "/{proxy+}/items", "scope": "api/read"}, "resource must be"),
    ({"method": "GET", "resource": "/items", "scope": "api read"}, "scope must be one OAuth scope"),
    ({"method": "GET", "resource": "/items"}, r"PERMISSIONS\[0\] must be an object"),
])
def test_a_malformed_permissions_entry_is_a_configuration_error(entry, message):
    with pytest.raises(ConfigurationError, match=message):
        parse_permissions(json.dumps([entry]))


def test_an_empty_permissions_mapping_is_a_configuration_error():
    with pytest.raises(ConfigurationError, match="non-empty JSON list"):
        parse_permissions("[]")
