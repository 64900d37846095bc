"""Settings of the URL shortener, from the ``urlShortener`` block of ``cdk.json`` context."""
from __future__ import annotations

import re
from dataclasses import dataclass

import aws_cdk as cdk
from constructs import Node

from stacks.common.config import ContextBlock, ObservabilityConfig
from stacks.common.users import UserPoolSettings

CONTEXT_KEY = "urlShortener"
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
    users: UserPoolSettings
    waf_requests_per_ip_per_5_min: int
    page_size: int
    redirect_cache_seconds: int
    stage_name: str
    throttle: ThrottleConfig
    latency_alarm_ms: int
    data_removal_policy: cdk.RemovalPolicy
    observability: ObservabilityConfig
    # The stack hosts the dashboard (web/shortener) on CloudFront.
    web_client: bool

    @classmethod
    def from_context(cls, node: Node) -> "UrlShortenerConfig":
        block = ContextBlock.from_node(node, CONTEXT_KEY)
        throttle = ThrottleConfig(
            rate_limit=block.integer("throttleRateLimit", 2000, minimum=1, maximum=10000),
            burst_limit=block.integer("throttleBurstLimit", 1000, minimum=1, maximum=5000),
            redirect_rate_limit=block.integer("redirectThrottleRateLimit", 10000, minimum=1, maximum=10000),
            redirect_burst_limit=block.integer("redirectThrottleBurstLimit", 5000, minimum=1, maximum=5000),
        )
        config = cls(
            not_found_url=block.https_url("notFoundUrl", "https://example.com/link-not-found"),
            allowed_origins=block.origins("allowedOrigins", ["http://localhost:8080"]),
            users=UserPoolSettings.read(block),
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
            web_client=block.boolean("webClient", True),
        )
        block.reject_unknown_keys()
        return config

