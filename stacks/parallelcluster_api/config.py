"""Settings of the ParallelCluster API, from the ``parallelclusterApi`` block of ``cdk.json`` context."""
from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass

import aws_cdk as cdk
from constructs import Node

from lambda_src.parallelcluster_api import routes
from lambda_src.parallelcluster_api.routes import ROUTES
from stacks.common.config import ConfigError, ContextBlock, ObservabilityConfig
from stacks.common.token_authorizer import MAX_PERMISSIONS_JSON_CHARS, RoutePermission
from stacks.common.users import UserPoolSettings

CONTEXT_KEY = "parallelclusterApi"
DEFAULT_PARALLELCLUSTER_VERSION = "3.16.1"
DEFAULT_ADMIN_SCOPE = routes.scope_name("admin")

_VERSION = re.compile(r"^3\.(\d{1,3})\.(\d{1,3})$")
# The ParallelCluster Lambda layer is built for Python 3.12 from 3.11.1 on (3.9 before), and the
# library API (pcluster.lib) exists since 3.5.0: the functions run on Python 3.12 (functions.py).
_OLDEST_VERSION = (11, 1)
_SCOPE = re.compile(r"^[\x21-\x7e]{1,256}$")  # what OAuth allows in a scope token, no spaces
_AUDIENCE = re.compile(r"^\S{1,256}$")
_HTTPS = re.compile(r"^https://[^\s/?#]+(?:/[^\s?#]*)?$")
_SUBNET_ID = re.compile(r"^subnet-[0-9a-f]{8}(?:[0-9a-f]{9})?$")
_POLICY_ARN = re.compile(r"^arn:aws(?:-[a-z]+)*:iam::\d{12}:policy/[\w+=,.@/-]{1,512}$")
_PERMISSION = re.compile(r"^(?P<method>GET|POST|PUT|PATCH|DELETE|\*) (?P<resource>/\S*) (?P<scope>[\x21-\x7e]{1,256})$")

# Create, update and delete answer well within API Gateway's 29-second integration timeout
# even after a dry run's wait, a cold start (the ParallelCluster library takes seconds to
# import) and the function's own checks.
MAX_DRYRUN_WAIT_SECONDS = 20
# The workflow polls for at most 12 hours; more often than every 30 seconds its execution
# history would outgrow Step Functions' 25,000 events (workflow.py).
MIN_POLL_INTERVAL_SECONDS = 30


def default_permissions(admin_scope: str = DEFAULT_ADMIN_SCOPE) -> tuple[RoutePermission, ...]:
    """``routes.py``'s mapping (every route for its own scope and for admin), admin spelled ``admin_scope``."""
    return tuple(dict.fromkeys(
        RoutePermission(entry["method"], entry["resource"],
                        admin_scope if entry["scope"] == DEFAULT_ADMIN_SCOPE else entry["scope"])
        for entry in routes.default_permissions()))


@dataclass(frozen=True)
class ExternalIdentityProvider:
    issuer: str
    audience: str
    jwks_url: str | None


@dataclass(frozen=True)
class NetworkConfig:
    # True: the stack creates a VPC with one public subnet (head nodes) and one private subnet
    # behind one NAT gateway (compute nodes); False: the two subnet ids name existing subnets.
    create_vpc: bool
    head_node_subnet_id: str | None
    compute_subnet_id: str | None


@dataclass(frozen=True)
class ParallelClusterApiConfig:
    parallelcluster_version: str
    identity_provider: str  # "cognito" or "external"
    external: ExternalIdentityProvider | None
    users: UserPoolSettings | None  # the stack's own user pool (cognito only)
    permissions: tuple[RoutePermission, ...]
    authorizer_cache_seconds: int
    admin_scope: str
    enable_iam_admin_access: bool
    permissions_boundary_arn: str | None
    network: NetworkConfig
    throttle_rate_limit: int
    throttle_burst_limit: int
    waf_requests_per_ip_per_5_min: int
    dry_run_wait_seconds: int
    poll_interval_seconds: int
    data_removal_policy: cdk.RemovalPolicy
    observability: ObservabilityConfig

    @classmethod
    def from_context(cls, node: Node) -> "ParallelClusterApiConfig":
        block = ContextBlock.from_node(node, CONTEXT_KEY)
        provider = block.choice("identityProvider", "cognito", choices=("cognito", "external"))
        external = _external_provider(block, provider)
        admin_scope = block.string("adminScope", DEFAULT_ADMIN_SCOPE, pattern=_SCOPE,
                                   description="an OAuth scope (printable characters, no spaces)", max_length=256)
        rate = block.integer("throttleRateLimit", 25, minimum=1, maximum=10000)
        burst = block.integer("throttleBurstLimit", 50, minimum=1, maximum=5000)
        config = cls(
            parallelcluster_version=_version(block),
            identity_provider=provider,
            external=external,
            users=UserPoolSettings.read(block) if provider == "cognito" else None,
            permissions=_permissions(block, admin_scope),
            authorizer_cache_seconds=block.integer("authorizerCacheSeconds", 300, minimum=0, maximum=3600),
            admin_scope=admin_scope,
            enable_iam_admin_access=block.boolean("enableIamAdminAccess", False),
            permissions_boundary_arn=block.optional_string(
                "permissionsBoundaryArn", pattern=_POLICY_ARN,
                description="an IAM managed policy ARN, arn:aws:iam::<account>:policy/<name>"),
            network=_network(block),
            throttle_rate_limit=rate,
            throttle_burst_limit=burst,
            waf_requests_per_ip_per_5_min=block.integer("wafRequestsPerIpPer5Min", 1000,
                                                        minimum=10, maximum=2_000_000_000),
            dry_run_wait_seconds=block.integer("dryRunWaitSeconds", MAX_DRYRUN_WAIT_SECONDS,
                                               minimum=0, maximum=MAX_DRYRUN_WAIT_SECONDS),
            poll_interval_seconds=block.integer("pollIntervalSeconds", 60, minimum=MIN_POLL_INTERVAL_SECONDS,
                                                maximum=3600),
            data_removal_policy=block.removal_policy(),
            observability=ObservabilityConfig.read(block),
        )
        block.reject_unknown_keys()
        return config


