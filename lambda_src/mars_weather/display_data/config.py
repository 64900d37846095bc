"""The function's settings, read from environment variables the stack sets.

Every name the function reads is listed in :data:`ENVIRONMENT_VARIABLES`; a bad value
raises :class:`ConfigError` naming the variable. Pure: no AWS calls, no network.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping
from urllib.parse import urlsplit

# --- names of the environment variables ---------------------------------------------
IMAGE_SOURCE = "MARS_IMAGE_SOURCE"
WEATHER_SOURCE = "MARS_WEATHER_SOURCE"
NASA_API_KEY_SECRET_ID = "NASA_API_KEY_SECRET_ID"  # secret ARN or name
IMAGE_BUCKET_NAME = "IMAGE_BUCKET_NAME"
CACHE_TTL_SECONDS = "CACHE_TTL_SECONDS"
PARTIAL_CACHE_TTL_SECONDS = "PARTIAL_CACHE_TTL_SECONDS"
PRESIGNED_URL_EXPIRY_SECONDS = "PRESIGNED_URL_EXPIRY_SECONDS"
MAX_DAYS_BACK = "MAX_DAYS_BACK"
UPSTREAM_TIMEOUT_SECONDS = "UPSTREAM_TIMEOUT_SECONDS"
UPSTREAM_RETRIES = "UPSTREAM_RETRIES"
UPSTREAM_BACKOFF_SECONDS = "UPSTREAM_BACKOFF_SECONDS"
UPSTREAM_BUDGET_SECONDS = "UPSTREAM_BUDGET_SECONDS"
MARS_ROVER_PHOTOS_ROVER = "MARS_ROVER_PHOTOS_ROVER"
MSL_RAW_IMAGES_URL = "MSL_RAW_IMAGES_URL"
MARS_RSS_API_URL = "MARS_RSS_API_URL"
NASA_API_URL = "NASA_API_URL"

ENVIRONMENT_VARIABLES: tuple[str, ...] = (
    IMAGE_SOURCE, WEATHER_SOURCE, NASA_API_KEY_SECRET_ID, IMAGE_BUCKET_NAME,
    CACHE_TTL_SECONDS, PARTIAL_CACHE_TTL_SECONDS, PRESIGNED_URL_EXPIRY_SECONDS,
    MAX_DAYS_BACK, UPSTREAM_TIMEOUT_SECONDS, UPSTREAM_RETRIES, UPSTREAM_BACKOFF_SECONDS,
    UPSTREAM_BUDGET_SECONDS, MARS_ROVER_PHOTOS_ROVER, MSL_RAW_IMAGES_URL, MARS_RSS_API_URL,
    NASA_API_URL,
)
REQUIRED_ENVIRONMENT_VARIABLES: tuple[str, ...] = (IMAGE_BUCKET_NAME,)

# --- choices and defaults -------------------------------------------------------------
IMAGE_SOURCES = ("curiosity_raw", "perseverance_raw", "mars_rover_photos")
WEATHER_SOURCES = ("msl_rems", "mars2020_meda", "insight_weather")
ROVERS = ("curiosity", "perseverance", "opportunity", "spirit")

DEFAULT_MSL_RAW_IMAGES_URL = "https://mars.nasa.gov/api/v1/raw_image_items/"
DEFAULT_MARS_RSS_API_URL = "https://mars.nasa.gov/rss/api/"
DEFAULT_NASA_API_URL = "https://api.nasa.gov"


class ConfigError(ValueError):
    """An environment variable is missing or invalid; the message names it."""


@dataclass(frozen=True)
class Settings:
    image_source: str = "curiosity_raw"
    weather_source: str = "msl_rems"
    bucket: str = ""
    nasa_api_key_secret_id: str | None = None
    cache_ttl_seconds: int = 3600
    partial_cache_ttl_seconds: int = 300
    presigned_url_expiry_seconds: int = 7200
    max_days_back: int = 7
    upstream_timeout_seconds: float = 5.0
    upstream_retries: int = 2
    upstream_backoff_seconds: float = 0.5
    upstream_budget_seconds: float = 20.0
    mars_rover_photos_rover: str = "curiosity"
    msl_raw_images_url: str = DEFAULT_MSL_RAW_IMAGES_URL
    mars_rss_api_url: str = DEFAULT_MARS_RSS_API_URL
    nasa_api_url: str = DEFAULT_NASA_API_URL

    @property
    def cache_name(self) -> str:
        """Which cached record serves these settings: one per pair of sources."""
        return f"{self.image_source}--{self.weather_source}"

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> "Settings":
        read = _Reader(environ)
        return cls(
            image_source=read.choice(IMAGE_SOURCE, IMAGE_SOURCES, cls.image_source),
            weather_source=read.choice(WEATHER_SOURCE, WEATHER_SOURCES, cls.weather_source),
            bucket=read.required(IMAGE_BUCKET_NAME),
            nasa_api_key_secret_id=read.optional(NASA_API_KEY_SECRET_ID),
            cache_ttl_seconds=int(read.number(CACHE_TTL_SECONDS, cls.cache_ttl_seconds, 60, 86_400, integer=True)),
            partial_cache_ttl_seconds=int(read.number(PARTIAL_CACHE_TTL_SECONDS, cls.partial_cache_ttl_seconds,
                                                      30, 86_400, integer=True)),
            presigned_url_expiry_seconds=int(read.number(PRESIGNED_URL_EXPIRY_SECONDS,
                                                         cls.presigned_url_expiry_seconds, 300, 604_800,
                                                         integer=True)),
            max_days_back=int(read.number(MAX_DAYS_BACK, cls.max_days_back, 1, 30, integer=True)),
            upstream_timeout_seconds=read.number(UPSTREAM_TIMEOUT_SECONDS, cls.upstream_timeout_seconds, 0.1, 25),
            upstream_retries=int(read.number(UPSTREAM_RETRIES, cls.upstream_retries, 0, 5, integer=True)),
            upstream_backoff_seconds=read.number(UPSTREAM_BACKOFF_SECONDS, cls.upstream_backoff_seconds, 0, 10),
            upstream_budget_seconds=read.number(UPSTREAM_BUDGET_SECONDS, cls.upstream_budget_seconds, 1, 25),
            mars_rover_photos_rover=read.choice(MARS_ROVER_PHOTOS_ROVER, ROVERS, cls.mars_rover_photos_rover),
            msl_raw_images_url=read.url(MSL_RAW_IMAGES_URL, DEFAULT_MSL_RAW_IMAGES_URL),
            mars_rss_api_url=read.url(MARS_RSS_API_URL, DEFAULT_MARS_RSS_API_URL),
            nasa_api_url=read.url(NASA_API_URL, DEFAULT_NASA_API_URL),
        )


class _Reader:
    def __init__(self, environ: Mapping[str, str]) -> None:
        self._environ = environ

    def _raw(self, name: str) -> str | None:
        value = self._environ.get(name)
        if value is None or not value.strip():
            return None
        return value.strip()

    def required(self, name: str) -> str:
        value = self._raw(name)
        if value is None:
            raise ConfigError(f"{name} must be set")
        return value

    def optional(self, name: str) -> str | None:
        return self._raw(name)

    def choice(self, name: str, choices: tuple[str, ...], default: str) -> str:
        value = self._raw(name) or default
        if value not in choices:
            raise ConfigError(f"{name} must be one of {', '.join(choices)}, got {value!r}")
        return value

    def number(self, name: str, default: float, low: float, high: float, *, integer: bool = False) -> float:
        raw = self._raw(name)
        if raw is None:
            return default
        try:
            value = int(raw) if integer else float(raw)
        except ValueError:
            kind = "an integer" if integer else "a number"
            raise ConfigError(f"{name} must be {kind} between {low:g} and {high:g}, got {raw!r}") from None
        if not low <= value <= high:
            raise ConfigError(f"{name} must be between {low:g} and {high:g}, got {raw!r}")
        return value

    def url(self, name: str, default: str) -> str:
        value = self._raw(name) or default
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ConfigError(f"{name} must be an absolute http(s) URL, got {value!r}")
        return value
