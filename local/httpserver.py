"""The small HTTP layer every local server shares: threads, bounded bodies, clean shutdown.

Standard library only (``http.server``): each server runs in a thread of its process and is
stopped with :meth:`LocalServer.stop`, which closes the listening socket, so the port is free
again at once (``SO_REUSEADDR``: a new server can bind it despite connections in TIME_WAIT).
"""
from __future__ import annotations

import json
import logging
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Mapping
from urllib.parse import parse_qs, urlsplit

from local.settings import BIND_HOST

log = logging.getLogger("local")

# API Gateway's payload limit is 10 MB; nothing local needs more.
MAX_BODY_BYTES = 10 * 1024 * 1024


class RequestRejected(Exception):
    """A request the HTTP layer refuses before any handler sees it."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class Request:
    """What a handler needs of a request: method, path, query, headers (case-insensitive), body."""

    def __init__(self, method: str, target: str, headers: Mapping[str, str], body: bytes,
                 header_items: list[tuple[str, str]], client_ip: str = BIND_HOST) -> None:
        parts = urlsplit(target)
        self.client_ip = client_ip
        self.method = method
        self.target = target
        self.path = parts.path or "/"
        self.raw_query = parts.query
        self.query = parse_qs(parts.query, keep_blank_values=True)
        self.headers = {name.lower(): value for name, value in headers.items()}
        self.header_items = header_items  # as sent, repeated names kept
        self.body = body

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())

    def form(self) -> dict[str, list[str]]:
        content_type = (self.header("content-type") or "").split(";")[0].strip().lower()
        if content_type != "application/x-www-form-urlencoded":
            raise RequestRejected(400, "the body must be application/x-www-form-urlencoded")
        try:
            text = self.body.decode("utf-8")
        except UnicodeDecodeError:
            raise RequestRejected(400, "the form must be UTF-8") from None
        return parse_qs(text, keep_blank_values=True)


class Response:
    def __init__(self, status: int, body: bytes | str = b"", headers: Mapping[str, str] | None = None,
                 *, content_type: str | None = None) -> None:
        self.status = status
        self.body = body.encode("utf-8") if isinstance(body, str) else body
        self.headers: dict[str, str] = dict(headers or {})
        if content_type:
            self.headers.setdefault("Content-Type", content_type)

    @classmethod
    def json(cls, status: int, document: Any, headers: Mapping[str, str] | None = None) -> "Response":
        return cls(status, json.dumps(document), headers, content_type="application/json")

    @classmethod
    def redirect(cls, location: str, status: int = 302, headers: Mapping[str, str] | None = None) -> "Response":
        return cls(status, b"", {"Location": location, "Cache-Control": "no-store", **(headers or {})})


Handler = Callable[[Request], Response]


def _request_handler(name: str, handle: Handler, max_body_bytes: int) -> type[BaseHTTPRequestHandler]:
    class RequestHandler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        def version_string(self) -> str:
            return "local"

        def _serve(self) -> None:
            started = time.monotonic()
            try:
                request = Request(self.command, self.path, dict(self.headers.items()), self._body(),
                                  list(self.headers.items()), self.client_address[0])
                response = handle(request)
            except RequestRejected as rejected:
                response = Response.json(rejected.status, {"message": rejected.message})
                self.close_connection = True
            except Exception:
                log.exception("%s: %s %s failed", name, self.command, self.path)
                response = Response.json(500, {"message": "Internal Server Error"})
            self._write(response)
            log.info("%s %s %s -> %d (%.0f ms)", name, self.command, urlsplit(self.path).path, response.status,
                     (time.monotonic() - started) * 1000)

        def _body(self) -> bytes:
            if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                raise RequestRejected(411, "send the body with a Content-Length, not chunked")
            length = self.headers.get("Content-Length")
            if length is None:
                return b""
            if not length.isdigit():
                raise RequestRejected(400, "Content-Length must be a number")
            if int(length) > max_body_bytes:
                raise RequestRejected(413, f"the body may be at most {max_body_bytes} bytes")
            return self.rfile.read(int(length))

        def _write(self, response: Response) -> None:
            try:
                self.send_response(response.status)
                for header, value in response.headers.items():
                    self.send_header(header, value)
                self.send_header("Content-Length", str(len(response.body)))
                if self.close_connection:
                    self.send_header("Connection", "close")
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(response.body)
            except (BrokenPipeError, ConnectionResetError):
                self.close_connection = True  # the client went away: nothing to answer

        do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = do_HEAD = _serve

        def log_message(self, format: str, *args: Any) -> None:
            pass  # requests are logged by _serve, once, with their status

    return RequestHandler


class LocalServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, name: str, port: int, handle: Handler, *, max_body_bytes: int = MAX_BODY_BYTES) -> None:
        super().__init__((BIND_HOST, port), _request_handler(name, handle, max_body_bytes))
        self.name = name
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return self.server_address[1]

    def start(self) -> "LocalServer":
        self._thread = threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.2},
                                        name=f"http-{self.name}", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._thread is not None:
            self.shutdown()
            self._thread.join(5)
        self.server_close()

    def handle_error(self, request: Any, client_address: Any) -> None:
        if not isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            log.exception("%s: connection from %s failed", self.name, client_address)
