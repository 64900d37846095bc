"""Bounded HTTP GETs to NASA: one absolute deadline per invocation, whatever the server does.

Plain ``http.client`` (no third-party client), so that the deadline reaches every
blocking call, not only the gaps between them:

* **connect** (and the TLS handshake) gets ``min(per-call timeout, time left)``;
* **every read** (status line, headers, each body chunk) first sets the socket timeout to
  ``min(per-call timeout, time left)``, so a server that trickles one byte at a time cannot
  stretch a read past the deadline, and the body stops at a byte budget;
* **redirects** are followed by hand, at most :data:`MAX_REDIRECTS`, each hop against the
  same deadline;
* transient failures (timeouts, connection errors, 5xx and 429) are retried with
  exponential backoff and jitter while time is left; nothing starts once the shared
  :class:`Deadline` has run out.

Failures surface as :class:`UpstreamError` whose ``reason`` is safe to show to a user:
it names the feed and what went wrong, never the query string (which may carry the NASA
API key).
"""
from __future__ import annotations

import http.client
import io
import json
import random
import socket
import ssl
import threading
import time
from typing import Any, Callable, Mapping
from urllib.parse import urlencode, urljoin, urlsplit

USER_AGENT = "mars-weather-display/1 (+https://github.com/aws-samples)"
# Below this much time left a call is not worth starting.
MIN_CALL_SECONDS = 0.05
# The Lambda's remaining time that the upstream deadline leaves for the rest of the
# invocation: converting and storing the photo (FINISH_SECONDS), then writing the cache,
# signing the URL and answering (ANSWER_SECONDS).
FINISH_SECONDS = 2.5
ANSWER_SECONDS = 1.5
RESERVE_SECONDS = FINISH_SECONDS + ANSWER_SECONDS
MAX_REDIRECTS = 5
_REDIRECT_STATUSES = (301, 302, 303, 307, 308)
_READ_CHUNK = 64 * 1024
DEFAULT_MAX_JSON_BYTES = 5 * 1024 * 1024


