"""The identity provider's signing keys: PyJWT's ``PyJWKClient`` with a fetch that survives
the real world.

``PyJWKClient`` (PyJWT 2.15) keeps the fetched key set for ``lifespan`` seconds, looks keys up
by ``kid`` in it, and refetches for an unknown ``kid`` at most once per ``cooldown_duration``
seconds after the last successful fetch. Its own fetch (urllib) is replaced here because:

- its ``timeout`` bounds each socket operation, not the fetch: an endpoint that trickles a
  byte at a time holds the function until Lambda kills it. :func:`download` bounds the whole
  request with a watchdog that shuts the socket down at the deadline;
- a failed fetch raises, so once the cached set has expired an identity provider outage
  refuses every token, and every invocation waits for the timeout again. :class:`JwksKeys`
  keeps serving the last good set through an outage, and after a failure waits for the
  cooldown before it tries the network again, with or without keys to serve;
- the answer is read whole into memory: it is capped at :data:`MAX_JWKS_BYTES`.

PyJWT's per-``kid`` LRU cache (``cache_keys=True``) is left off on purpose: its entries never
expire, so a key the provider withdraws (rotated out after a compromise) would stay trusted
for the life of the execution environment. Without it, a withdrawn key is refused at the
first successful refresh, at most ``lifespan`` seconds after the provider removed it.
"""
from __future__ import annotations

import http.client
import json
import socket
import threading
import time
from typing import Any, Callable, Mapping
from urllib.parse import urlsplit

from jwt import PyJWKClient, PyJWKClientConnectionError, PyJWKSet, PyJWTError

MAX_JWKS_BYTES = 256 * 1024
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "::1", "localhost"})
REQUEST_HEADERS = {"Accept": "application/json", "User-Agent": "token-authorizer"}


class JwksFetchError(Exception):
    """The key set could not be fetched: unreachable, too slow, not HTTP 200, not a key set."""


def checked_jwks_url(url: str) -> str:
    """``url`` if keys may be fetched from it: https, or http to loopback (tests only)."""
    parts = urlsplit(url)
    if not parts.hostname or parts.scheme not in ("https", "http"):
        raise ValueError(f"the JWKS URL must be an absolute https:// URL, got {url!r}")
    if parts.scheme == "http" and parts.hostname not in LOOPBACK_HOSTS:
        raise ValueError(f"the JWKS URL must use https (http only to loopback), got {url!r}")
    return url


def download(url: str, *, timeout: float, max_bytes: int = MAX_JWKS_BYTES,
             headers: Mapping[str, str] = REQUEST_HEADERS) -> bytes:
    """The body of ``GET url`` (HTTP 200, no redirects), within ``timeout`` seconds in total.

    The socket timeout bounds connecting; a watchdog thread shuts the socket down at the
    deadline, which ends any read still waiting (a slow or trickling server)."""
    parts = urlsplit(checked_jwks_url(url))
    connection_class = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    connection = connection_class(parts.hostname, parts.port, timeout=timeout)
    expired = threading.Event()
    # The socket as connected: http.client drops its own reference once the response is
    # read until the server closes (``Connection: close``), the read still using it.
    connected: list[socket.socket] = []

    def shut_down() -> None:
        expired.set()
        for sock in connected:
            try:
                # The plain socket's shutdown: it wakes a read blocked in another thread, TLS or not.
                socket.socket.shutdown(sock, socket.SHUT_RDWR)
            except OSError:
                pass  # already closed

    watchdog = threading.Timer(timeout, shut_down)
    watchdog.daemon = True
    watchdog.start()
    try:
        connection.connect()
        connected.append(connection.sock)
        if expired.is_set():
            raise TimeoutError("connecting took the whole timeout")
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        connection.request("GET", target, headers=dict(headers))
        response = connection.getresponse()
        if response.status != 200:
            raise JwksFetchError(f"{url} answered HTTP {response.status}")
        body = response.read(max_bytes + 1)
    except (OSError, http.client.HTTPException) as error:
        if expired.is_set():
            raise JwksFetchError(f"{url} did not answer within {timeout:g} s") from error
        raise JwksFetchError(f"{url} could not be read: {type(error).__name__}: {error}") from error
    finally:
        watchdog.cancel()
        connection.close()
        for sock in connected:
            sock.close()
    if expired.is_set():
        raise JwksFetchError(f"{url} did not answer within {timeout:g} s")
    if len(body) > max_bytes:
        raise JwksFetchError(f"{url} answered more than {max_bytes} bytes")
    return body


def parse_key_set(body: bytes) -> PyJWKSet:
    """The key set in a JWKS document; keys PyJWT cannot use are skipped, none usable is an error."""
    try:
        document: Any = json.loads(body)
    except ValueError as error:
        raise JwksFetchError(f"the JWKS is not JSON: {error}") from error
    if not isinstance(document, dict):
        raise JwksFetchError("the JWKS is not a JSON object")
    try:
        return PyJWKSet.from_dict(document)
    except PyJWTError as error:
        raise JwksFetchError(f"the JWKS holds no usable key: {error}") from error


class JwksKeys(PyJWKClient):
    """Signing keys of one JWKS URL, for :meth:`get_signing_key` (by ``kid``).

    Network use is bounded whatever the traffic: one fetch when the cached set is older than
    ``lifespan``; one refetch for an unknown ``kid`` per ``cooldown`` (PyJWKClient's rule);
    after a failed fetch, none until ``cooldown`` has passed. Each fetch takes at most
    ``timeout`` seconds. ``on_fetch_failure(message, serving_stale_keys)`` is told of each
    failed fetch, for logs and metrics.
    """

    def __init__(self, url: str, *, lifespan: float, cooldown: float, timeout: float,
                 on_fetch_failure: Callable[[str, bool], None] | None = None) -> None:
        super().__init__(checked_jwks_url(url), cache_keys=False, cache_jwk_set=True, lifespan=lifespan,
                         timeout=timeout, cooldown_duration=cooldown, headers=dict(REQUEST_HEADERS))
        self._last_good: PyJWKSet | None = None
        self._failed_at: float | None = None
        self._on_fetch_failure = on_fetch_failure

    def fetch_data(self) -> PyJWKSet:
        # PyJWKClient caches what this returns for ``lifespan`` seconds: after a failure
        # that is the last good set, so an outage costs one attempt per lifespan while
        # keys are cached, and one per cooldown while there are none.
        now = time.monotonic()
        if self._failed_at is not None and now - self._failed_at < self.cooldown_duration:
            return self._stale_keys("the last JWKS fetch failed less than the cooldown ago")
        try:
            key_set = parse_key_set(download(self.uri, timeout=self.timeout, headers=self.headers))
        except JwksFetchError as error:
            self._failed_at = now
            if self._on_fetch_failure is not None:
                self._on_fetch_failure(str(error), self._last_good is not None)
            return self._stale_keys(str(error))
        self._failed_at = None
        self._last_good = key_set
        self._last_successful_fetch = time.monotonic()
        return key_set

    def _stale_keys(self, why: str) -> PyJWKSet:
        if self._last_good is None:
            raise PyJWKClientConnectionError(f"no signing keys: {why}")
        return self._last_good
