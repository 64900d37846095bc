"""GET /mars end to end: the handler against a fake NASA on loopback, S3 and Secrets Manager in moto."""
from __future__ import annotations

import json
import time
from datetime import datetime, timedelta, timezone
from urllib.parse import parse_qs, urlsplit

from .conftest import (
    BUCKET,
    LATEST_SOL,
    MSL_RAW_PATH,
    REGION,
    RSS_PATH,
    FakeLambdaContext,
    curiosity_item,
    jpeg_bytes,
    perseverance_image,
    rems_sol,
)


def per_sol_queries(nasa) -> list[int]:
    return [int(seen.query["condition_2"].split(":")[0]) for seen in nasa.seen
            if seen.path == MSL_RAW_PATH and "condition_2" in seen.query]


# --- a normal day ------------------------------------------------------------------------

def test_a_normal_day_answers_200_with_the_photo_and_the_weather(scenario, invoke):
    scenario.normal_day()

    response = invoke()

    assert response["statusCode"] == 200
    body = response["json"]
    assert body["version"] == 1
    assert body["status"] == "complete"
    assert body["missing"] == {}
    assert body["image"]["rover"] == "Curiosity"
    assert body["image"]["sol"] == LATEST_SOL
    assert body["image"]["earth_date"] == "2025-05-31"
    assert body["weather"]["sol"] == LATEST_SOL - 1
    assert body["weather"]["temperature_c"] == {"min": -78.0, "max": -12.0, "average": None}
    assert body["weather"]["pressure_pa"] == 812.0
    assert body["weather"]["season"] == "Month 7"
    assert body["weather"]["wind"] == {"speed_mps": None, "direction": None}


def test_the_response_is_json_and_never_cached_by_intermediaries(scenario, invoke):
    scenario.normal_day()

    headers = invoke()["headers"]

    assert headers["Content-Type"] == "application/json"
    assert headers["Cache-Control"] == "no-store"
    assert headers["X-Mars-Response-Version"] == "1"


def test_the_preferred_camera_is_chosen_and_thumbnails_are_skipped(scenario, invoke):
    scenario.normal_day()

    image = invoke()["json"]["image"]

    assert image["camera"] == "NAV_LEFT_B"


def test_the_photo_url_is_a_presigned_link_to_a_bmp_in_the_private_bucket(scenario, invoke, aws):
    scenario.normal_day()

    image = invoke()["json"]["image"]

    url = urlsplit(image["url"])
    query = parse_qs(url.query)
    assert url.scheme == "https"
    assert url.netloc == f"{BUCKET}.s3.{REGION}.amazonaws.com"  # regional: no 307 for new buckets
    assert "X-Amz-Signature" in query
    assert int(query["X-Amz-Expires"][0]) >= 2 * 30 * 60  # two refreshes of a 30-minute device
    key = url.path.lstrip("/")
    assert key.startswith("images/") and key.endswith(".bmp")
    stored = aws["s3"].get_object(Bucket=BUCKET, Key=key)
    assert stored["ContentType"] == "image/bmp"
    assert stored["Body"].read()[:2] == b"BM"
    assert (image["width"], image["height"], image["bits_per_pixel"]) == (320, 240, 8)


# --- choosing the frame ------------------------------------------------------------------

def test_a_curiosity_full_frame_is_chosen_over_a_subframe_from_a_preferred_camera(scenario, invoke):
    scenario.curiosity_latest_sol()
    url = scenario.photo()
    scenario.curiosity_sol(LATEST_SOL, [curiosity_item(LATEST_SOL, url, instrument="MAST_LEFT", sample_type="subframe"),
                                        curiosity_item(LATEST_SOL, url, instrument="NAV_LEFT_B")])
    scenario.rems()

    image = invoke()["json"]["image"]

    assert image["camera"] == "NAV_LEFT_B"


