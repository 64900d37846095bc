"""A real PostgreSQL server on loopback for the audit-database tests, and what they share.

The server is Debian's ``postgresql`` package, started once per test session (per xdist
worker) on a free port with a throwaway data directory: ``initdb`` and ``postgres`` run as
the ``postgres`` user when the tests run as root (PostgreSQL refuses to run as root), as
the current user otherwise. If the binaries are missing and the tests run as root, the
package is installed with apt-get (``apt-get update`` only when the first attempt fails).
Without it the database tests are skipped on a laptop and fail when ``CI=true``.

Like RDS Proxy, the server accepts TLS connections only (``hostssl`` lines, SCRAM
passwords), with a server certificate for ``localhost`` from a throwaway CA: the tests
connect through the production ``connect()`` with that CA instead of the AWS trust
anchors. The server is stopped by its own PID (the postmaster's) at the end.

Test modules import the fixtures they use by name::

    from tests.pdf_pipeline.postgres import database, migrated, postgres  # noqa: F401
"""
from __future__ import annotations

import contextlib
import datetime
import glob
import hashlib
import json
import os
import pwd
import secrets
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

# The root conftest keeps the SDKs away from real accounts; these serve the handlers under test.
for _name, _value in {"AWS_REGION": "us-east-1", "POWERTOOLS_TRACE_DISABLED": "true",
                      "POWERTOOLS_SERVICE_NAME": "pdf-pipeline", "POWERTOOLS_METRICS_NAMESPACE": "PdfPipeline",
                      "POWERTOOLS_LOG_LEVEL": "WARNING"}.items():
    os.environ.setdefault(_name, _value)

import pg8000.native  # noqa: E402 - after the environment above
import pytest  # noqa: E402
from cryptography import x509  # noqa: E402
from cryptography.hazmat.primitives import hashes, serialization  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import ec  # noqa: E402
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID  # noqa: E402

from lambda_src.pdf_pipeline import settings as env  # noqa: E402
from lambda_src.pdf_pipeline.db import connection  # noqa: E402
from lambda_src.pdf_pipeline.db.migrate import apply_migrations  # noqa: E402
from lambda_src.pdf_pipeline.messages import AuditEvent, Stage, Status, document_id  # noqa: E402
from lambda_src.pdf_pipeline.settings import Settings  # noqa: E402

ADMIN_USER = "postgres"
# Like the master user of RDS: no superuser, but CREATEROLE and CREATEDB, and the owner of the
# databases the tests migrate. Migrations run as this user, as ``migrate`` does on Aurora.
MASTER_USER = "master"
APP_USER = "pipeline_app"
APP_PASSWORD = "app-" + secrets.token_hex(8)  # tests only: on Aurora the app user has no password (IAM)
START_TIMEOUT_S = 20.0


# --- finding or installing the server ------------------------------------------------------

def _unavailable(reason: str) -> None:
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"PostgreSQL is required in CI: {reason}")
    pytest.skip(f"PostgreSQL not available: {reason}")