def _version(block: ContextBlock) -> str:
    version = block.string("parallelclusterVersion", DEFAULT_PARALLELCLUSTER_VERSION, pattern=_VERSION,
                           description="a ParallelCluster 3 release such as '3.16.1'")
    minor, patch = (int(part) for part in _VERSION.fullmatch(version).groups())
    if (minor, patch) < _OLDEST_VERSION:
        raise block.fail("parallelclusterVersion", "must be 3.11.1 or newer (older Lambda layers are built for "
                                                   "Python 3.9, which Lambda no longer runs)", version)
    return version


def _external_provider(block: ContextBlock, provider: str) -> ExternalIdentityProvider | None:
    issuer = block.optional_string("issuer", pattern=_HTTPS, description="the https:// issuer URL of the tokens")
    audience = block.optional_string("audience", pattern=_AUDIENCE, description="the tokens' audience (aud)")
    jwks_url = block.optional_string("jwksUrl", pattern=_HTTPS, description="an https:// JWKS URL")
    if provider == "cognito":
        given = [name for name, value in (("issuer", issuer), ("audience", audience), ("jwksUrl", jwks_url)) if value]
        if given:
            raise block.fail(given[0], "must be unset when identityProvider is 'cognito' (the stack's user pool "
                                       "issues the tokens)", {"issuer": issuer, "audience": audience,
                                                              "jwksUrl": jwks_url}[given[0]])
        return None
    if issuer is None or audience is None:
        raise ConfigError(f"{block.key('issuer')} and {block.key('audience')} are required when "
                          f"{block.key('identityProvider')} is 'external'")
    return ExternalIdentityProvider(issuer=issuer, audience=audience, jwks_url=jwks_url)


def _permissions(block: ContextBlock, admin_scope: str) -> tuple[RoutePermission, ...]:
    lines = block.string_list("permissions", [], pattern=_PERMISSION,
                              description="'<METHOD or *> <resource path> <scope>' entries such as "
                                          "'GET /v3/clusters parallelcluster/read'")
    if not lines:
        return _fitting(block, "adminScope", default_permissions(admin_scope), admin_scope)
    methods_by_path: dict[str, set[str]] = {}
    for route in ROUTES:
        methods_by_path.setdefault(route.path, set()).add(route.method)
    permissions: dict[RoutePermission, None] = {}
    for line in lines:
        match = _PERMISSION.fullmatch(line)
        method, resource = match["method"], match["resource"]
        if resource not in methods_by_path:
            raise block.fail("permissions", f"names a resource the API does not have ('{resource}'; the API has "
                                            f"{', '.join(sorted(methods_by_path))})", line)
        if method != "*" and method not in methods_by_path[resource]:
            raise block.fail("permissions", f"names a method {resource} does not have ('{method}'; it has "
                                            f"{', '.join(sorted(methods_by_path[resource]))})", line)
        permissions[RoutePermission(method, resource, match["scope"])] = None
    return _fitting(block, "permissions", tuple(permissions), lines)


def _fitting(block: ContextBlock, name: str, permissions: tuple[RoutePermission, ...],
             value: object) -> tuple[RoutePermission, ...]:
    """The mapping travels in the authorizer's environment, which Lambda caps at 4 KiB in all."""
    size = len(json.dumps([asdict(p) for p in permissions], separators=(",", ":")))
    if size > MAX_PERMISSIONS_JSON_CHARS:
        raise block.fail(name, f"makes a permissions mapping of {size} characters of JSON, more than the "
                               f"{MAX_PERMISSIONS_JSON_CHARS} the authorizer's environment holds (use shorter "
                               "scopes, or '*' methods)", value)
    return permissions


def _network(block: ContextBlock) -> NetworkConfig:
    create_vpc = block.boolean("createVpc", True)
    description = "a subnet id such as 'subnet-0123456789abcdef0'"
    head = block.optional_string("headNodeSubnetId", pattern=_SUBNET_ID, description=description)
    compute = block.optional_string("computeSubnetId", pattern=_SUBNET_ID, description=description)
    if create_vpc and (head or compute):
        name = "headNodeSubnetId" if head else "computeSubnetId"
        raise block.fail(name, "must be unset when createVpc is true (the stack creates the subnets)", head or compute)
    if not create_vpc and not (head and compute):
        raise ConfigError(f"{block.key('headNodeSubnetId')} and {block.key('computeSubnetId')} are required when "
                          f"{block.key('createVpc')} is false")
    return NetworkConfig(create_vpc=create_vpc, head_node_subnet_id=head, compute_subnet_id=compute)
