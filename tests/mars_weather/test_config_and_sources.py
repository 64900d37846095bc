"""Settings from the environment, and the feeds' odd values turned into plain ones."""
from __future__ import annotations

import pytest

from lambda_src.mars_weather.display_data import config
from lambda_src.mars_weather.display_data.config import ConfigError, Settings
from lambda_src.mars_weather.display_data.sources import integer, number, text
from lambda_src.mars_weather.display_data.storage import DEMO_KEY, api_key_from_secret_string
from lambda_src.mars_weather.display_data.upstream import Deadline, Upstream, UpstreamError


def test_defaults_are_the_current_nasa_feeds_with_a_one_hour_cache():
    settings = Settings.from_env({"IMAGE_BUCKET_NAME": "b"})

    assert (settings.image_source, settings.weather_source) == ("curiosity_raw", "msl_rems")
    assert settings.cache_ttl_seconds == 3600
    assert settings.msl_raw_images_url == "https://mars.nasa.gov/api/v1/raw_image_items/"
    assert settings.mars_rss_api_url == "https://mars.nasa.gov/rss/api/"
    assert settings.nasa_api_url == "https://api.nasa.gov"


def test_the_bucket_is_required():
    with pytest.raises(ConfigError, match="IMAGE_BUCKET_NAME"):
        Settings.from_env({})


@pytest.mark.parametrize("name, value", [
    ("MARS_IMAGE_SOURCE", "hubble"), ("CACHE_TTL_SECONDS", "soon"), ("CACHE_TTL_SECONDS", "5"),
    ("MAX_DAYS_BACK", "365"), ("UPSTREAM_RETRIES", "-1"), ("NASA_API_URL", "ftp://api.nasa.gov"),
    ("UPSTREAM_BUDGET_SECONDS", "60"),
])
def test_an_invalid_value_is_rejected_naming_the_variable(name, value):
    with pytest.raises(ConfigError, match=name):
        Settings.from_env({"IMAGE_BUCKET_NAME": "b", name: value})


def test_every_variable_read_is_listed_for_the_stack():
    source = open(config.__file__, encoding="utf-8").read()
    constants = {value for name, value in vars(config).items()
                 if name.isupper() and isinstance(value, str) and f'"{value}"' in source and value.isupper()}

    assert constants <= set(config.ENVIRONMENT_VARIABLES)
    assert set(config.REQUIRED_ENVIRONMENT_VARIABLES) <= set(config.ENVIRONMENT_VARIABLES)


@pytest.mark.parametrize("raw, expected", [("-78", -78.0), (812, 812.0), ("--", None), ("", None),
                                           (None, None), ("NaN", None), ("n/a", None), (True, None)])
def test_feed_numbers_and_their_missing_markers(raw, expected):
    assert number(raw) == expected


def test_feed_integers_and_texts():
    assert integer("4500") == 4500 and integer("4500.5") is None
    assert text(" Sunny ") == "Sunny" and text("--") is None


@pytest.mark.parametrize("secret, expected", [
    ('{"api_key": "abc"}', "abc"), ('{"api_key": "", "unused": "x"}', DEMO_KEY), ("abc123", "abc123"),
    ("", DEMO_KEY), (None, DEMO_KEY), ("{broken", DEMO_KEY), ('{"nasa_api_key": " k "}', "k"),
])
def test_the_key_is_read_from_the_secret_or_falls_back_to_demo_key(secret, expected):
    assert api_key_from_secret_string(secret) == expected


def test_no_upstream_call_starts_once_the_deadline_has_passed():
    upstream = Upstream(timeout=1, retries=3, backoff=0, deadline=Deadline(0))

    with pytest.raises(UpstreamError, match="budget"):
        upstream.get_bytes("http://127.0.0.1:9/never", what="test feed", max_bytes=10)
    assert upstream.calls == 0


def test_the_deadline_leaves_time_to_answer_before_the_lambda_timeout():
    deadline = Deadline.for_invocation(20, lambda_remaining_seconds=10, reserve_seconds=4)

    assert 5.5 < deadline.remaining() <= 6