def test_a_curiosity_sol_without_a_full_frame_falls_back_to_the_preferred_camera_of_the_rest(scenario, invoke):
    scenario.curiosity_latest_sol()
    url = scenario.photo()
    scenario.curiosity_sol(LATEST_SOL, [
        curiosity_item(LATEST_SOL, url, instrument="CHEMCAM_RMI", sample_type="chemcam prc"),
        curiosity_item(LATEST_SOL, url, instrument="MAST_LEFT", sample_type="downsampled")])
    scenario.rems()

    image = invoke()["json"]["image"]

    assert (image["camera"], image["sol"]) == ("MAST_LEFT", LATEST_SOL)


def test_a_perseverance_thumbnail_is_skipped_even_from_the_preferred_camera(scenario, nasa, invoke, monkeypatch):
    monkeypatch.setenv("MARS_IMAGE_SOURCE", "perseverance_raw")
    url = scenario.photo("/mars2020-raw-images/NLF_1500.png", jpeg_bytes(800, 800))
    scenario.rems()
    nasa.route(RSS_PATH, match={"feed": "raw_images", "num": 1}, json_body={"images": [perseverance_image(1500, url)]})
    nasa.route(RSS_PATH, match={"feed": "raw_images", "condition_2": "1500:sol:gte"}, json_body={"images": [
        perseverance_image(1500, url, instrument="MCZ_LEFT", sample_type="Thumbnail"),
        perseverance_image(1500, url, instrument="NAVCAM_RIGHT")]})

    image = invoke()["json"]["image"]

    assert image["camera"] == "NAVCAM_RIGHT"


# --- walking back ------------------------------------------------------------------------

def test_sols_without_photos_make_the_function_walk_back_to_the_latest_photo(scenario, nasa, invoke):
    scenario.curiosity_latest_sol()
    url = scenario.photo()
    scenario.curiosity_sol(LATEST_SOL, [curiosity_item(LATEST_SOL, url, sample_type="thumbnail")])
    scenario.curiosity_sol(LATEST_SOL - 1, [])
    scenario.curiosity_sol(LATEST_SOL - 2, [curiosity_item(LATEST_SOL - 2, url)])
    scenario.rems()

    body = invoke()["json"]

    assert body["image"]["sol"] == LATEST_SOL - 2
    assert per_sol_queries(nasa) == [LATEST_SOL, LATEST_SOL - 1, LATEST_SOL - 2]


def test_no_photo_within_max_days_back_leaves_the_image_null_with_a_reason(scenario, nasa, invoke, monkeypatch):
    monkeypatch.setenv("MAX_DAYS_BACK", "2")
    scenario.curiosity_latest_sol()
    url = scenario.photo()
    for sol in (LATEST_SOL, LATEST_SOL - 1):
        scenario.curiosity_sol(sol, [])
    scenario.curiosity_sol(LATEST_SOL - 2, [curiosity_item(LATEST_SOL - 2, url)])
    scenario.rems()

    response = invoke()

    assert response["statusCode"] == 200
    body = response["json"]
    assert body["image"] is None
    assert "last 2 sols" in body["missing"]["image"]
    assert per_sol_queries(nasa) == [LATEST_SOL, LATEST_SOL - 1]
    assert body["weather"]["sol"] == LATEST_SOL - 1
    assert body["status"] == "partial"


# --- weather feed problems ---------------------------------------------------------------

def test_an_empty_weather_feed_leaves_the_weather_null_and_keeps_the_photo(scenario, invoke):
    scenario.normal_day()
    scenario.rems(soles=[])

    response = invoke()

    assert response["statusCode"] == 200
    body = response["json"]
    assert body["weather"] is None
    assert "no sols" in body["missing"]["weather"]
    assert body["image"]["sol"] == LATEST_SOL


def test_weather_sols_without_measurements_are_skipped_for_the_latest_measured_one(scenario, invoke):
    scenario.normal_day()
    scenario.rems(soles=[rems_sol(LATEST_SOL, min_temp="--", max_temp="--", pressure="--"),
                         rems_sol(LATEST_SOL - 3)])

    weather = invoke()["json"]["weather"]

    assert weather["sol"] == LATEST_SOL - 3