def _binaries() -> Path | None:
    """The newest installed server's bin directory (Debian keeps each version apart)."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/postgres"), key=lambda path: int(path.split("/")[4]))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).resolve().parent if initdb and shutil.which("postgres") else None


def _apt_install_postgresql() -> str | None:
    """Install the Debian package as root; returns why not, or None on success."""
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        return "not installed and not running as root to apt-get install it"
    if shutil.which("apt-get") is None:
        return "not installed and apt-get is missing"
    environment = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    install = ["apt-get", "install", "-y", "--no-install-recommends", "postgresql"]
    result = subprocess.run(install, env=environment, capture_output=True, text=True, timeout=900)
    if result.returncode != 0:
        subprocess.run(["apt-get", "update"], env=environment, capture_output=True, text=True, timeout=900)
        result = subprocess.run(install, env=environment, capture_output=True, text=True, timeout=900)
    if result.returncode != 0:
        return f"apt-get install postgresql failed: {result.stderr.strip()[-500:]}"
    return None


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# --- a throwaway CA and the server's certificate --------------------------------------------

def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _certificate(subject: x509.Name, issuer: x509.Name, public_key: Any, signing_key: Any, *, ca: bool,
                 extensions: tuple[x509.ExtensionType, ...] = ()) -> x509.Certificate:
    now = datetime.datetime.now(datetime.timezone.utc)
    builder = (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer).public_key(public_key)
               .serial_number(x509.random_serial_number())
               .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=2))
               .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
    for extension in extensions:
        builder = builder.add_extension(extension, critical=False)
    return builder.sign(signing_key, hashes.SHA256())


def _write_tls_files(directory: Path) -> tuple[Path, Path, Path]:
    """(CA certificate, server certificate, server key): the server is ``localhost`` only, so a
    connection to 127.0.0.1 fails host name verification."""
    ca_key, server_key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca = _certificate(_name("pdf pipeline test CA"), _name("pdf pipeline test CA"), ca_key.public_key(), ca_key,
                      ca=True)
    server = _certificate(_name("localhost"), ca.subject, server_key.public_key(), ca_key, ca=False, extensions=(
        x509.SubjectAlternativeName([x509.DNSName("localhost")]),
        x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH])))
    paths = directory / "ca.pem", directory / "server.pem", directory / "server.key"
    paths[0].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths[1].write_bytes(server.public_bytes(serialization.Encoding.PEM))
    paths[2].write_bytes(server_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                  serialization.NoEncryption()))
    paths[2].chmod(0o600)
    return paths


# --- the server -----------------------------------------------------------------------------

@dataclass
class PostgresServer:
    host: str
    port: int
    admin_password: str
    ca_file: Path
    process: subprocess.Popen[bytes]
    workdir: Path

    def tls_context(self) -> ssl.SSLContext:
        """The production TLS settings (verify-full, TLS 1.2+), trusting the test CA."""
        return connection.tls_context(cafile=self.ca_file)

    def settings(self, database: str, user: str = ADMIN_USER) -> Settings:
        return Settings.from_environ({env.DB_HOST: self.host, env.DB_PORT: str(self.port),
                                      env.DB_NAME: database, env.DB_USER: user, env.AWS_REGION: "us-east-1"})

    def connect(self, database: str = "postgres", *, user: str = ADMIN_USER,
                password: str | None = None) -> pg8000.native.Connection:
        """A connection through the production ``connect()``, as the admin unless told otherwise."""
        return connection.connect(self.settings(database, user), ssl_context=self.tls_context(),
                                  password=self.admin_password if password is None else password)

    def connect_master(self, database: str) -> pg8000.native.Connection:
        """A connection as the RDS-like master user (see MASTER_USER)."""
        return self.connect(database, user=MASTER_USER, password=self.admin_password)

    def create_database(self, *, template: str = "template1") -> str:
        """A new database owned by the master user."""
        name = f"t_{uuid.uuid4().hex[:12]}"
        with contextlib.closing(self.connect()) as admin:
            admin.run(f'CREATE DATABASE "{name}" OWNER {MASTER_USER} TEMPLATE "{template}"')
        return name

    def drop_database(self, name: str) -> None:
        with contextlib.closing(self.connect()) as admin:
            admin.run(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def stop(self) -> None:
        """Fast shutdown of the postmaster, by its own PID."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def _run_as(owner: pwd.struct_passwd | None) -> dict[str, Any]:
    """Popen arguments that drop to the server's user (no PAM, no wrapper: the PID is the server's)."""
    return {} if owner is None else {"user": owner.pw_uid, "group": owner.pw_gid, "extra_groups": []}


