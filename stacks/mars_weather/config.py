"""Settings of the Mars weather display backend, from the ``marsWeather`` context block."""
from __future__ import annotations

from dataclasses import dataclass

from constructs import Node

from stacks.common.config import ContextBlock, ObservabilityConfig

CONTEXT_KEY = "marsWeather"
IMAGE_SOURCES = ("curiosity_raw", "perseverance_raw", "mars_rover_photos")
WEATHER_SOURCES = ("msl_rems", "mars2020_meda", "insight_weather")
ROVERS = ("curiosity", "perseverance", "opportunity", "spirit")


@dataclass(frozen=True)
class MarsWeatherConfig:
    image_source: str
    weather_source: str
    rover_photos_rover: str
    cache_ttl_seconds: int
    device_refresh_minutes: int
    max_days_back: int
    upstream_timeout_seconds: int
    upstream_retries: int
    throttle_rate_limit: int
    throttle_burst_limit: int
    daily_quota: int
    image_retention_days: int
    observability: ObservabilityConfig

    @property
    def presigned_url_expiry_seconds(self) -> int:
        """A cached answer handed out at the very end of its life must still work for two
        device refreshes, so presigned URLs outlive the cache by two refresh intervals."""
        return self.cache_ttl_seconds + 2 * self.device_refresh_minutes * 60

    @classmethod
    def from_context(cls, node: Node) -> "MarsWeatherConfig":
        block = ContextBlock.from_node(node, CONTEXT_KEY)
        config = cls(
            image_source=block.choice("imageSource", "curiosity_raw", choices=IMAGE_SOURCES),
            weather_source=block.choice("weatherSource", "msl_rems", choices=WEATHER_SOURCES),
            rover_photos_rover=block.choice("roverPhotosRover", "curiosity", choices=ROVERS),
            cache_ttl_seconds=block.integer("cacheTtlSeconds", 3600, minimum=60, maximum=86400),
            device_refresh_minutes=block.integer("deviceRefreshMinutes", 30, minimum=1, maximum=1440),
            max_days_back=block.integer("maxDaysBack", 7, minimum=1, maximum=30),
            upstream_timeout_seconds=block.integer("upstreamTimeoutSeconds", 5, minimum=1, maximum=10),
            upstream_retries=block.integer("upstreamRetries", 2, minimum=0, maximum=5),
            throttle_rate_limit=block.integer("throttleRateLimit", 2, minimum=1, maximum=1000),
            throttle_burst_limit=block.integer("throttleBurstLimit", 5, minimum=1, maximum=2000),
            daily_quota=block.integer("dailyQuota", 500, minimum=1, maximum=1_000_000),
            image_retention_days=block.integer("imageRetentionDays", 7, minimum=1, maximum=365),
            observability=ObservabilityConfig.read(block),
        )
        block.reject_unknown_keys()
        return config
