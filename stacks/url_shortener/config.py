"""Settings of the URL shortener, from the ``urlShortener`` block of ``cdk.json`` context."""
from __future__ import annotations

import re
from dataclasses import dataclass

import aws_cdk as cdk
from constructs import Node

from stacks.common.config import ContextBlock, ObservabilityConfig

CONTEXT_KEY = "urlShortener"
# Cognito: lowercase letters, digits and hyphens; "aws", "amazon" and "cognito" are reserved.
_DOMAIN_PREFIX = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")
_STAGE = re.compile(r"^[A-Za-z0-9_]{1,64}$")


@dataclass(frozen=True)
class ThrottleConfig:
    rate_limit: int
    burst_limit: int
    redirect_rate_limit: int
    redirect_burst_limit: int


@dataclass(frozen=True)
class UrlShortenerConfig:
    not_found_url: str
    allowed_origins: tuple[str, ...]
    callback_urls: tuple[str, ...]
    logout_urls: tuple[str, ...]
    cognito_domain_prefix: str | None
    require_mfa: bool
    cognito_plus_plan: bool
    waf_requests_per_ip_per_5_min: int
    page_size: int
    redirect_cache_seconds: int
    stage_name: str
    throttle: ThrottleConfig
    latency_alarm_ms: int
    data_removal_policy: cdk.RemovalPolicy
    observability: ObservabilityConfig

    @classmethod
    def from_context(cls, node: Node) -> "UrlShortenerConfig":
        block = ContextBlock.from_node(node, CONTEXT_KEY)
        prefix = block.optional_string("cognitoDomainPrefix", pattern=_DOMAIN_PREFIX,
                                       description="a Cognito domain prefix (lowercase letters, digits, hyphens)")
        if prefix and any(word in prefix for word in ("aws", "amazon", "cognito")):
            raise block.fail("cognitoDomainPrefix", "must not contain aws, amazon or cognito", prefix)
        throttle = ThrottleConfig(
            rate_limit=block.integer("throttleRateLimit", 2000, minimum=1, maximum=10000),
            burst_limit=block.integer("throttleBurstLimit", 1000, minimum=1, maximum=5000),
            redirect_rate_limit=block.integer("redirectThrottleRateLimit", 10000, minimum=1, maximum=10000),
            redirect_burst_limit=block.integer("redirectThrottleBurstLimit", 5000, minimum=1, maximum=5000),
        )
        config = cls(
            not_found_url=block.https_url("notFoundUrl", "https://example.com/link-not-found"),
            allowed_origins=block.origins("allowedOrigins", ["http://localhost:8080"]),
            callback_urls=block.url_list("callbackUrls", ["http://localhost:8080/callback"]),
            logout_urls=block.url_list("logoutUrls", ["http://localhost:8080/"]),
            cognito_domain_prefix=prefix,
            require_mfa=block.boolean("requireMfa", True),
            cognito_plus_plan=block.choice("cognitoFeaturePlan", "plus", choices=("plus", "essentials")) == "plus",
            waf_requests_per_ip_per_5_min=block.integer("wafRequestsPerIpPer5Min", 2000,
                                                        minimum=10, maximum=2_000_000_000),
            page_size=block.integer("pageSize", 25, minimum=1, maximum=100),
            redirect_cache_seconds=block.integer("redirectCacheSeconds", 300, minimum=0, maximum=86400),
            stage_name=block.string("stageName", "prod", pattern=_STAGE,
                                    description="an API stage name (letters, digits, underscore)"),
            throttle=throttle,
            latency_alarm_ms=block.integer("latencyAlarmMs", 75, minimum=1, maximum=29000),
            data_removal_policy=block.removal_policy(),
            observability=ObservabilityConfig.read(block),
        )
        for name, urls in (("callbackUrls", config.callback_urls), ("logoutUrls", config.logout_urls)):
            for url in urls:
                if not (url.startswith("https://") or url.startswith("http://localhost")):
                    raise block.fail(name, "must hold https:// URLs (http:// only for localhost)", url)
        block.reject_unknown_keys()
        return config

