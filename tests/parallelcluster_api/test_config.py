"""The parallelclusterApi context block: defaults, and a ConfigError naming the key for every bad value."""
from __future__ import annotations

import json
import re
from typing import Any

import aws_cdk as cdk
import pytest

from lambda_src.parallelcluster_api.routes import ROUTES
from stacks.common.config import ConfigError
from stacks.common.token_authorizer import RoutePermission
from stacks.parallelcluster_api.config import (
    DEFAULT_ADMIN_SCOPE,
    DEFAULT_PARALLELCLUSTER_VERSION,
    ParallelClusterApiConfig,
    default_permissions,
)
from tests.conftest import project_context

KEY = "parallelclusterApi"
COGNITO_ONLY_KEYS = ("callbackUrls", "logoutUrls", "requireMfa", "cognitoFeaturePlan", "cognitoDomainPrefix")
EXTERNAL = {"identityProvider": "external", "issuer": "https://example.eu.auth0.com/",
            "audience": "https://parallelcluster.example.com"}
SUBNETS = {"createVpc": False, "headNodeSubnetId": "subnet-0123456789abcdef0", "computeSubnetId": "subnet-89abcdef"}


def _load(block: dict[str, Any] | None) -> ParallelClusterApiConfig:
    return ParallelClusterApiConfig.from_context(cdk.App(context={} if block is None else {KEY: block}).node)


def _external_block(**changes: Any) -> dict[str, Any]:
    block = {k: v for k, v in project_context()[KEY].items() if k not in COGNITO_ONLY_KEYS}
    return {**block, **EXTERNAL, **changes}


def _rejects(block: dict[str, Any], key: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(f"{KEY}.{key}")):
        _load(block)


# --- defaults ---------------------------------------------------------------------------------

def test_defaults_load_without_any_context():
    config = _load(None)
    assert config.parallelcluster_version == DEFAULT_PARALLELCLUSTER_VERSION == "3.16.1"
    assert config.identity_provider == "cognito" and config.external is None and config.users is not None
    assert config.users.require_mfa is True
    assert config.admin_scope == DEFAULT_ADMIN_SCOPE == "parallelcluster/admin"
    assert config.enable_iam_admin_access is False
    assert config.permissions_boundary_arn is None
    assert config.network.create_vpc is True
    assert config.authorizer_cache_seconds == 300
    assert (config.throttle_rate_limit, config.throttle_burst_limit) == (25, 50)
    assert config.dry_run_wait_seconds == 20
    assert config.poll_interval_seconds == 60
    assert config.data_removal_policy == cdk.RemovalPolicy.RETAIN
    assert config.observability.log_retention_days == 90 and config.observability.alarm_email is None


def test_the_project_context_loads_as_written_in_cdk_json():
    block = project_context()[KEY]
    config = _load(block)
    assert config.parallelcluster_version == block["parallelclusterVersion"]
    assert config.poll_interval_seconds == block["pollIntervalSeconds"]
    assert config.waf_requests_per_ip_per_5_min == block["wafRequestsPerIpPer5Min"]


def test_a_command_line_override_changes_only_the_keys_it_names():
    app = cdk.App(context={KEY: json.dumps({"pollIntervalSeconds": 120})})
    config = ParallelClusterApiConfig.from_context(app.node)
    assert config.poll_interval_seconds == 120
    assert config.dry_run_wait_seconds == project_context()[KEY]["dryRunWaitSeconds"]


# --- the permissions mapping ---------------------------------------------------------------------

def test_the_default_mapping_grants_every_route_its_own_scope_and_the_admin_scope():
    permissions = set(_load(None).permissions)
    for route in ROUTES:
        assert RoutePermission(route.method, route.path, f"parallelcluster/{route.scope}") in permissions
        assert RoutePermission(route.method, route.path, DEFAULT_ADMIN_SCOPE) in permissions
    assert {p.scope for p in permissions} <= {"parallelcluster/read", "parallelcluster/write", DEFAULT_ADMIN_SCOPE}


def test_reading_routes_need_the_read_scope_and_changing_routes_the_write_scope():
    by_route = {(p.method, p.resource): p.scope for p in default_permissions() if p.scope != DEFAULT_ADMIN_SCOPE}
    assert by_route[("GET", "/v3/clusters")] == "parallelcluster/read"
    assert by_route[("POST", "/v3/clusters")] == "parallelcluster/write"
    assert by_route[("DELETE", "/v3/clusters/{clusterName}/instances")] == "parallelcluster/write"
    assert by_route[("GET", "/v3/operations/{operationId}")] == "parallelcluster/read"


def test_the_admin_scope_of_the_default_mapping_follows_adminScope():
    permissions = _load({"adminScope": "hpc:admin"}).permissions
    assert RoutePermission("DELETE", "/v3/clusters/{clusterName}", "hpc:admin") in permissions
    assert DEFAULT_ADMIN_SCOPE not in {p.scope for p in permissions}


def test_a_permissions_mapping_replaces_the_default_one():
    config = _load({"permissions": ["GET /v3/clusters clusters:read", "* /v3/clusters/{clusterName} clusters:write"]})
    assert config.permissions == (RoutePermission("GET", "/v3/clusters", "clusters:read"),
                                  RoutePermission("*", "/v3/clusters/{clusterName}", "clusters:write"))


