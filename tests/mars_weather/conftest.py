"""Fixtures for the Mars weather function: a fake NASA on loopback, moto for S3 and Secrets Manager.

The fake NASA is a real HTTP server (``http.server`` in a thread on 127.0.0.1) that the
function reaches with ``urllib`` exactly as it reaches NASA. moto intercepts botocore
only, so it never sees (or blocks) these requests.
"""
from __future__ import annotations

import io
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable
from urllib.parse import parse_qsl, urlsplit

import boto3
import pytest
from moto import mock_aws
from PIL import Image

from tests.support.lambda_context import FakeLambdaContext

BUCKET = "mars-display-test-images"
REGION = "us-east-1"
LATEST_SOL = 4500


# --- the fake NASA ---------------------------------------------------------------------

# A misbehaving route gives up by itself after this long (or when the test ends), so a
# client that does not enforce its deadline makes its test fail instead of hang.
MISBEHAVIOUR_SECONDS = 12.0


@dataclass
class Route:
    path: str
    match: dict[str, str]
    status: int = 200
    body: bytes = b""
    content_type: str = "application/json"
    delay: float = 0.0
    # How the answer misbehaves: "trickle" (the body, one byte per trickle_seconds),
    # "trickle_headers" (the status line and headers the same way), "hang" (headers, then
    # nothing), "endless" (a body without end, as fast as the client reads it).
    behaviour: str | None = None
    trickle_seconds: float = 0.05
    redirect_to: str | None = None


@dataclass
class Seen:
    path: str
    query: dict[str, str]


@dataclass
class FakeNasa:
    base_url: str = ""
    routes: list[Route] = field(default_factory=list)
    seen: list[Seen] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    # Set when a test ends: misbehaving answers still running stop.
    released: threading.Event = field(default_factory=threading.Event)

    def reset(self) -> None:
        with self.lock:
            self.routes.clear()
            self.seen.clear()

    def route(self, path: str, *, match: dict[str, Any] | None = None, json_body: Any = None,
              body: bytes | None = None, status: int = 200, content_type: str = "application/json",
              delay: float = 0.0, behaviour: str | None = None, trickle_seconds: float = 0.05,
              redirect_to: str | None = None) -> None:
        """Answer GETs of ``path`` whose query holds ``match``; later routes win."""
        payload = body if body is not None else json.dumps(json_body).encode()
        with self.lock:
            self.routes.insert(0, Route(path, {k: str(v) for k, v in (match or {}).items()}, status, payload,
                                        content_type, delay, behaviour, trickle_seconds, redirect_to))

    def redirect_chain(self, first: str, *, hops: int, delay: float, final: Route | None = None) -> None:
        """``first`` -> ``first``/1 -> ... -> ``first``/``hops``, each hop answering after ``delay``."""
        paths = [first] + [f"{first.rstrip('/')}/{hop}" for hop in range(1, hops + 1)]
        for here, there in zip(paths[:-1], paths[1:], strict=True):
            self.route(here, status=302, body=b"", delay=delay, redirect_to=self.url(there))
        if final is not None:
            self.route(paths[-1], body=final.body, content_type=final.content_type)

    def find(self, path: str, query: dict[str, str]) -> Route | None:
        with self.lock:
            self.seen.append(Seen(path, query))
            for route in self.routes:
                if route.path == path and all(query.get(k) == v for k, v in route.match.items()):
                    return route
        return None

    def hits(self, path: str, **match: Any) -> int:
        with self.lock:
            return sum(1 for seen in self.seen if seen.path == path
                       and all(seen.query.get(k) == str(v) for k, v in match.items()))

    @property
    def total_hits(self) -> int:
        with self.lock:
            return len(self.seen)

    def url(self, path: str) -> str:
        return f"{self.base_url}{path}"


