"""The invocation's deadline holds whatever NASA does: the handler still answers 200 in time.

Each misbehaving feed is a real HTTP server on 127.0.0.1 (the fake NASA's routes): one
that trickles a byte every 50 ms, one that hangs after its headers, a chain of slow
redirects, an endless body. The Lambda context leaves ``BUDGET + RESERVE_SECONDS``, so
the upstream deadline is ``BUDGET`` and the function must answer before the Lambda
timeout, ``BUDGET + RESERVE_SECONDS``: that is the bound asserted (several seconds of
slack on a loaded machine), while a client without the deadline takes the misbehaving
server's full ``MISBEHAVIOUR_SECONDS``.
"""
from __future__ import annotations

import json
import socket
import ssl
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from lambda_src.mars_weather.display_data import logic
from lambda_src.mars_weather.display_data import upstream as upstream_module
from lambda_src.mars_weather.display_data.image import ImageConversionError
from lambda_src.mars_weather.display_data.upstream import (
    MAX_REDIRECTS,
    RESERVE_SECONDS,
    Deadline,
    Upstream,
    UpstreamError,
)
from tests.telepresence_robot.certificates import create_pki

from .conftest import LATEST_SOL, MISBEHAVIOUR_SECONDS, MSL_RAW_PATH, PHOTO_PATH, RSS_PATH, FakeLambdaContext, Route

BUDGET = 1.5
LAMBDA_SECONDS = BUDGET + RESERVE_SECONDS
assert LAMBDA_SECONDS < MISBEHAVIOUR_SECONDS / 2  # an unbounded client cannot pass by luck


@pytest.fixture
def tight(monkeypatch):
    """A per-call timeout longer than the whole budget: only the deadline can cut a call short."""
    monkeypatch.setenv("UPSTREAM_TIMEOUT_SECONDS", "10")
    monkeypatch.setenv("UPSTREAM_BUDGET_SECONDS", "20")


@pytest.fixture
def timed_invoke(invoke, tight):
    def call() -> tuple[dict, float]:
        context = FakeLambdaContext(remaining_ms=int(LAMBDA_SECONDS * 1000))
        started = time.monotonic()
        response = invoke(context)
        return response, time.monotonic() - started

    return call


def test_a_weather_feed_trickling_a_byte_every_50_ms_is_cut_off_before_the_lambda_timeout(scenario, timed_invoke):
    scenario.normal_day()
    scenario.rems(json_body={"soles": [{"sol": "1"}] * 500}, behaviour="trickle")

    response, elapsed = timed_invoke()

    assert response["statusCode"] == 200
    assert elapsed < LAMBDA_SECONDS
    body = response["json"]
    assert body["weather"] is None
    assert "time budget ran out" in body["missing"]["weather"]
    assert body["image"]["sol"] == LATEST_SOL


def test_a_weather_feed_trickling_its_headers_is_cut_off_before_the_lambda_timeout(scenario, timed_invoke):
    scenario.normal_day()
    scenario.rems(json_body={"soles": []}, behaviour="trickle_headers")

    response, elapsed = timed_invoke()

    assert response["statusCode"] == 200
    assert elapsed < LAMBDA_SECONDS
    assert "time budget ran out" in response["json"]["missing"]["weather"]


def test_a_weather_feed_that_hangs_after_its_headers_is_cut_off_before_the_lambda_timeout(scenario, timed_invoke):
    scenario.normal_day()
    scenario.rems(json_body={"soles": []}, behaviour="hang")

    response, elapsed = timed_invoke()

    assert response["statusCode"] == 200
    assert elapsed < LAMBDA_SECONDS
    assert "time budget ran out" in response["json"]["missing"]["weather"]
    assert response["json"]["image"] is not None


def test_a_chain_of_slow_redirects_counts_against_one_deadline(scenario, nasa, timed_invoke, monkeypatch):
    scenario.normal_day()
    monkeypatch.setenv("MARS_RSS_API_URL", nasa.url("/moved"))
    # Each hop alone answers well within the per-call timeout; together they outlast the budget.
    nasa.redirect_chain("/moved", hops=MAX_REDIRECTS, delay=BUDGET / 2)

    response, elapsed = timed_invoke()

    assert response["statusCode"] == 200
    assert elapsed < LAMBDA_SECONDS
    assert "time budget ran out" in response["json"]["missing"]["weather"]


def test_more_redirects_than_the_limit_are_refused(scenario, nasa, invoke, monkeypatch):
    scenario.normal_day()
    monkeypatch.setenv("MARS_RSS_API_URL", nasa.url("/moved"))
    monkeypatch.setenv("UPSTREAM_RETRIES", "0")
    weather = Route("", {}, body=b'{"soles": []}')
    nasa.redirect_chain("/moved", hops=MAX_REDIRECTS + 1, delay=0, final=weather)

    body = invoke()["json"]

    assert body["weather"] is None
    assert f"redirected more than {MAX_REDIRECTS} times" in body["missing"]["weather"]
    assert nasa.hits(f"/moved/{MAX_REDIRECTS + 1}") == 0


def test_redirects_within_the_limit_are_followed(scenario, nasa, invoke, monkeypatch):
    scenario.normal_day()
    monkeypatch.setenv("MARS_RSS_API_URL", nasa.url("/moved"))
    soles = {"soles": [{"sol": "4499", "terrestrial_date": "2025-05-30", "min_temp": "-70", "pressure": "800"}]}
    nasa.redirect_chain("/moved", hops=MAX_REDIRECTS, delay=0,
                        final=Route("", {}, body=json.dumps(soles).encode()))

    body = invoke()["json"]

    assert body["weather"]["temperature_c"]["min"] == -70.0