def _start(bin_dir: Path, workdir: Path, owner: pwd.struct_passwd | None) -> PostgresServer | str:
    data, sockets, tls = workdir / "data", workdir / "sockets", workdir / "tls"
    for folder in (data, sockets, tls):
        folder.mkdir()
    ca_file, certificate, key = _write_tls_files(tls)
    password = secrets.token_hex(16)
    password_file = workdir / "password"
    password_file.write_text(password + "\n")
    if owner is not None:
        for path in (workdir, data, sockets, tls, certificate, key, password_file):
            os.chown(path, owner.pw_uid, owner.pw_gid)
    initdb = subprocess.run(
        [str(bin_dir / "initdb"), "-D", str(data), "-U", ADMIN_USER, "--pwfile", str(password_file),
         "--auth", "scram-sha-256", "-E", "UTF8", "--locale", "C.UTF-8", "--no-sync"],
        capture_output=True, text=True, timeout=120, **_run_as(owner))
    if initdb.returncode != 0:
        return f"initdb failed: {initdb.stderr.strip()[-500:]}"
    # TLS only, as through RDS Proxy (TLS required): a plaintext connection finds no hba line.
    (data / "pg_hba.conf").write_text("hostssl all all 127.0.0.1/32 scram-sha-256\n"
                                      "hostssl all all ::1/128 scram-sha-256\n")
    port = free_port()
    log_path = workdir / "postgres.log"
    with log_path.open("wb") as log_file:
        process = subprocess.Popen(
            [str(bin_dir / "postgres"), "-D", str(data), "-p", str(port), "-k", str(sockets),
             "-c", "listen_addresses=localhost", "-c", "ssl=on",
             "-c", f"ssl_cert_file={certificate}", "-c", f"ssl_key_file={key}",
             "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
             "-c", "max_connections=60", "-c", "shared_buffers=32MB"],
            stdout=log_file, stderr=subprocess.STDOUT, **_run_as(owner))
    server = PostgresServer("localhost", port, password, ca_file, process, workdir)
    deadline = time.monotonic() + START_TIMEOUT_S
    while True:
        if process.poll() is not None:
            return f"postgres exited with {process.returncode}: {log_path.read_text()[-500:]}"
        try:
            with contextlib.closing(server.connect()) as admin:
                admin.run(f"CREATE ROLE {MASTER_USER} LOGIN CREATEROLE CREATEDB PASSWORD '{password}'")
            return server
        except (pg8000.native.InterfaceError, pg8000.native.DatabaseError, OSError):
            if time.monotonic() > deadline:
                server.stop()
                return f"did not accept connections within {START_TIMEOUT_S:g} s: {log_path.read_text()[-500:]}"
            time.sleep(0.1)


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    bin_dir = _binaries()
    if bin_dir is None:
        problem = _apt_install_postgresql()
        bin_dir = _binaries()
        if bin_dir is None:
            _unavailable(problem or "installed but no server binaries found")
    owner = pwd.getpwnam("postgres") if os.geteuid() == 0 else None
    workdir = Path(tempfile.mkdtemp(prefix="pdf-pipeline-pg-"))
    # Another process may take the port between our probe and the server's bind: try new ports.
    for _attempt in range(3):
        started = _start(bin_dir, workdir, owner)
        if not isinstance(started, str):
            break
        shutil.rmtree(workdir, ignore_errors=True)
        workdir = Path(tempfile.mkdtemp(prefix="pdf-pipeline-pg-"))
    else:
        _unavailable(started)
    try:
        yield started
    finally:
        started.stop()
        shutil.rmtree(workdir, ignore_errors=True)


@pytest.fixture
def database(postgres: PostgresServer) -> Iterator[str]:
    """A new, empty database, dropped after the test."""
    name = postgres.create_database()
    yield name
    postgres.drop_database(name)


@pytest.fixture(scope="session")
def migrated_template(postgres: PostgresServer) -> str:
    """A database with every migration applied and the app user granted, cloned by ``migrated``."""
    name = postgres.create_database()
    with contextlib.closing(postgres.connect_master(name)) as master:
        apply_migrations(master, app_user=APP_USER)
        master.run(f"ALTER ROLE {APP_USER} PASSWORD '{APP_PASSWORD}'")  # tests only: Aurora uses IAM tokens
    return name