def _handler_for(nasa: FakeNasa) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            route = nasa.find(parts.path, dict(parse_qsl(parts.query, keep_blank_values=True)))
            if route is None:
                route = Route(parts.path, {}, 404, b'{"error": "not found"}')
            if route.delay:
                time.sleep(route.delay)
            try:
                self._answer(route)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (a timeout test): nothing to answer

        def _answer(self, route: Route) -> None:
            if route.behaviour == "trickle_headers":
                # Headers long enough that trickling them outlasts MISBEHAVIOUR_SECONDS.
                padding = "p" * int(MISBEHAVIOUR_SECONDS / route.trickle_seconds)
                head = (f"HTTP/1.1 {route.status} OK\r\nContent-Type: {route.content_type}\r\n"
                        f"X-Padding: {padding}\r\nContent-Length: {len(route.body)}\r\n\r\n").encode()
                self._trickle(head, route.trickle_seconds)
                self.close_connection = True
                return
            self.send_response(route.status)
            self.send_header("Content-Type", route.content_type)
            if route.redirect_to:
                self.send_header("Location", route.redirect_to)
            if route.behaviour == "endless":
                self.send_header("Connection", "close")
                self.close_connection = True
            else:
                self.send_header("Content-Length", str(len(route.body)))
            self.end_headers()
            self.wfile.flush()
            if route.behaviour == "trickle":
                self._trickle(route.body, route.trickle_seconds)
            elif route.behaviour == "hang":
                nasa.released.wait(MISBEHAVIOUR_SECONDS)
            elif route.behaviour == "endless":
                block = b"x" * 16384
                ends = time.monotonic() + MISBEHAVIOUR_SECONDS
                while time.monotonic() < ends and not nasa.released.is_set():
                    self.wfile.write(block)
            else:
                self.wfile.write(route.body)

        def _trickle(self, data: bytes, interval: float) -> None:
            ends = time.monotonic() + MISBEHAVIOUR_SECONDS
            for index in range(len(data)):
                if time.monotonic() >= ends or nasa.released.is_set():
                    return
                self.wfile.write(data[index:index + 1])
                self.wfile.flush()
                time.sleep(interval)

        def log_message(self, *args: Any) -> None:
            pass

    return Handler


class _FakeNasaServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client that gave up mid-answer (the deadline tests) is not an error here


@pytest.fixture(scope="session")
def _nasa_server():
    nasa = FakeNasa()
    server = _FakeNasaServer(("127.0.0.1", 0), _handler_for(nasa))
    nasa.base_url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield nasa
    server.shutdown()
    server.server_close()


@pytest.fixture
def nasa(_nasa_server: FakeNasa) -> FakeNasa:
    _nasa_server.reset()
    _nasa_server.released.clear()
    yield _nasa_server
    _nasa_server.released.set()
    _nasa_server.reset()


# --- feed payloads in NASA's shapes -----------------------------------------------------

MSL_RAW_PATH = "/api/v1/raw_image_items/"
RSS_PATH = "/rss/api/"
PHOTO_PATH = "/msl-raw-images/proj/msl/redops/ods/surface/sol/04500/opgs/edr/ncam/NLB_1.JPG"


def curiosity_item(sol: int, url: str, *, instrument: str = "NAV_LEFT_B", sample_type: str = "full",
                   date_taken: str = "2025-05-31T10:11:12.000Z") -> dict[str, Any]:
    """One item of ``/api/v1/raw_image_items/`` as the feed sends it: every field at the top
    level except the frame type, which sits under ``extended`` (no top-level ``sample_type``)."""
    item_id = 1_500_000 + sol
    return {
        "id": item_id, "camera_vector": None, "site": 119, "imageid": f"NLB_{sol}_0813038955EDR_F1190000NCAM00100M_",
        "subframe_rect": "(1,1,1024,1024)", "sol": sol, "scale_factor": 1, "camera_model_component_list": None,
        "instrument": instrument, "url": url, "spacecraft_clock": 813038955.646, "attitude": None,
        "camera_position": None, "camera_model_type": None, "drive": 1344, "xyz": "(-14.4449,44.2653,2.908)",
        "created_at": "2025-05-31T11:13:30.000Z", "updated_at": "2025-05-31T11:35:06.000Z", "mission": "msl",
        "extended": {"lmst": f"Sol-0{sol}M10:40:32.355", "bucket": "msl-raws", "mast_az": "346.566",
                     "mast_el": "-44.9492", "url_list": url, "contributor": "Team MSLICE", "filter_name": None,
                     "sample_type": sample_type},
        "date_taken": date_taken, "date_received": "2025-05-31T11:12:08.000Z", "instrument_sort": 4,
        "sample_type_sort": 1 if sample_type == "full" else 999, "is_thumbnail": sample_type == "thumbnail",
        "title": f"Sol {sol}: {instrument}", "description": "This image was taken by Curiosity.",
        "link": f"/raw_images/{item_id}", "image_credit": "NASA/JPL-Caltech", "https_url": url,
    }


