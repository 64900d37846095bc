"""Cache expiry and stale fallbacks, with the clock in the test's hands (fake NASA + moto S3)."""
from __future__ import annotations

import os
from datetime import datetime, timedelta, timezone

import pytest

from lambda_src.mars_weather.display_data import logic
from lambda_src.mars_weather.display_data.config import Settings
from lambda_src.mars_weather.display_data.storage import Store
from lambda_src.mars_weather.display_data.upstream import Deadline, Upstream

from .conftest import BUCKET, LATEST_SOL, MSL_RAW_PATH, PHOTO_PATH, RSS_PATH

T0 = datetime(2025, 6, 1, 12, 0, tzinfo=timezone.utc)


@pytest.fixture
def compose(aws, function_env):
    """``compose(now)``: one request's worth of logic with its own memory cache and deadline."""
    memory: dict = {}
    store = Store(aws["s3"], BUCKET)

    def call(now: datetime, **env: str):
        settings = Settings.from_env({**os.environ, **env})
        upstream = Upstream(timeout=0.4, retries=0, backoff=0.0, deadline=Deadline(5))
        return logic.display_data(settings, store=store, upstream=upstream, api_key=lambda: "DEMO_KEY",
                                  now=now, memory=memory)

    call.memory = memory  # type: ignore[attr-defined]
    return call


def test_a_result_younger_than_the_ttl_is_served_from_memory(scenario, nasa, compose):
    scenario.normal_day()
    compose(T0)
    calls = nasa.total_hits

    _, served_from = compose(T0 + timedelta(minutes=59))

    assert served_from == "memory"
    assert nasa.total_hits == calls


def test_a_result_older_than_the_ttl_is_fetched_again(scenario, nasa, compose):
    scenario.normal_day()
    compose(T0)
    calls = nasa.total_hits

    body, served_from = compose(T0 + timedelta(minutes=61))

    assert served_from == "upstream"
    assert nasa.total_hits > calls
    assert body["generated_at"] == "2025-06-01T13:01:00Z"


def test_the_cache_ttl_comes_from_the_environment(scenario, compose):
    scenario.normal_day()

    body, _ = compose(T0, CACHE_TTL_SECONDS="600")

    assert body["next_refresh_at"] == "2025-06-01T12:10:00Z"


def test_a_partial_result_is_cached_for_the_shorter_partial_ttl(scenario, compose):
    scenario.normal_day()
    scenario.rems(soles=[])

    body, _ = compose(T0)

    assert body["weather"] is None
    assert body["next_refresh_at"] == "2025-06-01T12:05:00Z"


def test_when_nasa_fails_after_a_good_day_the_last_parts_are_served_as_stale(scenario, nasa, compose):
    scenario.normal_day()
    good, _ = compose(T0)
    nasa.reset()
    nasa.route(MSL_RAW_PATH, status=502)
    nasa.route(RSS_PATH, status=502)

    body, _ = compose(T0 + timedelta(hours=2))

    assert body["status"] == "partial"
    assert body["missing"] == {}
    assert body["image"]["stale"] is True and body["weather"]["stale"] is True
    assert body["image"]["id"] == good["image"]["id"]
    assert body["weather"]["sol"] == LATEST_SOL - 1
    assert any("HTTP 502" in warning for warning in body["warnings"])
    assert body["next_refresh_at"] == "2025-06-01T14:05:00Z"


def test_a_stale_photo_whose_object_is_gone_is_not_offered(scenario, nasa, compose, aws):
    scenario.normal_day()
    good, _ = compose(T0)
    for item in aws["s3"].list_objects_v2(Bucket=BUCKET, Prefix="images/")["Contents"]:
        aws["s3"].delete_object(Bucket=BUCKET, Key=item["Key"])  # what the lifecycle rule does
    nasa.route(MSL_RAW_PATH, status=502)

    body, _ = compose(T0 + timedelta(hours=2))

    assert body["image"] is None
    assert "HTTP 502" in body["missing"]["image"]


def test_the_same_photo_as_last_time_is_not_downloaded_again(scenario, nasa, compose):
    scenario.normal_day()
    compose(T0)
    downloads = nasa.hits(PHOTO_PATH)

    body, _ = compose(T0 + timedelta(hours=2))

    assert nasa.hits(PHOTO_PATH) == downloads == 1
    assert body["image"]["stale"] is False
    assert body["image"]["fetched_at"] == "2025-06-01T14:00:00Z"


def test_every_answer_carries_a_freshly_signed_photo_url(scenario, compose):
    scenario.normal_day()
    first, _ = compose(T0)

    second, served_from = compose(T0 + timedelta(minutes=30))

    assert served_from == "memory"
    assert second["image"]["url_expires_at"] == "2025-06-01T14:30:00Z"
    assert first["image"]["url_expires_at"] == "2025-06-01T14:00:00Z"


def test_a_record_cached_for_other_sources_is_not_served(scenario, nasa, compose):
    scenario.normal_day()
    compose(T0)
    nasa.route(RSS_PATH, match={"feed": "weather", "category": "mars2020"},
               json_body={"sols": [{"sol": "1131", "terrestrial_date": "2024-04-27", "min_temp": -81,
                                    "max_temp": -20, "pressure": 757, "season": "early spring"}]})

    body, served_from = compose(T0 + timedelta(minutes=1), MARS_WEATHER_SOURCE="mars2020_meda")

    assert served_from == "upstream"
    assert body["weather"]["sol"] == 1131