@pytest.mark.parametrize("entry", [
    "GET /v3/clusterz parallelcluster/read",      # no such resource
    "PATCH /v3/clusters parallelcluster/write",   # no such method on it
    "GET /v3/clusters",                           # no scope
    "FETCH /v3/clusters parallelcluster/read",    # not an HTTP method
    "GET /v3/clusters parallel cluster/read",     # a scope with a space
])
def test_a_permission_the_api_cannot_honour_names_the_key(entry):
    _rejects({"permissions": [entry]}, "permissions")


# --- identity provider ---------------------------------------------------------------------------

def test_an_external_identity_provider_needs_no_user_pool_settings():
    config = _load(_external_block(jwksUrl="https://example.eu.auth0.com/.well-known/jwks.json"))
    assert config.users is None
    assert config.external is not None
    assert (config.external.issuer, config.external.audience) == (EXTERNAL["issuer"], EXTERNAL["audience"])
    assert config.external.jwks_url == "https://example.eu.auth0.com/.well-known/jwks.json"


@pytest.mark.parametrize("missing", ["issuer", "audience"])
def test_an_external_identity_provider_needs_an_issuer_and_an_audience(missing):
    block = _external_block()
    del block[missing]
    _rejects(block, missing)


@pytest.mark.parametrize("key, value", [("issuer", "https://idp.example.com/"), ("audience", "api"),
                                        ("jwksUrl", "https://idp.example.com/jwks.json")])
def test_external_settings_are_refused_with_cognito(key, value):
    _rejects({key: value}, key)


def test_user_pool_settings_are_refused_with_an_external_identity_provider():
    _rejects({**_external_block(), "requireMfa": False}, "requireMfa")


@pytest.mark.parametrize("key, value", [("issuer", "http://idp.example.com/"), ("jwksUrl", "ftp://x/jwks.json"),
                                        ("audience", "has space")])
def test_a_malformed_external_setting_names_its_key(key, value):
    _rejects(_external_block(**{key: value}), key)


# --- network -------------------------------------------------------------------------------------

def test_existing_subnets_are_taken_as_given():
    network = _load(SUBNETS).network
    assert (network.create_vpc, network.head_node_subnet_id, network.compute_subnet_id) == (
        False, "subnet-0123456789abcdef0", "subnet-89abcdef")


@pytest.mark.parametrize("missing", ["headNodeSubnetId", "computeSubnetId"])
def test_without_a_vpc_both_subnets_are_required(missing):
    block = dict(SUBNETS)
    del block[missing]
    _rejects(block, missing)


def test_subnet_ids_are_refused_when_the_stack_creates_the_vpc():
    _rejects({"headNodeSubnetId": "subnet-0123456789abcdef0"}, "headNodeSubnetId")


def test_a_malformed_subnet_id_names_its_key():
    _rejects({**SUBNETS, "computeSubnetId": "sg-0123456789abcdef0"}, "computeSubnetId")


# --- everything else -----------------------------------------------------------------------------

@pytest.mark.parametrize("key, value", [
    ("parallelclusterVersion", "3.11.0"),      # its layer is built for Python 3.9
    ("parallelclusterVersion", "2.11.9"),      # ParallelCluster 2 has no library API
    ("parallelclusterVersion", "latest"),
    ("identityProvider", "auth0"),
    ("adminScope", "parallel cluster admin"),
    ("authorizerCacheSeconds", 3601),          # API Gateway caches policies for an hour at most
    ("enableIamAdminAccess", "yes"),
    ("permissionsBoundaryArn", "arn:aws:iam::123456789012:role/boundary"),
    ("createVpc", "true"),
    ("throttleRateLimit", 0),
    ("throttleBurstLimit", 5001),
    ("wafRequestsPerIpPer5Min", 9),
    ("dryRunWaitSeconds", 21),                 # would leave too little of API Gateway's 29 seconds
    ("pollIntervalSeconds", 29),               # the execution history would outgrow 25,000 events
    ("logRetentionDays", 2),
    ("alarmEmail", "ops-at-example.com"),
    ("dataRemovalPolicy", "snapshot"),
    ("pollIntervalSecond", 60),                # a typo is not a setting
])
def test_a_bad_value_names_its_key(key, value):
    _rejects({key: value}, key)


def test_the_oldest_release_with_a_python_3_12_layer_is_accepted():
    assert _load({"parallelclusterVersion": "3.11.1"}).parallelcluster_version == "3.11.1"


def test_a_permissions_boundary_and_iam_admin_access_are_read():
    config = _load({"enableIamAdminAccess": True,
                    "permissionsBoundaryArn": "arn:aws:iam::123456789012:policy/hpc/Boundary"})
    assert config.enable_iam_admin_access is True
    assert config.permissions_boundary_arn == "arn:aws:iam::123456789012:policy/hpc/Boundary"


def test_an_admin_scope_too_long_for_the_authorizers_environment_names_the_key():
    # The mapping travels in the authorizer's environment (4 KiB for all its variables).
    _rejects({"adminScope": "https://parallelcluster.example.com/" + "a" * 200}, "adminScope")


def test_a_permissions_mapping_too_long_for_the_authorizers_environment_names_the_key():
    entries = [f"GET /v3/clusters scope-{n:03d}-{'x' * 60}" for n in range(40)]
    _rejects({"permissions": entries}, "permissions")