@dataclass(frozen=True)
class MigratedDatabase:
    server: PostgresServer
    name: str

    def admin(self) -> pg8000.native.Connection:
        """A superuser connection, to inspect or to break things on purpose."""
        return self.server.connect(self.name)

    def app(self) -> pg8000.native.Connection:
        """A connection as the functions make it: the dedicated user."""
        return self.server.connect(self.name, user=APP_USER, password=APP_PASSWORD)

    def settings(self, user: str = APP_USER) -> Settings:
        return self.server.settings(self.name, user)

    def rows(self, sql: str, **params: Any) -> list[dict[str, Any]]:
        """Rows of a query run as the admin, as dicts."""
        with contextlib.closing(self.admin()) as admin:
            result = admin.run(sql, **params)
            names = [column["name"] for column in admin.columns or []]
        return [dict(zip(names, row, strict=True)) for row in result or []]


@pytest.fixture
def migrated(postgres: PostgresServer, migrated_template: str) -> Iterator[MigratedDatabase]:
    """A migrated database of its own for one test: a copy of the session's migrated template,
    migrated once more (a no-op) because a copy does not inherit the database-level grants and
    the app user's settings, which belong to the database."""
    name = postgres.create_database(template=migrated_template)
    with contextlib.closing(postgres.connect_master(name)) as master:
        assert apply_migrations(master, app_user=APP_USER) == []
    yield MigratedDatabase(postgres, name)
    postgres.drop_database(name)


def json_rows(rows: Any) -> str:
    """Rows as JSON with a stable order, for comparing database states."""
    return json.dumps(rows, sort_keys=True, default=str)


# --- audit events for the tests: one realistic mixed batch ----------------------------------

BATCH_ID = "b-01KB0000000000000000000000"
OTHER_BATCH_ID = "b-01KB0000000000000000000001"
BUCKET = "staging-bucket"
T0 = datetime.datetime(2026, 11, 30, 8, 0, tzinfo=datetime.timezone.utc)


def at(seconds: float) -> str:
    """An ``occurred_at`` this many seconds after T0 (ISO 8601 UTC with milliseconds)."""
    moment = T0 + datetime.timedelta(seconds=seconds)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def document_of(key: str, batch_id: str = BATCH_ID) -> str:
    return document_id(batch_id, BUCKET, key, None)


def event(stage: str, status: str = "succeeded", *, doc: str | None = None, unit: str = "", t: float = 0,
          component: str = "lambda:test", duration_ms: int | None = None, batch_id: str = BATCH_ID,
          **detail: Any) -> AuditEvent:
    """An audit event about the document stored under the S3 key ``doc`` (None: about the batch)."""
    return AuditEvent(batch_id=batch_id, stage=Stage(stage), status=Status(status), component=component,
                      occurred_at=at(t), document_id=None if doc is None else document_of(doc, batch_id),
                      unit=unit, duration_ms=duration_ms, detail=detail)


def page(number: int) -> str:
    return f"page:{number:06d}"