def test_a_weather_feed_answering_500_is_retried_then_reported_missing(scenario, nasa, invoke):
    scenario.normal_day()
    scenario.rems(status=500, body=b"upstream exploded")

    body = invoke()["json"]

    assert body["weather"] is None
    assert "HTTP 500" in body["missing"]["weather"]
    assert nasa.hits(RSS_PATH, feed="weather") == 2  # UPSTREAM_RETRIES=1
    assert body["image"] is not None


def test_a_photo_feed_that_times_out_is_given_up_within_the_time_budget(scenario, nasa, invoke):
    scenario.normal_day()
    scenario.nasa.route(MSL_RAW_PATH, match={"per_page": 1}, json_body={"items": []}, delay=1.5)

    started = time.monotonic()
    response = invoke()
    elapsed = time.monotonic() - started

    assert response["statusCode"] == 200
    body = response["json"]
    assert body["image"] is None
    assert "timed out" in body["missing"]["image"]
    assert nasa.hits(MSL_RAW_PATH, per_page=1) == 2
    assert elapsed < 2.5  # two 0.4 s attempts, not two 1.5 s waits
    assert body["weather"]["sol"] == LATEST_SOL - 1


def test_the_upstream_budget_bounds_the_whole_request_below_the_lambda_timeout(scenario, invoke, monkeypatch):
    monkeypatch.setenv("UPSTREAM_TIMEOUT_SECONDS", "5")
    monkeypatch.setenv("UPSTREAM_RETRIES", "5")
    scenario.normal_day()
    scenario.rems(json_body={"soles": []}, delay=3)
    # 5 s left in this invocation: minus the reserve for converting and answering, ~1 s for NASA.
    context = FakeLambdaContext(remaining_ms=5_000)

    started = time.monotonic()
    body = invoke(context)["json"]
    elapsed = time.monotonic() - started

    assert elapsed < 2.5
    assert body["weather"] is None
    assert "timed out" in body["missing"]["weather"] or "budget" in body["missing"]["weather"]


def test_malformed_json_from_the_photo_feed_leaves_the_image_null(scenario, invoke):
    scenario.normal_day()
    scenario.nasa.route(MSL_RAW_PATH, match={"per_page": 1}, body=b'{"items": [ {"sol": 45', status=200)

    body = invoke()["json"]

    assert body["image"] is None
    assert "malformed JSON" in body["missing"]["image"]
    assert body["weather"] is not None


def test_malformed_json_from_the_weather_feed_leaves_the_weather_null(scenario, invoke):
    scenario.normal_day()
    scenario.rems(body=b"<html>maintenance</html>", content_type="text/html")

    body = invoke()["json"]

    assert body["weather"] is None
    assert "malformed JSON" in body["missing"]["weather"]


def test_a_photo_that_is_not_an_image_leaves_the_image_null(scenario, invoke):
    scenario.normal_day()
    scenario.photo(data=b"<html>not a jpeg</html>")

    body = invoke()["json"]

    assert body["image"] is None
    assert "could not be decoded" in body["missing"]["image"]


def test_both_sources_down_still_answers_200_marking_both_parts_missing(scenario, invoke):
    scenario.nasa.route(MSL_RAW_PATH, status=503)
    scenario.rems(status=503, body=b"")

    response = invoke()

    assert response["statusCode"] == 200
    body = response["json"]
    assert body["status"] == "unavailable"
    assert set(body["missing"]) == {"image", "weather"}


def test_a_misconfigured_function_still_answers_200_with_a_reason(scenario, invoke, monkeypatch):
    monkeypatch.setenv("MARS_WEATHER_SOURCE", "weather_dot_com")

    response = invoke()

    assert response["statusCode"] == 200
    assert "MARS_WEATHER_SOURCE" in response["json"]["missing"]["weather"]


