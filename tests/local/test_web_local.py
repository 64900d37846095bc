"""The web client servers of ``python -m local``: runtime configuration, files, SPA routes."""
from __future__ import annotations

from pathlib import Path

import pytest

from local.httpserver import Request, Response
from local.settings import Settings
from local.web import web_handler
from tests.support.local_suite import LocalRun, client_config

CONTRACT_KEYS = {  # web/README.md: the keys of each client's config.json
    "shortener": {"auth", "apiUrl", "shortLinkBase"},
    "askaroundme": {"auth", "apiUrl", "region", "identityPoolId", "realtime", "tiles"},
    "robot": {"auth", "apiUrl", "region", "identityPoolId", "signalingChannelArn", "telemetry"},
}
AUTH_KEYS = {"authority", "clientId", "redirectUri", "postLogoutRedirectUri", "scope", "idTokenForApi",
             "revocationEndpoint"}


@pytest.fixture(scope="module")
def settings(local_suite: LocalRun, local_workdir: Path) -> Settings:
    return Settings(ports=local_suite.ports, assembly=str(local_workdir / "cdk.out"))


@pytest.fixture
def built(tmp_path: Path) -> Path:
    """A web root whose shortener client is built (index, one asset) with a file beside it."""
    dist = tmp_path / "web" / "shortener" / "dist"
    (dist / "assets").mkdir(parents=True)
    (dist / "index.html").write_text("<!doctype html><title>shortener</title>")
    (dist / "assets" / "app.js").write_text("console.log('app')")
    (tmp_path / "web" / "shortener" / "secret.txt").write_text("not to be served")
    return tmp_path / "web"


def get(handler, path: str) -> Response:
    return handler(Request("GET", path, {}, b"", []))


@pytest.mark.parametrize("client", sorted(CONTRACT_KEYS))
def test_each_clients_config_has_exactly_the_contracts_keys(local_suite: LocalRun, client: str):
    config = client_config(local_suite, client)
    assert set(config) == CONTRACT_KEYS[client] and set(config["auth"]) == AUTH_KEYS


def test_the_shortener_config_points_at_its_user_pool_and_the_local_api(local_suite: LocalRun):
    config = client_config(local_suite, "shortener")
    assert config["auth"]["authority"] == local_suite.url("oidc", "/us-east-1_UrlShortener")
    assert config["auth"]["redirectUri"] == local_suite.url("shortener_web", "/callback")
    assert config["apiUrl"] == local_suite.url("shortener_api", "/")


def test_the_realtime_clients_are_told_to_use_the_local_broker(local_suite: LocalRun):
    broker = f"ws://localhost:{local_suite.ports['mqtt_ws']}/mqtt"
    assert client_config(local_suite, "askaroundme")["realtime"] == {"mode": "local", "url": broker}
    telemetry = client_config(local_suite, "robot")["telemetry"]
    assert telemetry["mode"] == "local" and telemetry["url"] == broker and telemetry["topic"].endswith("/telemetry")


def test_an_unbuilt_client_gets_a_placeholder_page_saying_how_to_build_it(settings: Settings, tmp_path: Path):
    handler = web_handler(settings.web_client("robot"), settings, web_root=tmp_path)
    answer = get(handler, "/")
    assert answer.status == 200 and b"not built yet" in answer.body and b"make web" in answer.body


def test_a_route_of_the_single_page_app_serves_its_index(settings: Settings, built: Path):
    answer = get(web_handler(settings.web_client("shortener"), settings, web_root=built), "/callback")
    assert answer.status == 200 and b"<title>shortener</title>" in answer.body
    assert answer.headers["Cache-Control"] == "no-cache"


def test_a_built_file_is_served_with_its_type(settings: Settings, built: Path):
    answer = get(web_handler(settings.web_client("shortener"), settings, web_root=built), "/assets/app.js")
    assert answer.status == 200 and answer.headers["Content-Type"] in ("text/javascript", "application/javascript")


def test_a_missing_file_is_not_found_rather_than_the_index(settings: Settings, built: Path):
    assert get(web_handler(settings.web_client("shortener"), settings, web_root=built), "/assets/gone.js").status == 404


def test_a_path_out_of_the_build_folder_is_never_served(settings: Settings, built: Path):
    answer = get(web_handler(settings.web_client("shortener"), settings, web_root=built), "/../secret.txt")
    assert answer.status == 404 and b"not to be served" not in answer.body


def test_pages_carry_a_csp_naming_exactly_the_services_the_client_talks_to(settings: Settings, built: Path):
    policy = get(web_handler(settings.web_client("shortener"), settings, web_root=built),
                 "/").headers["Content-Security-Policy"]
    connect = next(part for part in policy.split("; ") if part.startswith("connect-src")).split()[1:]
    assert sorted(connect) == sorted(["'self'", settings.url("oidc"), settings.url("shortener_api")])
    assert "frame-ancestors 'none'" in policy


def test_offline_map_tiles_are_pngs(settings: Settings, tmp_path: Path):
    answer = get(web_handler(settings.web_client("askaroundme"), settings, web_root=tmp_path), "/local-tiles/3/4/2.png")
    assert answer.status == 200 and answer.body.startswith(b"\x89PNG\r\n\x1a\n")
