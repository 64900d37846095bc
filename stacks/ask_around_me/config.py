"""Settings of Ask Around Me, from the ``askAroundMe`` block of ``cdk.json`` context."""
from __future__ import annotations

import re
from dataclasses import dataclass

import aws_cdk as cdk
from constructs import Node

from stacks.common.config import ConfigError, ContextBlock, ObservabilityConfig
from stacks.common.users import UserPoolSettings

CONTEXT_KEY = "askAroundMe"
_TOPIC_PREFIX = re.compile(r"^[a-z][a-z0-9-]{0,31}$")
_AUDIENCE = re.compile(r"^\S{1,256}$")
# IAM keeps the provider's URL verbatim after "oidc-provider/", scheme removed: host, any path,
# and a trailing slash if it was registered with one. Global: no region in the ARN.
_OIDC_PROVIDER_ARN = re.compile(
    r"^arn:aws(?:-[a-z]+)*:iam::\d{12}:oidc-provider/(?P<url>[A-Za-z0-9.-]+(?:/[^\s?#]*)?)$")
# A Leaflet-style tile URL template on https: an optional {s} subdomain label, a host, and a
# path naming {z}, {x} and {y} (in any order, with anything else such as {r} or an API key).
_TILE_URL = re.compile(r"^https://(?P<subdomain>\{s\}\.)?(?P<host>[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+(?::\d{1,5})?)"
                       r"/(?=\S*\{z\})(?=\S*\{x\})(?=\S*\{y\})[^\s\"'<>]*$")
# Shown on the map (Leaflet renders it as HTML): no markup, entities such as &copy; are fine.
_ATTRIBUTION = re.compile(r"^[^<>\n\r]{1,300}$")
DEFAULT_TILE_URL = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
DEFAULT_TILE_ATTRIBUTION = "\u00a9 OpenStreetMap contributors"


def login_provider_name(issuer_url: str) -> str:
    """How a Cognito identity pool names the provider of ``issuer_url``: the key of its ``Logins``.

    The issuer URL without ``https://`` and without a trailing slash (``tenant.auth0.com`` for
    ``https://tenant.auth0.com/``); Cognito matches it with the token's ``iss`` read the same
    way, whether the IAM provider was registered with the slash or without it. For a Cognito
    user pool this is its provider name, ``cognito-idp.<region>.amazonaws.com/<pool id>``.
    """
    name = issuer_url.removeprefix("https://").rstrip("/")
    if not issuer_url.startswith("https://") or not name or "://" in name:
        raise ValueError(f"not an https issuer URL: {issuer_url!r}")
    return name


@dataclass(frozen=True)
class TileServer:
    """Where the web client's map tiles come from (a URL template) and the credit it must show."""
    url: str
    attribution: str

    @property
    def origin(self) -> str:
        """The images' origin, for the client's CSP: ``https://*.<host>`` when the template
        spreads tiles over ``{s}`` subdomains."""
        match = _TILE_URL.fullmatch(self.url)
        assert match is not None, "validated by from_context"
        return f"https://{'*.' if match['subdomain'] else ''}{match['host']}"


