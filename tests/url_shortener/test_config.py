"""A bad urlShortener setting fails synth with a message naming the key."""
from __future__ import annotations

import aws_cdk as cdk
import pytest

from stacks.common.config import ConfigError
from stacks.url_shortener.config import UrlShortenerConfig
from tests.conftest import project_context


def config_with(**overrides) -> UrlShortenerConfig:
    context = project_context()
    context["urlShortener"].update(overrides)
    return UrlShortenerConfig.from_context(cdk.App(context=context).node)


def test_the_shipped_cdk_json_is_valid():
    config = config_with()
    assert config.throttle.rate_limit == 2000 and config.throttle.redirect_rate_limit == 10000
    assert config.data_removal_policy == cdk.RemovalPolicy.RETAIN


def test_defaults_synth_without_any_context():
    config = UrlShortenerConfig.from_context(cdk.App().node)
    assert config.not_found_url.startswith("https://")
    assert "*" not in config.allowed_origins


@pytest.mark.parametrize("key, value", [
    ("notFoundUrl", "http://example.com/not-found"),
    ("notFoundUrl", "/relative"),
    ("allowedOrigins", ["https://app.example.com/path"]),
    ("allowedOrigins", []),
    ("allowedOrigins", ["*", "https://app.example.com"]),
    ("callbackUrls", ["http://app.example.com/callback"]),
    ("logoutUrls", "https://example.com"),
    ("pageSize", 0),
    ("pageSize", "25"),
    ("throttleRateLimit", -1),
    ("redirectThrottleBurstLimit", True),
    ("dataRemovalPolicy", "snapshot"),
    ("cognitoDomainPrefix", "My_Domain"),
    ("cognitoDomainPrefix", "aws-links"),
    ("cognitoFeaturePlan", "lite"),
    ("logRetentionDays", 42),
    ("alarmEmail", "not-an-email"),
    ("stageName", "prod/v1"),
])
def test_a_bad_value_names_its_key(key, value):
    with pytest.raises(ConfigError, match=rf"urlShortener\.{key}"):
        config_with(**{key: value})


def test_an_unknown_key_is_a_typo_not_ignored():
    with pytest.raises(ConfigError, match=r"urlShortener\.notFoundURL is not a known setting"):
        config_with(notFoundURL="https://example.com")


def test_a_wildcard_origin_is_allowed_only_when_configured_alone():
    assert config_with(allowedOrigins=["*"]).allowed_origins == ("*",)
