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


@dataclass(frozen=True)
class AskAroundMeConfig:
    # "cognito": the stack creates a user pool that issues the JWTs; "external": an OIDC
    # provider such as Auth0 does, named by jwtIssuer and jwtAudience.
    identity_provider: str
    jwt_issuer: str | None
    jwt_audience: tuple[str, ...]
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
        config = cls(
            identity_provider=provider, jwt_issuer=issuer, jwt_audience=tuple(audience),
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
        )
        for name, post, stage in (("postRateLimit", config.post_rate_limit, config.throttle_rate_limit),
                                  ("postBurstLimit", config.post_burst_limit, config.throttle_burst_limit)):
            if post > stage:
                raise block.fail(name, f"must not exceed the stage default ({stage})", post)
        block.reject_unknown_keys()
        return config
