"""The web clients on their ports: ``web/<client>/dist`` with a ``config.json`` for the local services.

Like the deployed sites: files from the build, the single-page app's ``index.html`` for any
other path without a file extension (``/callback``), and the runtime configuration at
``/config.json`` (shapes: web/README.md) pointing at the local issuer, APIs and broker, with
the security headers the distributions send and a CSP listing exactly the origins the client
talks to. A client that is not built yet gets a placeholder page saying so. The Ask Around Me
server also draws plain map tiles at ``/local-tiles/{z}/{x}/{y}.png`` for offline use
(``LOCAL_TILES_URL``).
"""
from __future__ import annotations

import mimetypes
import re
import struct
import zlib
from functools import cache
from html import escape
from pathlib import Path
from typing import Any, Callable
from urllib.parse import urlsplit

from local.cfn import Template
from local.httpserver import Request, Response
from local.provision import user_pool_names
from local.settings import REGION, ROBOT_NAME, ROOT, Settings, WebClient
from stacks.common import web_config

WEB_ROOT = ROOT / "web"
_TILE = re.compile(r"^/local-tiles/(\d{1,2})/(\d{1,7})/(\d{1,7})\.png$")


def client_config(client: WebClient, settings: Settings) -> dict[str, Any]:
    """The client's ``config.json``: the issuer and app client of its stack's pool, its services."""
    template = Template.load(settings.assembly, client.stack)
    pool = next(iter(user_pool_names(template, settings.issuer_base).values()))
    # As deployed: the revocation endpoint is given, not left to the discovery document.
    auth = web_config.sign_in_config(authority=pool.issuer, client_id=next(iter(pool.client_ids.values())),
                                     site_url=settings.web_origin(client),
                                     revocation_endpoint=f"{pool.issuer}/oauth2/revoke")
    broker = f"ws://localhost:{settings.ports['mqtt_ws']}/mqtt"
    if client.name == "shortener":
        return web_config.shortener_config(auth=auth, api_url=settings.url("shortener_api", "/"),
                                           short_link_base=settings.url("shortener_api"))
    if client.name == "askaroundme":
        return web_config.ask_around_me_config(
            auth=auth, api_url=settings.url("askaroundme_api"), region=REGION, identity_pool_id=None,
            realtime_mode="local", realtime_url=broker, tiles_url=settings.tiles_url,
            tiles_attribution=settings.tiles_attribution)
    return web_config.robot_config(
        auth=auth, api_url=settings.url("robot_api", "/publish"), region=REGION, identity_pool_id=None,
        signaling_channel_arn=None, telemetry_mode="local", telemetry_url=broker,
        telemetry_session_url=settings.url("robot_api", "/session"),
        telemetry_topic=f"{ROBOT_NAME}/telemetry", telemetry_interval_seconds=_telemetry_interval(settings))


def _telemetry_interval(settings: Settings) -> int:
    outputs = Template.load(settings.assembly, settings.web_client("robot").stack).document.get("Outputs", {})
    return int(outputs.get("TelemetryIntervalSeconds", {}).get("Value", 30))


def content_security_policy(config: dict[str, Any], settings: Settings) -> str:
    """``connect-src``: the issuer, the API and the broker; ``img-src``: the map tiles."""
    def origin(url: str) -> str:
        parts = urlsplit(url)
        return f"{parts.scheme}://{parts.netloc}"

    connect = {origin(config["auth"]["authority"]), origin(config["apiUrl"])}
    for section in ("realtime", "telemetry"):
        if isinstance(config.get(section), dict) and config[section].get("url"):
            connect.add(origin(config[section]["url"]))
    images = {"'self'", "data:", "blob:"}
    if isinstance(config.get("tiles"), dict):
        images.add(origin(config["tiles"]["url"].replace("{s}", "a")))
    return (f"default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
            f"img-src {' '.join(sorted(images))}; connect-src 'self' {' '.join(sorted(connect))}; "
            "font-src 'self' data:; media-src 'self' blob:; object-src 'none'; base-uri 'self'; "
            "form-action 'self'; frame-ancestors 'none'")


def web_handler(client: WebClient, settings: Settings, *, web_root: Path = WEB_ROOT) -> Callable[[Request], Response]:
    dist = (web_root / client.directory / "dist").resolve()
    config = client_config(client, settings)
    security = {"Content-Security-Policy": content_security_policy(config, settings),
                "X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY",
                "Referrer-Policy": "strict-origin-when-cross-origin"}

    def handle(request: Request) -> Response:
        if request.method not in ("GET", "HEAD"):
            return Response(405, "Method Not Allowed", {"Allow": "GET, HEAD"}, content_type="text/plain")
        if request.path == "/config.json":
            return Response.json(200, config, {"Cache-Control": "no-cache", **security})
        tile = _TILE.match(request.path)
        if tile:
            return Response(200, placeholder_tile(), {"Cache-Control": "max-age=86400"}, content_type="image/png")
        if not (dist / "index.html").exists():
            return _placeholder(client)
        path = _file_in(dist, request.path)
        if path is None:
            if Path(request.path).suffix:
                return Response(404, "Not Found", security, content_type="text/plain")
            path = dist / "index.html"  # the single-page app's own routes (/callback, ...)
        cache_control = "no-cache" if path.name == "index.html" else "public, max-age=300"
        content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        return Response(200, path.read_bytes(), {"Cache-Control": cache_control, **security},
                        content_type=content_type)

    return handle


def _file_in(dist: Path, url_path: str) -> Path | None:
    """The file a URL path names inside ``dist``, never outside it."""
    relative = url_path.lstrip("/") or "index.html"
    candidate = (dist / relative).resolve()
    if dist not in candidate.parents and candidate != dist:
        return None
    return candidate if candidate.is_file() else None


def _placeholder(client: WebClient) -> Response:
    html = (f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{escape(client.name)}: not built'
            f'</title></head><body><main><h1>The {escape(client.name)} web client is not built yet</h1>'
            f"<p><code>web/{escape(client.directory)}/dist</code> does not exist: build the clients with "
            f"<code>make web</code> (part of <code>make install</code>) and reload. Its configuration is at "
            f'<a href="/config.json">/config.json</a>.</p></main></body></html>')
    return Response(200, html, {"Cache-Control": "no-store"}, content_type="text/html; charset=utf-8")


def is_built(client: WebClient) -> bool:
    return (WEB_ROOT / client.directory / "dist" / "index.html").exists()


@cache
def placeholder_tile() -> bytes:
    """A 256 x 256 map tile: light ground with a darker border, as a PNG (no imaging library)."""
    size, ground, line = 256, (0xEE, 0xEC, 0xE6), (0xC8, 0xC4, 0xB8)
    rows = []
    for y in range(size):
        pixels = bytearray()
        for x in range(size):
            pixels += bytes(line if x in (0, size - 1) or y in (0, size - 1) else ground)
        rows.append(b"\x00" + bytes(pixels))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"".join(rows), 9))
            + chunk(b"IEND", b""))

