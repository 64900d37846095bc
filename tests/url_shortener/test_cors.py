"""CORS with several allowed origins: each is echoed back, nothing else is; the dashboard's own
origin is the primary one."""
from __future__ import annotations

import pytest
from moto import mock_aws

from stacks.suite import URL_SHORTENER
from tests.conftest import synth_suite
from tests.url_shortener.test_api_behaviour import ALICE, SITE_ORIGIN, make_client

ORIGINS = ["https://app.example.com", "https://admin.example.com"]


@pytest.fixture(scope="module")
def multi_origin_template():
    return synth_suite(context={"urlShortener": {"allowedOrigins": ORIGINS}}).template_json(URL_SHORTENER)


@pytest.fixture
def api(multi_origin_template):
    with mock_aws():
        yield make_client(multi_origin_template)


@pytest.mark.parametrize("origin", ORIGINS)
def test_each_allowed_origin_is_echoed_on_preflight_and_on_answers(api, origin):
    assert api.options("/app", headers={"Origin": origin}).header("Access-Control-Allow-Origin") == origin
    listed = api.get("/app", user=ALICE, headers={"Origin": origin})
    assert listed.status == 200 and listed.header("Access-Control-Allow-Origin") == origin
    assert listed.header("Vary") == "Origin"


def test_an_unknown_origin_is_never_echoed(api):
    response = api.get("/app", user=ALICE, headers={"Origin": "https://evil.example.net"})
    assert response.header("Access-Control-Allow-Origin") == SITE_ORIGIN


def test_errors_api_gateway_raises_itself_carry_the_primary_origin(api):
    response = api.get("/app", headers={"Origin": ORIGINS[1]})
    assert response.status == 401
    assert response.header("Access-Control-Allow-Origin") == SITE_ORIGIN