@dataclass(frozen=True)
class AskAroundMeConfig:
    # "cognito": the stack creates a user pool that issues the JWTs; "external": an OIDC
    # provider such as Auth0 does, named by jwtIssuer and jwtAudience.
    identity_provider: str
    jwt_issuer: str | None
    jwt_audience: tuple[str, ...]
    # "external" only: an IAM OIDC provider of jwtIssuer that already exists in the account
    # (IAM allows one per URL), referenced instead of created.
    oidc_provider_arn: str | None
    # The stack's own user pool (identityProvider "cognito" only).
    users: UserPoolSettings | None
    allowed_origins: tuple[str, ...]
    topic_prefix: str
    question_open_hours: int
    throttle_rate_limit: int
    throttle_burst_limit: int
    post_rate_limit: int
    post_burst_limit: int
    data_removal_policy: cdk.RemovalPolicy
    observability: ObservabilityConfig
    # The stack hosts the web client (web/askaroundme) on CloudFront, its map tiles from here.
    web_client: bool
    tiles: TileServer

    @classmethod
    def from_context(cls, node: Node) -> "AskAroundMeConfig":
        block = ContextBlock.from_node(node, CONTEXT_KEY)
        provider = block.choice("identityProvider", "cognito", choices=("cognito", "external"))
        issuer = block.optional_string("jwtIssuer", pattern=re.compile(r"^https://\S+$"),
                                       description="the https:// issuer URL of the JWTs")
        audience = block.string_list("jwtAudience", [], pattern=_AUDIENCE, description="audience strings")
        if provider == "external" and (issuer is None or not audience):
            raise ConfigError(f"{CONTEXT_KEY}.jwtIssuer and {CONTEXT_KEY}.jwtAudience are required when "
                              f"{CONTEXT_KEY}.identityProvider is 'external'")
        if provider == "cognito" and (issuer is not None or audience):
            raise ConfigError(f"{CONTEXT_KEY}.jwtIssuer and {CONTEXT_KEY}.jwtAudience must be unset when "
                              f"{CONTEXT_KEY}.identityProvider is 'cognito' (the stack's user pool issues the JWTs)")
        provider_arn = block.optional_string(
            "oidcProviderArn", pattern=_OIDC_PROVIDER_ARN,
            description="an IAM OIDC provider ARN, arn:aws:iam::<account>:oidc-provider/<issuer without https://>")
        if provider_arn is not None and provider != "external":
            raise block.fail("oidcProviderArn", "is for identityProvider 'external' only (the stack's user pool "
                                                "needs no IAM OIDC provider)", provider_arn)
        if provider_arn is not None and issuer is not None:
            registered = _OIDC_PROVIDER_ARN.fullmatch(provider_arn)["url"]
            if registered.rstrip("/") != login_provider_name(issuer):
                raise block.fail("oidcProviderArn", f"must name the IAM OIDC provider of jwtIssuer "
                                                    f"({login_provider_name(issuer)}), with or without its trailing "
                                                    f"slash", provider_arn)
        config = cls(
            identity_provider=provider, jwt_issuer=issuer, jwt_audience=tuple(audience),
            oidc_provider_arn=provider_arn,
            users=UserPoolSettings.read(block) if provider == "cognito" else None,
            allowed_origins=block.origins("allowedOrigins", ["http://localhost:8080"]),
            topic_prefix=block.string("topicPrefix", "askaroundme", pattern=_TOPIC_PREFIX,
                                      description="a lowercase MQTT topic prefix"),
            question_open_hours=block.integer("questionOpenHours", 24, minimum=1, maximum=24 * 30),
            throttle_rate_limit=block.integer("throttleRateLimit", 100, minimum=1, maximum=10000),
            throttle_burst_limit=block.integer("throttleBurstLimit", 200, minimum=1, maximum=5000),
            post_rate_limit=block.integer("postRateLimit", 20, minimum=1, maximum=10000),
            post_burst_limit=block.integer("postBurstLimit", 50, minimum=1, maximum=5000),
            data_removal_policy=block.removal_policy(),
            observability=ObservabilityConfig.read(block),
            web_client=block.boolean("webClient", True),
            tiles=TileServer(
                url=block.string("tileUrl", DEFAULT_TILE_URL, pattern=_TILE_URL,
                                 description="an https:// tile URL template naming {z}, {x} and {y} "
                                             "(an optional {s}. subdomain first)"),
                attribution=block.string("tileAttribution", DEFAULT_TILE_ATTRIBUTION, pattern=_ATTRIBUTION,
                                         description="plain text of at most 300 characters (no < or >)")),
        )
        for name, post, stage in (("postRateLimit", config.post_rate_limit, config.throttle_rate_limit),
                                  ("postBurstLimit", config.post_burst_limit, config.throttle_burst_limit)):
            if post > stage:
                raise block.fail(name, f"must not exceed the stage default ({stage})", post)
        block.reject_unknown_keys()
        return config