def converted_document(key: str, pages: int, *, size_class: str, t: float = 0, features: Any = None,
                       batch_id: str = BATCH_ID) -> list[AuditEvent]:
    """Every event of a document that went all the way: listed, classified, split (small and
    large ones), converted and, when ``features`` is given (a list, one answer per page, or a
    function of the page number), inferred."""
    events = [event("listed", doc=key, t=t, component="lambda:list_objects", batch_id=batch_id,
                    bucket=BUCKET, key=key, version_id=None, size_bytes=1000 * pages),
              event("classified", doc=key, t=t + 1, component="lambda:classify", duration_ms=40,
                    batch_id=batch_id, size_class=size_class, page_count=pages, size_bytes=1000 * pages)]
    if size_class == "large":
        events += [event("split_large", doc=key, unit=f"chunk:{first:06d}-{min(first + 9, pages):06d}",
                         t=t + 2, component="fargate:large", duration_ms=900, batch_id=batch_id)
                   for first in range(1, pages + 1, 10)]
    if size_class != "single_page":
        events += [event("split_small", doc=key, unit=page(number), t=t + 3, component="lambda:split_small",
                         duration_ms=30, batch_id=batch_id) for number in range(1, pages + 1)]
    events += [event("converted", doc=key, unit=page(number), t=t + 4, component="lambda:convert_page",
                     duration_ms=95, batch_id=batch_id, dpi=150) for number in range(1, pages + 1)]
    if features is not None:
        answer = features if callable(features) else (lambda number: features[number - 1])
        events += [event("inferred", doc=key, unit=page(number), t=t + 5, component="lambda:invoke_model",
                         duration_ms=300, batch_id=batch_id, features=answer(number))
                   for number in range(1, pages + 1)]
    return events


def mixed_batch() -> list[AuditEvent]:
    """One batch with a document in every state the reports tell apart:

    - ``one.pdf``: single page, inferred (signature, no stamp);
    - ``three.pdf``: small, 3 pages inferred (stamp on page 2, a score the report ignores);
    - ``large.pdf``: large, 12 pages; 11 converted, page 12 failed twice and was quarantined;
    - ``locked.pdf``: rejected, encrypted; ``photo.pdf``: rejected, not_pdf;
    - ``poster.pdf``: small, 2 pages, page 2 rejected (page_too_large), page 1 converted;
    - ``slow.pdf``: listed and classified, nothing since (in progress).
    """
    events = [event("batch", component="lambda:start_batch", bucket=BUCKET, prefixes=["invoices/"])]
    events += converted_document("one.pdf", 1, size_class="single_page", t=10,
                                 features=[{"signature": True, "stamp": False}])
    events += converted_document("three.pdf", 3, size_class="small", t=20, features=[
        {"signature": "no", "stamp": 0, "score": 0.2}, {"signature": False, "stamp": "YES", "score": 0.9},
        {"signature": None, "stamp": "false"}])
    large = [e for e in converted_document("large.pdf", 12, size_class="large", t=30) if e.unit != page(12)
             or e.stage is not Stage.CONVERTED]
    large += [event("converted", "failed", doc="large.pdf", unit=page(12), t=35, component="lambda:convert_page",
                    duration_ms=20, error="render timeout"),
              event("converted", "failed", doc="large.pdf", unit=page(12), t=36, component="fargate:failsafe",
                    duration_ms=25, error="render timeout"),
              event("quarantined", "quarantined", doc="large.pdf", unit=page(12), t=37,
                    component="fargate:failsafe", reason="render timeout", origin_queue="single_page")]
    events += large
    for key, reason, t in (("locked.pdf", "encrypted", 40), ("photo.pdf", "not_pdf", 41)):
        events += [event("listed", doc=key, t=t, component="lambda:list_objects", bucket=BUCKET, key=key,
                         version_id=None, size_bytes=512),
                   event("classified", "rejected", doc=key, t=t + 0.5, component="lambda:classify",
                         duration_ms=12, reason=reason)]
    poster = [e for e in converted_document("poster.pdf", 2, size_class="small", t=50)
              if not (e.stage is Stage.CONVERTED and e.unit == page(2))]
    poster.append(event("converted", "rejected", doc="poster.pdf", unit=page(2), t=55,
                        component="lambda:convert_page", duration_ms=3, reason="page_too_large"))
    events += poster
    events += converted_document("slow.pdf", 4, size_class="small", t=60)[:2]
    return events


# --- the handlers' events, in the shapes AWS sends them -------------------------------------