def perseverance_image(sol: int, url: str, *, instrument: str = "NAVCAM_LEFT",
                       sample_type: str = "Full") -> dict[str, Any]:
    """One entry of the RSS API's ``raw_images`` feed (``category=mars2020``) as the feed sends it:
    ``sample_type`` at the top level and capitalised, the camera and the file URLs nested."""
    imageid = f"NLF_{sol:04d}_0813073669_097ECM_N0790000NCAM00500_01_295J"
    return {
        "extended": {"mastAz": "-156.098", "mastEl": "-10.1652", "sclk": "813073669.716", "scaleFactor": "1",
                     "xyz": "(35.4362,22.5714,-9.46445)", "subframeRect": "(1,1,1280,960)",
                     "dimension": "(1280,960)"},
        "sol": sol, "attitude": "(0.953,-0.077,0.090,0.278)", "imageid": imageid,
        "camera": {"filter_name": "UNK", "camera_vector": "(-0.684,-0.718,0.123)",
                   "camera_model_component_list": "(1.0,0.6,-1.9);(0.18,0.98,-0.01)",
                   "camera_position": "(0.766,0.311,-1.97)", "instrument": instrument,
                   "camera_model_type": "CAHVORE"},
        "caption": "NASA's Mars Perseverance rover acquired this image.", "sample_type": sample_type,
        "date_taken_mars": f"Sol-{sol:05d}M15:18:15.000", "credit": "NASA/JPL-Caltech",
        "date_taken_utc": "2025-06-01T08:00:00.000", "json_link": f"https://mars.nasa.gov/rss/api/?id={imageid}",
        "link": f"https://mars.nasa.gov/mars2020/multimedia/raw-images/{imageid}", "drive": "1204",
        "title": f"Mars Perseverance Sol {sol}: {instrument}", "site": 79, "date_received": "2025-06-01T13:35:54Z",
        "image_files": {"small": url, "medium": url, "large": url, "full_res": url},
    }


def rems_sol(sol: int, **overrides: Any) -> dict[str, Any]:
    record = {"id": str(sol), "terrestrial_date": "2025-05-30", "sol": str(sol), "ls": "203",
              "season": "Month 7", "min_temp": "-78", "max_temp": "-12", "pressure": "812",
              "pressure_string": "Higher", "abs_humidity": "--", "wind_speed": "--", "wind_direction": "--",
              "atmo_opacity": "Sunny", "sunrise": "05:31", "sunset": "17:44",
              "local_uv_irradiance_index": "Moderate", "min_gts_temp": "-85", "max_gts_temp": "3"}
    record.update(overrides)
    return record


def jpeg_bytes(width: int = 640, height: int = 480, colour: tuple[int, int, int] = (190, 110, 60)) -> bytes:
    photo = Image.new("RGB", (width, height), colour)
    for x in range(0, width, 8):  # some structure, so quantization has work to do
        for y in range(0, height, 8):
            photo.putpixel((x, y), ((x * 3) % 256, (y * 5) % 256, (x + y) % 256))
    buffer = io.BytesIO()
    photo.save(buffer, format="JPEG", quality=85)
    return buffer.getvalue()