def test_a_photo_download_with_an_endless_body_stops_at_the_byte_budget_or_the_deadline(scenario, nasa, timed_invoke):
    scenario.normal_day()
    nasa.route(PHOTO_PATH, behaviour="endless", content_type="image/jpeg")

    response, elapsed = timed_invoke()

    assert response["statusCode"] == 200
    assert elapsed < LAMBDA_SECONDS
    reason = response["json"]["missing"]["image"]
    assert "too large" in reason or "time budget ran out" in reason
    assert response["json"]["weather"] is not None


def test_a_photo_that_is_still_converting_at_the_deadline_is_reported_late_and_the_weather_served(
        scenario, timed_invoke, monkeypatch):
    scenario.normal_day()
    release = threading.Event()

    def stuck_conversion(data: bytes) -> bytes:
        release.wait(MISBEHAVIOUR_SECONDS)
        raise ImageConversionError("released at the end of the test")

    monkeypatch.setattr(logic.image_module, "to_display_bmp", stuck_conversion)
    try:
        response, elapsed = timed_invoke()
    finally:
        release.set()

    assert response["statusCode"] == 200
    assert elapsed < LAMBDA_SECONDS
    body = response["json"]
    assert body["image"] is None
    assert "took too long" in body["missing"]["image"]
    assert body["weather"]["sol"] == LATEST_SOL - 1


# --- the client alone ----------------------------------------------------------------------

def test_every_read_of_a_trickled_body_is_bounded_by_the_deadline(nasa):
    nasa.route("/slow", body=b"x" * 1000, behaviour="trickle")
    upstream = Upstream(timeout=10, retries=0, backoff=0, deadline=Deadline(0.5))

    started = time.monotonic()
    with pytest.raises(UpstreamError, match="time budget ran out"):
        upstream.get_bytes(nasa.url("/slow"), what="test feed", max_bytes=10_000)

    assert time.monotonic() - started < 0.5 + 1.0


def test_a_body_over_the_byte_budget_is_refused_without_reading_it_all(nasa):
    nasa.route("/endless", behaviour="endless")
    upstream = Upstream(timeout=10, retries=0, backoff=0, deadline=Deadline(5))

    with pytest.raises(UpstreamError, match="too large"):
        upstream.get_bytes(nasa.url("/endless"), what="test feed", max_bytes=100_000)


def test_a_redirect_to_another_scheme_is_refused(nasa):
    nasa.route("/elsewhere", status=302, redirect_to="ftp://example.com/file")
    upstream = Upstream(timeout=1, retries=0, backoff=0, deadline=Deadline(2))

    with pytest.raises(UpstreamError, match="unsupported location"):
        upstream.get_bytes(nasa.url("/elsewhere"), what="test feed", max_bytes=100)


def test_the_curiosity_feed_trickling_its_probe_leaves_the_photo_missing_in_time(scenario, nasa, timed_invoke):
    scenario.normal_day()
    nasa.route(MSL_RAW_PATH, match={"per_page": 1}, json_body={"items": [{"sol": LATEST_SOL}] * 100},
               behaviour="trickle")

    response, elapsed = timed_invoke()

    assert elapsed < LAMBDA_SECONDS
    assert "time budget ran out" in response["json"]["missing"]["image"]
    assert nasa.hits(RSS_PATH, feed="weather") == 1


# --- HTTPS: the TLS handshake and encrypted reads are bounded too ---------------------------

@pytest.fixture
def tls(tmp_path, monkeypatch):
    """``(tls_url, silent_url)``: a loopback HTTPS server whose /slow trickles its body, and a
    TCP server that accepts connections and never says a word (a TLS handshake that hangs)."""
    pki = create_pki(tmp_path)  # the server certificate names 127.0.0.1
    stop = threading.Event()

    class Trickle(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Length", "1000")
            self.end_headers()
            for _ in range(1000):
                if stop.is_set():
                    return
                try:
                    self.wfile.write(b"x")
                    self.wfile.flush()
                except OSError:
                    return
                time.sleep(0.05)

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Trickle)
    server.daemon_threads = True
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(pki.server_certificate, pki.server_key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    silent = socket.create_server(("127.0.0.1", 0))
    monkeypatch.setattr(upstream_module._HTTPSConnection, "TLS", ssl.create_default_context(cafile=str(pki.ca)))
    try:
        yield f"https://127.0.0.1:{server.server_address[1]}", f"https://127.0.0.1:{silent.getsockname()[1]}"
    finally:
        stop.set()
        server.shutdown()
        server.server_close()
        silent.close()


def test_a_trickled_https_body_is_cut_off_at_the_deadline(tls):
    secure, _ = tls
    upstream = Upstream(timeout=10, retries=0, backoff=0, deadline=Deadline(0.5))

    started = time.monotonic()
    with pytest.raises(UpstreamError, match="time budget ran out"):
        upstream.get_bytes(f"{secure}/slow", what="test feed", max_bytes=10_000)

    assert time.monotonic() - started < 0.5 + 1.0


def test_a_tls_handshake_that_never_completes_is_cut_off_at_the_deadline(tls):
    _, silent = tls
    upstream = Upstream(timeout=10, retries=0, backoff=0, deadline=Deadline(0.5))

    started = time.monotonic()
    with pytest.raises(UpstreamError, match="time budget ran out"):
        upstream.get_bytes(f"{silent}/never", what="test feed", max_bytes=10_000)

    assert time.monotonic() - started < 0.5 + 1.0
