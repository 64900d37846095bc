"""The Mars API under ``python -m local``: the real function against the fake NASA, behind the API key."""
from __future__ import annotations

from local.oidc.client import http
from local.settings import MARS_API_KEY
from tests.support.local_suite import LocalRun


def test_the_display_data_is_composed_from_the_fake_feeds(local_suite: LocalRun):
    answer = http("GET", local_suite.url("mars_api", "/mars"), headers={"x-api-key": MARS_API_KEY})
    body = answer.json()
    assert answer.status == 200 and body["status"] == "complete"
    assert body["image"]["sol"] == 4500 and body["weather"]["temperature_c"]["min"] == -78.0


def test_the_answers_image_url_serves_the_converted_bitmap(local_suite: LocalRun):
    body = http("GET", local_suite.url("mars_api", "/mars"), headers={"x-api-key": MARS_API_KEY}).json()
    image = http("GET", body["image"]["url"])
    assert image.status == 200 and image.body[:2] == b"BM" and len(image.body) == body["image"]["bytes"]


def test_a_request_without_the_api_key_is_forbidden(local_suite: LocalRun):
    answer = http("GET", local_suite.url("mars_api", "/mars"))
    assert answer.status == 403 and answer.json() == {"message": "Forbidden"}