def database_for_handlers(migrated: MigratedDatabase) -> connection.Reused:
    """What the DB functions' module-level connection is in tests: the dedicated user with its
    test password instead of an IAM token, and the test CA instead of the AWS anchors."""
    return connection.Reused(migrated.settings, password=APP_PASSWORD, ssl_context=migrated.server.tls_context())


def unreachable_database() -> connection.Reused:
    """A connection to a port nothing listens on: every attempt fails at once."""
    settings = Settings.from_environ({env.DB_HOST: "127.0.0.1", env.DB_PORT: str(free_port()),
                                      env.DB_NAME: "audit", env.DB_USER: APP_USER})
    return connection.Reused(lambda: settings, password="unused")


def rest_api_event(resource: str, path: str, *, path_parameters: dict[str, str] | None,
                   query: dict[str, list[str]] | None = None) -> dict[str, Any]:
    """An API Gateway REST API Lambda proxy event for a GET authorized with IAM (SigV4): the
    caller's identity is in requestContext.identity, there is no authorizer block, and the
    query string comes both as single values (the last one) and as lists."""
    return {
        "resource": resource, "path": path, "httpMethod": "GET",
        "headers": {"Host": "abcdef1234.execute-api.us-east-1.amazonaws.com", "User-Agent": "ops-cli",
                    "X-Amz-Date": "20261130T080000Z", "X-Amz-Security-Token": "token",
                    "Authorization": "AWS4-HMAC-SHA256 Credential=ASIAEXAMPLE/20261130/us-east-1/execute-api/"
                                     "aws4_request, SignedHeaders=host;x-amz-date, Signature=abc"},
        "multiValueHeaders": {"Host": ["abcdef1234.execute-api.us-east-1.amazonaws.com"]},
        "queryStringParameters": None if query is None else {name: values[-1] for name, values in query.items()},
        "multiValueQueryStringParameters": query,
        "pathParameters": path_parameters, "stageVariables": None,
        "requestContext": {
            "resourceId": "a1b2c3", "resourcePath": resource, "httpMethod": "GET",
            "extendedRequestId": "Xyz=", "requestTime": "30/Nov/2026:08:00:00 +0000", "path": f"/prod{path}",
            "accountId": "123456789012", "protocol": "HTTP/1.1", "stage": "prod", "domainPrefix": "abcdef1234",
            "requestTimeEpoch": 1796025600000, "requestId": str(uuid.uuid4()),
            "identity": {"cognitoIdentityPoolId": None, "accountId": "123456789012",
                         "cognitoIdentityId": None, "caller": "AROAEXAMPLE:operator",
                         "sourceIp": "203.0.113.9", "principalOrgId": None, "accessKey": "ASIAEXAMPLE",
                         "cognitoAuthenticationType": None, "cognitoAuthenticationProvider": None,
                         "userArn": "arn:aws:sts::123456789012:assumed-role/Operator/operator",
                         "userAgent": "ops-cli", "user": "AROAEXAMPLE:operator"},
            "domainName": "abcdef1234.execute-api.us-east-1.amazonaws.com", "apiId": "abcdef1234",
        },
        "body": None, "isBase64Encoded": False,
    }


def sqs_event(bodies: list[str], *, queue: str = "PdfPipeline-Audit") -> dict[str, Any]:
    """An SQS event source batch as Lambda delivers it."""
    return {"Records": [{
        "messageId": str(uuid.uuid4()), "receiptHandle": f"handle-{number}", "body": body,
        "attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": "1796025600000",
                       "SenderId": "AROAEXAMPLE:classify", "ApproximateFirstReceiveTimestamp": "1796025600001"},
        "messageAttributes": {}, "md5OfBody": hashlib.md5(body.encode("utf-8", "surrogatepass")).hexdigest(),
        "eventSource": "aws:sqs", "eventSourceARN": f"arn:aws:sqs:us-east-1:123456789012:{queue}",
        "awsRegion": "us-east-1"} for number, body in enumerate(bodies)]}