class UpstreamError(Exception):
    """A call to an upstream feed failed; ``reason`` is fit for the response body."""

    def __init__(self, reason: str, *, retryable: bool = False, status: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retryable = retryable
        self.status = status


class Deadline:
    """A point in time after which no upstream work starts or goes on."""

    def __init__(self, seconds: float, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._end = clock() + max(0.0, seconds)

    @classmethod
    def for_invocation(cls, budget_seconds: float, lambda_remaining_seconds: float | None, *,
                       reserve_seconds: float = RESERVE_SECONDS,
                       clock: Callable[[], float] = time.monotonic) -> "Deadline":
        """The configured budget, shortened so that ``reserve_seconds`` stay for converting,
        storing and answering before the Lambda timeout."""
        seconds = budget_seconds
        if lambda_remaining_seconds is not None:
            seconds = min(seconds, lambda_remaining_seconds - reserve_seconds)
        return cls(seconds, clock=clock)

    def remaining(self) -> float:
        return max(0.0, self._end - self._clock())

    def expired(self) -> bool:
        return self.remaining() < MIN_CALL_SECONDS


def with_query(url: str, params: Mapping[str, Any] | None) -> str:
    if not params:
        return url
    return url + ("&" if "?" in url else "?") + urlencode(params)


class _Limits:
    """What bounds every socket operation of one attempt: an idle timeout and the deadline."""

    def __init__(self, idle_timeout: float, deadline: Deadline) -> None:
        self.idle_timeout = idle_timeout
        self.deadline = deadline

    def socket_timeout(self) -> float:
        remaining = self.deadline.remaining()
        if remaining <= 0:
            raise TimeoutError("the deadline has passed")
        return min(self.idle_timeout, remaining)


class _DeadlineSocket:
    """A connected socket whose every send and receive may last only until the deadline.

    ``http.client`` reads the status line, the headers and the body through
    ``makefile()``; the file made here reads through :meth:`recv_into`, so each of those
    reads is bounded, not just the first.
    """

    def __init__(self, sock: socket.socket, limits: _Limits) -> None:
        self._sock = sock
        self._limits = limits
        # As socket.socket does: close() waits for the files made by makefile() to close,
        # since http.client closes the connection before the body of a "Connection: close"
        # answer has been read.
        self._files = 0
        self._closed = False

    def recv_into(self, buffer: Any, nbytes: int = 0, flags: int = 0) -> int:
        self._sock.settimeout(self._limits.socket_timeout())
        return self._sock.recv_into(buffer, nbytes, flags)

    def recv(self, bufsize: int, flags: int = 0) -> bytes:
        self._sock.settimeout(self._limits.socket_timeout())
        return self._sock.recv(bufsize, flags)

    def sendall(self, data: Any, flags: int = 0) -> None:
        self._sock.settimeout(self._limits.socket_timeout())
        self._sock.sendall(data, flags)

    def makefile(self, mode: str = "rb", buffering: int | None = None, **_: Any) -> io.BufferedReader:
        if mode != "rb":
            raise ValueError(f"only binary reads are supported, not {mode!r}")
        self._files += 1
        return io.BufferedReader(socket.SocketIO(self, "rb"), buffering or io.DEFAULT_BUFFER_SIZE)

    def _decref_socketios(self) -> None:
        """Called by a file made by :meth:`makefile` when it closes."""
        self._files -= 1
        if self._closed and self._files <= 0:
            self._sock.close()

    def fileno(self) -> int:
        return self._sock.fileno()

    def close(self) -> None:
        self._closed = True
        if self._files <= 0:
            self._sock.close()


class _DeadlineConnectionMixin:
    _limits: _Limits
    timeout: float | None
    sock: Any

    def connect(self) -> None:
        # Connecting and the TLS handshake: one socket timeout, which CPython applies to
        # the handshake as a whole, not per record.
        self.timeout = self._limits.socket_timeout()
        super().connect()  # type: ignore[misc]
        self.sock = _DeadlineSocket(self.sock, self._limits)


class _HTTPConnection(_DeadlineConnectionMixin, http.client.HTTPConnection):
    def __init__(self, host: str, limits: _Limits) -> None:
        super().__init__(host)
        self._limits = limits


class _HTTPSConnection(_DeadlineConnectionMixin, http.client.HTTPSConnection):
    TLS = ssl.create_default_context()  # verifies certificates and host names

    def __init__(self, host: str, limits: _Limits) -> None:
        super().__init__(host, context=self.TLS)
        self._limits = limits


class Upstream:
    """GETs with timeouts, retries and a deadline; safe to share between threads."""

    def __init__(self, *, timeout: float, retries: int, backoff: float, deadline: Deadline,
                 sleep: Callable[[float], None] = time.sleep,
                 jitter: Callable[[], float] = random.random,
                 max_redirects: int = MAX_REDIRECTS) -> None:
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff
        self.deadline = deadline
        self.max_redirects = max_redirects
        self._sleep = sleep
        self._jitter = jitter
        self._lock = threading.Lock()
        self.calls = 0

    def get_json(self, url: str, params: Mapping[str, Any] | None = None, *, what: str,
                 max_bytes: int = DEFAULT_MAX_JSON_BYTES) -> Any:
        body = self.get_bytes(with_query(url, params), what=what, max_bytes=max_bytes)
        try:
            return json.loads(body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            raise UpstreamError(f"{what}: malformed JSON from {_host(url)}") from None

    def get_bytes(self, url: str, *, what: str, max_bytes: int) -> bytes:
        attempts = 1 + self.retries
        last: UpstreamError | None = None
        made = 0
        for attempt in range(attempts):
            if self.deadline.expired():
                break
            made += 1
            try:
                return self._once(url, max_bytes)
            except UpstreamError as error:
                last = error
                if not error.retryable or attempt == attempts - 1:
                    break
                delay = self.backoff * (2 ** attempt) * (0.5 + self._jitter() / 2)
                if delay + MIN_CALL_SECONDS >= self.deadline.remaining():
                    break
                self._sleep(delay)
        if last is None:
            raise UpstreamError(f"{what}: skipped, the time budget for upstream calls ran out")
        tries = f" ({made} attempts)" if made > 1 else ""
        raise UpstreamError(f"{what}: {last.reason}{tries}", status=last.status)

    def _once(self, url: str, max_bytes: int) -> bytes:
        """One attempt: the request, up to ``max_redirects`` redirects, and the body."""
        limits = _Limits(self.timeout, self.deadline)
        host = _host(url)
        try:
            for _hop in range(self.max_redirects + 1):
                host = _host(url)
                if self.deadline.expired():
                    raise TimeoutError("the deadline has passed")
                connection, response = self._request(url, limits)
                try:
                    if response.status in _REDIRECT_STATUSES and response.getheader("Location"):
                        url = _redirect_target(url, response.getheader("Location", ""))
                        continue
                    if response.status >= 400:
                        transient = response.status >= 500 or response.status == 429
                        raise UpstreamError(f"HTTP {response.status} from {host}", retryable=transient,
                                            status=response.status)
                    return _read_body(response, host, max_bytes)
                finally:
                    response.close()
                    connection.close()
            raise UpstreamError(f"{_host(url)} redirected more than {self.max_redirects} times")
        except UpstreamError:
            raise
        except (TimeoutError, socket.timeout):
            if self.deadline.expired():
                raise UpstreamError(f"{host} too slow, the time budget ran out") from None
            raise UpstreamError(f"{host} timed out after {self.timeout:.1f} s", retryable=True) from None
        except (http.client.HTTPException, OSError):
            if self.deadline.expired():
                raise UpstreamError(f"{host} too slow, the time budget ran out") from None
            raise UpstreamError(f"connection to {host} failed", retryable=True) from None

    def _request(self, url: str, limits: _Limits) -> tuple[http.client.HTTPConnection, http.client.HTTPResponse]:
        with self._lock:
            self.calls += 1
        parts = urlsplit(url)
        connection_class = _HTTPSConnection if parts.scheme == "https" else _HTTPConnection
        connection = connection_class(parts.netloc, limits)
        try:
            connection.request("GET", (parts.path or "/") + (f"?{parts.query}" if parts.query else ""),
                               headers={"User-Agent": USER_AGENT, "Accept-Encoding": "identity"})
            return connection, connection.getresponse()
        except BaseException:
            connection.close()
            raise


def _read_body(response: http.client.HTTPResponse, host: str, max_bytes: int) -> bytes:
    length = response.getheader("Content-Length")
    if length and length.isdigit() and int(length) > max_bytes:
        raise UpstreamError(f"response from {host} too large ({length} bytes)")
    chunks: list[bytes] = []
    total = 0
    while True:
        # read1: at most one socket read, each bounded by the deadline (see _DeadlineSocket).
        chunk = response.read1(_READ_CHUNK)
        if not chunk:
            return b"".join(chunks)
        total += len(chunk)
        if total > max_bytes:
            raise UpstreamError(f"response from {host} too large (over {max_bytes} bytes)")
        chunks.append(chunk)


def _redirect_target(current: str, location: str) -> str:
    target = urljoin(current, location.strip())
    if urlsplit(target).scheme not in ("http", "https") or not urlsplit(target).netloc:
        raise UpstreamError(f"{_host(current)} redirected to an unsupported location")
    return target


def _host(url: str) -> str:
    return urlsplit(url).netloc or "upstream"