def test_an_unexpected_error_still_answers_200_naming_the_request(invoke, handler_module, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr(handler_module.logic, "display_data", broken)

    response = invoke(FakeLambdaContext(aws_request_id="req-42"))

    assert response["statusCode"] == 200
    assert response["json"]["status"] == "unavailable"
    assert "request req-42" in response["json"]["missing"]["image"]


# --- the cache ----------------------------------------------------------------------------

def test_the_second_request_is_served_from_the_cache_without_calling_nasa(scenario, nasa, invoke):
    scenario.normal_day()
    first = invoke()["json"]
    calls_after_first = nasa.total_hits

    second = invoke()["json"]

    assert nasa.total_hits == calls_after_first
    assert second["weather"] == first["weather"]
    assert second["generated_at"] == first["generated_at"]


def test_a_cold_container_is_served_from_the_s3_cache_without_calling_nasa(scenario, nasa, invoke,
                                                                           handler_module):
    scenario.normal_day()
    first = invoke()["json"]
    calls_after_first = nasa.total_hits
    handler_module.clear_warm_state()  # a new container: nothing in memory

    second = invoke()["json"]

    assert nasa.total_hits == calls_after_first
    assert second["image"]["id"] == first["image"]["id"]
    assert second["image"]["url"].startswith("https://")


def test_the_cached_result_is_stored_next_to_the_images_with_its_expiry(scenario, invoke, aws):
    scenario.normal_day()

    body = invoke()["json"]

    record = json.loads(aws["s3"].get_object(Bucket=BUCKET, Key="cache/v1/curiosity_raw--msl_rems.json")["Body"].read())
    assert record["expires_at"] == body["next_refresh_at"]
    assert record["image"]["s3_key"].startswith("images/")


# --- the NASA API key ------------------------------------------------------------------------

def _insight_routes(nasa, scenario) -> None:
    scenario.curiosity_latest_sol()
    url = scenario.photo()
    scenario.curiosity_sol(LATEST_SOL, [curiosity_item(LATEST_SOL, url)])
    nasa.route("/insight_weather/", json_body={
        "sol_keys": ["675"],
        "675": {"AT": {"av": -62.3, "mn": -96.8, "mx": -15.9}, "HWS": {"av": 7.2}, "PRE": {"av": 750.6},
                "WD": {"most_common": {"compass_point": "WNW"}}, "Season": "fall",
                "First_UTC": "2020-10-19T18:32:20Z", "Last_UTC": "2020-10-20T19:11:55Z"},
        "validity_checks": {}})


def test_the_nasa_key_from_secrets_manager_is_sent_to_api_nasa_gov(scenario, nasa, invoke, aws, monkeypatch):
    secret = aws["secretsmanager"].create_secret(Name="mars/nasa-api-key",
                                                 SecretString='{"api_key": "k3y-from-secret"}')
    monkeypatch.setenv("NASA_API_KEY_SECRET_ID", secret["ARN"])
    monkeypatch.setenv("MARS_WEATHER_SOURCE", "insight_weather")
    _insight_routes(nasa, scenario)

    body = invoke()["json"]

    assert nasa.hits("/insight_weather/", api_key="k3y-from-secret") == 1
    assert body["weather"]["sol"] == 675
    assert body["weather"]["temperature_c"] == {"min": -96.8, "max": -15.9, "average": -62.3}
    assert body["weather"]["wind"] == {"speed_mps": 7.2, "direction": "WNW"}


def test_demo_key_is_used_while_the_secret_holds_no_key(scenario, nasa, invoke, aws, monkeypatch):
    secret = aws["secretsmanager"].create_secret(Name="mars/nasa-api-key", SecretString='{"api_key": ""}')
    monkeypatch.setenv("NASA_API_KEY_SECRET_ID", secret["Name"])
    monkeypatch.setenv("MARS_WEATHER_SOURCE", "insight_weather")
    _insight_routes(nasa, scenario)

    invoke()

    assert nasa.hits("/insight_weather/", api_key="DEMO_KEY") == 1


def test_an_unreadable_secret_falls_back_to_demo_key(scenario, nasa, invoke, monkeypatch):
    monkeypatch.setenv("NASA_API_KEY_SECRET_ID", "arn:aws:secretsmanager:us-east-1:123456789012:secret:gone-AbCdEf")
    monkeypatch.setenv("MARS_WEATHER_SOURCE", "insight_weather")
    _insight_routes(nasa, scenario)

    body = invoke()["json"]

    assert nasa.hits("/insight_weather/", api_key="DEMO_KEY") == 1
    assert body["weather"] is not None


def test_insight_listing_no_sols_marks_the_weather_missing(scenario, nasa, invoke, monkeypatch):
    monkeypatch.setenv("MARS_WEATHER_SOURCE", "insight_weather")
    _insight_routes(nasa, scenario)
    nasa.route("/insight_weather/", json_body={"sol_keys": [], "validity_checks": {"sols_checked": []}})

    body = invoke()["json"]

    assert body["weather"] is None
    assert "InSight" in body["missing"]["weather"]


# --- the other sources ----------------------------------------------------------------------

def test_perseverance_photos_and_meda_weather_can_be_chosen_instead(scenario, nasa, invoke, monkeypatch):
    monkeypatch.setenv("MARS_IMAGE_SOURCE", "perseverance_raw")
    monkeypatch.setenv("MARS_WEATHER_SOURCE", "mars2020_meda")
    url = scenario.photo("/mars2020-raw-images/NLF_1500.png", jpeg_bytes(800, 800))

    nasa.route(RSS_PATH, match={"feed": "raw_images", "num": 1}, json_body={"images": [perseverance_image(1500, url)]})
    nasa.route(RSS_PATH, match={"feed": "raw_images", "condition_2": "1500:sol:gte"},
               json_body={"images": [perseverance_image(1500, url, instrument="SKYCAM"),
                                     perseverance_image(1500, url, instrument="MCZ_LEFT")]})
    nasa.route(RSS_PATH, match={"feed": "weather", "category": "mars2020"}, json_body={"sols": [
        {"terrestrial_date": "2024-04-27", "sol": "1131", "ls": "40", "season": "early spring",
         "min_temp": -81, "max_temp": -20, "pressure": 757, "sunrise": "06:01:00", "sunset": "17:51:00"},
        {"terrestrial_date": "2024-04-26", "sol": "1130", "ls": "40", "season": "early spring",
         "min_temp": -80, "max_temp": -21, "pressure": 756, "sunrise": "06:01:00", "sunset": "17:51:00"}]})

    body = invoke()["json"]

    assert (body["image"]["rover"], body["image"]["camera"], body["image"]["sol"]) == ("Perseverance", "MCZ_LEFT", 1500)
    assert body["weather"]["station"].startswith("Perseverance MEDA")
    assert (body["weather"]["sol"], body["weather"]["season"]) == (1131, "early spring")


def test_the_original_rover_photos_api_walks_back_earth_days(scenario, nasa, invoke, monkeypatch):
    monkeypatch.setenv("MARS_IMAGE_SOURCE", "mars_rover_photos")
    url = scenario.photo("/mars-photos/img/FLB_1.JPG")
    path = "/mars-photos/api/v1/rovers/curiosity/photos"
    nasa.route(path, json_body={"photos": []})
    scenario.rems()
    two_days_ago = (datetime.now(timezone.utc).date() - timedelta(days=2)).isoformat()
    nasa.route(path, match={"earth_date": two_days_ago}, json_body={"photos": [
        {"id": 1, "sol": 4498, "camera": {"name": "FHAZ", "full_name": "Front Hazard Avoidance Camera"},
         "img_src": url, "earth_date": two_days_ago, "rover": {"name": "Curiosity"}}]})

    body = invoke()["json"]

    assert body["image"]["earth_date"] == two_days_ago
    assert nasa.hits(path) == 3
    assert nasa.hits(path, api_key="DEMO_KEY") == 3
