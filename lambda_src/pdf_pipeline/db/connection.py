"""Connections to the audit database: pg8000 over TLS (verify-full), IAM auth tokens, bounded waits.

- **Authentication.** The functions connect through RDS Proxy as the dedicated user
  ``DB_USER`` with an IAM auth token for a password: ``rds.generate_db_auth_token`` presigns
  ``Action=connect&DBUser=...`` for ``DB_HOST:DB_PORT`` with SigV4 (the function's role needs
  ``rds-db:connect`` on that user). It is computed locally, no request leaves the function,
  and a token is good for 15 minutes for opening connections. ``migrate`` passes the master
  password instead (``password=``), as the tests do for their local server.
- **TLS.** Always on, certificate chain and host name verified, TLS 1.2 or newer, against
  ``certificates/trust-anchors.pem`` only (see the README beside it: the Amazon Trust Services
  roots for the proxy's ACM certificates, the RDS roots for the cluster endpoints).
- **Deadlines.** ``timeout_s`` bounds the TCP connect and then every read and write on the
  socket, so a stalled proxy or database cannot hold a function past its deadline; callers
  pass what their deadline leaves (:func:`timeout_for`). Statements are bounded on the server
  by the app user's ``statement_timeout`` (set by ``migrate``, no per-session ``SET`` that
  would pin the proxy connection).
"""
from __future__ import annotations

import ssl
from pathlib import Path
from typing import Any, Protocol

import pg8000.native

from ..settings import AWS_REGION, DB_HOST, DB_NAME, DB_PORT, DB_USER, Settings

TRUST_ANCHORS = Path(__file__).with_name("certificates") / "trust-anchors.pem"
DEFAULT_TIMEOUT_S = 10.0
MIN_TIMEOUT_S = 1.0

# What a failed connection or statement raises: network, TLS, protocol and server errors.
DatabaseUnavailable = (pg8000.native.InterfaceError, pg8000.native.DatabaseError, OSError)


class TokenSource(Protocol):
    def generate_db_auth_token(self, DBHostname: str, Port: int, DBUsername: str,
                               Region: str | None = None) -> str: ...


def tls_context(*, cafile: Path | str = TRUST_ANCHORS) -> ssl.SSLContext:
    """verify-full: the server's chain must end at one of ``cafile``'s anchors and its
    certificate must name the host connected to; nothing older than TLS 1.2."""
    context = ssl.create_default_context(cafile=str(cafile))  # only this file: no system store
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.check_hostname = True
    context.verify_mode = ssl.CERT_REQUIRED
    return context


def iam_auth_token(settings: Settings, *, rds: TokenSource | None = None) -> str:
    """An RDS IAM auth token for ``DB_USER`` at ``DB_HOST:DB_PORT`` (computed locally by SigV4)."""
    if rds is None:
        import boto3  # the runtime's; imported here so that password-only callers never need it

        rds = boto3.client("rds", region_name=settings.text(AWS_REGION))
    return rds.generate_db_auth_token(DBHostname=settings.text(DB_HOST), Port=settings.integer(DB_PORT),
                                      DBUsername=settings.text(DB_USER), Region=settings.text(AWS_REGION))


def timeout_for(seconds_left: float, *, reserve_s: float, ceiling_s: float = DEFAULT_TIMEOUT_S) -> float:
    """The socket timeout that still lets the caller answer: what is left after ``reserve_s``,
    at most ``ceiling_s``, at least ``MIN_TIMEOUT_S``."""
    return max(MIN_TIMEOUT_S, min(ceiling_s, seconds_left - reserve_s))


def connect(settings: Settings, *, password: str | None = None, ssl_context: ssl.SSLContext | None = None,
            timeout_s: float = DEFAULT_TIMEOUT_S, rds: TokenSource | None = None) -> pg8000.native.Connection:
    """Open a connection as ``DB_USER`` to ``DB_NAME`` at ``DB_HOST:DB_PORT``: with an IAM auth
    token when ``password`` is None, always over verified TLS; raises one of
    :data:`DatabaseUnavailable` when it cannot."""
    if password is None:
        password = iam_auth_token(settings, rds=rds)
    return pg8000.native.Connection(
        user=settings.text(DB_USER), host=settings.text(DB_HOST), port=settings.integer(DB_PORT),
        database=settings.text(DB_NAME), password=password,
        ssl_context=ssl_context if ssl_context is not None else tls_context(),
        timeout=timeout_s, tcp_keepalive=True)


def bound_socket(conn: pg8000.native.Connection, timeout_s: float) -> None:
    """Change the bound on every read and write of an open connection (pg8000 keeps the socket
    it connected with as ``_usock``; its timeout is the one ``connect`` set)."""
    conn._usock.settimeout(timeout_s)


class Reused:
    """One connection per process, kept across warm invocations and opened again after it
    broke (an IAM token only matters when a connection is opened)."""

    def __init__(self, settings_source: Any, **connect_options: Any) -> None:
        self._settings_source = settings_source
        self._options = connect_options
        self._connection: pg8000.native.Connection | None = None

    def get(self, *, timeout_s: float) -> pg8000.native.Connection:
        if self._connection is None:
            self._connection = connect(self._settings_source(), timeout_s=timeout_s, **self._options)
        else:
            bound_socket(self._connection, timeout_s)
        return self._connection

    def discard(self) -> None:
        """Close (quietly) after an error: the next ``get`` opens a new connection."""
        connection, self._connection = self._connection, None
        if connection is not None:
            try:
                connection.close()
            except DatabaseUnavailable:
                pass
