"""Bounded HTTP GETs to NASA: a timeout on every call, retries with backoff, one deadline.

Plain ``urllib`` (no third-party client): each call gets ``min(per-call timeout, time
left)``, transient failures (timeouts, connection errors, 5xx, 429) are retried with
exponential backoff and jitter, and nothing starts once the shared :class:`Deadline` has
run out. Failures surface as :class:`UpstreamError` whose ``reason`` is safe to show to
a user: it names the feed and what went wrong, never the query string (which may carry
the NASA API key).
"""
from __future__ import annotations

import http.client
import json
import random
import socket
import threading
import time
import urllib.error
import urllib.request
from typing import Any, Callable, Mapping
from urllib.parse import urlencode, urlsplit

USER_AGENT = "mars-weather-display/1 (+https://github.com/aws-samples)"
# Below this much time left a call is not worth starting.
MIN_CALL_SECONDS = 0.05
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
    """A point in time after which no upstream work starts."""

    def __init__(self, seconds: float, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._end = clock() + max(0.0, seconds)

    @classmethod
    def for_invocation(cls, budget_seconds: float, lambda_remaining_seconds: float | None, *,
                       reserve_seconds: float = 4.0, clock: Callable[[], float] = time.monotonic) -> "Deadline":
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


class Upstream:
    """GETs with timeouts, retries and a deadline; safe to share between threads."""

    def __init__(self, *, timeout: float, retries: int, backoff: float, deadline: Deadline,
                 sleep: Callable[[float], None] = time.sleep,
                 jitter: Callable[[], float] = random.random,
                 opener: urllib.request.OpenerDirector | None = None) -> None:
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff
        self.deadline = deadline
        self._sleep = sleep
        self._jitter = jitter
        self._opener = opener or urllib.request.build_opener()
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
                return self._once(url, min(self.timeout, self.deadline.remaining()), max_bytes)
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

    def _once(self, url: str, timeout: float, max_bytes: int) -> bytes:
        with self._lock:
            self.calls += 1
        request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
        host = _host(url)
        try:
            with self._opener.open(request, timeout=timeout) as response:
                length = response.headers.get("Content-Length")
                if length and length.isdigit() and int(length) > max_bytes:
                    raise UpstreamError(f"response from {host} too large ({length} bytes)")
                chunks: list[bytes] = []
                total = 0
                while True:
                    if self.deadline.expired():
                        raise UpstreamError(f"{host} too slow, the time budget ran out")
                    chunk = response.read(_READ_CHUNK)
                    if not chunk:
                        break
                    total += len(chunk)
                    if total > max_bytes:
                        raise UpstreamError(f"response from {host} too large (over {max_bytes} bytes)")
                    chunks.append(chunk)
                return b"".join(chunks)
        except UpstreamError:
            raise
        except urllib.error.HTTPError as error:
            error.close()
            transient = error.code >= 500 or error.code == 429
            raise UpstreamError(f"HTTP {error.code} from {host}", retryable=transient, status=error.code) from None
        except urllib.error.URLError as error:
            if isinstance(error.reason, (TimeoutError, socket.timeout)):
                raise UpstreamError(f"{host} timed out after {timeout:.1f} s", retryable=True) from None
            raise UpstreamError(f"could not connect to {host}", retryable=True) from None
        except (TimeoutError, socket.timeout):
            raise UpstreamError(f"{host} timed out after {timeout:.1f} s", retryable=True) from None
        except (http.client.HTTPException, ConnectionError, OSError):
            raise UpstreamError(f"connection to {host} failed", retryable=True) from None


def _host(url: str) -> str:
    return urlsplit(url).netloc or "upstream"