class NasaScenario:
    """Routes for the default sources (Curiosity raw images, Curiosity REMS weather)."""

    def __init__(self, nasa: FakeNasa) -> None:
        self.nasa = nasa

    def curiosity_latest_sol(self, sol: int = LATEST_SOL) -> None:
        self.nasa.route(MSL_RAW_PATH, match={"per_page": 1},
                        json_body={"items": [curiosity_item(sol, self.nasa.url(PHOTO_PATH), sample_type="thumbnail")],
                                   "more": True, "total": 1, "page": 0, "per_page": 1})

    def curiosity_sol(self, sol: int, items: list[dict[str, Any]]) -> None:
        self.nasa.route(MSL_RAW_PATH, match={"condition_2": f"{sol}:sol:gte"},
                        json_body={"items": items, "more": False, "total": len(items), "page": 0, "per_page": 100})

    def photo(self, path: str = PHOTO_PATH, data: bytes | None = None) -> str:
        self.nasa.route(path, body=data if data is not None else jpeg_bytes(), content_type="image/jpeg")
        return self.nasa.url(path)

    def rems(self, soles: list[dict[str, Any]] | None = None, **route: Any) -> None:
        if soles is None and "body" not in route and "json_body" not in route:
            route["json_body"] = {"descriptions": {"disclaimer_en": "outreach data"},
                                  "soles": [rems_sol(LATEST_SOL - 1), rems_sol(LATEST_SOL - 2, min_temp="-80")]}
        elif soles is not None:
            route["json_body"] = {"descriptions": {}, "soles": soles}
        self.nasa.route(RSS_PATH, match={"feed": "weather", "category": "msl"}, **route)

    def normal_day(self) -> None:
        self.curiosity_latest_sol()
        url = self.photo()
        self.curiosity_sol(LATEST_SOL, [curiosity_item(LATEST_SOL, url, sample_type="thumbnail"),
                                        curiosity_item(LATEST_SOL, url, instrument="NAV_LEFT_B"),
                                        curiosity_item(LATEST_SOL, url, instrument="CHEMCAM_RMI")])
        self.rems()


@pytest.fixture
def scenario(nasa: FakeNasa) -> NasaScenario:
    return NasaScenario(nasa)


# --- AWS and the function's environment ------------------------------------------------

API_EVENT = {
    "resource": "/mars", "path": "/mars", "httpMethod": "GET",
    "headers": {"x-api-key": "device-key", "Accept": "application/json"},
    "queryStringParameters": None, "body": None, "isBase64Encoded": False,
    "requestContext": {"requestId": "req-1", "resourcePath": "/mars", "httpMethod": "GET", "stage": "prod",
                       "identity": {"apiKey": "device-key", "sourceIp": "203.0.113.7"}},
}


@pytest.fixture
def function_env(monkeypatch: pytest.MonkeyPatch, nasa: FakeNasa) -> dict[str, str]:
    env = {
        "IMAGE_BUCKET_NAME": BUCKET,
        "MSL_RAW_IMAGES_URL": nasa.url(MSL_RAW_PATH),
        "MARS_RSS_API_URL": nasa.url(RSS_PATH),
        "NASA_API_URL": nasa.base_url,
        "UPSTREAM_TIMEOUT_SECONDS": "0.4",
        "UPSTREAM_RETRIES": "1",
        "UPSTREAM_BACKOFF_SECONDS": "0.01",
        "UPSTREAM_BUDGET_SECONDS": "5",
        "MAX_DAYS_BACK": "3",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_SERVICE_NAME": "mars-weather",
        "POWERTOOLS_METRICS_NAMESPACE": "MarsWeatherTests",
        "AWS_DEFAULT_REGION": REGION,
        "AWS_REGION": REGION,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "NO_PROXY": "127.0.0.1,localhost",
        "no_proxy": "127.0.0.1,localhost",
    }
    for name in ("MARS_IMAGE_SOURCE", "MARS_WEATHER_SOURCE", "NASA_API_KEY_SECRET_ID", "CACHE_TTL_SECONDS",
                 "PARTIAL_CACHE_TTL_SECONDS", "PRESIGNED_URL_EXPIRY_SECONDS", "MARS_ROVER_PHOTOS_ROVER"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return env


@pytest.fixture
def aws(function_env: dict[str, str]):
    with mock_aws():
        s3 = boto3.client("s3", region_name=REGION)
        s3.create_bucket(Bucket=BUCKET)
        yield {"s3": s3, "secretsmanager": boto3.client("secretsmanager", region_name=REGION)}


@pytest.fixture
def handler_module(aws):
    from lambda_src.mars_weather.display_data import handler

    handler.clear_warm_state()
    yield handler
    handler.clear_warm_state()


@pytest.fixture
def invoke(handler_module) -> Callable[..., dict[str, Any]]:
    """Call the handler as API Gateway would; returns the response with ``body`` parsed as ``json``."""

    def call(context: FakeLambdaContext | None = None) -> dict[str, Any]:
        response = handler_module.handler(dict(API_EVENT), context or FakeLambdaContext())
        return {**response, "json": json.loads(response["body"])}

    return call
